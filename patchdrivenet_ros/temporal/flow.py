# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Dense optical flow between low-resolution frames and the motion of each patch inside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

_PRESETS = {
    'ultrafast': cv2.DISOpticalFlow_PRESET_ULTRAFAST,
    'fast': cv2.DISOpticalFlow_PRESET_FAST,
    'medium': cv2.DISOpticalFlow_PRESET_MEDIUM,
}


class FlowEstimator:
    """Dense optical flow between consecutive low-resolution grey frames (cv2.DISOpticalFlow).

    The DIS presets compute flow down to pyramid level ``finest_scale`` and upsample it; the
    'ultrafast' and 'fast' presets stop at level 2 (a quarter of the input), which is too coarse
    for global-stream frames of a few hundred pixels. ``finest_scale=1`` (the default) keeps
    sub-pixel accuracy there at about 1 ms for 310x94 on one core; ``None`` keeps the preset's.
    """

    def __init__(self, preset: str = 'ultrafast', finest_scale: int | None = 1) -> None:
        if preset not in _PRESETS:
            raise ValueError(f'preset {preset!r} is not one of {", ".join(_PRESETS)}')
        if finest_scale is not None and finest_scale < 0:
            raise ValueError(f'finest_scale must be >= 0, got {finest_scale}')
        self._dis = cv2.DISOpticalFlow.create(_PRESETS[preset])
        if finest_scale is not None:
            self._dis.setFinestScale(finest_scale)

    def estimate(self, previous: np.ndarray, current: np.ndarray) -> np.ndarray:
        """Return the (h, w, 2) float32 flow (dx, dy) in low-res pixels, previous -> current.

        ``previous`` and ``current`` are (h, w) uint8 grey frames of the same size; the flow at a
        pixel of ``previous`` says where that pixel's content lies in ``current``.
        """
        if previous.shape != current.shape or previous.ndim != 2:
            raise ValueError(
                f'expected two (h, w) frames of one size, got {previous.shape} and {current.shape}'
            )
        if previous.dtype != np.uint8 or current.dtype != np.uint8:
            raise ValueError(f'expected uint8 frames, got {previous.dtype} and {current.dtype}')
        no_initial_flow: Any = None  # allowed by OpenCV, missing from its stubs
        flow = self._dis.calc(
            np.ascontiguousarray(previous), np.ascontiguousarray(current), no_initial_flow
        )  # (h, w, 2)
        return np.asarray(flow, dtype=np.float32)


@dataclass(frozen=True)
class PatchMotion:
    """Motion of K patches, in full-resolution pixels.

    ``residual`` is the RMS deviation of the flow from its mean inside each box,
    sqrt(E|f|^2 - |E f|^2), computed from integral images. It bounds the mean absolute
    deviation E|f - E f| from above, so a threshold on it never reuses more than one on the
    mean absolute deviation would.
    """

    mean: np.ndarray  # (K, 2) float32 mean flow (dx, dy) inside each box
    residual: np.ndarray  # (K,) float32 RMS deviation of the flow from its mean inside each box


def low_res_boxes(boxes: np.ndarray, scale: float, size: tuple[int, int]) -> np.ndarray:
    """Map (K, 4) full-res xyxy boxes to (K, 4) int64 low-res boxes clamped into ``size``.

    ``size`` is the low-res (width, height). The low-res box covers every low-res pixel the
    full-res box touches (x2/y2 exclusive) and is at least one pixel wide and high.
    """
    width, height = size
    scaled = boxes.astype(np.float64).reshape(-1, 4) * scale  # (K, 4)
    x1 = np.clip(np.floor(scaled[:, 0]), 0, width - 1)
    y1 = np.clip(np.floor(scaled[:, 1]), 0, height - 1)
    x2 = np.clip(np.ceil(scaled[:, 2]), x1 + 1, width)
    y2 = np.clip(np.ceil(scaled[:, 3]), y1 + 1, height)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.int64)  # (K, 4)


def patch_motion(flow: np.ndarray, boxes: np.ndarray, scale: float) -> PatchMotion:
    """Return the mean flow and residual motion inside each box, in full-resolution pixels.

    ``flow`` is (h, w, 2) at low resolution (= full resolution * ``scale``); ``boxes`` is (K, 4)
    int xyxy in full-resolution pixels (x2/y2 exclusive), K may be 0. Vectorised over boxes with
    integral images of the flow and of its squared norm.
    """
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f'expected a (h, w, 2) flow, got {flow.shape}')
    if scale <= 0:
        raise ValueError(f'scale must be positive, got {scale}')
    height, width = flow.shape[:2]
    fx = flow[:, :, 0].astype(np.float32)  # (h, w)
    fy = flow[:, :, 1].astype(np.float32)  # (h, w)
    channels = cv2.merge([fx, fy, fx * fx + fy * fy])  # (h, w, 3)
    integral = cv2.integral(channels, sdepth=cv2.CV_64F)  # (h+1, w+1, 3) float64
    low = low_res_boxes(boxes, scale, (width, height))  # (K, 4)
    x1, y1, x2, y2 = low[:, 0], low[:, 1], low[:, 2], low[:, 3]
    sums = integral[y2, x2] - integral[y1, x2] - integral[y2, x1] + integral[y1, x1]  # (K, 3)
    area = ((x2 - x1) * (y2 - y1)).astype(np.float64)[:, None]  # (K, 1)
    moments = sums / area  # (K, 3): E fx, E fy, E |f|^2
    mean = moments[:, :2]  # (K, 2)
    variance = np.maximum(moments[:, 2] - (mean * mean).sum(axis=1), 0.0)  # (K,)
    return PatchMotion(
        mean=(mean / scale).astype(np.float32),
        residual=(np.sqrt(variance) / scale).astype(np.float32),
    )
