# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one typed result of perceiving a frame, used by the node, the tools and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np


class PatchState(IntEnum):
    """What happened to a chosen patch this frame."""

    RECOMPUTED = 0
    REUSED = 1


@dataclass(frozen=True)
class PatchPlan:
    """The patches chosen for one frame, K of them."""

    boxes: np.ndarray  # (K, 4) int32 xyxy, input pixels, x2/y2 exclusive
    sizes: np.ndarray  # (K,) int32 candidate size in full-resolution pixels
    priorities: np.ndarray  # (K,) float32 learned priority in [0, 1]
    states: np.ndarray  # (K,) uint8 PatchState
    cell_ids: np.ndarray  # (K,) int64 candidate id (stable across frames of one size)

    @property
    def chosen(self) -> int:
        """Number of chosen patches."""
        return int(self.boxes.shape[0])

    @property
    def reused(self) -> int:
        """Number of patches that reused a cached result."""
        return int(np.count_nonzero(self.states == PatchState.REUSED))

    @property
    def recomputed(self) -> int:
        """Number of patches refined this frame."""
        return self.chosen - self.reused

    @staticmethod
    def empty() -> PatchPlan:
        """Return a plan with no patches (global stream alone)."""
        return PatchPlan(
            boxes=np.zeros((0, 4), np.int32),
            sizes=np.zeros((0,), np.int32),
            priorities=np.zeros((0,), np.float32),
            states=np.zeros((0,), np.uint8),
            cell_ids=np.zeros((0,), np.int64),
        )


@dataclass(frozen=True)
class MeasuredFlow:
    """The optical flow from a stream's previous frame to this one."""

    flow: np.ndarray  # (h, w, 2) float32 (dx, dy) in low-resolution pixels, previous -> current
    scale: float  # low resolution / input resolution
    interval_s: float  # seconds between the two frames' stamps (> 0)


@dataclass(frozen=True)
class FrameResult:
    """Everything the pipeline produced for one input frame, in input pixels."""

    mask: np.ndarray  # (H, W) uint8 class ids, 255 = unlabeled
    boxes: np.ndarray  # (N, 4) float32 xyxy, input pixels
    scores: np.ndarray  # (N,) float32 in [0, 1]
    class_ids: np.ndarray  # (N,) int64 indices into ModelConfig.classes
    plan: PatchPlan
    saliency: np.ndarray  # (h, w) float32 in [0, 1], global-stream resolution
    flops: float  # multiply-adds x 2 actually spent on this frame
    timings_ms: dict[str, float] = field(default_factory=dict)  # per stage, wall clock
    global_reused: bool = False  # the global stream's cached features stood in for an encoding
    flow: MeasuredFlow | None = None  # from the previous frame (measured for reuse or forecasts)
