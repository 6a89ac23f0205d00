# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Draw the training curves of a run's ``metrics.jsonl``: each loss term and the learning rate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

NOT_CURVES = ('step', 'learning_rate', 'skipped')
SMOOTHING = 25
"""Steps in the running mean drawn over each loss."""


def running_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Return the mean of the last ``window`` values at each position (fewer at the start)."""
    series = np.asarray(values, np.float64)
    sums = np.cumsum(np.insert(series, 0, 0.0))
    ends = np.arange(1, len(series) + 1)
    starts = np.maximum(0, ends - window)
    return (sums[ends] - sums[starts]) / (ends - starts)


def plot_curves(records: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Write a PNG: every loss term against the step (raw and smoothed), and the learning rate."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    terms = [k for k in records[0] if k not in NOT_CURVES] if records else []
    steps = [r['step'] for r in records]
    figure, axes = plt.subplots(1, len(terms) + 1, squeeze=False,
                                figsize=(3.2 * (len(terms) + 1), 3.0))
    for axis, term in zip(axes[0], terms, strict=False):
        values = [r[term] for r in records]
        axis.plot(steps, values, color='tab:blue', alpha=0.25, linewidth=0.8)
        axis.plot(steps, running_mean(values, SMOOTHING), color='tab:blue')
        axis.set_title(term)
        axis.set_xlabel('step')
        axis.grid(alpha=0.3)
    rate = axes[0][-1]
    rate.plot(steps, [r.get('learning_rate', np.nan) for r in records], color='tab:orange')
    rate.set_title('learning rate')
    rate.set_xlabel('step')
    rate.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


__all__ = ['plot_curves', 'running_mean']
