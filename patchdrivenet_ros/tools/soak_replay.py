# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak section 2: a synthetic drive replayed at a fixed rate for minutes.

The drive's frames are sent in a loop at ``rate_hz`` for ``minutes`` of wall time (stamps from
the wall clock, so the node's message ages mean something), whether or not the node keeps up: a
slow node drops frames, which is its design. When the tool itself falls behind (a starved CPU),
the missed slots are skipped, never sent in a burst; the rate achieved is reported. Measured:
the node process's resident memory every ``rss_period_s``, each answered frame's latency (sent
to mask received), and the node's /diagnostics counts, from which the frames in flight (its
queue) follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
import time
from typing import Any

from patchdrivenet_ros.tools.node_process import NodeProcess
from patchdrivenet_ros.tools.soak_figures import Figure, check, note
from patchdrivenet_ros.tools.soak_inputs import Spec, Stamper
from patchdrivenet_ros.tools.soak_node import NodeView, SoakClient, Stamp
from patchdrivenet_ros.tools.soak_stats import (
    WARMUP_FRACTION,
    after_warmup,
    in_flight,
    latency_drift,
    memory_growth,
    percentile,
    window_medians,
)

SECTION = 'replay'
QUIET_END_S = 5.0
MAX_IN_FLIGHT = 3


@dataclass
class ReplayResult:
    """Samples of one replay; times are wall-clock seconds (time.time())."""

    sent: dict[Stamp, float] = field(default_factory=dict)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent, ms)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (time, bytes)
    diagnostics: list[tuple[float, dict[str, str]]] = field(default_factory=list)  # wall clock
    seconds: float = 0.0
    sending_s: float = 0.0  # time spent sending
    skipped: int = 0  # send slots missed because the tool fell behind


def run_replay(client: SoakClient, node: NodeProcess, view: NodeView, frames: Sequence[Spec],
               minutes: float, rate_hz: float, rss_period_s: float, stamper: Stamper,
               progress: Callable[[float], None] | None = None) -> ReplayResult:
    """Send ``frames`` in a loop at ``rate_hz`` for ``minutes``; sample memory and answers."""
    result = ReplayResult()
    first_status = len(view.diagnostics)
    start = time.perf_counter()
    end = start + minutes * 60.0
    period_s = 1.0 / rate_hz
    due = next_sample = start
    index = 0
    while node.alive() and due < end:
        time.sleep(max(0.0, due - time.perf_counter()))
        spec = replace(frames[index % len(frames)], stamp=stamper.next())
        result.sent[spec.stamp] = client.send(view, spec)
        now = time.perf_counter()
        due += period_s
        if due < now:  # fell behind: skip the missed slots rather than burst
            result.skipped += int((now - due) // period_s) + 1
            due += (int((now - due) // period_s) + 1) * period_s
        if now >= next_sample:
            rss = node.rss()
            if rss is not None:
                result.rss.append((time.time(), float(rss)))
            next_sample = max(next_sample + rss_period_s, now)
            if progress is not None:
                progress(now - start)
        index += 1
    result.sending_s = time.perf_counter() - start
    last, quiet_from = max(result.sent, default=None), time.time()
    client.wait_for(lambda: last is None or last in view.answers or time.time()
                    - max(view.answers.values(), default=quiet_from) > QUIET_END_S, 60.0)
    result.seconds = time.perf_counter() - start
    result.latencies = sorted((sent, (view.answers[stamp] - sent) * 1000.0)
                              for stamp, sent in result.sent.items() if stamp in view.answers)
    result.diagnostics = list(view.diagnostics[first_status:])
    return result


def _flight_by_third(diagnostics: list[tuple[float, dict[str, str]]]) -> tuple[int, int, int]:
    """Return the most frames in flight over all, the first third and the last third."""
    kept = after_warmup([(t, float(in_flight(v))) for t, v in diagnostics], 0.0)
    if not kept:
        return -1, -1, -1
    third = max(1, len(kept) // 3)
    values = [int(v) for _, v in kept]
    return max(values), max(values[:third]), max(values[-third:])


def _node_reported(result: ReplayResult, key: str) -> tuple[float, float, float]:
    """Return the median of a /diagnostics p95 (``key``) in the first and last third, drift."""
    samples = [(t, float(v[key])) for t, v in result.diagnostics if v.get(key, 'nan') != 'nan']
    return latency_drift(samples, q=50.0)


def series(result: ReplayResult) -> dict[str, Any]:
    """Return the replay's samples as a JSON-ready dict (times in wall-clock seconds)."""
    keys = ('frames_in', 'frames_out', 'dropped_frames', 'bad_frames', 'failed_frames',
            'lost_frames', 'latency_ms_p95', 'age_ms_p95')
    return {
        'rss_mb': [(round(t, 3), round(b / 2**20, 2)) for t, b in result.rss],
        'latency_ms': [(round(t, 3), round(ms, 2)) for t, ms in result.latencies],
        'diagnostics': [(round(t, 3), {k: v.get(k) for k in keys}) for t, v in result.diagnostics],
    }


def replay_figures(result: ReplayResult, max_growth: float, max_drift: float) -> list[Figure]:
    """Figures of the section: memory growth, latency drift, queue, answers."""
    growth = memory_growth(result.rss)
    first_mb, last_mb = (b / 2**20 for b in window_medians(result.rss))
    kept = [b / 2**20 for _, b in after_warmup(result.rss)]
    low_mb, high_mb = (min(kept), max(kept)) if kept else (float('nan'), float('nan'))
    p_first, p_last, drift = latency_drift(result.latencies)
    node_first, node_last, node_drift = _node_reported(result, 'latency_ms_p95')
    age_first, age_last, age_drift = _node_reported(result, 'age_ms_p95')
    flight, flight_first, flight_last = _flight_by_third(result.diagnostics)
    values = [ms for _, ms in result.latencies]
    latest = result.diagnostics[-1][1] if result.diagnostics else {}
    rate = len(result.sent) / result.sending_s if result.sending_s > 0 else 0.0
    return [
        note(SECTION, 'frames sent / answered', f'{len(result.sent)} / {len(values)}',
             f'{result.sending_s / 60:.1f} min at {rate:.1f} Hz ({result.skipped} slots '
             'skipped: the tool fell behind); the node keeps only the newest frame'),
        note(SECTION, 'latency p50 / p95 (ms)',
             f'{percentile(values, 50):.0f} / {percentile(values, 95):.0f}',
             'sent to mask received, over DDS'),
        check(SECTION, 'RSS growth after warm-up', growth, f'< {max_growth:.0%}',
              lambda v: v < max_growth,
              f'{len(result.rss)} samples; medians {first_mb:.0f} MB after warm-up '
              f'({WARMUP_FRACTION:.0%}) -> {last_mb:.0f} MB at the end; range '
              f'{low_mb:.0f}-{high_mb:.0f} MB'),
        check(SECTION, 'latency p95 drift (last vs first third)', drift, f'< {max_drift:.0%}',
              lambda v: v < max_drift,
              f'{p_first:.0f} ms -> {p_last:.0f} ms; sent to mask received by the middleware'),
        note(SECTION, 'node-reported latency p95 drift', node_drift,
             f'{node_first:.0f} ms -> {node_last:.0f} ms; receive to publish (/diagnostics, '
             'median per third)'),
        note(SECTION, 'node-reported age p95 drift', age_drift,
             f'{age_first:.0f} ms -> {age_last:.0f} ms; stamp to publish (/diagnostics)'),
        check(SECTION, 'frames in flight (from /diagnostics)', flight, f'<= {MAX_IN_FLIGHT}',
              lambda v: 0 <= v <= MAX_IN_FLIGHT,
              f'max {flight_first} in the first third, {flight_last} in the last; '
              f'{len(result.diagnostics)} statuses'),
        note(SECTION, 'dropped / lost / failed frames (node)',
             f"{latest.get('dropped_frames', '?')} / {latest.get('lost_frames', '?')} / "
             f"{latest.get('failed_frames', '?')}", 'totals since the node started'),
    ]


__all__ = ['ReplayResult', 'replay_figures', 'run_replay', 'series']
