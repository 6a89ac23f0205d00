# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Read global-stream maps over boxes: means over cell ranges, and aligned feature crops."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def box_mean(values: torch.Tensor, ranges: torch.Tensor) -> torch.Tensor:
    """Mean of values (B, h, w) over cell ranges (N, 4) int64 (x1, y1, x2, y2) -> (B, N)."""
    integral = F.pad(values.cumsum(1).cumsum(2), (1, 0, 1, 0))  # (B, h + 1, w + 1)
    x1, y1, x2, y2 = ranges.unbind(1)
    total = integral[:, y2, x2] - integral[:, y1, x2] - integral[:, y2, x1] + integral[:, y1, x1]
    return total / ((x2 - x1) * (y2 - y1)).to(values.dtype)


def sample_boxes(features: torch.Tensor, frames: torch.Tensor, boxes: torch.Tensor,
                 input_size: tuple[int, int], side: int) -> torch.Tensor:
    """Bilinearly sample a side x side grid of features over each box.

    features (B, F, h, w) cover the whole (H, W) input; frames (K,) int64; boxes (K, 4) float
    in input pixels. Returns (K, F, side, side).
    """
    height, width = input_size
    steps = (torch.arange(side, device=boxes.device, dtype=boxes.dtype) + 0.5) / side  # (s,)
    xs = boxes[:, 0:1] + steps * (boxes[:, 2:3] - boxes[:, 0:1])  # (K, s)
    ys = boxes[:, 1:2] + steps * (boxes[:, 3:4] - boxes[:, 1:2])  # (K, s)
    grid = torch.stack(torch.broadcast_tensors(
        (xs / width * 2 - 1)[:, None, :], (ys / height * 2 - 1)[:, :, None]), -1)  # (K, s, s, 2)
    return F.grid_sample(features.index_select(0, frames), grid.to(features.dtype),
                         mode='bilinear', align_corners=False)
