# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Typed tensors passed between the model's stages and returned to the trainer and the engine.

Conventions (the trainer renders its targets with the same ones):

- Boxes are int64 xyxy in input pixels, x2/y2 exclusive.
- A detection map's cell (i, j) covers input pixels ``origin + (j, i) * cell`` to
  ``origin + (j + 1, i + 1) * cell``. An object whose centre lies in that cell is encoded there:
  ``heat[d]`` is the logit of a Gaussian centre heatmap of detection class d,
  ``offset = logit(centre / cell - (j, i))`` (sigmoid of the output gives the position of the
  centre inside the cell) and ``size = log((w, h) / cell)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DetectionMaps:
    """Anchor-free detection outputs of M maps (frames or patches), each on its own cell grid."""

    heat: torch.Tensor  # (M, D, h, w) centre-heatmap logits
    size: torch.Tensor  # (M, 2, h, w) log box (w, h) in cells
    offset: torch.Tensor  # (M, 2, h, w) centre position inside the cell, logits
    origin: torch.Tensor  # (M, 2) float input pixels (x, y) of the grid's corner
    cell: torch.Tensor  # (M, 2) float input pixels per cell (x, y)
    frame: torch.Tensor  # (M,) int64 frame index of each map

    @property
    def stride(self) -> torch.Tensor:
        """Input pixels per cell, (M, 2); an alias of ``cell``."""
        return self.cell


@dataclass(frozen=True)
class GlobalFeatures:
    """What the global stream computed before any patch is chosen."""

    features: torch.Tensor  # (B, F, h, w) neck features at stride 8 over the frame
    priority: torch.Tensor  # (B, 1, h, w) priority logits over the valid cells
    input_size: tuple[int, int]  # (H, W) of the input frames
    cells: tuple[int, int]  # (h, w) valid cells of the stride-8 grid, covering the frame
    detail: torch.Tensor | None = None  # (B, Cd, 2h, 2w) stride-4 encoder features, if decoded

    @property
    def cell_size(self) -> tuple[float, float]:
        """Input pixels per global cell, (x, y)."""
        return (self.input_size[1] / self.cells[1], self.input_size[0] / self.cells[0])

    def frame(self, index: int) -> GlobalFeatures:
        """Return the features of frame ``index`` alone (a batch of one, no copies)."""
        rows = slice(index, index + 1)
        detail = None if self.detail is None else self.detail[rows]
        return GlobalFeatures(self.features[rows], self.priority[rows], self.input_size,
                              self.cells, detail)

    @staticmethod
    def cat(parts: list[GlobalFeatures]) -> GlobalFeatures:
        """Concatenate the frames of ``parts`` (at least one, of one input size) in order."""
        first = parts[0]
        detail = (None if first.detail is None
                  else torch.cat([p.detail for p in parts if p.detail is not None]))
        return GlobalFeatures(torch.cat([p.features for p in parts]),
                              torch.cat([p.priority for p in parts]), first.input_size,
                              first.cells, detail)


@dataclass(frozen=True)
class PatchOutputs:
    """Per-patch outputs of the refinement stream; K patches in one batch."""

    logits: torch.Tensor  # (K, C, q, q) class logits, q = patch_canonical / 2
    blend: torch.Tensor  # (K, 1, q, q) blend-weight logits
    weight: torch.Tensor  # (K,) patch weight w_i in (0, 1)
    detection: torch.Tensor  # (K, D + 4, r, r) heat, size, offset; r = patch_canonical / 4
    token: torch.Tensor  # (K, T) patch token before attention across patches
    mixed: torch.Tensor  # (K, T) patch token after attention across patches

    def __len__(self) -> int:
        """Return the number of patches K."""
        return int(self.weight.shape[0])

    def take(self, index: torch.Tensor) -> PatchOutputs:
        """Return the patches at ``index`` (long (k,)), in that order."""
        return PatchOutputs(*(t.index_select(0, index) for t in self._tensors()))

    def rows(self) -> list[PatchOutputs]:
        """Split into K single-patch views (no copies)."""
        return [PatchOutputs(*(t[i: i + 1] for t in self._tensors())) for i in range(len(self))]

    def _tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.logits, self.blend, self.weight, self.detection, self.token, self.mixed)

    @staticmethod
    def cat(parts: list[PatchOutputs]) -> PatchOutputs:
        """Concatenate patch batches (at least one) in order."""
        columns = zip(*(p._tensors() for p in parts), strict=True)
        return PatchOutputs(*(torch.cat(column, 0) for column in columns))


@dataclass(frozen=True)
class PatchDriveNetOutput:
    """Everything one forward pass produced, for losses (trainer) and decoding (engine).

    Loss sketch: cross-entropy on ``logits`` (fused, input size) and ``global_logits``;
    focal + L1 on ``global_detection`` and ``patch_detection`` (same encoding, each on its own
    grid); binary cross-entropy of ``priority_logits`` against an oracle score of
    ``candidates``; sparsity ``sum |patch_weights|``.
    """

    logits: torch.Tensor  # (B, C, H, W) fused segmentation logits at input size
    global_logits: torch.Tensor  # (B, C, h, w) global logits after attention to the patches
    coarse_logits: torch.Tensor | None  # (B, C, h, w) global logits before it (keep_coarse)
    global_detection: DetectionMaps  # M = B maps at stride 8 of the global input
    patch_detection: DetectionMaps  # M = K maps at stride 4 of the canonical patch
    priority_map: torch.Tensor  # (B, 1, h, w) priority logits per global cell
    candidates: torch.Tensor  # (N, 4) int64 candidate boxes, the same for every frame
    candidate_sizes: torch.Tensor  # (N,) int64 candidate size in input pixels
    priority_logits: torch.Tensor  # (B, N) learned candidate priorities (logits)
    chosen: torch.Tensor  # (K, 2) int64 (frame, candidate index) of each refined patch
    patch_boxes: torch.Tensor  # (K, 4) int64 boxes where each patch is written
    patches: PatchOutputs  # K patches, in the order of ``chosen``
    flops: torch.Tensor  # (B,) float64 multiply-adds x 2 spent per frame

    @property
    def patch_weights(self) -> torch.Tensor:
        """Patch weights w_i, (K,), the target of the sparsity term."""
        return self.patches.weight
