# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""PatchDriveNet: a low-resolution global stream plus a budget of full-resolution patches.

``forward`` runs the whole model (training, evaluation without temporal reuse). The stages it
is made of are public so the engine can put temporal reuse between them:
``encode_global`` -> ``candidate_priorities`` -> ``choose`` -> ``refine_patches`` ->
``decode_global`` -> ``fuse`` or ``fuse_labels`` (+ ``patch_maps`` for the patches' boxes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.classes import THIN_CLASSES
from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model.attention import GlobalPatchAttention
from patchdrivenet_ros.model.backbone import (
    FEATURE_STRIDE,
    STRIDE,
    Backbone,
    DetailDecoder,
    Neck,
)
from patchdrivenet_ros.model.candidates import (
    CandidateGrid,
    candidate_grid,
    cell_ranges,
    select_patches,
)
from patchdrivenet_ros.model.crops import crop_patches
from patchdrivenet_ros.model.flops import ENCODE, GLOBAL, PATCH, FlopCounter
from patchdrivenet_ros.model.fusion import fuse_labels, fuse_segmentation
from patchdrivenet_ros.model.heads import DetectionHead, Head
from patchdrivenet_ros.model.layers import make_divisible
from patchdrivenet_ros.model.outputs import (
    DetectionMaps,
    GlobalFeatures,
    PatchDriveNetOutput,
    PatchOutputs,
)
from patchdrivenet_ros.model.pooling import box_mean, sample_boxes
from patchdrivenet_ros.model.refine import RefineNet
from patchdrivenet_ros.preprocess import resize_images

IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
REFERENCE_SIZE = 64.0
"""Candidate size whose size term in the priority is zero."""
CONTRAST_FLOOR = 0.02
"""Least contrast (standard deviation, [0, 1] units) a crop is divided by: flat crops stay flat."""
DARK_CROP = 0.2
"""Mean brightness ([0, 1]) below which a crop counts as dark (refine_crops: contrast_dark);
3% of clear-weather 64 px crops and 82% of night ones are darker (validation frames)."""
EXPOSURE_TARGET = 0.25
"""Mean brightness ([0, 1]) a darker crop is brought up to (refine_crops: exposure)."""
EXPOSURE_MAX_GAIN = 8.0
"""Largest brightening gain: about the night rendering's darkening (0.13-0.19)."""


class PatchDriveNet(nn.Module):
    """Global stream, patch proposal, refinement stream and fusion, in one module."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        features = make_divisible(2 * config.width)
        self.register_buffer('mean', torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(IMAGE_STD).view(1, 3, 1, 1), persistent=False)
        self.backbone = Backbone(config.width, config.depth_multiplier)
        self.neck = Neck(self.backbone.out_channels, features)
        self.priority_head = Head(features, 1)
        self.priority_score = nn.Linear(2, 1)  # (pooled priority, log2 size) -> logit
        with torch.no_grad():
            self.priority_score.weight.copy_(torch.tensor([[1.0, 0.0]]))
            self.priority_score.bias.zero_()
        self.segment_head = Head(features, len(config.classes))
        self.detail_decoder = (DetailDecoder(self.backbone.detail_channels, len(config.classes))
                               if config.decoder_stride == 4 else None)
        self.detect_head = DetectionHead(features, len(config.detection_classes))
        self.refine = RefineNet(config, features)
        self.global_attention = (
            GlobalPatchAttention(features, config.token_dim, config.attention_heads)
            if config.global_attention else None)
        self.flop_counter = FlopCounter()
        self.flop_counter.attach(self)
        self.folded = False  # batch norm folded into convolutions (inference copies only)
        # Set by onnx_stages.use_onnxruntime: backbone and neck through ONNX Runtime.
        self.global_runner: Callable[..., tuple[torch.Tensor, ...]] | None = None
        self.refine_chunk: int | None = None  # patches per refinement convolution batch

    @property
    def patch_side(self) -> int:
        """Canonical patch side p."""
        return self.config.patch_canonical

    def _normalise(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std

    def _normalise_crops(self, crops: torch.Tensor) -> torch.Tensor:
        """Normalise (K, 3, p, p) crops in [0, 1] for the refinement stream."""
        mode = self.config.refine_crops
        if mode in ('contrast', 'contrast_dark'):
            centred = crops - crops.mean((2, 3), keepdim=True)
            contrast = centred.flatten(1).std(1).clamp(min=CONTRAST_FLOOR)  # (K,)
            standardised = centred / contrast[:, None, None, None]
            if mode == 'contrast':
                return standardised
            dark = crops.mean((1, 2, 3)) < DARK_CROP  # (K,)
            return torch.where(dark[:, None, None, None], standardised, self._normalise(crops))
        if mode == 'exposure':
            brightness = crops.mean((1, 2, 3)).clamp(min=EXPOSURE_TARGET / EXPOSURE_MAX_GAIN)
            gain = (EXPOSURE_TARGET / brightness).clamp(min=1.0)  # (K,)
            crops = (crops * gain[:, None, None, None]).clamp(max=1.0)
        return self._normalise(crops)

    def encode_global(self, images: torch.Tensor, global_scale: float) -> GlobalFeatures:
        """Run the global stream on images (B, 3, H, W) resized by global_scale.

        images: float in [0, 1], or uint8 (resized as bytes, preprocess.resize_images).

        The frame is resized to the multiple of 8 (the head stride) nearest to its scaled size,
        so the stride-8 cells cover it exactly, and zero-padded to a multiple of 32.
        """
        height, width = images.shape[-2:]
        rows = max(1, round(height * global_scale / FEATURE_STRIDE))
        cols = max(1, round(width * global_scale / FEATURE_STRIDE))
        resized = resize_images(images, (rows * FEATURE_STRIDE, cols * FEATURE_STRIDE))
        pad_rows = -(-rows * FEATURE_STRIDE // STRIDE) * STRIDE - rows * FEATURE_STRIDE
        pad_cols = -(-cols * FEATURE_STRIDE // STRIDE) * STRIDE - cols * FEATURE_STRIDE
        padded = F.pad(self._normalise(resized), (0, pad_cols, 0, pad_rows))  # (B, 3, 32n, 32m)
        with self.flop_counter.within(ENCODE):
            if self.global_runner is not None and padded.device.type == 'cpu':
                neck, level4 = self.global_runner(padded)
            else:
                levels = self.backbone(padded)
                neck, level4 = self.neck(levels[1:]), levels[0]
            features = neck[:, :, :rows, :cols]  # (B, F, h, w)
            priority = self.priority_head(features)  # (B, 1, h, w)
        detail = level4[:, :, :2 * rows, :2 * cols] if self.detail_decoder is not None else None
        return GlobalFeatures(features, priority, (height, width), (rows, cols), detail)

    def candidate_priorities(self, encoded: GlobalFeatures, grid: CandidateGrid) -> torch.Tensor:
        """Priority logits (B, N) of the grid's candidates: pooled priority map + size term."""
        device = encoded.priority.device
        ranges = torch.from_numpy(cell_ranges(grid.boxes, encoded.input_size, encoded.cells))
        pooled = box_mean(encoded.priority[:, 0], ranges.to(device))  # (B, N)
        size = torch.from_numpy(np.log2(grid.sizes / REFERENCE_SIZE)).to(device, pooled.dtype)
        pair = torch.stack([pooled, size.expand_as(pooled)], -1)  # (B, N, 2)
        with self.flop_counter.within(GLOBAL):
            return self.priority_score(pair)[..., 0]

    def thin_prior(self, encoded: GlobalFeatures, grid: CandidateGrid) -> torch.Tensor:
        """Mean coarse probability (B, N) of the thin classes inside each candidate.

        Thin classes (lane markings, poles, signs) are what the low-resolution view loses
        first; the global segmentation head before attention to patches estimates where they are.
        """
        ids = [i for i, name in enumerate(self.config.classes) if name in THIN_CLASSES]
        ranges = torch.from_numpy(cell_ranges(grid.boxes, encoded.input_size, encoded.cells))
        with self.flop_counter.within(GLOBAL):
            logits = self.segment_head(encoded.features)  # (B, C, h, w)
        thin = torch.softmax(logits.float(), 1)[:, ids].sum(1)  # (B, h, w)
        return box_mean(thin, ranges.to(thin.device))

    @staticmethod
    def choose(priority_logits: torch.Tensor, grid: CandidateGrid, budget: int) -> np.ndarray:
        """Choose (K, 2) int64 (frame, candidate) by priority under one shared budget."""
        if budget == 0 or len(grid) == 0:
            return np.zeros((0, 2), np.int64)
        priorities = priority_logits.detach().float().cpu().numpy()
        return select_patches(priorities, grid.boxes, budget)

    def refine_patches(self, images: torch.Tensor, encoded: GlobalFeatures, frames: np.ndarray,
                       boxes: np.ndarray, extra_tokens: torch.Tensor | None = None
                       ) -> PatchOutputs:
        """Refine the patches at boxes (K, 4) int of frames (K,) in one batch.

        extra_tokens (R, T) are the tokens of patches taken from a cache this frame; the refined
        patches attend to them as well as to each other.
        """
        side = self.patch_side
        device = images.device
        dim = self.config.token_dim
        features = encoded.features
        if extra_tokens is None:
            extra_tokens = features.new_zeros(0, dim)
        if len(boxes) == 0:
            return self._no_patches(features)
        height, width = encoded.input_size
        frame_index = torch.from_numpy(frames).to(device)
        box_tensor = torch.from_numpy(boxes).to(device, features.dtype)  # (K, 4)
        crops = self._normalise_crops(crop_patches(images, frames, boxes, side))  # (K, 3, p, p)
        context = sample_boxes(encoded.features, frame_index, box_tensor, encoded.input_size,
                               side // 8)  # (K, F, p/8, p/8)
        extent = box_tensor[:, 2:] - box_tensor[:, :2]  # (K, 2)
        centre = (box_tensor[:, :2] + 0.5 * extent) / box_tensor.new_tensor([width, height])
        geometry = torch.cat([centre * 2.0 - 1.0, torch.log2(extent / side)], 1)  # (K, 4)
        with self.flop_counter.within(PATCH):
            return self.refine(crops, context, geometry, extra_tokens, self.refine_chunk)

    def _no_patches(self, like: torch.Tensor) -> PatchOutputs:
        """Return an empty PatchOutputs of the dtype and device of ``like``."""
        config, quarter = self.config, self.patch_side // 4
        empty = like.new_zeros
        return PatchOutputs(
            logits=empty(0, len(config.classes), 2 * quarter, 2 * quarter),
            blend=empty(0, 1, 2 * quarter, 2 * quarter),
            weight=empty(0),
            detection=empty(0, len(config.detection_classes) + 4, quarter, quarter),
            token=empty(0, config.token_dim),
            mixed=empty(0, config.token_dim),
        )

    def decode_global(self, encoded: GlobalFeatures, tokens: torch.Tensor,
                      frames: np.ndarray) -> tuple[torch.Tensor, DetectionMaps]:
        """Refine global features by attention to patch tokens (K, T) of frames (K,), then heads.

        Without global attention (ModelConfig.global_attention false) the tokens are unused.

        Returns global segmentation logits (B, C, h, w), or (B, C, 2h, 2w) with the detail
        decoder, and the global detection maps (always on the stride-8 cells).
        """
        features = encoded.features
        batch = features.shape[0]
        with self.flop_counter.within(GLOBAL):
            if self.global_attention is not None:
                features = self.global_attention(
                    features, tokens, torch.from_numpy(frames).to(features.device))
            logits = self.segment_head(features)  # (B, C, h, w)
            if self.detail_decoder is not None and encoded.detail is not None:
                logits = self.detail_decoder(logits, encoded.detail)
            heat, size, offset = self.detect_head.split(features)
        cell = features.new_tensor(encoded.cell_size).expand(batch, 2)
        maps = DetectionMaps(heat, size, offset, torch.zeros_like(cell), cell,
                             torch.arange(batch, device=features.device))
        return logits, maps

    def patch_maps(self, patches: PatchOutputs, frames: np.ndarray,
                   boxes: np.ndarray) -> DetectionMaps:
        """Return the detection maps of patches written at boxes (K, 4) int of frames (K,)."""
        detection = patches.detection
        device = detection.device
        classes = len(self.config.detection_classes)
        box_tensor = torch.from_numpy(boxes).to(device, torch.float32).reshape(-1, 4)
        cells = detection.new_tensor([detection.shape[-1], detection.shape[-2]])
        return DetectionMaps(
            heat=detection[:, :classes],
            size=detection[:, classes: classes + 2],
            offset=detection[:, classes + 2:],
            origin=box_tensor[:, :2],
            cell=(box_tensor[:, 2:] - box_tensor[:, :2]) / cells,
            frame=torch.from_numpy(frames).to(device),
        )

    @staticmethod
    def fuse(global_logits: torch.Tensor, patches: PatchOutputs, frames: np.ndarray,
             boxes: np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
        """Fused segmentation logits (B, C, H, W); see fusion.fuse_segmentation."""
        return fuse_segmentation(global_logits, patches, frames, boxes, input_size)

    @staticmethod
    def fuse_labels(global_logits: torch.Tensor, patches: PatchOutputs, frames: np.ndarray,
                    boxes: np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
        """Class ids (B, H, W) uint8 of the fused logits, without holding them (inference)."""
        return fuse_labels(global_logits, patches, frames, boxes, input_size)

    def forward(self, images: torch.Tensor, *, patch_budget: int,
                patch_sizes: Sequence[int], global_scale: float,
                chosen_override: torch.Tensor | None = None,
                keep_coarse: bool = False) -> PatchDriveNetOutput:
        """Run PatchDriveNet on images (B, 3, H, W) float in [0, 1].

        B frames share one patch_budget (top-K across the batch). chosen_override (K, 2) int64
        (frame, candidate index) replaces the learned choice (oracle or random exploration while
        training). keep_coarse also returns the global logits before attention to the patches.
        """
        self.flop_counter.reset()
        height, width = images.shape[-2:]
        encoded = self.encode_global(images, global_scale)
        grid = candidate_grid(width, height, tuple(patch_sizes))
        priority_logits = self.candidate_priorities(encoded, grid)  # (B, N)
        if chosen_override is None:
            chosen = self.choose(priority_logits, grid, patch_budget)
        else:
            chosen = chosen_override.detach().cpu().numpy().astype(np.int64).reshape(-1, 2)
        frames, boxes = chosen[:, 0], grid.boxes[chosen[:, 1]]
        patches = self.refine_patches(images, encoded, frames, boxes)
        global_logits, global_maps = self.decode_global(encoded, patches.mixed, frames)
        coarse = None
        if keep_coarse:
            with self.flop_counter.within(GLOBAL):
                coarse = self.segment_head(encoded.features)
        device = images.device
        return PatchDriveNetOutput(
            logits=self.fuse(global_logits, patches, frames, boxes, (height, width)),
            global_logits=global_logits,
            coarse_logits=coarse,
            global_detection=global_maps,
            patch_detection=self.patch_maps(patches, frames, boxes),
            priority_map=encoded.priority,
            candidates=torch.from_numpy(grid.boxes).to(device),
            candidate_sizes=torch.from_numpy(grid.sizes).to(device),
            priority_logits=priority_logits,
            chosen=torch.from_numpy(chosen).to(device),
            patch_boxes=torch.from_numpy(boxes).to(device).reshape(-1, 4),
            patches=patches,
            flops=self.flop_counter.per_frame(images.shape[0], frames),
        )


__all__ = ['PatchDriveNet']
