# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Patch candidates on multi-size grids, and the deterministic top-k choice among them.

For each size s a grid of s x s boxes covers the frame; the last row and column are aligned to
the frame's border, so every box lies inside the frame (neighbours may overlap there). Along an
axis shorter than s, the box is clipped to the frame (one row or column spanning it). Exact
duplicates are dropped. Candidate ids are indices into the concatenation of the grids (sizes
ascending, then row-major), stable for a given frame size and size list.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools

import numpy as np

OVERLAP_LIMIT = 0.5
"""A candidate is deferred while more than this share of the smaller box of it and an already
chosen box overlaps (one patch per region; its size is the one with the highest priority)."""


@dataclass(frozen=True)
class CandidateGrid:
    """The N candidates of one frame size."""

    boxes: np.ndarray  # (N, 4) int64 xyxy, input pixels
    sizes: np.ndarray  # (N,) int64 nominal size s of each candidate

    def __len__(self) -> int:
        """Return the number of candidates N."""
        return int(self.sizes.shape[0])


def _starts(length: int, side: int) -> np.ndarray:
    """Start coordinates of boxes of ``side`` covering ``length``; the last one flush."""
    count = -(-length // side)
    starts = np.arange(count, dtype=np.int64) * side
    starts[-1] = length - side
    return starts


@functools.lru_cache(maxsize=32)
def candidate_grid(width: int, height: int, sizes: tuple[int, ...]) -> CandidateGrid:
    """Return the candidates covering a ``width`` x ``height`` frame for each size in sizes."""
    boxes: list[np.ndarray] = []
    box_sizes: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    for size in sizes:
        side_x, side_y = min(size, width), min(size, height)
        ys, xs = np.meshgrid(_starts(height, side_y), _starts(width, side_x), indexing='ij')
        grid = np.stack([xs, ys, xs + side_x, ys + side_y], -1).reshape(-1, 4)  # (n, 4)
        fresh = [row for row in grid if tuple(row) not in seen]
        seen.update(tuple(row) for row in fresh)
        if fresh:
            boxes.append(np.stack(fresh))
            box_sizes.append(np.full(len(fresh), size, np.int64))
    return CandidateGrid(np.concatenate(boxes), np.concatenate(box_sizes))


def cell_ranges(boxes: np.ndarray, input_size: tuple[int, int],
                cells: tuple[int, int]) -> np.ndarray:
    """Map boxes (N, 4) to the cells they touch on an h x w grid over the frame, (N, 4) int64.

    Returns (cx1, cy1, cx2, cy2) with cx2 exclusive and at least one cell per axis.
    """
    height, width = input_size
    rows, cols = cells
    scale = np.array([cols / width, rows / height, cols / width, rows / height])
    scaled = boxes * scale  # (N, 4)
    low = np.floor(scaled[:, :2]).astype(np.int64)
    high = np.ceil(scaled[:, 2:]).astype(np.int64)
    limit = np.array([cols, rows])
    low = np.clip(low, 0, limit - 1)
    high = np.clip(np.maximum(high, low + 1), 1, limit)
    return np.concatenate([low, high], 1)


def _coverage(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection of ``box`` (4,) with boxes (N, 4) over the smaller of the two areas, (N,)."""
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return (width * height) / np.minimum(area, areas)


def select_patches(priorities: np.ndarray, boxes: np.ndarray, budget: int) -> np.ndarray:
    """Choose ``budget`` candidates across a batch by priority, deferring overlapping ones.

    priorities (B, N) of B frames sharing one budget; boxes (N, 4). Candidates are visited by
    descending priority (ties: lower frame, then lower id). One that overlaps a chosen box of
    its frame by more than OVERLAP_LIMIT is deferred; deferred candidates fill the budget when
    the others run out, so a budget of at least B * N takes every candidate.
    Returns (K, 2) int64 (frame, candidate id) in the order chosen, K = min(budget, B * N).
    """
    frames, count = priorities.shape
    total = frames * count
    order = np.argsort(-priorities.reshape(-1), kind='stable')
    if budget >= total:
        chosen = order
    else:
        blocked = np.zeros((frames, count), dtype=bool)
        accepted: list[int] = []
        deferred: list[int] = []
        for flat in order.tolist():
            if len(accepted) == budget:
                break
            frame, index = divmod(flat, count)
            if blocked[frame, index]:
                deferred.append(flat)
                continue
            accepted.append(flat)
            blocked[frame] |= _coverage(boxes[index], boxes) > OVERLAP_LIMIT
        chosen = np.array(accepted + deferred[: budget - len(accepted)], dtype=np.int64)
    return np.stack(np.divmod(chosen, count), 1).astype(np.int64).reshape(-1, 2)
