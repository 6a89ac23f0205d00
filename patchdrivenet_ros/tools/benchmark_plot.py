# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Plot of patchdrivenet-benchmark rows: latency and peak memory against frame size."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from patchdrivenet_ros.tools.benchmark import Row


def _label(row: Row) -> str:
    name = f'{row.method} K={row.patch_budget}' if row.method == 'patchdrivenet' else row.method
    return name if row.backend == 'torch' else f'{name} ({row.backend})'


def plot_benchmark(rows: Sequence[Row], path: Path) -> Path:
    """Draw latency and peak memory growth of each method against megapixels; return path."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    methods = list(dict.fromkeys(_label(row) for row in rows))
    for method in methods:
        mine = [row for row in rows if _label(row) == method]
        pixels = [int(row.size.split('x')[0]) * int(row.size.split('x')[1]) / 1e6 for row in mine]
        axes[0].plot(pixels, [row.latency_ms for row in mine], marker='o', label=method)
        axes[1].plot(pixels, [row.peak_memory_mb for row in mine], marker='o', label=method)
    for axis, title in zip(axes, ('latency (ms, median)', 'peak memory growth (MB)'),
                           strict=True):
        axis.set_xscale('log')
        axis.set_yscale('log')
        axis.set_xlabel('frame size (megapixels)')
        axis.set_title(title)
        axis.grid(True, which='both', alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
