# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Accuracy against compute: PatchDriveNet rows measured against the uniform family's curve.

The uniform curve of a metric is piecewise linear in log GFLOPs through the uniform rows
(SF-low ... SF-full). A row's margin is its value minus the curve at its own GFLOPs. The noise
is the spread over drives: every method runs on the same drives, so the margin is computed per
drive (against that drive's own uniform curve) and its standard error over drives is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
from typing import Any

import numpy as np

FRONTIER_METRICS = ('miou', 'thin_iou', 'boundary_iou', 'map50', 'map_small')
"""Metrics drawn against GFLOPs, one panel each."""
SIGNIFICANCE = 2.0
"""A margin counts as above the noise when it exceeds this many standard errors."""

Row = Mapping[str, Any]


def interpolate_log(gflops: Sequence[float], values: Sequence[float], at: float) -> float:
    """Return the piecewise-linear interpolation in log GFLOPs of ``values`` at ``at``.

    Points need not be sorted; NaN values are left out. Outside the measured range (or with
    fewer than two points) the result is NaN: the curve is not extrapolated.
    """
    points = sorted((x, y) for x, y in zip(gflops, values, strict=True)
                    if x > 0 and not math.isnan(y))
    if len(points) < 2 or at <= 0:
        return math.nan
    xs = np.log([x for x, _ in points])
    where = math.log(at)
    if where < xs[0] - 1e-9 or where > xs[-1] + 1e-9:
        return math.nan
    return float(np.interp(where, xs, [y for _, y in points]))


@dataclass(frozen=True)
class Margin:
    """A row's distance above the uniform curve in one metric."""

    metric: str
    pooled: float  # the row's pooled value minus the curve through the pooled uniform rows
    mean: float  # mean over drives of the per-drive margin
    se: float  # standard error of that mean over drives
    drives: int  # drives where the margin is defined

    @property
    def above_noise(self) -> bool:
        """Whether the row lies above the curve by more than SIGNIFICANCE standard errors."""
        return self.mean - SIGNIFICANCE * self.se > 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {'pooled': self.pooled, 'mean': self.mean, 'se': self.se, 'drives': self.drives,
                'above_noise': self.above_noise}


def mean_and_se(values: Sequence[float]) -> tuple[float, float, int]:
    """Return the mean, its standard error and the count of the non-NaN ``values``."""
    finite = np.asarray([v for v in values if not math.isnan(v)], dtype=np.float64)
    if finite.size == 0:
        return math.nan, math.nan, 0
    se = float(finite.std(ddof=1) / math.sqrt(finite.size)) if finite.size > 1 else math.nan
    return float(finite.mean()), se, int(finite.size)


def margin(row: Row, uniform: Sequence[Row], metric: str) -> Margin:
    """Return ``row``'s margin above the curve of the ``uniform`` rows (same split, same drives).

    Rows carry pooled values (``row[metric]``, ``row['gflops_per_frame']``) and per-drive ones
    (``row['drives']``: a list of mappings with the same keys, in the same drive order).
    """
    pooled = row[metric] - interpolate_log([u['gflops_per_frame'] for u in uniform],
                                           [u[metric] for u in uniform],
                                           row['gflops_per_frame'])
    per_drive = []
    for index, drive in enumerate(row['drives']):
        curve = [u['drives'][index] for u in uniform]
        per_drive.append(drive[metric] - interpolate_log(
            [c['gflops_per_frame'] for c in curve], [c[metric] for c in curve],
            drive['gflops_per_frame']))
    mean, se, count = mean_and_se(per_drive)
    return Margin(metric, float(pooled), mean, se, count)


def paired_difference(row: Row, other: Row, metric: str,
                      condition: str | None = None) -> tuple[float, float, int]:
    """Return mean, standard error and count over drives of ``row - other`` in ``metric``.

    With ``condition``, only drives whose conditions include it count.
    """
    differences = [
        a[metric] - b[metric]
        for a, b in zip(row['drives'], other['drives'], strict=True)
        if condition is None or condition in a.get('conditions', ())
    ]
    return mean_and_se(differences)


def add_margins(rows: list[dict[str, Any]], metrics: Sequence[str] = FRONTIER_METRICS) -> None:
    """Add ``above_uniform`` ({metric: margin}) to every non-uniform row with a uniform curve."""
    for split in {r['split'] for r in rows}:
        uniform = [r for r in rows if r['split'] == split and r.get('family') == 'uniform']
        if len(uniform) < 2:
            continue
        for row in rows:
            if row['split'] == split and row.get('family') != 'uniform' and 'drives' in row:
                row['above_uniform'] = {m: margin(row, uniform, m).as_dict() for m in metrics}
