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

import numpy as np

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig, with_changes
from patchdrivenet_ros.result import FrameResult, PatchState


@dataclass(frozen=True)
class RunSettings:
    """How one forward runs for a method."""

    global_scale: float
    patch_budget: int
    reuse_rule: str


def run_settings(config: PerceptionConfig) -> RunSettings:
    """Return the forward settings of ``config.method``."""
    if config.method == 'sf_full':
        return RunSettings(1.0, 0, 'off')
    if config.method == 'sf_low':
        return RunSettings(config.global_scale, 0, 'off')
    if config.method == 'sf_interval':
        return RunSettings(config.global_scale, config.patch_budget, 'off')
    return RunSettings(config.global_scale, config.patch_budget, config.reuse_rule)


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
        """Return the held result for this frame: no FLOPs spent, every patch marked reused."""
        held = self._held[stream]
        held.since += 1
        held.stamp = stamp if stamp is not None else held.stamp
        plan = held.result.plan
        states = np.full_like(plan.states, PatchState.REUSED)
        return replace(held.result, plan=replace(plan, states=states), flops=0.0,
                       timings_ms={'hold': 0.0})

    def reset(self, stream: str | None = None) -> None:
        """Forget the held result of ``stream`` (all streams when None)."""
        if stream is None:
            self._held.clear()
        else:
            self._held.pop(stream, None)
