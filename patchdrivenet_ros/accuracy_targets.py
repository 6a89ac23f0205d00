# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The accuracy-at-equal-compute targets, checked on evaluation rows (see MODEL_CARD.md).

- Every PatchDriveNet row (patches, no reuse) between SF-low and SF-full lies above the uniform
  family's curve in mIoU, thin IoU and AP-small by more than the noise (clear split).
- The default row spends at most 0.30x SF-full's GFLOPs and stays within fixed margins of
  SF-full (clear); in adverse weather within twice those margins.
- At night the patches add at least +0.03 mIoU over the same network with budget 0.
- The learned patch choice is nearly as good as the label oracle's at the default budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
from typing import Any

from patchdrivenet_ros.frontier import SIGNIFICANCE, paired_difference

FRONTIER_TARGET_METRICS = ('miou', 'thin_iou', 'map_small')
MAX_DEFAULT_COST = 0.30
"""Default row's GFLOPs per frame relative to SF-full's."""
CLEAR_MARGINS = {'miou': 0.02, 'thin_iou': 0.05, 'map50': 0.02}
"""Largest allowed shortfall against SF-full on the clear split (doubled when adverse)."""
KITTI_RATIO = 0.8
"""KITTI AP|R40 moderate at least this fraction of SF-full's (its shortfall doubles too)."""
NIGHT_GAIN = 0.03
ORACLE_GAPS = {'miou': 0.01, 'thin_iou': 0.03}
"""Largest allowed gain of the oracle's patch choice over the learned one (clear split)."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class TargetCheck:
    """One target: what was measured, what was required, and whether it is met."""

    target: str
    measured: float
    required: float
    met: bool
    noise: float = math.nan  # standard error over drives, where defined


def _find(rows: Sequence[Row], split: str, **match: Any) -> Row | None:
    for row in rows:
        if row['split'] == split and all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def frontier_checks(rows: Sequence[Row]) -> list[TargetCheck]:
    """Each PatchDriveNet row above the uniform curve by more than the noise (clear split)."""
    checks = []
    for row in rows:
        if (row['split'] != 'clear' or row.get('family') != 'patchdrivenet'
                or not row.get('patch_budget') or 'above_uniform' not in row):
            continue
        for metric in FRONTIER_TARGET_METRICS:
            margin = row['above_uniform'][metric]
            checks.append(TargetCheck(
                f"{row['method']}: {metric} above the uniform curve by > {SIGNIFICANCE:g} SE",
                margin['mean'], SIGNIFICANCE * margin['se'], bool(margin['above_noise']),
                margin['se']))
    return checks


def default_checks(rows: Sequence[Row], split: str) -> list[TargetCheck]:
    """Check the default row against SF-full on ``split`` (margins doubled when adverse)."""
    default, full = _find(rows, split, default=True), _find(rows, split, method='SF-full')
    if default is None or full is None:
        return []
    factor = 1.0 if split == 'clear' else 2.0
    checks = []
    if split == 'clear':
        cost = default['gflops_per_frame'] / full['gflops_per_frame']
        checks.append(TargetCheck('default: GFLOPs x SF-full', cost, MAX_DEFAULT_COST,
                                  cost <= MAX_DEFAULT_COST))
    for metric, shortfall in CLEAR_MARGINS.items():
        required = full[metric] - factor * shortfall
        _, se, _ = paired_difference(default, full, metric)
        checks.append(TargetCheck(f'{split} default: {metric} >= SF-full - {factor * shortfall:g}',
                                  default[metric], required, default[metric] >= required, se))
    ratio = 1.0 - factor * (1.0 - KITTI_RATIO)
    required = ratio * full['kitti_map_moderate']
    checks.append(TargetCheck(f'{split} default: KITTI AP|R40 moderate >= {ratio:g}x SF-full',
                              default['kitti_map_moderate'], required,
                              default['kitti_map_moderate'] >= required))
    return checks


def night_check(rows: Sequence[Row], budget: int) -> list[TargetCheck]:
    """Patches at ``budget`` against budget 0 on the adverse split's night drives."""
    with_patches = _find(rows, 'adverse', family='patchdrivenet', patch_budget=budget)
    without = _find(rows, 'adverse', family='patchdrivenet', patch_budget=0)
    if with_patches is None or without is None:
        return []
    gain, se, count = paired_difference(with_patches, without, 'miou', condition='night')
    if count == 0:
        return []
    return [TargetCheck(f'night: K={budget} mIoU gain over K=0 ({count} drives)', gain,
                        NIGHT_GAIN, gain >= NIGHT_GAIN, se)]


def oracle_checks(rows: Sequence[Row], budget: int) -> list[TargetCheck]:
    """Check the oracle's gain over the learned patch choice at ``budget`` (clear split)."""
    learned = _find(rows, 'clear', family='patchdrivenet', patch_budget=budget)
    oracle = _find(rows, 'clear', family='oracle', patch_budget=budget)
    if learned is None or oracle is None:
        return []
    checks = []
    for metric, gap in ORACLE_GAPS.items():
        gain, se, _ = paired_difference(oracle, learned, metric)
        checks.append(TargetCheck(f'oracle choice gain at K={budget}: {metric} <= {gap:g}',
                                  gain, gap, gain <= gap, se))
    return checks


def check_targets(rows: Sequence[Row]) -> list[TargetCheck]:
    """Every target that the rows allow checking."""
    default = next((r for r in rows if r.get('default')), None)
    budget = int(default['patch_budget']) if default is not None else 12
    return (frontier_checks(rows) + default_checks(rows, 'clear')
            + default_checks(rows, 'adverse') + night_check(rows, budget)
            + oracle_checks(rows, budget))


def format_checks(checks: Sequence[TargetCheck]) -> str:
    """Render target checks as a Markdown table."""
    lines = ['| target | measured | required | SE | met |', '|---|---|---|---|---|']
    for check in checks:
        noise = '' if math.isnan(check.noise) else f'{check.noise:.3f}'
        lines.append(f'| {check.target} | {check.measured:.3f} | {check.required:.3f} | '
                     f"{noise} | {'yes' if check.met else 'no'} |")
    return '\n'.join(lines)
