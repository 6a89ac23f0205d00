# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The latency controller holds a target on a simulated node whose latency grows per patch."""

import pytest

from patchdrivenet_ros.ros.budget_controller import BudgetController


def _run(controller: BudgetController, frames: int, base_ms: float, per_patch_ms: float) -> list:
    budgets = []
    for _ in range(frames):
        controller.observe(base_ms + per_patch_ms * controller.budget)
        budgets.append(controller.budget)
    return budgets


def test_off_keeps_the_ceiling() -> None:
    controller = BudgetController(0.0, 32)
    assert not controller.enabled
    assert controller.observe(1000.0) is None
    assert controller.budget == 32


def test_converges_under_the_target_and_stays() -> None:
    controller = BudgetController(50.0, 64, window=5)
    budgets = _run(controller, 200, base_ms=30.0, per_patch_ms=2.0)
    settled = budgets[-50:]
    assert len(set(settled)) == 1
    assert 30.0 + 2.0 * settled[0] <= 50.0 * 1.05
    assert settled[0] >= 5  # not collapsed to zero: within the dead band


def test_grows_back_when_the_load_drops_but_not_past_the_ceiling() -> None:
    controller = BudgetController(50.0, 20, window=3)
    _run(controller, 60, base_ms=45.0, per_patch_ms=2.0)
    low = controller.budget
    assert 45.0 + 2.0 * low <= 50.0 * 1.05 and low < 20
    _run(controller, 120, base_ms=5.0, per_patch_ms=0.5)
    assert controller.budget == 20


def test_budget_zero_when_even_the_global_stream_misses_the_target() -> None:
    controller = BudgetController(10.0, 16, window=2)
    _run(controller, 100, base_ms=20.0, per_patch_ms=1.0)
    assert controller.budget == 0


def test_configure_respects_a_lower_ceiling_and_switching_on_starts_at_the_ceiling() -> None:
    controller = BudgetController(50.0, 64, window=1)
    controller.observe(500.0)
    assert controller.budget < 64
    controller.configure(50.0, 4)
    assert controller.budget <= 4
    controller.configure(0.0, 12)
    assert controller.budget == 12
    controller.configure(50.0, 12)
    assert controller.budget == 12


def test_ignores_non_finite_latency_and_rejects_bad_window() -> None:
    controller = BudgetController(50.0, 8, window=1)
    assert controller.observe(float('nan')) is None
    with pytest.raises(ValueError, match='window'):
        BudgetController(50.0, 8, window=0)
