# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Outputs moved ahead along the measured flow, and the flow the engine measures for them."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.model import build_model
from patchdrivenet_ros.result import FrameResult, MeasuredFlow, PatchPlan
from patchdrivenet_ros.temporal.forecast import forecast

HEIGHT, WIDTH = 96, 160
SCALE = 0.5


def result_with(flow: MeasuredFlow | None, boxes: np.ndarray) -> FrameResult:
    """Return a frame result whose mask holds class 3 on a 20 x 20 square at (40, 30)."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[30:50, 40:60] = 3
    return FrameResult(mask=mask, boxes=boxes.astype(np.float32),
                       scores=np.full(len(boxes), 0.9, np.float32),
                       class_ids=np.zeros(len(boxes), np.int64), plan=PatchPlan.empty(),
                       saliency=np.zeros((HEIGHT // 8, WIDTH // 8), np.float32), flops=0.0,
                       flow=flow)


def uniform_flow(dx: float, dy: float, interval_s: float = 0.1) -> MeasuredFlow:
    """Every low-resolution pixel moved by (dx, dy) low-res px over ``interval_s``."""
    flow = np.zeros((round(HEIGHT * SCALE), round(WIDTH * SCALE), 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    return MeasuredFlow(flow, SCALE, interval_s)


@pytest.mark.parametrize(('ahead_s', 'shift'), [(0.1, (8, 4)), (0.05, (4, 2)), (0.2, (16, 8))])
def test_the_mask_moves_with_the_flow_scaled_to_the_horizon(
        ahead_s: float, shift: tuple[int, int]) -> None:
    result = result_with(uniform_flow(4.0, 2.0), np.zeros((0, 4)))  # 8, 4 input px per 0.1 s
    moved = forecast(result, ahead_s)
    assert moved is not None and moved.ahead_s == ahead_s
    expected = np.zeros_like(result.mask)
    dx, dy = shift
    expected[30 + dy:50 + dy, 40 + dx:60 + dx] = 3
    assert np.array_equal(moved.mask, expected)


def test_boxes_move_by_the_mean_flow_inside_each() -> None:
    flow = uniform_flow(0.0, 0.0)
    flow.flow[:, :40, 0] = 5.0  # the left half moves right by 10 input px per interval
    boxes = np.array([[10, 10, 40, 40], [100, 20, 150, 60]], np.float32)
    moved = forecast(result_with(flow, boxes), 0.1)
    assert moved is not None
    np.testing.assert_allclose(moved.boxes, [[20, 10, 50, 40], [100, 20, 150, 60]], atol=1e-4)
    assert moved.boxes.dtype == np.float32


def test_content_entering_the_frame_takes_the_border_class() -> None:
    result = result_with(uniform_flow(-10.0, 0.0), np.zeros((0, 4)))  # everything moves left
    result.mask[:, -1] = 5
    moved = forecast(result, 0.1)
    assert moved is not None
    assert (moved.mask[:, -21:] == 5).all()


def test_no_flow_no_forecast_and_a_zero_horizon_changes_nothing() -> None:
    boxes = np.array([[10, 10, 40, 40]], np.float32)
    assert forecast(result_with(None, boxes), 0.1) is None
    result = result_with(uniform_flow(4.0, 2.0), boxes)
    still = forecast(result, 0.0)
    assert still is not None
    assert np.array_equal(still.mask, result.mask) and np.array_equal(still.boxes, boxes)
    with pytest.raises(ValueError, match='ahead_s'):
        forecast(result, -0.1)


def test_the_engine_measures_the_flow_between_stamped_frames() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16,
                                    attention_heads=2)).eval()
    config = PerceptionConfig(global_scale=0.5, patch_sizes=(32, 64), patch_budget=4,
                              device='cpu', reuse_rule='compensated')
    noise = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH + 40, 3), np.uint8)
    texture = cv2.GaussianBlur(noise, (0, 0), 3.0)
    views = [np.ascontiguousarray(texture[:, 20 - shift:20 - shift + WIDTH]) for shift in (0, 6)]
    engine = PerceptionEngine(model, config)
    stamps = (1.0, 1.1)
    first, second = (engine.infer([v], stamps=[t])[0] for v, t in zip(views, stamps, strict=True))
    assert first.flow is None  # nothing before the first frame
    assert second.flow is not None and second.flow.scale == 0.5
    assert second.flow.interval_s == pytest.approx(0.1)
    inner = second.flow.flow[8:-8, 8:-8, 0]  # the content moved 6 input px, 3 low-res px
    assert abs(float(np.median(inner)) - 3.0) < 0.5
    unstamped = PerceptionEngine(model, config)
    assert [unstamped.infer([v])[0].flow for v in views] == [None, None]
    off = PerceptionEngine(model, dataclasses.replace(config, reuse_rule='off'))
    flows = [off.infer([v], stamps=[t])[0].flow for v, t in zip(views, stamps, strict=True)]
    assert flows == [None, None]  # nothing asked for the flow
    asked = PerceptionEngine(model, dataclasses.replace(config, reuse_rule='off', forecast_s=0.1))
    results = [asked.infer([v], stamps=[t])[0] for v, t in zip(views, stamps, strict=True)]
    assert results[0].flow is None and results[1].flow is not None
    np.testing.assert_array_equal(results[1].flow.flow, second.flow.flow)  # the same measure
    assert results[1].plan.reused == 0  # and still no reuse
