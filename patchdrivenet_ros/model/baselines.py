# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The single-forward baselines, expressed as settings of the one network.

- ``sf_full``: the global stream at scale 1.0, no patches (the same network at full resolution).
- ``sf_low``: the global stream alone at ``global_scale`` (patch budget 0).
- ``sf_interval``: full PatchDriveNet (no reuse) every k-th frame, results held in between.
- SF-depth-0.5 is a model, not a method: ``depth_half(ModelConfig())``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math

import numpy as np

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig, with_changes
from patchdrivenet_ros.result import FrameResult, PatchState


@dataclass(frozen=True)
class RunSettings:
    """How one forward runs for a method."""

    global_scale: float
    patch_budget: int
    reuse_rule: str


def global_scale_for(config: PerceptionConfig, frame_size: tuple[int, int] | None) -> float:
    """Return PatchDriveNet's global stream scale for frames of frame_size (width, height).

    global_scale, lowered where the scaled frame would exceed global_max_pixels (None: the
    frame size is not known, global_scale).
    """
    if frame_size is None or config.global_max_pixels <= 0:
        return config.global_scale
    width, height = frame_size
    fitting = math.sqrt(config.global_max_pixels / max(1, width * height))
    return min(config.global_scale, fitting)


def run_settings(config: PerceptionConfig, frame_size: tuple[int, int] | None) -> RunSettings:
    """Return the forward settings of ``config.method`` for frames of frame_size (w, h).

    The uniform baselines run at their fixed scale; PatchDriveNet's global stream scale
    follows the frame size (global_scale_for).
    """
    if config.method == 'sf_full':
        return RunSettings(1.0, 0, 'off')
    if config.method == 'sf_low':
        return RunSettings(config.global_scale, 0, 'off')
    scale = global_scale_for(config, frame_size)
    if config.method == 'sf_interval':
        return RunSettings(scale, config.patch_budget, 'off')
    return RunSettings(scale, config.patch_budget, config.reuse_rule)


def depth_half(config: ModelConfig) -> ModelConfig:
    """Return the SF-depth-0.5 variant of ``config`` (half the blocks per stage)."""
    return with_changes(config, depth_multiplier=0.5)


@dataclass
class _Held:
    result: FrameResult
    since: int  # frames held since it was computed
    stamp: float | None


class IntervalHold:
    """SF-interval-k bookkeeping per stream: when to run, and the result held in between."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}

    def due(self, stream: str, interval: int, stamp: float | None, frame_size: tuple[int, int],
            time_jump_s: float) -> bool:
        """Return whether the stream's next frame must run the model.

        It must on the first frame, every ``interval``-th frame, after a change of frame size
        (width, height), and when the stamp goes backwards or jumps by more than time_jump_s.
        """
        held = self._held.get(stream)
        if held is None or held.since + 1 >= interval:
            return True
        if held.result.mask.shape != (frame_size[1], frame_size[0]):
            return True
        last = held.stamp
        return stamp is not None and last is not None and not 0 <= stamp - last <= time_jump_s

    def store(self, stream: str, result: FrameResult, stamp: float | None) -> None:
        """Hold a freshly computed result."""
        self._held[stream] = _Held(result, 0, stamp)

    def hold(self, stream: str, stamp: float | None) -> FrameResult:
        """Return the held result for this frame: no FLOPs spent, every patch marked reused.

        It carries no flow: the held outputs are of an older frame, so a forecast from this
        frame's stamp would be wrong.
        """
        held = self._held[stream]
        held.since += 1
        held.stamp = stamp if stamp is not None else held.stamp
        plan = held.result.plan
        states = np.full_like(plan.states, PatchState.REUSED)
        return replace(held.result, plan=replace(plan, states=states), flops=0.0,
                       timings_ms={'hold': 0.0}, flow=None)

    def reset(self, stream: str | None = None) -> None:
        """Forget the held result of ``stream`` (all streams when None)."""
        if stream is None:
            self._held.clear()
        else:
            self._held.pop(stream, None)
