# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Draw the training curves of a run's ``metrics.jsonl``: loss terms, learning rate, validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

NOT_CURVES = ('step', 'learning_rate', 'skipped')
VALIDATION = 'val_'
"""Prefix of the validation scores' keys (their own records in metrics.jsonl)."""
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
    """Write a PNG of the training curves.

    Each loss term against the step (raw and smoothed), the learning rate and, when the run
    validated, the validation scores.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    steps_done = [r for r in records if 'learning_rate' in r]
    validated = [r for r in records if any(k.startswith(VALIDATION) for k in r)]
    terms = [k for k in steps_done[0] if k not in NOT_CURVES] if steps_done else []
    panels = len(terms) + 1 + bool(validated)
    figure, axes = plt.subplots(1, panels, squeeze=False, figsize=(3.2 * panels, 3.0))
    steps = [r['step'] for r in steps_done]
    for axis, term in zip(axes[0], terms, strict=False):
        values = [r[term] for r in steps_done]
        axis.plot(steps, values, color='tab:blue', alpha=0.25, linewidth=0.8)
        axis.plot(steps, running_mean(values, SMOOTHING), color='tab:blue')
        axis.set_title(term)
    axes[0][len(terms)].plot(steps, [r['learning_rate'] for r in steps_done],
                             color='tab:orange')
    axes[0][len(terms)].set_title('learning rate')
    if validated:
        scores = axes[0][-1]
        for key in sorted({k for r in validated for k in r if k.startswith(VALIDATION)}):
            scores.plot([r['step'] for r in validated], [r.get(key, np.nan) for r in validated],
                        marker='o', label=key[len(VALIDATION):])
        scores.set_title('validation')
        scores.legend(fontsize=7)
    for axis in axes[0]:
        axis.set_xlabel('step')
        axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


__all__ = ['plot_curves', 'running_mean']
