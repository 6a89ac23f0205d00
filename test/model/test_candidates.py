# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import numpy as np
import pytest

from patchdrivenet_ros.model.candidates import candidate_grid, select_patches


def _covered(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    cover = np.zeros((height, width), dtype=bool)
    for x1, y1, x2, y2 in boxes.tolist():
        cover[y1:y2, x1:x2] = True
    return cover


@pytest.mark.parametrize(('width', 'height'), [(1242, 375), (1600, 900), (333, 217)])
def test_grids_cover_the_frame_with_boxes_inside(width: int, height: int) -> None:
    grid = candidate_grid(width, height, (64, 128, 256))
    boxes = grid.boxes
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= width).all()
    assert (boxes[:, 3] <= height).all()
    for size in (64, 128, 256):
        mine = boxes[grid.sizes == size]
        assert _covered(mine, width, height).all()
        assert ((mine[:, 2] - mine[:, 0]) == min(size, width)).all()
        assert ((mine[:, 3] - mine[:, 1]) == min(size, height)).all()
    assert len({tuple(b) for b in boxes.tolist()}) == len(boxes)


def test_ids_are_stable_and_small_frames_get_clipped_boxes() -> None:
    first = candidate_grid(333, 217, (64, 128, 256))
    candidate_grid.cache_clear()
    again = candidate_grid(333, 217, (64, 128, 256))
    np.testing.assert_array_equal(first.boxes, again.boxes)
    big = first.boxes[first.sizes == 256]
    np.testing.assert_array_equal(big, [[0, 0, 256, 217], [77, 0, 333, 217]])
    tiny = candidate_grid(40, 30, (64, 128))
    np.testing.assert_array_equal(tiny.boxes, [[0, 0, 40, 30]])


def test_budget_zero_all_and_deterministic_ties() -> None:
    grid = candidate_grid(256, 128, (64, 128))
    flat = np.zeros((1, len(grid)), np.float32)
    assert select_patches(flat, grid.boxes, 0).shape == (0, 2)
    everything = select_patches(flat, grid.boxes, 10_000)
    assert sorted(everything[:, 1].tolist()) == list(range(len(grid)))
    np.testing.assert_array_equal(select_patches(flat, grid.boxes, 3)[:, 1], [0, 1, 2])


def test_overlapping_candidates_are_deferred_then_fill_the_budget() -> None:
    grid = candidate_grid(256, 128, (64, 128))
    priorities = np.zeros((1, len(grid)), np.float32)
    large = np.flatnonzero(grid.sizes == 128)[0]  # box (0, 0, 128, 128)
    priorities[0, large] = 5.0
    priorities[0, 0] = 4.0  # (0, 0, 64, 64), inside the large box
    priorities[0, 3] = 3.0  # (192, 0, 256, 64), elsewhere
    chosen = select_patches(priorities, grid.boxes, 2)[:, 1]
    np.testing.assert_array_equal(chosen, [large, 3])
    assert 0 in select_patches(priorities, grid.boxes, len(grid))[:, 1]


def test_frames_share_one_budget() -> None:
    grid = candidate_grid(256, 128, (64,))
    priorities = np.stack([np.linspace(2.0, 1.0, len(grid)), np.linspace(0.5, 0.0, len(grid))])
    chosen = select_patches(priorities.astype(np.float32), grid.boxes, 5)
    assert chosen.shape == (5, 2) and (chosen[:, 0] == 0).all()
    priorities[1, 2] = 9.0
    chosen = select_patches(priorities.astype(np.float32), grid.boxes, 5)
    assert chosen[0].tolist() == [1, 2] and (chosen[1:, 0] == 0).all()
