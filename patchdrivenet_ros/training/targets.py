# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Detection training targets: centre heatmaps, box sizes and centre offsets at one stride."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DetectionTargets:
    """Targets for one frame at a detection-map resolution (h, w)."""

    heatmap: np.ndarray  # (D, h, w) float32, 1 at centres, Gaussian around them
    size: np.ndarray  # (2, h, w) float32 box (width, height) in input pixels at centres
    offset: np.ndarray  # (2, h, w) float32 sub-cell centre offset in cells at centres
    mask: np.ndarray  # (1, h, w) float32, 1 where size/offset are supervised


def gaussian_radius(width: float, height: float, min_overlap: float = 0.7) -> float:
    """Return the radius within which a shifted box keeps IoU >= min_overlap (CornerNet rule)."""
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + np.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + np.sqrt(b2**2 - 16 * c2)) / 8
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + np.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return float(min(r1, r2, r3))


def detection_targets(
    boxes: np.ndarray,
    channels: np.ndarray,
    num_channels: int,
    map_size: tuple[int, int],
    stride: float,
) -> DetectionTargets:
    """Build targets for boxes (N, 4) xyxy input px with head channels (N,) on a (h, w) map."""
    height, width = map_size
    heatmap = np.zeros((num_channels, height, width), np.float32)
    size = np.zeros((2, height, width), np.float32)
    offset = np.zeros((2, height, width), np.float32)
    mask = np.zeros((1, height, width), np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    # Draw large boxes first so a small object's centre keeps its own size target.
    order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    for index in order:
        x1, y1, x2, y2 = boxes[index] / stride
        box_w, box_h = x2 - x1, y2 - y1
        if box_w <= 0 or box_h <= 0:
            continue
        centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
        cell_x = int(min(max(centre_x, 0), width - 1))
        cell_y = int(min(max(centre_y, 0), height - 1))
        sigma = max(gaussian_radius(box_w, box_h), 0.0) / 3 + 0.5
        blob = np.exp(-((xs - cell_x) ** 2 + (ys - cell_y) ** 2) / (2 * sigma**2))
        channel = int(channels[index])
        np.maximum(heatmap[channel], blob, out=heatmap[channel])
        heatmap[channel, cell_y, cell_x] = 1.0
        size[:, cell_y, cell_x] = (box_w * stride, box_h * stride)
        offset[:, cell_y, cell_x] = (centre_x - cell_x, centre_y - cell_y)
        mask[0, cell_y, cell_x] = 1.0
    return DetectionTargets(heatmap, size, offset, mask)
