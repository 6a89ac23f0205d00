# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The uniform curve, margins above it with their noise, and the accuracy targets."""

from __future__ import annotations

import math
from typing import Any

import pytest

from patchdrivenet_ros.accuracy_targets import (
    check_targets,
    default_checks,
    night_check,
    oracle_checks,
)
from patchdrivenet_ros.frontier import add_margins, interpolate_log, margin, mean_and_se


def test_interpolation_is_linear_in_log_gflops():
    # Halfway in log between 1 and 4 GFLOPs is 2 GFLOPs, not 2.5.
    assert interpolate_log([1.0, 4.0], [0.2, 0.6], 2.0) == pytest.approx(0.4)
    assert interpolate_log([4.0, 1.0], [0.6, 0.2], 2.5) == pytest.approx(
        0.2 + 0.4 * math.log(2.5) / math.log(4.0))


def test_interpolation_hits_the_points_and_does_not_extrapolate():
    xs, ys = [0.3, 1.0, 4.0], [0.1, 0.5, 0.7]
    for x, y in zip(xs, ys, strict=True):
        assert interpolate_log(xs, ys, x) == pytest.approx(y)
    assert math.isnan(interpolate_log(xs, ys, 0.2))
    assert math.isnan(interpolate_log(xs, ys, 5.0))
    assert math.isnan(interpolate_log([1.0], [0.5], 1.0))


def test_interpolation_skips_undefined_points():
    assert interpolate_log([1.0, 2.0, 4.0], [0.2, math.nan, 0.6], 2.0) == pytest.approx(0.4)


def test_mean_and_se_ignore_nan():
    mean, se, count = mean_and_se([0.1, 0.3, math.nan])
    assert (mean, count) == (pytest.approx(0.2), 2)
    assert se == pytest.approx(math.sqrt(0.02) / math.sqrt(2))


def _row(method: str, family: str, gflops: float, per_drive: list[float],
         split: str = 'clear', **extra: Any) -> dict[str, Any]:
    drives = [{'miou': v, 'gflops_per_frame': gflops, 'conditions': []} for v in per_drive]
    return {'method': method, 'split': split, 'family': family, 'gflops_per_frame': gflops,
            'miou': sum(per_drive) / len(per_drive), 'drives': drives, **extra}


def _uniform() -> list[dict[str, Any]]:
    return [_row('SF-low', 'uniform', 1.0, [0.30, 0.40]),
            _row('SF-full', 'uniform', 4.0, [0.50, 0.60])]


def test_margin_is_per_drive_against_that_drives_curve():
    row = _row('K=12', 'patchdrivenet', 2.0, [0.45, 0.55])
    result = margin(row, _uniform(), 'miou')
    # The curve at 2 GFLOPs is 0.40 on drive 0 and 0.50 on drive 1: +0.05 on both.
    assert result.mean == pytest.approx(0.05) and result.se == pytest.approx(0.0)
    assert result.pooled == pytest.approx(0.05)
    assert result.above_noise


def test_a_margin_within_the_noise_is_not_above_it():
    row = _row('K=12', 'patchdrivenet', 2.0, [0.50, 0.45])  # +0.10 and -0.05
    result = margin(row, _uniform(), 'miou')
    assert result.mean == pytest.approx(0.025)
    assert not result.above_noise


def test_add_margins_marks_only_non_uniform_rows_of_the_same_split():
    rows = _uniform() + [_row('K=12', 'patchdrivenet', 2.0, [0.45, 0.55]),
                         _row('K=12', 'patchdrivenet', 2.0, [0.45, 0.55], split='adverse')]
    add_margins(rows, metrics=('miou',))
    assert [('above_uniform' in r) for r in rows] == [False, False, True, False]
    assert rows[2]['above_uniform']['miou']['mean'] == pytest.approx(0.05)


def _full_and_default(split: str, default_miou: float) -> list[dict[str, Any]]:
    extra = {'thin_iou': 0.4, 'map50': 0.2, 'kitti_map_moderate': 0.3}
    full = _row('SF-full', 'uniform', 4.0, [0.6, 0.6], split, **extra)
    for drive in full['drives']:
        drive.update(extra)
    default = _row('default', 'reuse', 1.0, [default_miou] * 2, split, default=True,
                   patch_budget=12, **extra)
    for drive in default['drives']:
        drive.update(extra)
    return [full, default]


def test_default_targets_use_the_stated_margins():
    checks = {c.target: c for c in default_checks(_full_and_default('clear', 0.585), 'clear')}
    assert checks['default: GFLOPs x SF-full'].measured == pytest.approx(0.25)
    assert checks['default: GFLOPs x SF-full'].met
    assert checks['clear default: miou >= SF-full - 0.02'].met  # 0.585 >= 0.58
    adverse = {c.target: c for c in default_checks(_full_and_default('adverse', 0.565),
                                                   'adverse')}
    assert adverse['adverse default: miou >= SF-full - 0.04'].met  # doubled margin
    clear = {c.target: c for c in default_checks(_full_and_default('clear', 0.565), 'clear')}
    assert not clear['clear default: miou >= SF-full - 0.02'].met


def test_night_target_compares_night_drives_only():
    with_patches = _row('K=12', 'patchdrivenet', 1.0, [0.50, 0.30], 'adverse', patch_budget=12)
    without = _row('K=0', 'patchdrivenet', 0.3, [0.40, 0.30], 'adverse', patch_budget=0)
    with_patches['drives'][0]['conditions'] = ['night']
    without['drives'][0]['conditions'] = ['night']
    (check,) = night_check([with_patches, without], 12)
    assert check.measured == pytest.approx(0.10) and check.met


def test_frontier_targets_come_from_the_rows_margins():
    rows = _uniform() + [_row('K=12', 'patchdrivenet', 2.0, [0.45, 0.55], patch_budget=12)]
    for row in rows:
        row['thin_iou'] = row['map_small'] = row['miou']
        for drive in row['drives']:
            drive['thin_iou'] = drive['map_small'] = drive['miou']
    add_margins(rows, metrics=('miou', 'thin_iou', 'map_small'))
    checks = check_targets(rows)
    assert len(checks) == 3 and all(c.met for c in checks)


def test_oracle_target_is_the_paired_gain_over_the_learned_choice():
    learned = _row('K=12', 'patchdrivenet', 1.0, [0.40, 0.50], patch_budget=12)
    oracle = _row('K=12 oracle', 'oracle', 1.0, [0.45, 0.50], patch_budget=12)
    for row in (learned, oracle):
        row['thin_iou'] = 0.2
        for drive in row['drives']:
            drive['thin_iou'] = 0.2
    checks = {c.target: c for c in oracle_checks([learned, oracle], 12)}
    miou = checks['oracle choice gain at K=12: miou <= 0.01']
    assert miou.measured == pytest.approx(0.025) and not miou.met
    assert checks['oracle choice gain at K=12: thin_iou <= 0.03'].met
