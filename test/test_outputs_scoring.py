# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Scoring an outputs bag (what a node published) per frame and in streaming form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer

from patchdrivenet_ros.data.bags import vision_msgs_typestore, write_bag
from patchdrivenet_ros.data.drive_config import profile_config
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.evaluation import EvaluationError
from patchdrivenet_ros.outputs_bag import OutputsError, read_outputs, streaming_sources
from patchdrivenet_ros.outputs_scoring import score_outputs
from patchdrivenet_ros.tools.evaluate import main

STORE = vision_msgs_typestore()
TYPES = STORE.types
MS = 1_000_000


@pytest.fixture(scope='module')
def drive() -> list[LabeledFrame]:
    return list(generate_drive(profile_config('kitti', num_frames=3, seed=31)))


def _header(stamp_ns: int, frame_id: str = 'camera') -> Any:
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return TYPES['std_msgs/msg/Header'](
        stamp=TYPES['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec), frame_id=frame_id)


def _mask(stamp_ns: int, mask: np.ndarray) -> Any:
    height, width = mask.shape
    return TYPES['sensor_msgs/msg/Image'](
        header=_header(stamp_ns), height=height, width=width, encoding='mono8',
        is_bigendian=0, step=width, data=mask.reshape(-1).copy())


def _detections(stamp_ns: int, boxes: np.ndarray, class_ids: np.ndarray) -> Any:
    pose = TYPES['geometry_msgs/msg/PoseWithCovariance']
    point = TYPES['geometry_msgs/msg/Point'](x=0.0, y=0.0, z=0.0)
    quaternion = TYPES['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=0.0, w=1.0)
    detections = []
    for (x1, y1, x2, y2), class_id in zip(boxes.tolist(), class_ids.tolist(), strict=True):
        hypothesis = TYPES['vision_msgs/msg/ObjectHypothesisWithPose'](
            hypothesis=TYPES['vision_msgs/msg/ObjectHypothesis'](class_id=str(class_id),
                                                                 score=0.9),
            pose=pose(pose=TYPES['geometry_msgs/msg/Pose'](position=point,
                                                           orientation=quaternion),
                      covariance=np.zeros(36)))
        centre = TYPES['vision_msgs/msg/Pose2D'](
            position=TYPES['vision_msgs/msg/Point2D'](x=(x1 + x2) / 2, y=(y1 + y2) / 2),
            theta=0.0)
        detections.append(TYPES['vision_msgs/msg/Detection2D'](
            header=_header(stamp_ns), results=[hypothesis], id='',
            bbox=TYPES['vision_msgs/msg/BoundingBox2D'](center=centre, size_x=x2 - x1,
                                                       size_y=y2 - y1)))
    return TYPES['vision_msgs/msg/Detection2DArray'](header=_header(stamp_ns),
                                                     detections=detections)


def write_outputs(path: Path, drive: list[LabeledFrame], answers: dict[int, int],
                  prefixes: tuple[str, ...] = ('/replay',), sent: bool = True,
                  forecasts: bool = False) -> Path:
    """Write an outputs bag: frame k is sent at k * 100 ms and answered at answers[k] ms.

    The answer is the frame's own labels (a perfect output); frames missing from ``answers``
    are never answered. With ``forecasts``, each answer comes with a perfect forecast: the
    next frame's labels, stamped with its stamp.
    """
    with Writer(path, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        for prefix in prefixes:
            kinds = {'segmentation/mask': 'sensor_msgs/msg/Image',
                     'detections': 'vision_msgs/msg/Detection2DArray',
                     'replay/sent': 'std_msgs/msg/Header',
                     'segmentation/mask_forecast': 'sensor_msgs/msg/Image',
                     'detections_forecast': 'vision_msgs/msg/Detection2DArray'}
            connection = {name: writer.add_connection(f'{prefix}/{name}', kind, typestore=STORE)
                          for name, kind in kinds.items()}
            messages = []
            for index, frame in enumerate(drive):
                if sent:
                    messages.append((index * 100 * MS, 'replay/sent', _header(frame.stamp_ns)))
                if index in answers:
                    at = answers[index] * MS
                    messages.append((at, 'segmentation/mask', _mask(frame.stamp_ns, frame.mask)))
                    messages.append((at, 'detections', _detections(
                        frame.stamp_ns, frame.boxes, frame.class_ids)))
                    if forecasts and index + 1 < len(drive):
                        later = drive[index + 1]
                        messages.append((at, 'segmentation/mask_forecast',
                                         _mask(later.stamp_ns, later.mask)))
                        messages.append((at, 'detections_forecast', _detections(
                            later.stamp_ns, later.boxes, later.class_ids)))
            for at, name, message in sorted(messages, key=lambda m: m[0]):
                writer.write(connection[name], at, STORE.serialize_cdr(message,
                                                                      kinds[name]))
    return path


def test_streaming_source_is_the_last_answer_before_sending() -> None:
    sent = {10: 0.0, 20: 0.1, 30: 0.2, 40: 0.35}
    answered = {10: 0.15, 30: 0.35, 40: 0.5}
    assert streaming_sources(sent, answered) == {10: None, 20: None, 30: 10, 40: 30}


def test_exact_outputs_score_one_and_streaming_pays_the_latency(
        tmp_path: Path, drive: list[LabeledFrame]) -> None:
    labels = write_bag(drive, tmp_path / 'drive')
    # frame 0 answered at 50 ms, frame 1 never, frame 2 at 250 ms: when frame 1 is sent
    # (100 ms) frame 0's output is on hand; when frame 2 is sent (200 ms), still frame 0's.
    outputs = write_outputs(tmp_path / 'outputs', drive, {0: 50, 2: 250})
    scored = score_outputs(outputs, labels)
    assert scored.camera == '/replay'
    own = scored.own.summary()
    assert own['frames'] == 2 and own['miou'] == pytest.approx(1.0)
    assert own['map50'] == pytest.approx(1.0)
    assert own['latency_ms_p50'] == pytest.approx(50.0)
    assert scored.streaming is not None
    streaming = scored.streaming.summary()
    assert streaming['frames'] == 3 and streaming['miou'] < 1.0
    prefix, recorded = read_outputs(outputs)
    assert sorted(recorded.sent_ns) == [f.stamp_ns for f in drive]
    assert sorted(recorded.masks) == [drive[0].stamp_ns, drive[2].stamp_ns]


def test_forecasts_on_hand_are_scored_beside_the_plain_streaming(
        tmp_path: Path, drive: list[LabeledFrame]) -> None:
    labels = write_bag(drive, tmp_path / 'drive')
    # Each frame answered 50 ms after it was sent, with a perfect forecast of the next one:
    # frames 1 and 2 find that forecast on hand when sent, frame 0 finds nothing.
    outputs = write_outputs(tmp_path / 'outputs', drive, {0: 50, 1: 150, 2: 250},
                            forecasts=True)
    scored = score_outputs(outputs, labels)
    assert scored.streaming is not None and scored.streaming_forecast is not None
    ahead, plain = scored.streaming_forecast.summary(), scored.streaming.summary()
    assert ahead['frames'] == plain['frames'] == 3
    assert plain['miou'] < ahead['miou'] < 1.0  # frame 0 predicted nothing in both
    _, recorded = read_outputs(outputs)
    assert recorded.forecasts is not None
    assert sorted(recorded.forecasts.masks) == [f.stamp_ns for f in drive[1:]]
    table = tmp_path / 'rows.json'
    assert main(['outputs', str(outputs), '--labels', str(labels), '--json', str(table)]) == 0
    methods = [row['method'] for row in json.loads(table.read_text(encoding='utf-8'))]
    assert methods == ['published (/replay)', 'published, streaming (/replay)',
                       'published forecasts, streaming (/replay)']
    without = score_outputs(write_outputs(tmp_path / 'plain', drive, {0: 50}), labels)
    assert without.streaming_forecast is None


def test_without_sent_markers_only_the_answered_frames_are_scored(
        tmp_path: Path, drive: list[LabeledFrame]) -> None:
    labels = write_bag(drive, tmp_path / 'drive')
    outputs = write_outputs(tmp_path / 'recorded', drive, {0: 50, 1: 150, 2: 250}, sent=False)
    scored = score_outputs(outputs, labels)
    assert scored.streaming is None and scored.own.summary()['frames'] == 3


def test_several_cameras_need_a_choice(tmp_path: Path, drive: list[LabeledFrame]) -> None:
    labels = write_bag(drive, tmp_path / 'drive')
    outputs = write_outputs(tmp_path / 'two', drive, {0: 50},
                            prefixes=('/ns/camera_0', '/ns/camera_1'))
    with pytest.raises(EvaluationError, match='choose one with --camera'):
        score_outputs(outputs, labels)
    with pytest.raises(EvaluationError, match='cameras: /ns/camera_0, /ns/camera_1'):
        score_outputs(outputs, labels, camera='/ns/camera_9')
    assert score_outputs(outputs, labels, camera='ns/camera_1').camera == '/ns/camera_1'


def test_errors_end_with_one_line_and_status_2(tmp_path: Path, drive: list[LabeledFrame],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    labels = write_bag(drive, tmp_path / 'drive')
    other = write_bag(list(generate_drive(profile_config('kitti', num_frames=2, seed=32,
                                                         start_ns=1_000_000_000))),
                      tmp_path / 'other')
    outputs = write_outputs(tmp_path / 'outputs', drive, {0: 50})
    cases = [
        (['outputs', str(tmp_path / 'absent'), '--labels', str(labels)], 'no outputs bag at'),
        (['outputs', str(labels), '--labels', str(labels)], 'not an outputs bag'),
        (['outputs', str(outputs), '--labels', str(tmp_path / 'none')], 'no labels for'),
        (['outputs', str(outputs), '--labels', str(other)], 'has a label'),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and 'Traceback' not in err
    with pytest.raises(OutputsError):
        read_outputs(labels)
