# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Temporal reuse on kinds of drive: the drives, the rows, the targets and the command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patchdrivenet_ros.config import PerceptionConfig, with_changes
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.reuse_evaluation import (
    DRIVE_PROFILES,
    curve_value,
    drive_config,
    reuse_checks,
    reuse_methods,
)
from patchdrivenet_ros.tools.evaluate import main


def test_profiles_are_the_kinds_of_drive_and_deterministic() -> None:
    assert list(DRIVE_PROFILES) == ['stopped', 'slow', 'urban', 'highway', 'turning']
    assert drive_config('stopped', 0, 3).speed_range == (0.0, 0.0)
    assert drive_config('highway', 0, 3).speed_range == (20.0, 30.0)
    assert drive_config('turning', 0, 3).max_yaw_rate_dps > drive_config('urban', 0, 3) \
        .max_yaw_rate_dps
    seeds = {drive_config(p, i, 3).seed for p in DRIVE_PROFILES for i in range(3)}
    assert len(seeds) == 15 and min(seeds) >= 900_000  # held out: training uses 1000-1063
    first = [f.image for f in generate_drive(drive_config('urban', 1, 2))]
    again = [f.image for f in generate_drive(drive_config('urban', 1, 2))]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_exactly_one_row_is_the_shipped_config() -> None:
    shipped = PerceptionConfig(reuse_rule='compensated', motion_threshold=3.0, patch_budget=12)
    rows = reuse_methods(shipped, [1.5, 3.0], [4, 8], [2, 3])
    assert [r.config for r in rows if r.default] == [shipped]
    assert [r.family for r in rows].count('off') == 1
    assert {r.config.patch_budget for r in rows if r.family == 'budget'} == {4, 8}
    assert {r.config.interval_k for r in rows if r.family == 'interval'} == {2, 3}
    # A shipped threshold outside the grid still gets its (default) row.
    odd = with_changes(shipped, motion_threshold=4.5)
    extra = reuse_methods(odd, [1.5, 3.0], [4], [2])
    assert [r.config for r in extra if r.default] == [odd]
    # The shipped rule with other limits of the global stream's reuse; the shipped one once.
    limits = reuse_methods(shipped, [3.0], [], [], [0.0, shipped.global_reuse_motion, 64.0])
    compensated = [r for r in limits if r.config.reuse_rule == 'compensated']
    assert [r.config.global_reuse_motion for r in compensated] == [
        shipped.global_reuse_motion, 0.0, 64.0]
    assert [r.default for r in compensated] == [True, False, False]
    assert reuse_methods(with_changes(shipped, reuse_rule='off'), [3.0], [], [], [0.0]) \
        [-1].family == 'reuse'  # rule rows only; no global-limit rows without reuse


def _row(profile: str, family: str, gflops: float, miou: float, map50: float,
         default: bool = False) -> dict[str, Any]:
    return {'profile': profile, 'family': family, 'gflops_per_frame': gflops, 'miou': miou,
            'map50': map50, 'default': default, 'reuse_rule': 'off'}


def test_targets_compare_the_default_with_reuse_off_and_both_curves() -> None:
    rows = [
        _row('stopped', 'off', 1.0, 0.50, 0.20),
        _row('stopped', 'budget', 0.5, 0.40, 0.10),
        _row('stopped', 'interval', 0.25, 0.30, 0.10),
        _row('stopped', 'reuse', 0.3, 0.495, 0.185, default=True),
        _row('highway', 'off', 1.0, 0.50, 0.20),
        _row('highway', 'reuse', 0.9, 0.48, 0.21, default=True),
    ]
    # on the budget curve at 0.3 GFLOPs: outside its range (0.5 .. 1.0), so not compared
    assert np.isnan(curve_value(rows, 'stopped', 'budget', 'miou', 0.3))
    interval = curve_value(rows, 'stopped', 'interval', 'miou', 0.5)
    assert interval == pytest.approx(0.40)  # halfway between 0.25 and 1.0 in log GFLOPs
    checks = {c.target: c for c in reuse_checks(rows)}
    assert checks['stopped: default GFLOPs x reuse off'].measured == pytest.approx(0.3)
    assert checks['stopped: default GFLOPs x reuse off'].met
    assert checks['stopped: default miou - reuse off'].met  # -0.005
    assert not checks['stopped: default map50 - reuse off'].met  # -0.015
    assert checks['stopped: default mIoU above the interval curve'].met
    assert 'stopped: default mIoU above the budget curve' not in checks
    assert not checks['highway: default miou - reuse off'].met  # -0.02: no back-off
    assert 'highway: default GFLOPs x reuse off' not in checks  # no saving asked there


def test_the_command_writes_rows_and_a_plot(tmp_path: Path, tiny_weights: Path) -> None:
    rows_path, plot = tmp_path / 'reuse.json', tmp_path / 'reuse.png'
    assert main(['reuse', '--weights', str(tiny_weights), '--profiles', 'stopped,turning',
                 '--drives', '1', '--frames', '2', '--thresholds', '3', '--budgets', '4',
                 '--intervals', '2', '--global-limits', '0', '--threads', '1', '--json',
                 str(rows_path),
                 '--plot', str(plot)]) == 0
    rows = json.loads(rows_path.read_text(encoding='utf-8'))
    for profile in ('stopped', 'turning'):
        mine = [r for r in rows if r['profile'] == profile]
        assert [r['family'] for r in mine] == ['off', 'budget', 'reuse', 'reuse', 'reuse',
                                               'interval']
        assert [r['global_reuse_motion'] for r in mine if r['family'] == 'reuse'][-1] == 0.0
        assert sum(r['default'] for r in mine) == 1
        assert {'method', 'reuse_rule', 'motion_threshold', 'patch_budget', 'gflops_per_frame',
                'miou', 'thin_iou', 'map50', 'reuse_ratio', 'global_reuse_motion',
                'global_reuse_ratio'} <= set(mine[0])
        assert mine[0]['reuse_rule'] == 'off' and len(mine[0]['drives']) == 1
    assert plot.stat().st_size > 0
    assert main(['reuse', '--weights', str(tiny_weights), '--profiles', 'flying']) == 2
