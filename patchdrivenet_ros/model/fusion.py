# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Write refined patch logits back into the full-resolution segmentation without seams.

Each patch i contributes a_i(x) = sigmoid(blend_i(x)) * w_i * window_i(x), where the window
falls smoothly to 0 at patch sides inside the frame (sides on the frame border stay at 1).
Patches meet the upsampled global logits g as
``out = (1 - alpha) * g + alpha * sum_i a_i p_i / sum_i a_i`` with
``alpha = 1 - prod_i (1 - a_i)``: overlapping patches average by weight, and the global
prediction takes over wherever patch weights fade, so patch borders leave no seam.

``fuse_segmentation`` returns the logits (training); ``fuse_labels`` only the class ids,
never holding the (B, C, H, W) logits (inference): outside the patches it interpolates only
where the global prediction changes class (GlobalUpsampler.labels), at the cost of the output.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.crops import resize_to_boxes
from patchdrivenet_ros.model.outputs import PatchOutputs

FEATHER = 8
"""The window ramps over 1/FEATHER of the patch side at each inner side."""
LABEL_CELL = 16
"""Global cells of 2 * LABEL_CELL px or more are labelled on blocks of cell // LABEL_CELL px
(4K under global_max_pixels: 2 px, 8K: 5 px), smaller ones at every pixel
(GlobalUpsampler.labels). On rendered driving frames, where a quarter of the global cells hold
a class boundary, blocks of 2 px at 4K took the labels from about 50 to 24 ms (one thread) and
moved 0.27% of the pixels, by at most a pixel."""


class GlobalUpsampler:
    """Bilinear upsampling (align_corners=False) of (B, C, h, w) logits, evaluated by blocks."""

    def __init__(self, logits: torch.Tensor, input_size: tuple[int, int]) -> None:
        height, width = input_size
        rows = logits.shape[2]
        self.logits = logits
        self.input_size = input_size
        self.columns = F.interpolate(logits, size=(rows, width), mode='bilinear',
                                     align_corners=False)  # (B, C, h, W)
        self.low, self.high, weight = _support(rows, height, logits)  # (H,) each
        self.weight = weight[:, None]  # (H, 1)
        self.column_low = _support(logits.shape[3], width, logits)[0]  # (W,)

    def block(self, y0: int, y1: int, x0: int, x1: int, frame: int | None = None
              ) -> torch.Tensor:
        """Return the upsampled logits of rows y0:y1, columns x0:x1 (of one frame or all).

        Shape (B, C, y1 - y0, x1 - x0), or (1, C, ...) for one frame.
        """
        frames = slice(None) if frame is None else slice(frame, frame + 1)
        columns = self.columns[frames, :, :, x0:x1]
        return torch.lerp(columns.index_select(2, self.low[y0:y1]),
                          columns.index_select(2, self.high[y0:y1]), self.weight[y0:y1])

    def labels(self) -> torch.Tensor:
        """Return the class ids (B, H, W) uint8 of the upsampled logits.

        A pixel's upsampled logits are a convex combination of its (up to) four source
        cells', so where those cells share their best class, that class is the pixel's: it is
        written from the low-resolution argmax. Only pixels whose source cells disagree are
        interpolated, exactly as ``block`` does; the result equals the argmax of ``block``
        over the whole frame while a cell spans less than 2 * LABEL_CELL pixels.

        Larger cells (4K and 8K frames under global_max_pixels: 46 and 92 px) are labelled on
        blocks of step = cell // LABEL_CELL pixels, each block taking the exact label of its
        centre: a class boundary moves by at most step / 2 pixels, and the interpolation
        costs step^2 less.
        """
        height, width = self.input_size
        step = min(height // self.logits.shape[2], width // self.logits.shape[3]) // LABEL_CELL
        if step >= 2:
            blocks = GlobalUpsampler(self.logits, (-(-height // step), -(-width // step)))
            coarse = blocks.labels()  # (B, H / step, W / step)
            rows = _nearest(height, coarse.shape[1], coarse.device)
            return coarse.index_select(2, _nearest(width, coarse.shape[2], coarse.device)
                                       ).index_select(1, rows)
        best = self.logits.max(1).indices.to(torch.uint8)  # (B, h, w)
        below = torch.cat([best[:, 1:], best[:, -1:]], 1)
        right = torch.cat([best[:, :, 1:], best[:, :, -1:]], 2)
        diagonal = torch.cat([right[:, 1:], right[:, -1:]], 1)
        mixed = (best != below) | (best != right) | (best != diagonal)  # (B, h, w)
        rows = torch.bincount(self.low, minlength=best.shape[1])  # output rows per cell row
        # Columns first, then whole rows: gathering rows of a wide image copies them at memory
        # speed (repeat_interleave was 8x slower at 4K).
        labels = best.index_select(2, self.column_low).index_select(1, self.low)  # (B, H, W)
        mixed_columns = mixed.index_select(2, self.column_low)  # (B, h, W)
        starts = (torch.cumsum(rows, 0) - rows).tolist()
        for cell_row, (start, count) in enumerate(zip(starts, rows.tolist(), strict=True)):
            if count == 0:
                continue
            top, bottom = int(self.low[start]), int(self.high[start])
            weight = self.weight[start:start + count]  # (r, 1)
            for frame in range(best.shape[0]):
                where = torch.nonzero(mixed_columns[frame, cell_row]).flatten()  # (X,)
                if len(where) == 0:
                    continue
                upper = self.columns[frame, :, top].index_select(1, where)[:, None]  # (C, 1, X)
                lower = self.columns[frame, :, bottom].index_select(1, where)[:, None]
                values = torch.lerp(upper, lower, weight)  # (C, r, X)
                labels[frame, start:start + count].index_copy_(
                    1, where, values.max(0).indices.to(torch.uint8))
        return labels


def _nearest(output: int, size: int, device: torch.device) -> torch.Tensor:
    """Index (output,) of the block of ``size`` blocks that covers each output position."""
    return torch.div(torch.arange(output, device=device) * size, output, rounding_mode='floor')


def _support(size: int, output: int, like: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source cells (low, high) and weight of each of ``output`` positions upsampled from ``size``.

    The bilinear rule with align_corners=False, as F.interpolate applies it: position i reads
    cells low and high = low + 1 (clamped) at weight (i + 0.5) * size / output - 0.5 - low.
    """
    source = (torch.arange(output, device=like.device, dtype=like.dtype) + 0.5) * (
        size / output) - 0.5
    source = source.clamp(min=0.0)
    low = source.floor().long().clamp(max=size - 1)
    return low, (low + 1).clamp(max=size - 1), source - low.to(source.dtype)


@functools.lru_cache(maxsize=256)
def _ramp(length: int, open_start: bool, open_end: bool, device: torch.device) -> torch.Tensor:
    """Smooth 1-D window (length,) rising from 0 at open ends to 1 within length / FEATHER.

    Cached: a few hundred (length, sides) pairs cover every patch of a camera; callers only
    read the tensor.
    """
    margin = max(1.0, length / FEATHER)
    position = torch.arange(length, device=device, dtype=torch.float32) + 0.5
    ramp = torch.ones(length, device=device)
    if open_start:
        ramp = torch.minimum(ramp, position / margin)
    if open_end:
        ramp = torch.minimum(ramp, (length - position) / margin)
    return ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep


def patch_window(box: np.ndarray, input_size: tuple[int, int],
                 device: torch.device) -> torch.Tensor:
    """Feathering window (1, h, w) of box (4,) xyxy in a frame of input_size (H, W)."""
    x1, y1, x2, y2 = box.tolist()
    height, width = input_size
    rows = _ramp(y2 - y1, y1 > 0, y2 < height, device)  # (h,)
    cols = _ramp(x2 - x1, x1 > 0, x2 < width, device)  # (w,)
    return (rows[:, None] * cols[None, :])[None]


def _overlap_groups(boxes: np.ndarray) -> list[np.ndarray]:
    """Split boxes (k, 4) into groups connected by overlap; indices per group, ascending."""
    x1, y1, x2, y2 = (boxes[:, i] for i in range(4))
    overlap = ((np.minimum(x2[:, None], x2) > np.maximum(x1[:, None], x1))
               & (np.minimum(y2[:, None], y2) > np.maximum(y1[:, None], y1)))  # (k, k)
    group = np.arange(len(boxes))
    changed = True
    while changed:  # propagate the smallest index through overlaps until stable
        spread = np.where(overlap, group[None, :], len(boxes)).min(1)
        changed = bool((spread < group).any())
        group = np.minimum(group, spread)
    return [np.flatnonzero(group == g) for g in np.unique(group)]


def _blend(region: torch.Tensor, maps: list[torch.Tensor], weights: torch.Tensor,
           boxes: np.ndarray, corner: tuple[int, int],
           input_size: tuple[int, int]) -> torch.Tensor:
    """Blend patches into region (C, rh, rw) whose top-left is corner (x0, y0).

    maps: per patch (C + 1, h_i, w_i) logits and blend logit at box size; weights (k,) w_i;
    boxes (k, 4) inside the region, whose extent is their union (one patch: its box).
    """
    classes, rows, cols = region.shape
    x0, y0 = corner
    if len(maps) == 1:  # the region is the patch's box: alpha = a, the weighted mean is p
        patch = maps[0]
        weight = torch.sigmoid(patch[classes:]) * weights[0] * patch_window(
            boxes[0], input_size, region.device)  # (1, h, w)
        return torch.lerp(region, patch[:classes], weight.clamp(max=1.0 - 1e-6))
    total = region.new_zeros(1, rows, cols)  # sum_i a_i
    log_keep = region.new_zeros(1, rows, cols)  # sum_i log(1 - a_i)
    weighted = region.new_zeros(classes, rows, cols)  # sum_i a_i p_i
    for index, (box, patch) in enumerate(zip(boxes, maps, strict=True)):
        bx1, by1, bx2, by2 = box.tolist()
        window = patch_window(box, input_size, region.device)  # (1, h, w)
        weight = torch.sigmoid(patch[classes:]) * weights[index] * window  # (1, h, w)
        inside = (slice(None), slice(by1 - y0, by2 - y0), slice(bx1 - x0, bx2 - x0))
        total[inside] += weight
        log_keep[inside] += torch.log1p(-weight.clamp(max=1.0 - 1e-6))
        weighted[inside] += weight * patch[:classes]
    alpha = 1.0 - torch.exp(log_keep)  # (1, rh, rw)
    return region * (1.0 - alpha) + weighted * (alpha / total.clamp(min=1e-6))


def _patch_regions(patches: PatchOutputs, frames: np.ndarray, boxes: np.ndarray
                   ) -> list[tuple[int, tuple[int, int, int, int], np.ndarray,
                                   list[torch.Tensor]]]:
    """Split patches into regions blended independently.

    One region per group of overlapping patches of a frame: (frame, union box (x0, y0, x1,
    y1), member indices, maps at box size).
    """
    if len(patches) == 0:
        return []
    maps = torch.cat([patches.logits, patches.blend], 1)  # (K, C + 1, q, q)
    resized = resize_to_boxes(maps, boxes)  # K x (C + 1, h_i, w_i)
    regions = []
    for frame in np.unique(frames).tolist():
        in_frame = np.flatnonzero(frames == frame)
        for group in _overlap_groups(boxes[in_frame]):
            members = in_frame[group]
            x0, y0 = boxes[members, :2].min(0).tolist()
            x1, y1 = boxes[members, 2:].max(0).tolist()
            regions.append((frame, (x0, y0, x1, y1), members,
                            [resized[m] for m in members.tolist()]))
    return regions


def fuse_segmentation(global_logits: torch.Tensor, patches: PatchOutputs, frames: np.ndarray,
                      boxes: np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
    """Blend patch logits into the upsampled global logits.

    global_logits (B, C, h, w) cover the frame; patches K in the order of frames (K,) and
    boxes (K, 4) int xyxy where each is written. Returns (B, C, H, W) logits at input size.
    """
    height, width = input_size
    upsampler = GlobalUpsampler(global_logits, input_size)
    fused = upsampler.block(0, height, 0, width)  # (B, C, H, W)
    for frame, (x0, y0, x1, y1), members, maps in _patch_regions(patches, frames, boxes):
        region = fused[frame, :, y0:y1, x0:x1]  # (C, rh, rw)
        if torch.is_grad_enabled():
            region = region.clone()  # keep the autograd copy apart from the write below
        fused[frame, :, y0:y1, x0:x1] = _blend(region, maps, patches.weight[members],
                                               boxes[members], (x0, y0), input_size)
    return fused


def fuse_labels(global_logits: torch.Tensor, patches: PatchOutputs, frames: np.ndarray,
                boxes: np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
    """Return the class ids (B, H, W) uint8 of fuse_segmentation's logits (inference)."""
    height, width = input_size
    upsampler = GlobalUpsampler(global_logits, input_size)
    labels = upsampler.labels()  # (B, H, W)
    for frame, (x0, y0, x1, y1), members, maps in _patch_regions(patches, frames, boxes):
        region = upsampler.block(y0, y1, x0, x1, frame)[0]  # (C, rh, rw)
        blended = _blend(region, maps, patches.weight[members], boxes[members], (x0, y0),
                         input_size)
        window = labels[frame, y0:y1, x0:x1]  # (rh, rw) view
        best = blended.max(0).indices.to(labels.dtype)  # (rh, rw); argmax is 8x slower on CPU
        if len(members) == 1:  # the region is the patch
            window.copy_(best)
            continue
        # Only the members' pixels: the region's extent may hold patches of other groups.
        covered = torch.zeros(y1 - y0, x1 - x0, dtype=torch.bool, device=labels.device)
        for bx1, by1, bx2, by2 in boxes[members].tolist():
            covered[by1 - y0:by2 - y0, bx1 - x0:bx2 - x0] = True
        window[covered] = best[covered]
    return labels
