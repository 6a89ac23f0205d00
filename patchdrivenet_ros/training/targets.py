# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Detection training targets on a detection map's cell grid (see model/outputs.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DetectionTargets:
    """Targets for one map of (h, w) cells."""

    heat: np.ndarray  # (D, h, w) float32, 1 at centre cells, Gaussian around them
    size: np.ndarray  # (2, h, w) float32 log((w, h) / cell) at centre cells
    offset: np.ndarray  # (2, h, w) float32 centre position inside its cell, in [0, 1)
    mask: np.ndarray  # (1, h, w) float32, 1 at centre cells


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
    cells: tuple[int, int],
    origin: tuple[float, float],
    cell: tuple[float, float],
) -> DetectionTargets:
    """Render targets of boxes (N, 4) xyxy input px, head channels (N,), on a grid.

    The grid has cells (h, w); cell (i, j) covers input pixels origin + (j, i) * cell to
    origin + (j + 1, i + 1) * cell. Only boxes whose centre lies on the grid get a centre.
    """
    height, width = cells
    heat = np.zeros((num_channels, height, width), np.float32)
    size = np.zeros((2, height, width), np.float32)
    offset = np.zeros((2, height, width), np.float32)
    mask = np.zeros((1, height, width), np.float32)
    if len(boxes) == 0:
        return DetectionTargets(heat, size, offset, mask)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    grid_boxes = (boxes - np.array(origin * 2, np.float32)) / np.array(cell * 2, np.float32)
    # Large boxes first, so a small object's centre keeps its own size target.
    areas = (grid_boxes[:, 2] - grid_boxes[:, 0]) * (grid_boxes[:, 3] - grid_boxes[:, 1])
    for index in np.argsort(-areas, kind='stable'):
        x1, y1, x2, y2 = grid_boxes[index]
        box_w, box_h = x2 - x1, y2 - y1
        centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
        if box_w <= 0 or box_h <= 0 or not (0 <= centre_x < width and 0 <= centre_y < height):
            continue
        cell_x, cell_y = int(centre_x), int(centre_y)
        sigma = gaussian_radius(box_w, box_h) / 3 + 0.5
        blob = np.exp(-((xs - cell_x) ** 2 + (ys - cell_y) ** 2) / (2 * sigma**2))
        channel = int(channels[index])
        np.maximum(heat[channel], blob, out=heat[channel])
        heat[channel, cell_y, cell_x] = 1.0
        size[:, cell_y, cell_x] = np.log((box_w, box_h))
        offset[:, cell_y, cell_x] = (centre_x - cell_x, centre_y - cell_y)
        mask[0, cell_y, cell_x] = 1.0
    return DetectionTargets(heat, size, offset, mask)
