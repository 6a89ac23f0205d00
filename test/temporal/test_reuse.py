# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the patch cache, the two reuse rules and the per-stream temporal state."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.temporal.flow import FlowEstimator, PatchMotion, patch_motion
from patchdrivenet_ros.temporal.reuse import (
    PatchCache,
    ReuseDecision,
    TemporalState,
    decide_reuse,
    reference_boxes,
)

FRAME = (320, 240)


def _motion(mean: list[tuple[float, float]], residual: list[float]) -> PatchMotion:
    return PatchMotion(
        mean=np.array(mean, np.float32).reshape(-1, 2),
        residual=np.array(residual, np.float32),
    )


def _cache_with(boxes: dict[int, list[int]], computed_at: int = 0) -> PatchCache:
    cache = PatchCache(16)
    for cell, box in boxes.items():
        cache.put(cell, np.array(box), payload=f'p{cell}', frame_index=computed_at)
    return cache


def _decide(rule: str, motion: PatchMotion | None, cache: PatchCache, frame_index: int = 1,
            cells: tuple[int, ...] = (0,), max_age: int = 4) -> ReuseDecision:
    boxes = np.array([[64, 64, 128, 128]] * len(cells))
    return decide_reuse(rule, np.array(cells), boxes, motion, cache, frame_index,
                        threshold=3.0, max_age=max_age, frame_size=FRAME)


def test_cache_put_get_move_clear() -> None:
    cache = PatchCache(4)
    assert cache.get(7) is None
    cache.put(7, np.array([0, 0, 64, 64]), payload='a', frame_index=3)
    entry = cache.get(7)
    assert entry is not None
    assert entry.payload == 'a'
    assert entry.computed_at == 3
    assert entry.box.dtype == np.int32
    cache.move(7, np.array([5, 6, 69, 70]))
    entry = cache.get(7)
    assert entry is not None
    np.testing.assert_array_equal(entry.box, [5, 6, 69, 70])
    assert entry.computed_at == 3  # moving is not recomputing
    with pytest.raises(KeyError):
        cache.move(8, np.array([0, 0, 1, 1]))
    assert len(cache) == 1
    cache.clear()
    assert len(cache) == 0
    assert cache.get(7) is None


def test_cache_is_bounded_and_evicts_the_oldest() -> None:
    cache = PatchCache(3)
    for frame, cell in enumerate([10, 11, 12]):
        cache.put(cell, np.array([0, 0, 8, 8]), payload=cell, frame_index=frame)
    cache.put(10, np.array([0, 0, 8, 8]), payload='fresh', frame_index=5)  # refresh cell 10
    cache.put(13, np.array([0, 0, 8, 8]), payload=13, frame_index=6)
    assert len(cache) == 3
    assert cache.get(11) is None  # computed at frame 1, the oldest left
    assert cache.get(10) is not None
    assert cache.get(12) is not None
    assert cache.get(13) is not None
    empty = PatchCache(0)
    empty.put(1, np.array([0, 0, 8, 8]), payload=1, frame_index=0)
    assert len(empty) == 0
    with pytest.raises(ValueError, match='capacity must be >= 0, got -1'):
        PatchCache(-1)


def test_cache_evicts_the_first_stored_among_equal_ages() -> None:
    cache = PatchCache(2)
    for cell in (1, 2, 1, 3):  # cell 1 is stored again after cell 2
        cache.put(cell, np.array([0, 0, 8, 8]), payload=cell, frame_index=0)
    assert cache.get(2) is None
    assert cache.get(1) is not None and cache.get(3) is not None


def test_cache_keeps_boxes_as_flat_int32_and_refuses_others() -> None:
    cache = PatchCache(2)
    cache.put(1, np.array([[1.0, 2.0, 9.0, 10.0]]), payload=None, frame_index=0)
    entry = cache.get(1)
    assert entry is not None and entry.box.shape == (4,) and entry.box.dtype == np.int32
    np.testing.assert_array_equal(entry.box, [1, 2, 9, 10])
    with pytest.raises(ValueError, match=r'expected an xyxy box, got shape \(3,\)'):
        cache.put(2, np.array([0, 0, 8]), payload=None, frame_index=0)


def test_no_motion_or_rule_off_recomputes_all() -> None:
    cache = _cache_with({0: [64, 64, 128, 128]})
    for rule, motion in [('displacement', None), ('compensated', None),
                         ('off', _motion([(0, 0)], [0]))]:
        decision = _decide(rule, motion, cache)
        assert not decision.reuse.any()
        np.testing.assert_array_equal(decision.boxes, [[64, 64, 128, 128]])
    with pytest.raises(ValueError, match="'always' is not one of off, displacement, compensated"):
        _decide('always', None, cache)


def test_missing_cache_entry_recomputes() -> None:
    cache = _cache_with({5: [64, 64, 128, 128]})
    for rule in ('displacement', 'compensated'):
        decision = _decide(rule, _motion([(0, 0), (0, 0)], [0, 0]), cache, cells=(5, 6))
        np.testing.assert_array_equal(decision.reuse, [True, False])
        assert decision.reuse.dtype == bool
        later = _decide(rule, _motion([(0, 0), (0, 0)], [0, 0]), cache, cells=(6, 5))
        np.testing.assert_array_equal(later.reuse, [False, True])


def test_displacement_rule_thresholds_the_mean_flow() -> None:
    cache = _cache_with({0: [64, 64, 128, 128], 1: [64, 64, 128, 128]})
    decision = _decide('displacement', _motion([(2, 2), (10, 0)], [0, 0]), cache, cells=(0, 1))
    np.testing.assert_array_equal(decision.reuse, [True, False])
    np.testing.assert_array_equal(decision.boxes[0], [64, 64, 128, 128])  # stays in place
    # Small residual does not save a patch that moved: the literal rule looks at the mean only.
    decision = _decide('displacement', _motion([(3.1, 0)], [0]), cache)
    assert not decision.reuse[0]
    decision = _decide('displacement', _motion([(3.0, 0)], [9]), cache)
    assert decision.reuse[0]


def test_compensated_rule_shifts_the_cached_box() -> None:
    cache = _cache_with({0: [64, 64, 128, 128], 1: [64, 64, 128, 128]})
    decision = _decide('compensated', _motion([(10.4, -2.6), (10, 0)], [3.0, 3.5]), cache,
                       cells=(0, 1))  # a residual at the threshold still reuses
    np.testing.assert_array_equal(decision.reuse, [True, False])
    np.testing.assert_array_equal(decision.boxes[0], [74, 61, 138, 125])
    np.testing.assert_array_equal(decision.boxes[1], [64, 64, 128, 128])
    assert decision.boxes.dtype == np.int32


def test_compensated_rule_recomputes_a_box_leaving_the_frame() -> None:
    cache = _cache_with({0: [250, 10, 314, 74], 1: [0, 10, 64, 74], 2: [100, 170, 164, 234]})
    motion = _motion([(6, 0), (-1, 0), (0, 6)], [0, 0, 0])
    boxes = np.array([[250, 10, 314, 74], [0, 10, 64, 74], [100, 170, 164, 234]])
    decision = decide_reuse('compensated', np.array([0, 1, 2]), boxes, motion, cache, 1,
                            threshold=3.0, max_age=4, frame_size=FRAME)
    np.testing.assert_array_equal(decision.reuse, [True, False, True])
    np.testing.assert_array_equal(decision.boxes[0], [256, 10, 320, 74])  # touches the edge
    for cell, mean in ((2, (0, 7)), (0, (7, 0))):  # one pixel past the bottom, the right
        decision = decide_reuse('compensated', np.array([cell]), boxes[cell:cell + 1],
                                _motion([mean], [0]), cache, 1, threshold=3.0, max_age=4,
                                frame_size=FRAME)
        assert not decision.reuse[0]



@pytest.mark.parametrize(('mean', 'reused', 'where'), [
    ((-2, 0), True, [0, 10, 64, 74]),  # onto the left edge: inside
    ((-3, 0), False, [2, 10, 66, 74]),  # one pixel past it
    ((0, -10), True, [2, 0, 66, 64]),  # onto the top edge: inside
    ((0, -11), False, [2, 10, 66, 74]),  # one pixel past it
    ((-3, -11), False, [2, 10, 66, 74]),
])
def test_compensated_rule_at_the_left_and_top_edges(mean: tuple[int, int], reused: bool,
                                                    where: list[int]) -> None:
    cache = _cache_with({0: [2, 10, 66, 74]})
    decision = decide_reuse('compensated', np.array([0]), np.array([[2, 10, 66, 74]]),
                            _motion([mean], [0]), cache, 1, threshold=3.0, max_age=4,
                            frame_size=FRAME)
    assert decision.reuse.tolist() == [reused]
    np.testing.assert_array_equal(decision.boxes[0], where)

@pytest.mark.parametrize('rule', ['displacement', 'compensated'])
def test_age_limits_reuse(rule: str) -> None:
    cache = _cache_with({0: [64, 64, 128, 128]}, computed_at=10)
    still = _motion([(0, 0)], [0])
    assert _decide(rule, still, cache, frame_index=14, max_age=4).reuse[0]
    assert not _decide(rule, still, cache, frame_index=15, max_age=4).reuse[0]
    assert not _decide(rule, still, cache, frame_index=11, max_age=0).reuse[0]


def test_decide_reuse_of_no_patches_and_mismatched_motion() -> None:
    cache = _cache_with({})
    empty = decide_reuse('compensated', np.zeros(0, np.int64), np.zeros((0, 4), np.int32),
                         _motion([], []), cache, 1, 3.0, 4, FRAME)
    assert empty.reuse.shape == (0,)
    assert empty.boxes.shape == (0, 4)
    with pytest.raises(ValueError, match='motion'):
        _decide('compensated', _motion([(0, 0), (0, 0)], [0, 0]), _cache_with({0: [0, 0, 8, 8]}))
    with pytest.raises(ValueError, match='motion'):
        _decide('compensated', PatchMotion(mean=np.zeros((2, 2), np.float32),
                                           residual=np.zeros(1, np.float32)), cache)
    with pytest.raises(ValueError, match='^2 cell ids but 1 boxes$'):
        decide_reuse('off', np.array([0, 1]), np.zeros((1, 4)), None, cache, 1, 3.0, 4, FRAME)


def test_reference_boxes_take_the_cached_position() -> None:
    cache = _cache_with({3: [70, 64, 134, 128]})
    boxes = np.array([[64, 64, 128, 128], [0, 0, 64, 64]])
    where = reference_boxes(np.array([3, 4]), boxes, cache)
    np.testing.assert_array_equal(where, [[70, 64, 134, 128], [0, 0, 64, 64]])
    assert where.dtype == np.int32


def _grey(seed: int, size: tuple[int, int] = (40, 30)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, size[::-1], dtype=np.uint8)


def _stateful(stamps: list[float | None], sizes: list[tuple[int, int]] | None = None,
              greys: list[np.ndarray] | None = None) -> list[bool]:
    """Advance a state over frames, filling the cache each time; return which got flow."""
    state = TemporalState(cache_capacity=8)
    estimator = FlowEstimator()
    got_flow = []
    for i, stamp in enumerate(stamps):
        grey = greys[i] if greys is not None else _grey(i)
        frame_size = sizes[i] if sizes is not None else FRAME
        flow = state.advance(grey, stamp, frame_size, time_jump_s=1.0, flow=estimator)
        assert state.frame_index == i
        if flow is None:
            assert len(state.cache) == 0
        else:
            assert flow.shape == (*grey.shape, 2)
            assert len(state.cache) == 1  # kept across a normal advance
        state.cache.put(0, np.array([0, 0, 8, 8]), payload=i, frame_index=state.frame_index)
        got_flow.append(flow is not None)
    return got_flow


def test_state_normal_advance_returns_flow() -> None:
    assert _stateful([0.0, 0.1, 0.2]) == [False, True, True]


def test_state_without_stamps_never_jumps() -> None:
    assert _stateful([None, None, 5.0, None]) == [False, True, True, True]


def test_state_resets_on_a_stamp_going_backwards_or_a_time_jump() -> None:
    assert _stateful([0.0, 0.1, 0.05, 0.15, 1.5, 1.6]) == [False, True, False, True, False, True]


def test_state_keeps_flow_for_an_equal_stamp_and_a_gap_of_exactly_the_limit() -> None:
    assert _stateful([0.0, 0.0, 1.0]) == [False, True, True]


def test_state_resets_on_a_frame_or_grey_size_change() -> None:
    sizes = [FRAME, FRAME, (640, 480), (640, 480)]
    assert _stateful([0.0, 0.1, 0.2, 0.3], sizes=sizes) == [False, True, False, True]
    greys = [_grey(0), _grey(1), _grey(2, (20, 15)), _grey(3, (20, 15))]
    assert _stateful([0.0, 0.1, 0.2, 0.3], greys=greys) == [False, True, False, True]


def test_state_reset_drops_flow_and_cache() -> None:
    state = TemporalState(cache_capacity=4)
    estimator = FlowEstimator()
    assert state.advance(_grey(0), 0.0, FRAME, 1.0, estimator) is None
    state.cache.put(1, np.array([0, 0, 8, 8]), payload=None, frame_index=state.frame_index)
    state.reset()
    assert len(state.cache) == 0
    assert state.advance(_grey(1), 0.1, FRAME, 1.0, estimator) is None
    assert state.frame_index == 1
    assert state.advance(_grey(2), 0.2, FRAME, 1.0, estimator) is not None
    with pytest.raises(ValueError, match='uint8'):
        state.advance(_grey(3).astype(np.float32), 0.3, FRAME, 1.0, estimator)
    with pytest.raises(ValueError, match='uint8'):
        state.advance(np.zeros((30, 40, 3), np.uint8), 0.3, FRAME, 1.0, estimator)


def _full_res_pair(shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Return two low-res grey frames (scale 0.25) of a 1240x376 scene panned by ``shift`` px."""
    rng = np.random.default_rng(7)
    noise = rng.random((100, 330)).astype(np.float32)
    big = cv2.resize(noise, (1320, 400), interpolation=cv2.INTER_CUBIC)
    big = cv2.normalize(big, np.empty_like(big), 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    previous, current = big[12:388, 40:1280], big[12:388, 40 - shift:1280 - shift]
    low = [cv2.resize(f, (310, 94), interpolation=cv2.INTER_AREA) for f in (previous, current)]
    return low[0], low[1]


@pytest.mark.parametrize(('shift', 'displacement', 'compensated'),
                         [(2, True, True), (10, False, True)])
def test_rules_on_a_panned_scene(shift: int, displacement: bool, compensated: bool) -> None:
    previous, current = _full_res_pair(shift)
    frame = (1240, 376)
    boxes = np.array([[256, 128, 384, 256], [640, 64, 896, 320]])
    cells = np.array([11, 12])
    for rule, expected in (('displacement', displacement), ('compensated', compensated)):
        state = TemporalState(cache_capacity=8)
        estimator = FlowEstimator()
        assert state.advance(previous, 0.0, frame, 1.0, estimator) is None
        for cell, box in zip(cells, boxes, strict=True):
            state.cache.put(int(cell), box, payload=None, frame_index=state.frame_index)
        flow = state.advance(current, 0.1, frame, 1.0, estimator)
        assert flow is not None
        motion = patch_motion(flow, reference_boxes(cells, boxes, state.cache), 0.25)
        decision = decide_reuse(rule, cells, boxes, motion, state.cache, state.frame_index,
                                threshold=3.0, max_age=4, frame_size=frame)
        assert decision.reuse.tolist() == [expected, expected], (rule, motion)
        if rule == 'compensated':
            np.testing.assert_array_equal(decision.boxes, boxes + [shift, 0, shift, 0])
