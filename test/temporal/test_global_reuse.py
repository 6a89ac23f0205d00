# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the global stream's reuse: frame motion, the reuse gate and the feature warp."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from patchdrivenet_ros.model.outputs import GlobalFeatures
from patchdrivenet_ros.temporal.flow import FlowEstimator
from patchdrivenet_ros.temporal.global_reuse import (
    MAX_ENTERING,
    MAX_UNEXPLAINED,
    CachedGlobal,
    FrameMotion,
    frame_motion,
    may_reuse_global,
    warp_global,
)

HEIGHT, WIDTH, MARGIN = 96, 320, 16


def _texture(seed: int) -> np.ndarray:
    """Return a smooth random grey texture larger than a frame by MARGIN on each side."""
    noise = np.random.default_rng(seed).random(((HEIGHT + 2 * MARGIN) // 4,
                                                (WIDTH + 2 * MARGIN) // 4)).astype(np.float32)
    image = cv2.resize(noise, (WIDTH + 2 * MARGIN, HEIGHT + 2 * MARGIN),
                       interpolation=cv2.INTER_CUBIC)
    return cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def _view(texture: np.ndarray, dx: int = 0) -> np.ndarray:
    """Return the frame whose content moved ``dx`` pixels to the right."""
    return np.ascontiguousarray(texture[MARGIN:MARGIN + HEIGHT,
                                        MARGIN - dx:MARGIN - dx + WIDTH])


def test_motion_of_a_uniform_shift() -> None:
    texture = _texture(0)
    previous, current = _view(texture), _view(texture, 4)
    flow = FlowEstimator().estimate(previous, current)
    motion = frame_motion(previous, current, flow, scale=0.5)
    assert motion.magnitude_px == pytest.approx(8.0, abs=0.5)  # 4 low-res px at half scale
    assert motion.unexplained < 0.01
    # The left 4 columns are new; the flow, smoothed near the border, counts a few more.
    assert 4 / WIDTH <= motion.entering <= 12 / WIDTH


def test_a_scene_cut_is_not_explained_by_the_flow() -> None:
    previous, current = _view(_texture(0)), _view(_texture(1))
    motion = frame_motion(previous, current, FlowEstimator().estimate(previous, current), 0.5)
    assert motion.unexplained > 5 * MAX_UNEXPLAINED


def test_motion_rejects_mismatched_inputs() -> None:
    frame = np.zeros((HEIGHT, WIDTH), np.uint8)
    with pytest.raises(ValueError, match='differ'):
        frame_motion(frame, frame, np.zeros((HEIGHT, WIDTH - 1, 2), np.float32), 0.5)
    with pytest.raises(ValueError, match='scale'):
        frame_motion(frame, frame, np.zeros((HEIGHT, WIDTH, 2), np.float32), 0.0)


def _features(rows: int = 6, columns: int = 10, detail: bool = False) -> GlobalFeatures:
    torch.manual_seed(0)
    return GlobalFeatures(
        features=torch.rand(1, 3, rows, columns), priority=torch.rand(1, 1, rows, columns),
        input_size=(rows * 16, columns * 16), cells=(rows, columns),
        detail=torch.rand(1, 2, 2 * rows, 2 * columns) if detail else None)


STILL = FrameMotion(magnitude_px=1.0, unexplained=0.0, entering=0.0)


@pytest.mark.parametrize(('motion', 'frame_index', 'limit', 'allowed'), [
    (STILL, 4, 8.0, True),
    (STILL, 5, 8.0, False),  # older than max_age = 4
    (STILL, 1, 0.0, False),  # global reuse switched off
    (None, 1, 8.0, False),  # no flow
    (FrameMotion(8.0, 0.0, 0.0), 1, 8.0, True),
    (FrameMotion(8.5, 0.0, 0.0), 1, 8.0, False),
    (FrameMotion(1.0, MAX_UNEXPLAINED + 0.01, 0.0), 1, 8.0, False),
    (FrameMotion(1.0, 0.0, MAX_ENTERING + 0.01), 1, 8.0, False),
])
def test_reuse_gate(motion: FrameMotion | None, frame_index: int, limit: float,
                    allowed: bool) -> None:
    entry = CachedGlobal(_features(), computed_at=0)
    assert may_reuse_global(entry, motion, frame_index, limit, max_age=4) is allowed
    assert not may_reuse_global(None, STILL, 1, 8.0, max_age=4)


def test_content_entering_over_several_frames_adds_up() -> None:
    entering = FrameMotion(magnitude_px=4.0, unexplained=0.0, entering=0.6 * MAX_ENTERING)
    fresh = CachedGlobal(_features(), computed_at=0)
    assert may_reuse_global(fresh, entering, 1, 8.0, max_age=4)
    once = CachedGlobal(fresh.features, 0, entered=entering.entering)
    assert not may_reuse_global(once, entering, 2, 8.0, max_age=4)


def test_still_features_are_taken_as_they_are() -> None:
    cached = _features()
    flow = np.full((48, 80, 2), 0.01, np.float32)  # 0.01 low-res px: far below a cell
    assert warp_global(cached, flow, scale=0.5) is cached


def test_features_move_with_a_uniform_flow() -> None:
    cached = _features(detail=True)
    # Cells are 16 input px = 8 low-res px at scale 0.5: a 8 px flow is one cell to the right.
    flow = np.zeros((48, 80, 2), np.float32)
    flow[:, :, 0] = 8.0
    warped = warp_global(cached, flow, scale=0.5)
    assert warped.cells == cached.cells and warped.input_size == cached.input_size
    torch.testing.assert_close(warped.features[..., 1:], cached.features[..., :-1])
    torch.testing.assert_close(warped.priority[..., 1:], cached.priority[..., :-1])
    torch.testing.assert_close(warped.features[..., 0], cached.features[..., 0])  # border kept
    assert warped.detail is not None and cached.detail is not None
    torch.testing.assert_close(warped.detail[..., 2:], cached.detail[..., :-2])


def test_features_move_with_a_vertical_half_cell_flow() -> None:
    cached = _features()
    flow = np.zeros((48, 80, 2), np.float32)
    flow[:, :, 1] = 4.0  # half a cell down
    warped = warp_global(cached, flow, scale=0.5)
    expected = 0.5 * (cached.features[:, :, 1:] + cached.features[:, :, :-1])
    torch.testing.assert_close(warped.features[:, :, 1:], expected)
