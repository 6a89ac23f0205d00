# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Temporal reuse on kinds of drive: which rows are scored, and the targets they are held to.

Five drive profiles of the synthetic world (held-out seeds): ``stopped`` (ego at 0 m/s, other
traffic moving), ``slow`` (0.5-2 m/s, a jam), ``urban`` (5-14 m/s), ``highway`` (20-30 m/s) and
``turning`` (a high yaw rate). On each: the shipped config with reuse off (the reference), each
reuse rule at several motion thresholds, smaller budgets without reuse and SF-interval-k. The
targets compare the shipped config (the ``default`` row) with reuse off at the same budget and
with the other two ways of saving compute at equal GFLOPs (curves in log GFLOPs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
from typing import Any

from patchdrivenet_ros.accuracy_targets import TargetCheck
from patchdrivenet_ros.config import PerceptionConfig, with_changes
from patchdrivenet_ros.data.drive_config import DriveConfig, profile_config
from patchdrivenet_ros.frontier import interpolate_log

DRIVE_PROFILES: dict[str, dict[str, Any]] = {
    'stopped': {'speed_range': (0.0, 0.0), 'stop_probability': 0.0},
    'slow': {'speed_range': (0.5, 2.0)},
    'urban': {'speed_range': (5.0, 14.0)},
    'highway': {'speed_range': (20.0, 30.0), 'max_yaw_rate_dps': 4.0},
    'turning': {'speed_range': (5.0, 9.0), 'max_yaw_rate_dps': 30.0},
}
"""DriveConfig overrides of each kind of drive (the KITTI camera otherwise)."""
REUSE_SEED = 930_000
"""Scene seed of drive i of profile p: REUSE_SEED + 1000 p + i (never used in training)."""
FAMILIES = ('off', 'budget', 'reuse', 'interval')
"""Reuse off at the default budget, smaller budgets without reuse, reuse rules, SF-interval-k."""
SAVINGS = {'stopped': 0.35, 'slow': 0.35, 'urban': 0.6}
"""Largest allowed GFLOPs of the default relative to reuse off, per profile."""
ACCURACY_LOSS = 0.01
"""Largest allowed loss of mIoU and of mAP50 against reuse off, on every profile."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ReuseMethod:
    """One row of a profile: its name, family, node config and whether it is the default."""

    name: str
    family: str
    config: PerceptionConfig
    default: bool = False


def drive_config(profile: str, index: int, frames: int) -> DriveConfig:
    """Return the DriveConfig of held-out drive ``index`` of ``profile``."""
    number = list(DRIVE_PROFILES).index(profile)
    return profile_config('kitti', num_frames=frames,
                          seed=REUSE_SEED + 1000 * number + index, **DRIVE_PROFILES[profile])


def reuse_methods(shipped: PerceptionConfig, thresholds: Sequence[float],
                  budgets: Sequence[int], intervals: Sequence[int],
                  global_limits: Sequence[float] = ()) -> list[ReuseMethod]:
    """Return the rows scored on every profile; exactly one is marked default.

    The reuse rules run at each threshold with the shipped global stream reuse; the shipped
    rule also runs with each of ``global_limits`` (``global_reuse_motion``, 0 = never).
    """
    budget = shipped.patch_budget
    off = with_changes(shipped, reuse_rule='off')
    rows = [ReuseMethod(f'K={budget}, reuse off', 'off', off, shipped.reuse_rule == 'off')]
    rows += [ReuseMethod(f'K={k}, reuse off', 'budget', with_changes(off, patch_budget=k))
             for k in budgets if k != budget]
    for rule in ('displacement', 'compensated'):
        for threshold in thresholds:
            config = with_changes(shipped, reuse_rule=rule, motion_threshold=threshold)
            rows.append(ReuseMethod(f'K={budget}, {rule} {threshold:g} px', 'reuse', config,
                                    config == shipped))
    if not any(row.default for row in rows):
        rows.append(ReuseMethod(f'default (K={budget}, {shipped.reuse_rule} '
                                f'{shipped.motion_threshold:g} px)', 'reuse', shipped, True))
    if shipped.reuse_rule != 'off':
        rows += [ReuseMethod(f'K={budget}, {shipped.reuse_rule} {shipped.motion_threshold:g} '
                             f'px, global stream reused up to {limit:g} px', 'reuse',
                             with_changes(shipped, global_reuse_motion=limit))
                 for limit in global_limits if limit != shipped.global_reuse_motion]
    rows += [ReuseMethod(f'SF-interval-{k} (K={budget})', 'interval',
                         with_changes(off, method='sf_interval', interval_k=k))
             for k in intervals]
    return rows


def _rows(rows: Sequence[Row], profile: str, family: str | None = None) -> list[Row]:
    return [r for r in rows if r['profile'] == profile
            and (family is None or r['family'] == family)]


def curve_value(rows: Sequence[Row], profile: str, family: str, metric: str,
                gflops: float) -> float:
    """Value of a family's curve (with the reuse-off row as its full-cost end) at ``gflops``."""
    points = _rows(rows, profile, family) + _rows(rows, profile, 'off')
    return interpolate_log([r['gflops_per_frame'] for r in points], [r[metric] for r in points],
                           gflops)


def reuse_checks(rows: Sequence[Row]) -> list[TargetCheck]:
    """Check the reuse targets of each profile present in ``rows`` (see the module doc)."""
    checks = []
    for profile in dict.fromkeys(r['profile'] for r in rows):
        default = next((r for r in _rows(rows, profile) if r.get('default')), None)
        off = next(iter(_rows(rows, profile, 'off')), None)
        if default is None or off is None:
            continue
        if profile in SAVINGS:
            ratio = default['gflops_per_frame'] / off['gflops_per_frame']
            checks.append(TargetCheck(f'{profile}: default GFLOPs x reuse off', ratio,
                                      SAVINGS[profile], ratio <= SAVINGS[profile]))
        for metric in ('miou', 'map50'):
            change = default[metric] - off[metric]
            checks.append(TargetCheck(f'{profile}: default {metric} - reuse off', change,
                                      -ACCURACY_LOSS, change >= -ACCURACY_LOSS))
        for family in ('budget', 'interval'):
            curve = curve_value(rows, profile, family, 'miou', default['gflops_per_frame'])
            if not math.isnan(curve):
                margin = default['miou'] - curve
                checks.append(TargetCheck(f'{profile}: default mIoU above the {family} curve',
                                          margin, 0.0, margin >= 0.0))
    return checks


__all__ = ['DRIVE_PROFILES', 'FAMILIES', 'REUSE_SEED', 'ReuseMethod', 'curve_value',
           'drive_config', 'reuse_checks', 'reuse_methods']
