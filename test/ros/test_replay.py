# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-replay over real DDS: bags of every kind into the node, outputs recorded.

Each replay starts the node (tiny weights) in lockstep, so every frame must be answered; the
outputs bag is read back and counted. The started node runs on ``use_sim_time``: before the
first /clock its own timers (input QoS re-check, diagnostics) must still run, or the tool
would wait for a reliable subscription forever (a bug these tests caught).
"""

from __future__ import annotations

from collections import Counter
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.ros

FRAMES = 3
KITTI_TOPIC = '/kitti/camera_color_left/image_raw'


@pytest.fixture(scope='module')
def drive() -> list[Any]:
    from patchdrivenet_ros.data.synthetic import generate_drive, profile_config

    return list(generate_drive(profile_config('kitti', num_frames=FRAMES, seed=21)))


def _recorded(bag: Path) -> tuple[Counter[str], dict[str, set[int]]]:
    """Read an outputs bag: messages per topic, and the header stamps per topic."""
    from rosbags.highlevel import AnyReader

    from patchdrivenet_ros.data.bags import vision_msgs_typestore

    counts: Counter[str] = Counter()
    stamps: dict[str, set[int]] = {}
    with AnyReader([bag], default_typestore=vision_msgs_typestore()) as reader:
        for connection, _, raw in reader.messages():
            counts[connection.topic] += 1
            msg: Any = reader.deserialize(raw, connection.msgtype)
            header = msg if connection.msgtype == 'std_msgs/msg/Header' else msg.header
            stamp = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
            stamps.setdefault(connection.topic, set()).add(stamp)
    return counts, stamps


def _replay(tmp_path: Path, bag: Path, weights: Path, namespace: str,
            *extra: str) -> tuple[dict[str, Any], Path]:
    from patchdrivenet_ros.tools.replay import main

    record, summary = tmp_path / f'{namespace.strip("/")}_out', tmp_path / 'summary.json'
    log = tmp_path / f'{namespace.strip("/")}.log'
    status = main([str(bag), '--lockstep', '--namespace', namespace, '--record', str(record),
                   '--json', str(summary), '--log', str(log),
                   '--param', f'weights:={weights}', '--param', 'backend:=torch', *extra])
    output = log.read_text(encoding='utf-8') if log.exists() else ''
    assert status == 0, output
    return json.loads(summary.read_text(encoding='utf-8')), record


def _bare(folder: Path) -> Path:
    (bare,) = [p for p in folder.iterdir() if p.suffix in ('.mcap', '.db3')]
    return bare


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_a_bare_rosbag2_file_is_replayed_and_every_output_recorded(
        tmp_path: Path, tiny_weights: Path, drive: list[Any], storage: str) -> None:
    from patchdrivenet_ros.data.bags import write_bag

    bag = _bare(write_bag(drive, tmp_path / 'drive', storage=storage))
    summary, record = _replay(tmp_path, bag, tiny_weights, f'/replay_{storage}')
    assert summary['frames_in'] == summary['frames_out'] == FRAMES
    assert summary['frames_unanswered'] == 0 and summary['latency_ms_p50'] > 0
    counts, stamps = _recorded(record)
    sent = {frame.stamp_ns for frame in drive}
    for name in ('segmentation/mask', 'detections'):
        topic = f'/replay_{storage}/{name}'
        assert counts[topic] == FRAMES and stamps[topic] == sent, counts
    # The node renders debug images only for subscribers its publisher has matched; under load
    # its side of discovery can lag the recorder's, so the first frames may have none. Only a
    # prefix may be missing: a frame missing at the end would be a recording lost.
    for name in ('segmentation/color', 'patch_attention'):
        topic = f'/replay_{storage}/{name}'
        assert stamps.get(topic) and counts[topic] == len(stamps[topic]), counts
        assert stamps[topic] == {s for s in sent if s >= min(stamps[topic])}, counts
    assert counts[f'/replay_{storage}/label_info'] == 1
    assert counts['/diagnostics'] >= 1
    assert stamps[f'/replay_{storage}/replay/sent'] == sent  # the tool's marker per frame
    markers = counts.pop(f'/replay_{storage}/replay/sent')
    assert markers == FRAMES and summary['outputs_recorded'] == sum(counts.values())


def test_a_ros1_bag_is_replayed(tmp_path: Path, tiny_weights: Path, drive: list[Any]) -> None:
    from rosbags.rosbag1 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC)
    types = store.types
    bag = tmp_path / 'kitti.bag'
    with Writer(bag) as writer:
        connection = writer.add_connection(KITTI_TOPIC, 'sensor_msgs/msg/Image', typestore=store)
        for index, frame in enumerate(drive):
            sec, nanosec = divmod(frame.stamp_ns, 1_000_000_000)
            height, width = frame.image.shape[:2]
            message = types['sensor_msgs/msg/Image'](
                header=types['std_msgs/msg/Header'](
                    seq=index, frame_id='camera_color_left',
                    stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec)),
                height=height, width=width, encoding='bgr8', is_bigendian=0, step=3 * width,
                data=np.ascontiguousarray(frame.image[..., ::-1]).reshape(-1))
            writer.write(connection, frame.stamp_ns,
                         store.serialize_ros1(message, 'sensor_msgs/msg/Image'))
    summary, record = _replay(tmp_path, bag, tiny_weights, '/replay_ros1')
    assert summary['frames_out'] == FRAMES
    counts, stamps = _recorded(record)
    assert stamps['/replay_ros1/segmentation/mask'] == {frame.stamp_ns for frame in drive}


def test_two_cameras_are_played_into_one_node(tmp_path: Path, tiny_weights: Path,
                                              drive: list[Any]) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    types = store.types
    bag = tmp_path / 'two_cameras'
    topics = ('/cam_front/image_raw', '/cam_left/image_raw')
    with Writer(bag, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        connections = [writer.add_connection(t, 'sensor_msgs/msg/Image', typestore=store)
                       for t in topics]
        for frame in drive:
            sec, nanosec = divmod(frame.stamp_ns, 1_000_000_000)
            height, width = frame.image.shape[:2]
            for connection in connections:
                message = types['sensor_msgs/msg/Image'](
                    header=types['std_msgs/msg/Header'](
                        stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
                        frame_id=connection.topic),
                    height=height, width=width, encoding='rgb8', is_bigendian=0,
                    step=3 * width, data=frame.image.reshape(-1))
                writer.write(connection, frame.stamp_ns,
                             store.serialize_cdr(message, 'sensor_msgs/msg/Image'))
    summary, record = _replay(tmp_path, bag, tiny_weights, '/replay_two')
    assert summary['per_camera'] == {'camera_0': {'in': FRAMES, 'out': FRAMES},
                                     'camera_1': {'in': FRAMES, 'out': FRAMES}}
    counts, _ = _recorded(record)
    assert counts['/replay_two/camera_0/segmentation/mask'] == FRAMES
    assert counts['/replay_two/camera_1/detections'] == FRAMES


def test_no_node_plays_to_a_node_already_running(tmp_path: Path, tiny_weights: Path,
                                                 drive: list[Any], start_node: Any) -> None:
    from patchdrivenet_ros.data.bags import write_bag
    from patchdrivenet_ros.tools.replay import main

    running = start_node('-r', '__ns:=/running', '-r', f'image:={KITTI_TOPIC}',
                         '-p', f'weights:={tiny_weights}', '-p', 'backend:=torch',
                         '-p', 'qos_reliability:=reliable')
    bag = write_bag(drive, tmp_path / 'drive', storage='mcap')
    summary = tmp_path / 'summary.json'
    status = main([str(bag), '--no-node', '--namespace', '/running', '--lockstep',
                   '--json', str(summary)])
    assert status == 0, running.output()
    result = json.loads(summary.read_text(encoding='utf-8'))
    assert result['frames_out'] == FRAMES and result['outputs_recorded'] == 0
    assert running.alive()  # the tool leaves a node it did not start running


def test_on_sim_time_without_a_clock_the_node_still_matches_and_reports(
        tiny_weights: Path, start_node: Any, ros_client: Any) -> None:
    """Regression: the input QoS re-check and diagnostics timers ran on the node's (sim) clock.

    A bag player that has not published /clock yet then never saw the node switch to a
    reliable subscription, and no diagnostics came.
    """
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    topic = '/sim_time/camera'
    start_node('-r', '__ns:=/sim_time', '-r', f'image:={topic}', '-p', 'use_sim_time:=true',
               '-p', f'weights:={tiny_weights}', '-p', 'backend:=torch')
    statuses = ros_client.collect(DiagnosticArray, '/diagnostics')
    node = ros_client.node
    assert ros_client.wait_for(lambda: node.count_subscribers(topic) > 0, 60.0)
    node.create_publisher(Image, topic, QoSProfile(depth=1,
                                                   reliability=ReliabilityPolicy.RELIABLE))

    def reliable() -> bool:
        return any(i.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                   for i in node.get_subscriptions_info_by_topic(topic))

    assert ros_client.wait_for(reliable, 20.0)
    assert ros_client.wait_for(lambda: any(s.name.startswith('/sim_time/')
                                           for m in statuses for s in m.status), 20.0)


def test_a_recording_scores_its_frames_and_their_streaming_form(
        tmp_path: Path, tiny_weights: Path, drive: list[Any]) -> None:
    from patchdrivenet_ros.data.bags import write_bag
    from patchdrivenet_ros.outputs_scoring import score_outputs

    bag = write_bag(drive, tmp_path / 'drive', storage='mcap')
    summary, record = _replay(tmp_path, bag, tiny_weights, '/replay_scored')
    scored = score_outputs(record, bag)
    assert scored.camera == '/replay_scored'
    assert scored.own.summary()['frames'] == summary['frames_out'] == FRAMES
    assert scored.streaming is not None and scored.streaming.summary()['frames'] == FRAMES


def test_lockstep_waits_for_the_last_frame_only(ros_client: Any) -> None:
    """A frame the node never answered must not hold up every later frame (one wait each)."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from patchdrivenet_ros.data.bags import IMAGE
    from patchdrivenet_ros.tools.replay_bag import BagFrame, CameraStream
    from patchdrivenet_ros.tools.replay_player import Player

    stream = CameraStream('/lockstep/camera', IMAGE, '', 2)
    player = Player([stream], '/lockstep', 'patchdrivenet')
    try:
        for stamp in (1_000_000_000, 2_000_000_000):
            player.send(BagFrame(stream, stamp, stamp, b'\x00\x01\x00\x00'), 1.0)
        assert player.pending('')
        mask = ros_client.node.create_publisher(
            Image, '/lockstep/segmentation/mask',
            QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE))
        answer = Image(height=1, width=1, encoding='mono8', step=1, data=b'\x00')
        answer.header.stamp.sec = 2
        assert ros_client.wait_for(lambda: mask.get_subscription_count() > 0, 20.0)
        mask.publish(answer)
        assert player.wait_for(lambda: not player.pending(''), 20.0)  # the first never came
        assert player.state.answered == 1
        assert player.state.frames[('', 1_000_000_000)].answered_s is None
    finally:
        player.close()
