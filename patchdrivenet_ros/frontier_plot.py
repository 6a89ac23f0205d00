# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Draw accuracy against GFLOPs per frame: one panel per metric and split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from patchdrivenet_ros.frontier import FRONTIER_METRICS, mean_and_se

LABELS = {'miou': 'mIoU', 'thin_iou': 'thin-class IoU', 'boundary_iou': 'boundary IoU',
          'map50': 'mAP50', 'map_small': 'AP-small'}
STYLES = {'uniform': ('o-', 'tab:grey'), 'patchdrivenet': ('s-', 'tab:blue'),
          'reuse': ('^', 'tab:green'), 'interval': ('v', 'tab:orange'),
          'depth': ('D', 'tab:purple'), 'oracle': ('x', 'tab:brown')}

Row = Mapping[str, Any]


def drive_se(row: Row, metric: str) -> float:
    """Return the standard error over drives of ``metric`` (0 when undefined)."""
    _, se, _ = mean_and_se([d[metric] for d in row.get('drives', ())])
    return se if se == se else 0.0  # NaN -> 0


def gflops_axis(axis: Any, title: str) -> None:
    """Style a panel whose x axis is GFLOPs per frame (log scale, plain numbers)."""
    from matplotlib import ticker

    axis.set_xscale('log')
    axis.xaxis.set_major_locator(ticker.LogLocator(base=2))
    axis.xaxis.set_major_formatter(ticker.FormatStrFormatter('%g'))
    axis.xaxis.set_minor_formatter(ticker.NullFormatter())
    axis.set_title(title, fontsize=9)
    axis.set_xlabel('GFLOPs per frame', fontsize=8)
    axis.grid(True, alpha=0.3)


def plot_frontier(rows: Sequence[Row], path: Path,
                  metrics: Sequence[str] = FRONTIER_METRICS) -> Path:
    """Write a PNG with accuracy against GFLOPs per frame (log axis) for every split."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    splits = list(dict.fromkeys(r['split'] for r in rows))
    figure, axes = plt.subplots(len(splits), len(metrics), squeeze=False,
                                figsize=(3.6 * len(metrics), 3.2 * len(splits)))
    for i, split in enumerate(splits):
        for j, metric in enumerate(metrics):
            axis = axes[i][j]
            for family, (marker, colour) in STYLES.items():
                members = sorted((r for r in rows if r['split'] == split
                                  and r.get('family') == family),
                                 key=lambda r: r['gflops_per_frame'])
                if not members:
                    continue
                axis.errorbar([r['gflops_per_frame'] for r in members],
                              [r[metric] for r in members],
                              yerr=[drive_se(r, metric) for r in members], fmt=marker,
                              color=colour, label=family, capsize=2, markersize=4)
            for row in rows:
                if row['split'] == split and row.get('default'):
                    axis.plot(row['gflops_per_frame'], row[metric], '*', color='tab:red',
                              markersize=12, label='default')
            gflops_axis(axis, f'{LABELS.get(metric, metric)} ({split})')
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
