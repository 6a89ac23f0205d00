# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Draw temporal reuse on kinds of drive: accuracy against GFLOPs, one column per profile."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from patchdrivenet_ros.frontier_plot import gflops_axis

METRICS = (('miou', 'mIoU'), ('map50', 'mAP50'))
STYLES = {'budget': ('s-', 'tab:grey', 'smaller budget, no reuse'),
          'interval': ('v-', 'tab:orange', 'SF-interval-k'),
          'displacement': ('^', 'tab:green', 'reuse: displacement'),
          'compensated': ('o', 'tab:blue', 'reuse: compensated')}

Row = Mapping[str, Any]


def _series(rows: Sequence[Row], profile: str, key: str) -> list[Row]:
    """Rows of one curve or rule, with the reuse-off row ending the two curves."""
    mine = [r for r in rows if r['profile'] == profile]
    if key in ('budget', 'interval'):
        picked = [r for r in mine if r['family'] in (key, 'off')]
    else:
        picked = [r for r in mine if r['family'] == 'reuse' and r['reuse_rule'] == key]
    return sorted(picked, key=lambda r: r['gflops_per_frame'])


def plot_reuse(rows: Sequence[Row], path: Path) -> Path:
    """Write a PNG: mIoU and mAP50 against GFLOPs per frame (log axis) for every profile."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    profiles = list(dict.fromkeys(r['profile'] for r in rows))
    figure, axes = plt.subplots(len(METRICS), len(profiles), squeeze=False,
                                figsize=(3.4 * len(profiles), 3.0 * len(METRICS)))
    for column, profile in enumerate(profiles):
        for line, (metric, label) in enumerate(METRICS):
            axis = axes[line][column]
            for key, (style, colour, name) in STYLES.items():
                series = _series(rows, profile, key)
                if series:
                    axis.plot([r['gflops_per_frame'] for r in series],
                              [r[metric] for r in series], style, color=colour, label=name,
                              markersize=5)
            for row in rows:
                if row['profile'] == profile and row.get('default'):
                    axis.plot(row['gflops_per_frame'], row[metric], '*', color='tab:red',
                              markersize=13, label='default')
            gflops_axis(axis, f'{label} ({profile})')
            axis.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


__all__ = ['plot_reuse']
