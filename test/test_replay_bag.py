# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS-free side of patchdrivenet-replay: camera topics, CDR bytes, node arguments."""

from __future__ import annotations

from pathlib import Path
import sys
import time
from typing import Any

import numpy as np
import pytest
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from patchdrivenet_ros.data.bags import COMPRESSED, IMAGE
from patchdrivenet_ros.tools.replay import (
    Session,
    check_overrides,
    main,
    node_arguments,
    run,
)
from patchdrivenet_ros.tools.replay_bag import (
    CameraStream,
    ReplayError,
    bag_frames,
    camera_streams,
    read_bag,
)

ROS2 = get_typestore(Stores.ROS2_KILTED)
ROS1 = get_typestore(Stores.ROS1_NOETIC)


def _image(store: object, stamp_ns: int, frame_id: str, **header: int) -> object:
    types = store.types  # type: ignore[attr-defined]
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return types['sensor_msgs/msg/Image'](
        header=types['std_msgs/msg/Header'](
            stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec),
            frame_id=frame_id, **header),
        height=2, width=3, encoding='rgb8', is_bigendian=0, step=9,
        data=np.arange(18, dtype=np.uint8) + stamp_ns % 7)


def _compressed(stamp_ns: int) -> object:
    types = ROS2.types
    return types['sensor_msgs/msg/CompressedImage'](
        header=types['std_msgs/msg/Header'](
            stamp=types['builtin_interfaces/msg/Time'](sec=stamp_ns // 10**9, nanosec=0),
            frame_id='cam'),
        format='jpeg', data=np.zeros(4, np.uint8))


def write_ros2(path: Path, topics: dict[str, str], stamps: list[int],
               storage: StoragePlugin = StoragePlugin.MCAP) -> Path:
    """Write a rosbag2 bag: every topic (name -> type) gets one message per stamp."""
    with Writer(path, version=8, storage_plugin=storage) as writer:
        connections = {t: writer.add_connection(t, kind, typestore=ROS2)
                       for t, kind in topics.items()}
        for stamp in stamps:
            for topic, kind in topics.items():
                message = _image(ROS2, stamp, topic) if kind == IMAGE else _compressed(stamp)
                writer.write(connections[topic], stamp, ROS2.serialize_cdr(message, kind))
    return path


def test_every_camera_topic_is_found_and_named(tmp_path: Path) -> None:
    bag = write_ros2(tmp_path / 'two', {'/cam/b': IMAGE, '/cam/a': IMAGE}, [10, 20, 30])
    with read_bag(bag) as reader:
        streams = camera_streams(reader)
        assert [(s.topic, s.camera, s.count) for s in streams] == [
            ('/cam/a', 'camera_0', 3), ('/cam/b', 'camera_1', 3)]
        (only,) = camera_streams(reader, ['/cam/b'])
        assert only.camera == '' and not only.compressed
        frames = list(bag_frames(reader, streams))
    assert [f.stamp_ns for f in frames] == [10, 10, 20, 20, 30, 30]
    message = ROS2.deserialize_cdr(frames[0].cdr, IMAGE)
    assert message.header.frame_id == frames[0].stream.topic


@pytest.mark.parametrize(('topics', 'reason'), [
    (['/nope'], 'no camera topic /nope in the bag; camera topics: /cam/a, /cam/z'),
    (['/cam/a', '/cam/a'], 'given twice'),
    ([], 'raw and compressed camera topics cannot be played into one node'),
])
def test_topic_choices_that_cannot_play_are_refused(tmp_path: Path, topics: list[str],
                                                    reason: str) -> None:
    bag = write_ros2(tmp_path / 'mixed', {'/cam/a': IMAGE, '/cam/z': COMPRESSED}, [10])
    with read_bag(bag) as reader, pytest.raises(ReplayError, match=reason):
        camera_streams(reader, topics)


def test_a_bag_without_cameras_is_refused(tmp_path: Path) -> None:
    bag = tmp_path / 'info'
    with Writer(bag, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        connection = writer.add_connection('/chatter', 'std_msgs/msg/String', typestore=ROS2)
        message = ROS2.types['std_msgs/msg/String'](data='hi')
        writer.write(connection, 1, ROS2.serialize_cdr(message, 'std_msgs/msg/String'))
    with read_bag(bag) as reader, pytest.raises(ReplayError, match='topics: /chatter'):
        camera_streams(reader)


def test_ros1_images_become_ros2_cdr(tmp_path: Path) -> None:
    path = tmp_path / 'drive.bag'
    with Writer1(path) as writer:
        connection = writer.add_connection('/kitti/image', IMAGE, typestore=ROS1)
        for stamp in (1_500_000_007, 1_600_000_009):
            message = _image(ROS1, stamp, 'left', seq=42)
            writer.write(connection, stamp, ROS1.serialize_ros1(message, IMAGE))
    with read_bag(path) as reader:
        frames = list(bag_frames(reader, camera_streams(reader)))
    assert [f.stamp_ns for f in frames] == [1_500_000_007, 1_600_000_009]
    for frame in frames:
        expected = _image(ROS2, frame.stamp_ns, 'left')
        assert frame.cdr == bytes(ROS2.serialize_cdr(expected, IMAGE))


@pytest.mark.parametrize('storage', [StoragePlugin.MCAP, StoragePlugin.SQLITE3])
def test_bare_storage_files_are_read(tmp_path: Path, storage: StoragePlugin) -> None:
    folder = write_ros2(tmp_path / 'bag', {'/cam': IMAGE}, [5, 6], storage)
    (bare,) = [p for p in folder.iterdir() if p.suffix in ('.mcap', '.db3')]
    with read_bag(bare) as reader:
        assert len(list(bag_frames(reader, camera_streams(reader)))) == 2


def test_missing_and_unreadable_bags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match='no bag at'), read_bag(tmp_path / 'absent.mcap'):
        pass
    garbage = tmp_path / 'garbage.mcap'
    garbage.write_bytes(b'not a bag')
    with pytest.raises(ReplayError, match='cannot read the bag'), read_bag(garbage):
        pass


def test_node_reads_one_camera_from_the_bag_topic() -> None:
    stream = CameraStream('/kitti/camera_color_left/image_raw', IMAGE, '', 3)
    params, remaps = node_arguments([stream], ['patch_budget:=4'])
    assert params == ['use_sim_time:=true', 'image_transport:=raw', 'patch_budget:=4']
    assert remaps == ['image:=/kitti/camera_color_left/image_raw']


def test_node_reads_several_compressed_cameras() -> None:
    streams = [CameraStream('/CAM_FRONT/image_rect_compressed', COMPRESSED, 'camera_0', 3),
               CameraStream('/CAM_BACK/image_rect_compressed', COMPRESSED, 'camera_1', 3)]
    params, remaps = node_arguments(streams, [])
    assert params == ['use_sim_time:=true', 'image_transport:=compressed',
                      'cameras:=[camera_0,camera_1]']
    assert remaps == ['camera_0/image/compressed:=/CAM_FRONT/image_rect_compressed',
                      'camera_1/image/compressed:=/CAM_BACK/image_rect_compressed']


def test_overrides_must_name_node_parameters() -> None:
    check_overrides(['patch_budget:=4', 'use_sim_time:=false'])
    with pytest.raises(ReplayError, match='expected NAME:=VALUE'):
        check_overrides(['patch_budget=4'])
    with pytest.raises(ReplayError, match="no parameter 'budget'"):
        check_overrides(['budget:=4'])


def test_bad_input_ends_with_one_error_line_and_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bag = write_ros2(tmp_path / 'one', {'/cam': IMAGE}, [1])
    cases = [
        ([str(tmp_path / 'absent')], 'error: no bag at'),
        ([str(bag), '--topic', '/other'], 'error: no camera topic /other'),
        ([str(bag), '--param', 'nope:=1'], "error: --param 'nope:=1'"),
        ([str(bag), '--rate', '0'], 'error: --rate must be above 0'),
        ([str(bag), '--record', str(bag)], 'exists; choose a new path'),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and 'Traceback' not in err


def test_several_topics_get_the_running_node_camera_names(tmp_path: Path) -> None:
    bag = write_ros2(tmp_path / 'two', {'/a': IMAGE, '/b': IMAGE}, [1])
    session = Session(bag, cameras=('front',), start_node=False)
    with pytest.raises(ReplayError, match='--cameras names 1 cameras for 2 topics'):
        run(session)


def test_without_ros_the_replay_says_what_it_needs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bag = write_ros2(tmp_path / 'one', {'/cam': IMAGE}, [1])
    monkeypatch.setitem(sys.modules, 'rclpy', None)  # import rclpy now raises ImportError
    assert main([str(bag), '--no-node']) == 1
    err = capsys.readouterr().err
    assert 'needs ROS 2 (rclpy)' in err and 'Traceback' not in err


@pytest.mark.ros  # replay_player is the tool's ROS side (PlayState itself is plain Python)
def test_the_replay_ends_once_every_output_of_the_answered_frames_is_in() -> None:
    from patchdrivenet_ros.tools.replay_player import PlayState, SentFrame

    state = PlayState()
    for stamp in (1, 2, 3):
        state.frames[('', stamp)] = SentFrame('', sent_s=0.0, answered_s=1.0)
    state.frames[('', 4)] = SentFrame('', sent_s=0.0)  # never answered: nothing expected
    state.outputs[('', 'segmentation/mask')] = {1, 2, 3}
    state.outputs[('', 'segmentation/color')] = {2}  # matched late: frame 1 is excused
    assert not state.outputs_complete()  # frame 3's colour image is still on its way
    state.outputs[('', 'segmentation/color')].add(3)
    assert state.outputs_complete()
    state.outputs[('', 'detections')] = {1, 3}  # a frame missing in the middle
    assert not state.outputs_complete()


class _LosingPlayer:
    """Stands in for the Player in the lockstep wait: the node answers only the n-th copy."""

    def __init__(self, answered_at_copy: int | None) -> None:
        self.copies = 1
        self.answered_at_copy = answered_at_copy

    def pending(self, camera: str) -> bool:
        return self.answered_at_copy is None or self.copies < self.answered_at_copy

    def wait_for(self, predicate: Any, timeout_s: float) -> bool:
        end = time.monotonic() + max(0.0, timeout_s)
        while not predicate() and time.monotonic() < end:
            time.sleep(0.001)
        return bool(predicate())

    def send_again(self, camera: str) -> None:
        self.copies += 1


@pytest.mark.ros  # the replay tool's pacing: it runs beside the ROS player
def test_lockstep_sends_a_lost_frame_again_until_answered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from patchdrivenet_ros.tools import replay

    monkeypatch.setattr(replay, 'RESEND_S', 0.01)
    monkeypatch.setattr(replay, 'ANSWER_TIMEOUT_S', 0.2)
    lost_once = _LosingPlayer(answered_at_copy=2)  # the first copy was lost
    replay._wait_for_answer(lost_once, 'camera')  # type: ignore[arg-type]
    assert lost_once.copies == 2
    answered = _LosingPlayer(answered_at_copy=1)
    replay._wait_for_answer(answered, 'camera')  # type: ignore[arg-type]
    assert answered.copies == 1  # nothing sent again
    never = _LosingPlayer(answered_at_copy=None)
    start = time.monotonic()
    replay._wait_for_answer(never, 'camera')  # type: ignore[arg-type]
    assert 0.15 < time.monotonic() - start < 2.0 and never.copies > 2  # gives up at the deadline
