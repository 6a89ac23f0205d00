# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import numpy as np
import pytest

from patchdrivenet_ros.model.candidates import candidate_grid, cell_ranges, select_patches


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


def test_a_budget_below_the_candidates_is_filled_with_deferred_ones() -> None:
    grid = candidate_grid(256, 128, (64, 128))  # 8 boxes of 64, then 2 of 128 covering them
    priorities = np.zeros((1, len(grid)), np.float32)
    priorities[0, 8:] = [5.0, 4.0]  # each large box covers four small ones
    priorities[0, :8] = np.linspace(1.0, 0.3, 8)
    chosen = select_patches(priorities, grid.boxes, 6)
    assert chosen.shape == (6, 2) and chosen.dtype == np.int64 and (chosen[:, 0] == 0).all()
    # Both large boxes first, then the deferred small ones by descending priority.
    np.testing.assert_array_equal(chosen[:, 1], [8, 9, 0, 1, 2, 3])


@pytest.mark.parametrize('offset', [(0, 0), (100, 300), (300, 100)])
def test_coverage_is_over_the_smaller_box_and_must_exceed_the_limit(
        offset: tuple[int, int]) -> None:
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [4, 0, 14, 10], [50, 50, 60, 60],
                      [0, 0, 40, 40]]) + np.tile(offset, 2)
    descending = np.array([[3.0, 2.0, 1.0]])  # the chosen box, the tested one, a far one
    # [5, 0, 15, 10] covers exactly half of the first box: not more than OVERLAP_LIMIT.
    half = select_patches(descending, boxes[[0, 1, 3]], 2)[:, 1]
    np.testing.assert_array_equal(half, [0, 1])
    # [4, 0, 14, 10] covers 60 %: deferred behind the far box.
    more = select_patches(descending, boxes[[0, 2, 3]], 2)[:, 1]
    np.testing.assert_array_equal(more, [0, 2])
    # A small box inside a chosen large one is deferred although their IoU is only 1/16,
    inside = select_patches(descending, boxes[[4, 0, 3]], 2)[:, 1]
    np.testing.assert_array_equal(inside, [0, 2])
    # and so is a large box around a chosen small one.
    around = select_patches(descending, boxes[[0, 4, 3]], 2)[:, 1]
    np.testing.assert_array_equal(around, [0, 2])


@pytest.mark.parametrize('neighbour', [[1, 0, 2, 1], [0, 1, 1, 2]])  # beside, below
def test_boxes_that_only_touch_do_not_defer_each_other(neighbour: list[int]) -> None:
    boxes = np.array([[0, 0, 1, 1], neighbour, [5, 5, 6, 6]])  # a pixel each
    chosen = select_patches(np.array([[3.0, 2.0, 1.0]]), boxes, 2)
    np.testing.assert_array_equal(chosen[:, 1], [0, 1])


def test_every_chosen_box_defers_its_overlaps() -> None:
    boxes = np.array([[0, 0, 10, 10], [50, 0, 60, 10], [2, 0, 12, 10], [90, 0, 100, 10]])
    chosen = select_patches(np.array([[4.0, 3.0, 2.0, 1.0]]), boxes, 3)
    # [2, 0, 12, 10] overlaps the first choice, not the last one: still deferred.
    np.testing.assert_array_equal(chosen[:, 1], [0, 1, 3])


def test_overlap_defers_only_within_the_same_frame() -> None:
    grid = candidate_grid(256, 128, (64, 128))
    priorities = np.zeros((2, len(grid)), np.float32)
    priorities[0, 8] = 5.0  # (0, 0, 128, 128) in frame 0
    priorities[1, 0] = 4.0  # (0, 0, 64, 64) in frame 1: the same place, another frame
    chosen = select_patches(priorities, grid.boxes, 2)
    np.testing.assert_array_equal(chosen, [[0, 8], [1, 0]])


def test_a_budget_of_every_candidate_takes_them_by_descending_priority() -> None:
    grid = candidate_grid(256, 128, (64, 128))
    priorities = np.zeros((1, len(grid)), np.float32)
    priorities[0, [8, 0, 9]] = [3.0, 2.0, 1.0]  # box 0 lies inside box 8: no deferring here
    chosen = select_patches(priorities, grid.boxes, len(grid))
    assert chosen.dtype == np.int64
    np.testing.assert_array_equal(chosen[:, 1], [8, 0, 9, 1, 2, 3, 4, 5, 6, 7])


def test_equal_priorities_go_to_the_lower_frame_then_the_lower_id() -> None:
    grid = candidate_grid(256, 128, (64,))
    priorities = np.zeros((2, len(grid)), np.float32)
    priorities[1, 5] = 1.0
    chosen = select_patches(priorities, grid.boxes, 4)
    np.testing.assert_array_equal(chosen, [[1, 5], [0, 0], [0, 1], [0, 2]])


@pytest.mark.parametrize(('box', 'cells', 'expected'), [
    ([0, 0, 200, 100], (10, 20), [0, 0, 20, 10]),  # the whole frame
    ([15, 25, 35, 41], (10, 20), [1, 2, 4, 5]),  # partly covered cells count
    ([15, 25, 35, 41], (5, 40), [3, 1, 7, 3]),  # rows and columns scale apart
    ([50, 50, 50, 50], (10, 20), [5, 5, 6, 6]),  # an empty box still touches one cell
    ([200, 100, 200, 100], (10, 20), [19, 9, 20, 10]),  # kept on the grid at the far corner
    ([0, 0, 5, 5], (10, 20), [0, 0, 1, 1]),  # inside the first cell
    ([-20, -10, 30, 15], (10, 20), [0, 0, 3, 2]),  # clipped to the grid at the near corner
    ([190, 90, 230, 120], (10, 20), [19, 9, 20, 10]),  # and at the far corner
])
def test_cell_ranges(box: list[int], cells: tuple[int, int], expected: list[int]) -> None:
    ranges = cell_ranges(np.array([box]), (100, 200), cells)
    assert ranges.dtype == np.int64
    np.testing.assert_array_equal(ranges, [expected])
