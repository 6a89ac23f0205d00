# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Adapt the patch budget to hold a latency target; pure, no ROS.

The configured ``patch_budget`` is the ceiling. Latencies are collected in windows of a few frames
at one budget; the window's median decides. Above the target (plus a small tolerance) the budget
shrinks in proportion (latency grows about linearly with the refined patches), by one at least;
well below the target it grows by a quarter (one at least), never past the ceiling. The dead band
between the two keeps it from oscillating.
"""

from __future__ import annotations

import math
import statistics


class BudgetController:
    """Proportional-decrease / stepwise-increase control of the patch budget."""

    def __init__(
        self,
        target_ms: float,
        ceiling: int,
        *,
        window: int = 5,
        upper_tolerance: float = 0.05,
        lower_margin: float = 0.2,
    ) -> None:
        if window < 1:
            raise ValueError('window must be at least 1')
        self._target_ms = target_ms
        self._ceiling = max(0, ceiling)
        self._budget = self._ceiling
        self._window = window
        self._upper = 1.0 + upper_tolerance
        self._lower = 1.0 - lower_margin
        self._latencies: list[float] = []

    @property
    def budget(self) -> int:
        """Budget to use now: the ceiling while the target is off."""
        return self._budget if self.enabled else self._ceiling

    @property
    def enabled(self) -> bool:
        """Whether a latency target is set."""
        return self._target_ms > 0.0

    def configure(self, target_ms: float, ceiling: int) -> None:
        """Apply a new target or ceiling.

        While control stays on, the budget stays where it was (within the new ceiling); switching
        control on starts from the ceiling.
        """
        ceiling = max(0, ceiling)
        if ceiling != self._ceiling or target_ms != self._target_ms:
            self._latencies.clear()
        was_enabled = self.enabled
        self._target_ms = target_ms
        self._ceiling = ceiling
        self._budget = min(self._budget, ceiling) if was_enabled and self.enabled else ceiling

    def observe(self, latency_ms: float) -> int | None:
        """Record one frame's latency at the current budget; return the new budget on a change."""
        if not self.enabled or not math.isfinite(latency_ms):
            return None
        self._latencies.append(latency_ms)
        if len(self._latencies) < self._window:
            return None
        median = statistics.median(self._latencies)
        self._latencies.clear()
        proposed = self._propose(median)
        if proposed == self._budget:
            return None
        self._budget = proposed
        return proposed

    def _propose(self, median_ms: float) -> int:
        """Return the budget for the next window given this window's median latency."""
        target = self._target_ms
        if median_ms > target * self._upper and self._budget > 0:
            scaled = math.floor(self._budget * target / median_ms)
            return max(0, min(self._budget - 1, scaled))
        if median_ms < target * self._lower and self._budget < self._ceiling:
            step = max(1, round(self._budget * 0.25))
            return min(self._ceiling, self._budget + step)
        return self._budget


__all__ = ['BudgetController']
