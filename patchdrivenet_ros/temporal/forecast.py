# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Outputs moved ahead in time along the measured optical flow (constant-velocity forecast).

An answer arrives after its frame was taken, and by then the scene has moved: a consumer that
acts on the newest output acts on a stale one (streaming perception). ``forecast`` moves a
frame's mask and boxes by the flow that brought the previous frame to this one, scaled to the
horizon: each pixel takes the class found where its content was, a box moves by the mean flow
inside it. On 16 validation drives (10 Hz KITTI camera, shipped config) an output one frame
old scored 0.061 +- 0.016 mIoU below a fresh one; moved one frame ahead, 0.036 +- 0.010 below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from patchdrivenet_ros.result import FrameResult, MeasuredFlow
from patchdrivenet_ros.temporal.flow import patch_motion


@dataclass(frozen=True)
class Forecast:
    """A frame's outputs as expected ``ahead_s`` after its stamp."""

    mask: np.ndarray  # (H, W) uint8 class ids
    boxes: np.ndarray  # (N, 4) float32 xyxy, the result's detections in the same order
    ahead_s: float


def forecast(result: FrameResult, ahead_s: float) -> Forecast | None:
    """Return the result's mask and boxes moved ``ahead_s`` seconds ahead, or None.

    None when the result has no flow (the first frame of a stream, after a reset, without
    stamps, or an engine that measured none: reuse off and ``forecast_s`` 0). ``ahead_s`` 0
    returns the outputs unchanged.
    """
    if result.flow is None:
        return None
    if ahead_s < 0:
        raise ValueError(f'ahead_s must be >= 0, got {ahead_s}')
    factor = ahead_s / result.flow.interval_s
    return Forecast(forecast_mask(result.mask, result.flow, factor),
                    forecast_boxes(result.boxes, result.flow, factor), ahead_s)


def forecast_mask(mask: np.ndarray, measured: MeasuredFlow, factor: float) -> np.ndarray:
    """Move (H, W) class ids by ``factor`` times the measured flow.

    Each pixel takes the class at its position minus the flow there (the flow varies slowly,
    so the flow at the destination stands for the flow at the source); pixels whose content
    comes from outside the frame keep the class at the border. The source positions are
    computed on the flow's grid and interpolated to the frame (1 ms at 1242x375; a position
    map built at full resolution took 8).
    """
    if factor == 0:
        return mask.copy()
    height, width = mask.shape
    rows, cols = measured.flow.shape[:2]
    step_x, step_y = width / cols, height / rows  # input pixels per flow cell
    centre_x = (np.arange(cols, dtype=np.float32) + 0.5) * step_x - 0.5
    centre_y = (np.arange(rows, dtype=np.float32) + 0.5) * step_y - 0.5
    source = np.empty((rows, cols, 2), np.float32)  # where each cell centre's content was
    source[..., 0] = centre_x[None, :] - np.float32(factor * step_x) * measured.flow[..., 0]
    source[..., 1] = centre_y[:, None] - np.float32(factor * step_y) * measured.flow[..., 1]
    positions = cv2.resize(source, (width, height), interpolation=cv2.INTER_LINEAR)
    no_second_map: Any = None  # allowed by OpenCV (positions hold x and y), not by its stubs
    return np.asarray(cv2.remap(mask, positions, no_second_map, cv2.INTER_NEAREST,
                                borderMode=cv2.BORDER_REPLICATE))


def forecast_boxes(boxes: np.ndarray, measured: MeasuredFlow, factor: float) -> np.ndarray:
    """Move (N, 4) float xyxy boxes by ``factor`` times the mean flow inside each box."""
    if len(boxes) == 0 or factor == 0:
        return boxes.copy()
    shift = patch_motion(measured.flow, boxes, measured.scale).mean * factor  # (N, 2)
    return (boxes + np.tile(shift, 2)).astype(np.float32)


__all__ = ['Forecast', 'forecast', 'forecast_boxes', 'forecast_mask']
