# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""rosbag2 bags (MCAP, sqlite3) and ROS 1 bags: writing, reading images, label sidecars."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag1 import Writer as Writer1
from rosbags.typesys import Stores, get_typestore

from patchdrivenet_ros.data.bags import (
    BAG_PROFILES,
    decode_image,
    iter_bag_images,
    load_label_sidecar,
    vision_msgs_dir,
    vision_msgs_typestore,
    write_bag,
)
from patchdrivenet_ros.data.frame import LabeledFrame


@pytest.mark.parametrize(('storage', 'encoding'), [('mcap', 'rgb8'), ('sqlite3', 'bgr8')])
def test_kitti_bag_round_trip(tmp_path: Path, frames: list[LabeledFrame], storage: str,
                              encoding: str) -> None:
    bag = write_bag(frames, tmp_path / 'drive', profile='kitti', storage=storage,
                    encoding=encoding)
    images = list(iter_bag_images(bag))
    assert len(images) == 3
    for image, frame in zip(images, frames, strict=True):
        assert image.topic == '/kitti/camera_color_left/image_raw'
        assert image.frame_id == 'camera_color_left'
        assert image.encoding == encoding
        assert image.stamp_ns == frame.stamp_ns
        assert np.array_equal(image.image, frame.image)
    suffix = '.mcap' if storage == 'mcap' else '.db3'
    assert any(p.suffix == suffix for p in bag.iterdir())


def test_nuscenes_bag_is_jpeg_compressed(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    bag = write_bag(frames, tmp_path / 'ns', profile='nuscenes', storage='mcap')
    images = list(iter_bag_images(bag, topic=BAG_PROFILES['nuscenes'].image_topic))
    assert [i.encoding for i in images] == ['jpeg'] * 3
    assert images[0].frame_id == 'CAM_FRONT'
    assert np.abs(images[0].image.astype(int) - frames[0].image).mean() < 8.0
    with pytest.raises(KeyError, match='no image topic'):
        list(iter_bag_images(bag, topic='/nope'))


def test_label_sidecar_round_trip(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    bag = write_bag(frames, tmp_path / 'labelled', storage='mcap')
    labels = load_label_sidecar(bag)
    assert sorted(labels) == [f.stamp_ns for f in frames]
    for frame in frames:
        got = labels[frame.stamp_ns]
        assert np.array_equal(got.mask, frame.mask)
        assert np.allclose(got.boxes, frame.boxes, atol=0.01)
        assert got.class_ids.tolist() == frame.class_ids.tolist()
        assert got.track_ids.tolist() == frame.track_ids.tolist()
        assert got.occlusion.tolist() == frame.occlusion.tolist()
        assert got.index == frame.index
    assert load_label_sidecar(bag.with_name('labelled.labels')).keys() == labels.keys()


def test_existing_bag_is_not_overwritten(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    bag = write_bag(frames[:1], tmp_path / 'once')
    with pytest.raises(Exception, match='exists'):
        write_bag(frames[:1], bag)


def test_ros1_bag_with_bgr8_images_is_read(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    store = get_typestore(Stores.ROS1_NOETIC)
    image_type = store.types['sensor_msgs/msg/Image']
    header_type = store.types['std_msgs/msg/Header']
    time_type = store.types['builtin_interfaces/msg/Time']
    path = tmp_path / 'kitti.bag'
    with Writer1(path) as writer:
        conn = writer.add_connection('/kitti/camera_color_left/image_raw',
                                     'sensor_msgs/msg/Image', typestore=store)
        for k, frame in enumerate(frames):
            sec, nsec = divmod(frame.stamp_ns, 1_000_000_000)
            msg = image_type(
                header=header_type(seq=k, stamp=time_type(sec=sec, nanosec=nsec),
                                   frame_id='camera_color_left'),
                height=frame.height, width=frame.width, encoding='bgr8', is_bigendian=0,
                step=frame.width * 3, data=np.ascontiguousarray(frame.image[..., ::-1]).ravel())
            writer.write(conn, frame.stamp_ns, store.serialize_ros1(msg, 'sensor_msgs/msg/Image'))
    images = list(iter_bag_images(path))
    assert len(images) == 3
    assert np.array_equal(images[2].image, frames[2].image)
    assert images[2].stamp_ns == frames[2].stamp_ns


class _Msg:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16'])
def test_decode_image_encodings(encoding: str) -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10
    grey = rgb[..., 0]
    if encoding == 'rgb8':
        data = rgb
    elif encoding == 'bgr8':
        data = rgb[..., ::-1]
    elif encoding == 'rgba8':
        data = np.dstack([rgb, np.full((2, 3), 255, np.uint8)])
    elif encoding == 'bgra8':
        data = np.dstack([rgb[..., ::-1], np.full((2, 3), 255, np.uint8)])
    elif encoding == 'mono8':
        data = grey
    else:
        data = (grey.astype('<u2') << 8).view(np.uint8).reshape(2, 6)
    raw = np.ascontiguousarray(data).reshape(2, -1)
    msg = _Msg(height=2, width=3, step=raw.shape[1], encoding=encoding, is_bigendian=0,
               data=raw.ravel())
    image, _ = decode_image(msg, 'sensor_msgs/msg/Image')
    expected = np.repeat(grey[..., None], 3, axis=2) if encoding.startswith('mono') else rgb
    assert np.array_equal(image, expected)


def test_unknown_encoding_is_an_error() -> None:
    msg = _Msg(height=1, width=1, step=1, encoding='yuv422', is_bigendian=0,
               data=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match='unsupported'):
        decode_image(msg, 'sensor_msgs/msg/Image')


@pytest.mark.skipif(vision_msgs_dir() is None, reason='no vision_msgs .msg files here')
def test_vision_msgs_detections_go_through_a_bag(tmp_path: Path) -> None:
    from rosbags.rosbag2 import Writer

    store = vision_msgs_typestore()
    t = store.types
    header = t['std_msgs/msg/Header'](stamp=t['builtin_interfaces/msg/Time'](sec=5, nanosec=7),
                                      frame_id='cam')
    pose = t['geometry_msgs/msg/PoseWithCovariance'](
        pose=t['geometry_msgs/msg/Pose'](
            position=t['geometry_msgs/msg/Point'](x=0.0, y=0.0, z=0.0),
            orientation=t['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=0.0, w=1.0)),
        covariance=np.zeros(36))
    hypothesis = t['vision_msgs/msg/ObjectHypothesisWithPose'](
        hypothesis=t['vision_msgs/msg/ObjectHypothesis'](class_id='9', score=0.8), pose=pose)
    bbox = t['vision_msgs/msg/BoundingBox2D'](
        center=t['vision_msgs/msg/Pose2D'](position=t['vision_msgs/msg/Point2D'](x=10.0, y=20.0),
                                           theta=0.0), size_x=4.0, size_y=6.0)
    detection = t['vision_msgs/msg/Detection2D'](header=header, results=[hypothesis], bbox=bbox,
                                                 id='a')
    array = t['vision_msgs/msg/Detection2DArray'](header=header, detections=[detection])
    name = 'vision_msgs/msg/Detection2DArray'
    with Writer(tmp_path / 'det', version=8) as writer:
        conn = writer.add_connection('/detections', name, typestore=store)
        writer.write(conn, 5_000_000_007, store.serialize_cdr(array, name))
    from rosbags.highlevel import AnyReader

    with AnyReader([tmp_path / 'det']) as reader:
        (_, _, raw), = list(reader.messages())
        back = reader.deserialize(raw, name)
    assert back.detections[0].results[0].hypothesis.class_id == '9'
    assert back.detections[0].bbox.center.position.y == 20.0


def test_a_rig_bag_holds_each_camera_on_its_converter_topic(
        tmp_path: Path, frames: list[LabeledFrame]) -> None:
    second = [dataclasses.replace(f, image=255 - f.image) for f in frames]
    bag = write_bag(frames, tmp_path / 'rig', profile='kitti', more_cameras=[second])
    images = list(iter_bag_images(bag))
    topics = [i.topic for i in images]
    assert topics.count('/kitti/camera_color_left/image_raw') == len(frames)
    assert topics.count('/kitti/camera_color_right/image_raw') == len(frames)
    right = [i for i in images if i.frame_id == 'camera_color_right']
    assert all(np.array_equal(i.image, f.image) for i, f in zip(right, second, strict=True))
    assert sorted(load_label_sidecar(bag)) == [f.stamp_ns for f in frames]  # the first camera
    with pytest.raises(ValueError, match='the rig has 2 cameras'):
        BAG_PROFILES['kitti'].camera(2)
    with pytest.raises(ValueError):
        write_bag(frames, tmp_path / 'short', more_cameras=[second[:1]])
