# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The soak tool's arithmetic: memory growth, latency drift, frames in flight (pure).

A run's first ``warmup`` fraction (by time) is left out: the allocator, torch's caches and the
OS settle there. Memory growth compares the median RSS of the first and the last tenth of what
remains (medians: one sample caught mid-allocation does not decide it). Latency drift compares
the p95 of the last third with that of the first third of what remains; positive is slower.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

WARMUP_FRACTION = 0.1
WINDOW_FRACTION = 0.1
ACCOUNTED = ('frames_out', 'dropped_frames', 'bad_frames', 'failed_frames')
"""Diagnostics counts that, with the frames in flight, add up to frames_in."""


def after_warmup(samples: Sequence[tuple[float, float]], warmup: float = WARMUP_FRACTION
                 ) -> list[tuple[float, float]]:
    """Return the (time, value) samples after the first ``warmup`` fraction of the time span."""
    if not samples:
        return []
    ordered = sorted(samples)
    start, end = ordered[0][0], ordered[-1][0]
    cut = start + warmup * (end - start)
    return [s for s in ordered if s[0] >= cut]


def window_medians(samples: Sequence[tuple[float, float]], warmup: float = WARMUP_FRACTION,
                   window: float = WINDOW_FRACTION) -> tuple[float, float]:
    """Return the medians of the first and last ``window`` of the samples after warm-up.

    ``samples`` are (time, value); NaNs with fewer than two samples after warm-up.
    """
    kept = [value for _, value in after_warmup(samples, warmup)]
    if len(kept) < 2:
        return float('nan'), float('nan')
    size = max(1, int(round(window * len(kept))))
    return float(np.median(kept[:size])), float(np.median(kept[-size:]))


def memory_growth(samples: Sequence[tuple[float, float]], warmup: float = WARMUP_FRACTION,
                  window: float = WINDOW_FRACTION) -> float:
    """Return last / first - 1 of ``window_medians`` of (time, RSS) samples; NaN if unknown."""
    first, last = window_medians(samples, warmup, window)
    return last / first - 1.0 if first > 0 else float('nan')


def latency_drift(samples: Sequence[tuple[float, float]], warmup: float = WARMUP_FRACTION,
                  q: float = 95.0) -> tuple[float, float, float]:
    """Return (p_q of the first third, p_q of the last third, last / first - 1) after warm-up.

    ``samples`` are (send time, latency); thirds are by time. NaNs when a third is empty.
    """
    kept = after_warmup(samples, warmup)
    if len(kept) < 3:
        return float('nan'), float('nan'), float('nan')
    start, end = kept[0][0], kept[-1][0]
    third = (end - start) / 3.0
    first = [v for t, v in kept if t <= start + third]
    last = [v for t, v in kept if t >= end - third]
    if not first or not last:
        return float('nan'), float('nan'), float('nan')
    p_first, p_last = float(np.percentile(first, q)), float(np.percentile(last, q))
    return p_first, p_last, (p_last / p_first - 1.0) if p_first > 0 else float('nan')


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile, NaN when there are no values."""
    return float(np.percentile(values, q)) if len(values) else float('nan')


def in_flight(values: Mapping[str, str]) -> int:
    """Frames a diagnostics status counts as received but not yet answered, dropped or refused.

    By design at most the one being processed and the one waiting in the one-slot mailbox (a
    third may be between the subscription callback's count and its hand-over).
    """
    return int(values['frames_in']) - sum(int(values[key]) for key in ACCOUNTED)


def rss_bytes(pid: int) -> int | None:
    """Return the resident set size of process ``pid`` (VmRSS of /proc), None when it is gone."""
    try:
        text = Path(f'/proc/{pid}/status').read_text(encoding='ascii', errors='replace')
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024  # kB
    return None


__all__ = ['ACCOUNTED', 'after_warmup', 'in_flight', 'latency_drift', 'memory_growth',
           'percentile', 'rss_bytes', 'window_medians']
