# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-soak: its pure parts, and a short soak of real nodes over DDS.

The pure parts run anywhere: stamps and odd headers, the memory-growth and latency-drift
arithmetic, the log's kinds and throttling, the figures. The malformed messages are checked
against the node's own decoder (ros.conversions) and the parameter attempts against rclpy's
messages, so those tests are marked ``ros``, as is the short soak: two tiny-model nodes, 200
malformed messages, 0.3 min of replay, 20 parameter sets and the broken weights files, whose
figures must meet their targets. Its latency drift target is relaxed: over 18 s on a shared CPU
it measures the machine; the full run (README, Reliability) holds the 10% target.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patchdrivenet_ros.tools.soak_figures import Figure, all_met, check, note, to_json
from patchdrivenet_ros.tools.soak_inputs import (
    KINDS,
    MAX_INT32,
    ODD_HEADERS,
    CompressedSpec,
    ImageSpec,
    Stamper,
    odd_header,
)
from patchdrivenet_ros.tools.soak_log import LogLine, parse, throttle_report
from patchdrivenet_ros.tools.soak_stats import in_flight, latency_drift, memory_growth


def _frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)


# Pure parts ---------------------------------------------------------------------------------


def test_stamps_are_unique_and_increasing() -> None:
    stamper = Stamper()
    stamps = [stamper.next() for _ in range(1000)]
    assert stamps == sorted(set(stamps))
    assert all(0 <= nanosec < 1_000_000_000 for _, nanosec in stamps)


def test_odd_headers_are_odd_and_unique() -> None:
    normal = (1_700_000_000, 500)
    made = {name: [odd_header(name, normal, serial) for serial in (1, 2)]
            for name in ODD_HEADERS}
    assert made['empty_frame_id'][0] == ('', normal)
    assert len(made['long_frame_id'][0][0]) > 1000
    assert not made['unicode_frame_id'][0][0].isascii()
    assert made['stamp_zero'][0][1][0] == 0
    assert made['stamp_backwards'][0][1][0] < normal[0]
    assert made['stamp_far_future'][0][1][0] == MAX_INT32
    assert made['stamp_nanosec_overflow'][0][1][1] >= 1_000_000_000
    for name in ODD_HEADERS:
        if name.startswith('stamp_'):
            first, second = made[name]
            assert first[1] != second[1], name  # answers stay matchable by stamp
    with pytest.raises(KeyError):
        odd_header('no_such_header', normal, 1)


def test_every_kind_builds_its_transport() -> None:
    rng = np.random.default_rng(1)
    for kind in KINDS:
        spec = kind.build(rng, _frame())
        assert isinstance(spec, ImageSpec if kind.transport == 'raw' else CompressedSpec)
        assert kind.expect != 'refused' or kind.reason, kind.name


def test_memory_growth_ignores_the_warmup_and_finds_a_leak() -> None:
    times = np.arange(100.0)
    flat = [(t, 400e6 + (50e6 if t < 8 else 0.0)) for t in times]  # warm-up spike left out
    assert memory_growth(flat) == pytest.approx(0.0)
    leak = [(t, 400e6 * (1.0 + 0.002 * t)) for t in times]  # 0.2% a sample
    expected = np.median([1 + 0.002 * t for t in times[-9:]]) / np.median(
        [1 + 0.002 * t for t in times[10:19]]) - 1.0
    assert memory_growth(leak) == pytest.approx(expected)
    assert memory_growth(leak) > 0.05
    noisy = [(t, 400e6 + (80e6 if t == 95 else 0.0)) for t in times]  # one sample, not a trend
    assert memory_growth(noisy) == pytest.approx(0.0)
    assert math.isnan(memory_growth([(0.0, 1.0)]))


def test_latency_drift_compares_the_thirds_after_warmup() -> None:
    times = np.linspace(0.0, 90.0, 901)
    steady = [(t, 100.0 + (900.0 if t < 5 else 0.0)) for t in times]  # slow start ignored
    first, last, drift = latency_drift(steady)
    assert (first, last, drift) == (pytest.approx(100.0), pytest.approx(100.0),
                                    pytest.approx(0.0))
    slowing = [(t, 100.0 * (1.2 if t > 60 else 1.0)) for t in times]  # the last third: 63-90
    assert latency_drift(slowing)[2] == pytest.approx(0.2)
    faster = [(t, 100.0 * (0.5 if t > 60 else 1.0)) for t in times]
    assert latency_drift(faster)[2] == pytest.approx(-0.5)
    assert math.isnan(latency_drift([(0.0, 1.0), (1.0, 1.0)])[2])


def test_frames_in_flight_from_diagnostics() -> None:
    values = {'frames_in': '10', 'frames_out': '5', 'dropped_frames': '2', 'bad_frames': '1',
              'failed_frames': '0'}
    assert in_flight(values) == 2
    assert in_flight({**values, 'frames_in': '8'}) == 0


def _ros(when: float, message: str, severity: str = 'WARN') -> LogLine:
    return LogLine(when + 0.05, f'[{severity}] [{when:.6f}] [soak.patchdrivenet]: {message}')


def test_log_kinds_and_throttle() -> None:
    step = 'dropping a frame from /x/image: step 3 is below width x channels = 12 for rgb8'
    short = 'dropping a frame from /x/image: data holds 3 bytes, rgb8 2x2 with step 6 needs 12'
    assert parse(_ros(1.0, step))[:2] == ('node', 'WARN bad input: step below width x channels')
    assert parse(LogLine(3.0, 'Corrupt JPEG data: 12 extraneous bytes'))[:2] == (
        'library', 'Corrupt JPEG data: # extraneous bytes')
    throttled = [_ros(0.0, step), _ros(5.0, short), _ros(5.0, step), _ros(10.0, step),
                 _ros(1.0, 'parameters changed', 'INFO'), _ros(1.5, 'parameters changed', 'INFO')]
    reports, repeated = throttle_report(throttled, 5.0)
    assert repeated == [] and sum(r.lines for r in reports) == 4  # INFO lines are not checked
    flood = [_ros(0.0, step), _ros(4.5, step), LogLine(7.0, 'Corrupt JPEG data: 1 extraneous'),
             LogLine(7.1, 'Corrupt JPEG data: 9 extraneous')]
    _, repeated = throttle_report(flood, 5.0)
    assert {(r.source, r.lines) for r in repeated} == {('node', 2), ('library', 2)}


def test_figures_decide_the_exit_status() -> None:
    good = [check('s', 'a', 0, '0', lambda v: v == 0), note('s', 'b', float('nan'))]
    assert all_met(good)
    assert not all_met([*good, check('s', 'c', float('nan'), '< 1', lambda v: v < 1)])
    document = to_json([*good, Figure('s', 'd', float('inf'), '', None)])
    assert document['all_targets_met'] and json.dumps(document)  # no NaN or inf in JSON


# Against the node's decoder and rclpy's messages ---------------------------------------------


@pytest.mark.ros
def test_malformed_kinds_meet_the_decoder_as_expected() -> None:
    from patchdrivenet_ros.ros.conversions import (
        ImageError,
        compressed_to_frame,
        image_to_frame,
    )
    from patchdrivenet_ros.tools.soak_node import to_message

    rng = np.random.default_rng(7)
    for kind in KINDS:
        outcomes = set()
        for index in range(40):
            spec = kind.build(rng, _frame(index))
            msg = to_message(spec)
            try:
                frame = (compressed_to_frame(msg) if isinstance(spec, CompressedSpec)
                         else image_to_frame(msg))
            except ImageError as error:
                assert kind.expect != 'tolerated', (kind.name, str(error))
                assert kind.reason in str(error), (kind.name, str(error))
                outcomes.add('refused')
            else:
                assert kind.expect != 'refused', (kind.name, spec)
                if isinstance(spec, ImageSpec):
                    assert frame.size == (spec.width, spec.height)
                outcomes.add('decoded')
        assert outcomes, kind.name


@pytest.mark.ros
def test_parameter_attempts_are_well_formed() -> None:
    from patchdrivenet_ros.tools.soak_params import (
        DOUBLE,
        INT64_MAX,
        INT64_MIN,
        INTEGER,
        STRING,
        ParamInfo,
        parameter_msg,
        random_attempt,
    )

    infos = [ParamInfo('patch_budget', INTEGER, False, 0, 4096),
             ParamInfo('nms_iou', DOUBLE, False, 0.0, 1.0),
             ParamInfo('reuse_rule', STRING, False, choices=('off', 'displacement')),
             ParamInfo('device', STRING, True)]
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(400):
        info = infos[int(rng.integers(0, len(infos)))]
        attempt = random_attempt(rng, info)
        seen.add(attempt.category)
        msg = parameter_msg(attempt)  # rclpy's message accepts every value made
        assert msg.value.type == attempt.type
        if attempt.type == INTEGER:
            assert INT64_MIN <= attempt.value <= INT64_MAX
        if attempt.category == 'valid' and info.type == INTEGER:
            assert 0 <= attempt.value <= 4096 and attempt.invalid is False
        if attempt.category == 'out_of_range':
            assert math.isnan(attempt.value) or not info.low <= attempt.value <= info.high
            assert attempt.invalid is True
        if info.read_only and attempt.category == 'valid':
            assert attempt.invalid is True
    assert seen == {'valid', 'out_of_range', 'wrong_type', 'list', 'empty_string', 'not_set',
                    'extreme', 'unknown_name'}


@pytest.mark.ros
def test_node_figures_miss_on_a_crash_and_a_flood() -> None:
    from patchdrivenet_ros.tools.soak import process_figures

    quiet = process_figures('raw', True, 0, [_ros(0.0, 'dropping a frame from x: bad')], 5.0)
    assert all_met(quiet)
    crashed = process_figures('raw', False, -9, [LogLine(1.0, 'Traceback (most recent call)')],
                              5.0)
    assert {f.name for f in crashed if f.ok is False} == {
        'raw: crashed', 'raw: exit status on SIGINT', 'raw: Python tracebacks in the log'}
    flood = [LogLine(1.0 + k * 0.01, '[ WARN:0@1.2] global grfmt_png.cpp:793 incomplete')
             for k in range(3)]
    assert [f.name for f in process_figures('raw', True, 0, flood, 5.0) if f.ok is False] == [
        'raw: library output repeated within 5 s']


# The short soak ------------------------------------------------------------------------------


@pytest.mark.ros
@pytest.mark.slow
def test_short_soak_meets_the_targets(tiny_weights: Path, tmp_path: Path) -> None:
    from patchdrivenet_ros.tools.soak import main

    report = tmp_path / 'soak.json'
    status = main([
        '--malformed', '200', '--burst', '10', '--minutes', '0.3', '--param-sets', '20',
        '--weights', str(tiny_weights), '--width', '320', '--height', '96',
        '--drive-frames', '10', '--node-param', 'threads:=1', '--node-param', 'patch_budget:=3',
        '--node-param', 'patch_sizes:=[32, 64]', '--max-latency-drift', '10',
        '--out', str(tmp_path / 'out'), '--json', str(report),
    ])
    document: dict[str, Any] = json.loads(report.read_text(encoding='utf-8'))
    figures = {f['name']: f for f in document['figures']}
    missed = {name for name, f in figures.items() if f['ok'] is False}
    # Includes 'compressed: library output repeated within 5 s': OpenCV and libjpeg used to print
    # a line per damaged JPEG or PNG beside the node's throttled warning (now Pillow decodes).
    assert missed == set(), [figures[n] for n in missed]
    assert status == 0 and document['complete']
    sections = {f['section'] for f in document['figures']}
    assert sections == {'node', 'malformed', 'replay', 'weights', 'parameters', 'log'}
    assert figures['malformed messages sent']['value'] == 200
    assert figures['good frames answered (by stamp)']['value'] >= 40  # 20 rounds x 2 nodes
    assert figures['code run from a pickle file']['value'] is False
    assert not (tmp_path / 'out' / 'weights' / 'UNPICKLED_MARKER').exists()
