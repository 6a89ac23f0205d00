# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the optical flow wrapper and the per-patch motion statistics."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.temporal.flow import FlowEstimator, low_res_boxes, patch_motion


def _texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Return a smooth random grey texture (height, width) uint8."""
    rng = np.random.default_rng(seed)
    noise = rng.random((height // 4 + 1, width // 4 + 1)).astype(np.float32)
    image = cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    image = cv2.GaussianBlur(image, (0, 0), 1.0)
    image = (image - image.min()) / (image.max() - image.min()) * 255.0
    return image.astype(np.uint8)


def _shifted_pair(height: int, width: int, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (previous, current) where the content moves by (dx, dy) pixels."""
    margin = 16
    big = _texture(height + 2 * margin, width + 2 * margin)
    previous = big[margin:margin + height, margin:margin + width]
    current = big[margin - dy:margin - dy + height, margin - dx:margin - dx + width]
    return np.ascontiguousarray(previous), np.ascontiguousarray(current)


def test_flow_of_a_shifted_frame_is_the_shift() -> None:
    previous, current = _shifted_pair(94, 310, 3, -2)
    flow = FlowEstimator().estimate(previous, current)
    assert flow.shape == (94, 310, 2)
    assert flow.dtype == np.float32
    inner = flow[12:-12, 12:-12].reshape(-1, 2)
    np.testing.assert_allclose(inner.mean(axis=0), [3.0, -2.0], atol=0.1)


def test_flow_rejects_mismatched_frames() -> None:
    estimator = FlowEstimator('fast')
    with pytest.raises(ValueError, match='one size'):
        estimator.estimate(np.zeros((10, 12), np.uint8), np.zeros((10, 13), np.uint8))
    with pytest.raises(ValueError, match='uint8'):
        estimator.estimate(np.zeros((10, 12), np.float32), np.zeros((10, 12), np.float32))
    with pytest.raises(ValueError, match='preset'):
        FlowEstimator('slow')


def test_patch_motion_of_a_uniform_shift() -> None:
    scale = 0.25
    previous, current = _shifted_pair(94, 310, 2, 1)
    flow = FlowEstimator().estimate(previous, current)
    boxes = np.array([[64, 64, 192, 192], [512, 128, 768, 320], [900, 40, 1028, 168]])
    motion = patch_motion(flow, boxes, scale)
    assert motion.mean.shape == (3, 2)
    assert motion.residual.shape == (3,)
    np.testing.assert_allclose(motion.mean, np.tile([8.0, 4.0], (3, 1)), atol=0.4)
    assert np.all(motion.residual < 0.5)


def test_patch_motion_sees_a_second_object() -> None:
    scale = 0.25
    height, width = 94, 310
    previous, current = _shifted_pair(height, width, 0, 0)
    mover_prev, mover_cur = _shifted_pair(40, 60, 4, 0)
    mover_prev, mover_cur = 255 - mover_prev, 255 - mover_cur
    previous[30:70, 120:180] = mover_prev
    current[30:70, 120:180] = mover_cur
    flow = FlowEstimator().estimate(previous, current)
    # Half over the static background, half over the object moving 4 low-res px right.
    straddling = np.array([[400, 140, 600, 260]])
    still = np.array([[40, 40, 240, 200]])
    motion = patch_motion(flow, np.concatenate([straddling, still]), scale)
    assert motion.residual[0] > 4.0  # about 8 full-res px, the object's speed halved
    assert motion.residual[1] < 0.5
    assert np.hypot(*motion.mean[1]) < 0.5


def test_patch_motion_matches_a_direct_computation() -> None:
    rng = np.random.default_rng(3)
    flow = rng.normal(size=(23, 37, 2)).astype(np.float32)
    scale = 0.5
    boxes = np.array([[0, 0, 74, 46], [10, 7, 31, 30], [70, 40, 74, 46], [5, 5, 5, 5]])
    motion = patch_motion(flow, boxes, scale)
    low = low_res_boxes(boxes, scale, (37, 23))
    for k, (x1, y1, x2, y2) in enumerate(low):
        region = flow[y1:y2, x1:x2].reshape(-1, 2).astype(np.float64)
        mean = region.mean(axis=0)
        rms = np.sqrt(((region - mean) ** 2).sum(axis=1).mean())
        np.testing.assert_allclose(motion.mean[k], mean / scale, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(motion.residual[k], rms / scale, rtol=1e-4, atol=1e-4)


def test_low_res_boxes_cover_at_least_one_pixel_inside_the_frame() -> None:
    boxes = np.array([[5, 5, 5, 5], [-20, -20, 3, 3], [1240, 370, 1300, 400], [0, 0, 1242, 375]])
    low = low_res_boxes(boxes, 0.25, (310, 94))
    assert np.all(low[:, 2] > low[:, 0])
    assert np.all(low[:, 3] > low[:, 1])
    assert np.all(low[:, :2] >= 0)
    assert np.all(low[:, 2] <= 310)
    assert np.all(low[:, 3] <= 94)
    np.testing.assert_array_equal(low[3], [0, 0, 310, 94])


def test_patch_motion_of_no_boxes() -> None:
    motion = patch_motion(np.zeros((8, 8, 2), np.float32), np.zeros((0, 4), np.int32), 0.25)
    assert motion.mean.shape == (0, 2)
    assert motion.residual.shape == (0,)
