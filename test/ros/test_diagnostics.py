# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Frame statistics and their DiagnosticStatus.

Marked ``ros`` (diagnostics.py builds diagnostic_msgs): ROS modules are imported inside the
tests, so the file imports anywhere and test/conftest.py skips or fails it with the reason.
"""

import math

import pytest

pytestmark = pytest.mark.ros


def test_empty_stats_are_nan_and_zero() -> None:
    from patchdrivenet_ros.ros.diagnostics import FrameStats

    snapshot = FrameStats().snapshot()
    assert snapshot.frames_out == 0 and snapshot.fps == 0.0
    assert math.isnan(snapshot.latency_ms_p50) and snapshot.reuse_ratio == 0.0
    assert snapshot.global_reuse_ratio == 0.0


def test_percentiles_counts_and_reuse() -> None:
    from patchdrivenet_ros.ros.diagnostics import FrameStats

    stats = FrameStats(window=100, fps_horizon_s=3600.0)  # fps without a wall-clock race
    stats.count('received', 12)
    stats.count('dropped', 2)
    stats.count('lost', 3)
    stats.count('bad')
    for latency in range(1, 11):
        stats.published(float(latency), chosen=4, reused=1, age_ms=2.0 * latency,
                        global_reused=latency % 5 != 1)
    snapshot = stats.snapshot()
    assert (snapshot.frames_in, snapshot.frames_out) == (12, 10)
    assert (snapshot.dropped_frames, snapshot.lost_frames, snapshot.bad_frames) == (2, 3, 1)
    assert snapshot.latency_ms_p50 == pytest.approx(5.5)
    assert snapshot.latency_ms_p95 == pytest.approx(9.55)
    assert snapshot.age_ms_p50 == pytest.approx(11.0)
    assert snapshot.reuse_ratio == pytest.approx(0.25)
    assert snapshot.global_reuse_ratio == pytest.approx(0.8)
    assert (snapshot.patches_chosen, snapshot.patches_reused, snapshot.patches_recomputed) == (
        4, 1, 3)
    assert (snapshot.patches_chosen_total, snapshot.patches_reused_total) == (40, 10)
    assert snapshot.global_reused_total == 8
    assert snapshot.fps > 0.0


def test_window_forgets_old_frames() -> None:
    from patchdrivenet_ros.ros.diagnostics import FrameStats

    stats = FrameStats(window=3)
    for latency in (100.0, 100.0, 1.0, 1.0, 1.0):
        stats.published(latency, chosen=0, reused=0)
    assert stats.snapshot().latency_ms_p95 == pytest.approx(1.0)


def test_status_levels_and_values() -> None:
    from builtin_interfaces.msg import Time
    from diagnostic_msgs.msg import DiagnosticStatus

    from patchdrivenet_ros.ros.diagnostics import (
        FrameStats,
        diagnostic_array,
        diagnostic_status,
        status_values,
    )

    stats = FrameStats()
    stats.published(30.0, chosen=2, reused=0)
    ok = diagnostic_status(stats.snapshot(), name='n', hardware_id='cpu',
                           extra={'patch_budget': 2, 'flag': True})
    assert ok.level == DiagnosticStatus.OK
    values = status_values(ok)
    assert values['latency_ms_p50'] == '30.00' and values['patch_budget'] == '2'
    assert values['flag'] == 'true' and values['age_ms_p50'] == 'nan'
    warn = diagnostic_status(stats.snapshot(), name='n', hardware_id='cpu', extra={},
                             latency_target_ms=10.0, weights_loaded=False)
    assert warn.level == DiagnosticStatus.WARN
    assert 'random weights' in warn.message and 'above target' in warn.message
    array_msg = diagnostic_array([ok], Time(sec=3))
    assert array_msg.header.stamp.sec == 3 and len(array_msg.status) == 1
