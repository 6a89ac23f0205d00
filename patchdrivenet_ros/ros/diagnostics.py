# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Frame statistics of the node and their diagnostic_msgs form.

``FrameStats`` is thread-safe (the worker records, the diagnostics timer reads) and pure;
``diagnostic_status`` turns a snapshot into a DiagnosticStatus with fixed key names.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
import threading
import time
from typing import Literal, get_args

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
import numpy as np

FrameCount = Literal['received', 'dropped', 'lost', 'bad', 'failed']
"""Frames taken from the subscription; replaced by newer ones before processing; reported lost
by the middleware before reaching the node; refused as malformed; whose processing raised."""


@dataclass(frozen=True)
class StatsSnapshot:
    """The node's numbers at one moment; latency and reuse over the recent frames."""

    frames_in: int
    frames_out: int
    dropped_frames: int  # replaced by a newer frame before processing
    lost_frames: int  # never arrived, as the middleware reports (best-effort gaps)
    bad_frames: int
    failed_frames: int
    fps: float
    latency_ms_p50: float
    latency_ms_p95: float
    age_ms_p50: float  # NaN when ages are not measured (use_sim_time)
    age_ms_p95: float
    reuse_ratio: float  # reused / chosen patches over the recent frames
    global_reuse_ratio: float  # share of the recent frames whose global stream was reused
    patches_chosen: int  # last frame
    patches_reused: int
    patches_recomputed: int
    patches_chosen_total: int  # since start
    patches_reused_total: int
    global_reused_total: int  # frames whose global stream was reused, since start


@dataclass(frozen=True)
class _Record:
    done_s: float
    latency_ms: float
    age_ms: float
    chosen: int
    reused: int
    global_reused: bool


class FrameStats:
    """Counters and a window of recent frames."""

    def __init__(self, window: int = 100, fps_horizon_s: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._records: deque[_Record] = deque(maxlen=window)
        self._fps_horizon_s = fps_horizon_s
        self._counts: dict[FrameCount, int] = dict.fromkeys(get_args(FrameCount), 0)
        self._frames_out = 0
        self._chosen_total = 0
        self._reused_total = 0
        self._global_reused_total = 0

    def count(self, kind: FrameCount, number: int = 1) -> None:
        """Count frames of a kind (see FrameCount)."""
        with self._lock:
            self._counts[kind] += number

    def published(
        self, latency_ms: float, chosen: int, reused: int, age_ms: float = float('nan'),
        global_reused: bool = False,
    ) -> None:
        """Record one answered frame.

        Its receive-to-publish latency, patches, message age and whether its global stream
        reused its cached features.
        """
        record = _Record(time.monotonic(), latency_ms, age_ms, chosen, reused, global_reused)
        with self._lock:
            self._frames_out += 1
            self._chosen_total += chosen
            self._reused_total += reused
            self._global_reused_total += int(global_reused)
            self._records.append(record)

    def snapshot(self) -> StatsSnapshot:
        """Return the numbers now."""
        now = time.monotonic()
        with self._lock:
            records = list(self._records)
            counts = dict(self._counts)
            frames_out = self._frames_out
            totals = (self._chosen_total, self._reused_total, self._global_reused_total)
        latencies = np.array([r.latency_ms for r in records], dtype=np.float64)
        ages = np.array([r.age_ms for r in records if r.age_ms == r.age_ms], dtype=np.float64)
        recent = [r.done_s for r in records if now - r.done_s <= self._fps_horizon_s]
        fps = 0.0
        if len(recent) >= 2 and recent[-1] > recent[0]:
            fps = (len(recent) - 1) / (recent[-1] - recent[0])
        chosen = sum(r.chosen for r in records)
        last = records[-1] if records else _Record(now, 0.0, 0.0, 0, 0, False)
        return StatsSnapshot(
            frames_in=counts['received'],
            frames_out=frames_out,
            dropped_frames=counts['dropped'],
            lost_frames=counts['lost'],
            bad_frames=counts['bad'],
            failed_frames=counts['failed'],
            fps=fps,
            latency_ms_p50=_percentile(latencies, 50),
            latency_ms_p95=_percentile(latencies, 95),
            age_ms_p50=_percentile(ages, 50),
            age_ms_p95=_percentile(ages, 95),
            reuse_ratio=sum(r.reused for r in records) / chosen if chosen else 0.0,
            global_reuse_ratio=(sum(r.global_reused for r in records) / len(records)
                                if records else 0.0),
            patches_chosen=last.chosen,
            patches_reused=last.reused,
            patches_recomputed=last.chosen - last.reused,
            patches_chosen_total=totals[0],
            patches_reused_total=totals[1],
            global_reused_total=totals[2],
        )


def _percentile(values: np.ndarray, q: float) -> float:
    """Return the q-th percentile, NaN when there are no values."""
    return float(np.percentile(values, q)) if values.size else float('nan')


def _format(value: object) -> str:
    """Format a value for a KeyValue: floats with 2 decimals, booleans lower case."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return 'nan' if value != value else f'{value:.2f}'
    return str(value)


def diagnostic_status(
    snapshot: StatsSnapshot,
    *,
    name: str,
    hardware_id: str,
    extra: dict[str, object],
    latency_target_ms: float = 0.0,
    weights_loaded: bool = True,
) -> DiagnosticStatus:
    """Build the node's DiagnosticStatus: WARN on random weights, a missed target or bad frames."""
    problems = []
    if not weights_loaded:
        problems.append('random weights (no trained weights file found)')
    if latency_target_ms > 0.0 and snapshot.latency_ms_p95 > latency_target_ms:
        problems.append(
            f'latency p95 {snapshot.latency_ms_p95:.1f} ms above target {latency_target_ms:.1f}'
        )
    if snapshot.bad_frames or snapshot.failed_frames:
        problems.append(f'{snapshot.bad_frames} bad, {snapshot.failed_frames} failed frames')
    status = DiagnosticStatus()
    status.name = name
    status.hardware_id = hardware_id
    status.level = DiagnosticStatus.WARN if problems else DiagnosticStatus.OK
    status.message = '; '.join(problems) if problems else (
        f'{snapshot.fps:.1f} fps, latency p95 {_format(snapshot.latency_ms_p95)} ms'
    )
    values = {**asdict(snapshot), 'latency_target_ms': latency_target_ms,
              'weights_loaded': weights_loaded, **extra}
    status.values = [KeyValue(key=key, value=_format(value)) for key, value in values.items()]
    return status


def diagnostic_array(statuses: list[DiagnosticStatus], stamp: Time) -> DiagnosticArray:
    """Wrap statuses into a DiagnosticArray stamped ``stamp``."""
    msg = DiagnosticArray()
    msg.header.stamp = stamp
    msg.status = statuses
    return msg


def status_values(status: DiagnosticStatus) -> dict[str, str]:
    """Return a status's key/value pairs as a dict (for tools and tests)."""
    return {kv.key: kv.value for kv in status.values}


__all__ = [
    'FrameStats', 'StatsSnapshot', 'diagnostic_array', 'diagnostic_status', 'status_values',
]
