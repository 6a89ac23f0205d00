# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS bags without ROS: write drives as rosbag2 (MCAP or sqlite3), read images from any bag.

Writing follows the topic names and message types of the common converters:

- ``kitti``: ``/kitti/camera_color_left/image_raw`` sensor_msgs/Image (``rgb8`` as kitti2mcap
  writes it; ``bgr8`` as kitti2bag) and ``/kitti/camera_color_left/camera_info``, frame
  ``camera_color_left``;
- ``nuscenes``: ``/CAM_FRONT/image_rect_compressed`` sensor_msgs/CompressedImage (``jpeg``)
  and ``/CAM_FRONT/camera_info``, frame ``CAM_FRONT``.

Header and bag stamps are the frame's ``stamp_ns``. Bags are rosbag2 format version 8 (read by
Iron and later). Labels go to a sidecar folder ``<bag>.labels/``: ``labels.json`` (boxes,
classes, tracks, truncation, occlusion, ignore regions per frame, keyed by stamp) and
``masks/<stamp_ns>.png`` (uint8 class ids, 255 unlabeled), so a bag can be scored.

Reading uses rosbags' AnyReader: ROS 1 ``.bag``, rosbag2 sqlite3 and MCAP.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
import dataclasses
from dataclasses import dataclass
import json
import os
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from patchdrivenet_ros.classes import CLASS_NAMES
from patchdrivenet_ros.data.frame import FrameLabels, LabeledFrame
from patchdrivenet_ros.image_codec import DecodeError, decode_compressed

BAG_VERSION: Literal[8] = 8
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}


@dataclass(frozen=True)
class BagProfile:
    """Topic layout of a converter."""

    image_topic: str
    info_topic: str
    frame_id: str
    msgtype: str
    encoding: str  # Image encoding, or CompressedImage format
    rig: tuple[str, ...]  # the converter's camera names, frame_id first

    def camera(self, index: int) -> BagProfile:
        """Return the layout of the rig's ``index``-th camera (its name in the topics)."""
        if not 0 <= index < len(self.rig):
            raise ValueError(f'the rig has {len(self.rig)} cameras: {", ".join(self.rig)}')
        name = self.rig[index]
        return dataclasses.replace(
            self, image_topic=self.image_topic.replace(self.frame_id, name),
            info_topic=self.info_topic.replace(self.frame_id, name), frame_id=name)


BAG_PROFILES: dict[str, BagProfile] = {
    'kitti': BagProfile('/kitti/camera_color_left/image_raw',
                        '/kitti/camera_color_left/camera_info', 'camera_color_left', IMAGE,
                        'rgb8', ('camera_color_left', 'camera_color_right')),
    'nuscenes': BagProfile('/CAM_FRONT/image_rect_compressed', '/CAM_FRONT/camera_info',
                           'CAM_FRONT', COMPRESSED, 'jpeg',
                           ('CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_BACK_RIGHT', 'CAM_BACK',
                            'CAM_BACK_LEFT', 'CAM_FRONT_LEFT')),
}


@dataclass(frozen=True)
class BagImage:
    """One image read from a bag."""

    stamp_ns: int  # header stamp
    frame_id: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    encoding: str  # Image encoding or CompressedImage format as stored
    topic: str


def _typestore() -> Typestore:
    return get_typestore(Stores.ROS2_KILTED)


def _header(store: Typestore, stamp_ns: int, frame_id: str) -> Any:
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    time = store.types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec)
    return store.types['std_msgs/msg/Header'](stamp=time, frame_id=frame_id)


def _image_message(store: Typestore, frame: LabeledFrame, profile: BagProfile,
                   encoding: str) -> Any:
    header = _header(store, frame.stamp_ns, profile.frame_id)
    if profile.msgtype == COMPRESSED:
        ok, data = cv2.imencode('.jpg', cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise ValueError('JPEG encoding failed')
        return store.types[COMPRESSED](header=header, format=encoding,
                                       data=np.asarray(data, np.uint8).ravel())
    pixels = frame.image if encoding == 'rgb8' else frame.image[..., ::-1]
    return store.types[IMAGE](header=header, height=frame.height, width=frame.width,
                              encoding=encoding, is_bigendian=0, step=frame.width * 3,
                              data=np.ascontiguousarray(pixels).ravel())


def _camera_info(store: Typestore, frame: LabeledFrame, profile: BagProfile) -> Any:
    k = frame.camera_matrix if frame.camera_matrix is not None else np.eye(3)
    p = np.hstack([k, np.zeros((3, 1))])
    roi = store.types['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0,
                                                          width=0, do_rectify=False)
    return store.types[CAMERA_INFO](
        header=_header(store, frame.stamp_ns, profile.frame_id), height=frame.height,
        width=frame.width, distortion_model='plumb_bob', d=np.zeros(5), k=k.ravel().copy(),
        r=np.eye(3).ravel(), p=p.ravel(), binning_x=0, binning_y=0, roi=roi)


def sidecar_path(bag: str | Path) -> Path:
    """Return the label sidecar folder of a bag (``<bag>.labels``), or ``bag`` if it is one.

    A folder holding ``labels.json`` is a sidecar whatever its name.
    """
    bag = Path(bag)
    if bag.name.endswith('.labels') or (bag / 'labels.json').is_file():
        return bag
    return bag.with_name(bag.name + '.labels')


def write_bag(frames: Iterable[LabeledFrame], path: str | Path, profile: str = 'kitti',
              storage: str = 'mcap', encoding: str | None = None, labels: bool = True,
              more_cameras: Sequence[Iterable[LabeledFrame]] = ()) -> Path:
    """Write frames as a rosbag2 bag at ``path`` (a new folder) with a label sidecar.

    ``profile`` picks the converter layout ('kitti' or 'nuscenes'); ``encoding`` overrides the
    Image encoding ('rgb8' or 'bgr8') of the kitti profile. ``more_cameras`` are the frames
    of the rig's next cameras (the same number each), written on their own topics frame by
    frame; the label sidecar holds the first camera's labels.
    """
    if profile not in BAG_PROFILES:
        raise ValueError(f'profile: {profile!r} is not one of {", ".join(BAG_PROFILES)}')
    if storage not in STORAGES:
        raise ValueError(f'storage: {storage!r} is not one of {", ".join(STORAGES)}')
    layout = BAG_PROFILES[profile]
    encoding = encoding or layout.encoding
    if layout.msgtype == IMAGE and encoding not in ('rgb8', 'bgr8'):
        raise ValueError(f'encoding: {encoding!r} is not rgb8 or bgr8')
    path = Path(path)
    store = _typestore()
    records: list[dict[str, Any]] = []
    side = sidecar_path(path)
    cameras = [layout.camera(index) for index in range(1 + len(more_cameras))]
    with Writer(path, version=BAG_VERSION, storage_plugin=STORAGES[storage]) as writer:
        connections = [(writer.add_connection(c.image_topic, c.msgtype, typestore=store),
                        writer.add_connection(c.info_topic, CAMERA_INFO, typestore=store))
                       for c in cameras]
        for rig_frames in zip(frames, *more_cameras, strict=True):
            for camera, (image_conn, info_conn), frame in zip(cameras, connections, rig_frames,
                                                              strict=True):
                message = _image_message(store, frame, camera, encoding)
                writer.write(image_conn, frame.stamp_ns,
                             store.serialize_cdr(message, camera.msgtype))
                info = _camera_info(store, frame, camera)
                writer.write(info_conn, frame.stamp_ns, store.serialize_cdr(info, CAMERA_INFO))
            if labels:
                records.append(_write_labels(side, rig_frames[0].labels()))
    if labels:
        document = {'version': 1, 'topic': layout.image_topic, 'classes': list(CLASS_NAMES),
                    'frames': records}
        (side / 'labels.json').write_text(json.dumps(document))
    return path


def _write_labels(side: Path, labels: FrameLabels) -> dict[str, Any]:
    masks = side / 'masks'
    masks.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(masks / f'{labels.stamp_ns}.png'), labels.mask):
        raise OSError(f'cannot write mask into {masks}')
    return {
        'stamp_ns': int(labels.stamp_ns),
        'index': int(labels.index),
        'boxes': labels.boxes.astype(float).round(2).tolist(),
        'class_ids': labels.class_ids.tolist(),
        'track_ids': labels.track_ids.tolist(),
        'truncation': labels.truncation.astype(float).round(4).tolist(),
        'occlusion': labels.occlusion.tolist(),
        'ignore_boxes': labels.ignore_boxes.astype(float).round(2).tolist(),
    }


def load_label_sidecar(path: str | Path) -> dict[int, FrameLabels]:
    """Read the label sidecar of a bag (the bag path or the ``.labels`` folder), by stamp."""
    side = sidecar_path(path)
    document = json.loads((side / 'labels.json').read_text())
    if document.get('classes') != list(CLASS_NAMES):
        raise ValueError(f'{side}: labels were written for classes {document.get("classes")}')
    out: dict[int, FrameLabels] = {}
    for rec in document['frames']:
        stamp = int(rec['stamp_ns'])
        mask = cv2.imread(str(side / 'masks' / f'{stamp}.png'), cv2.IMREAD_UNCHANGED)
        if mask is None:
            raise FileNotFoundError(f'{side}: mask of stamp {stamp} is missing')
        n = len(rec['boxes'])
        out[stamp] = FrameLabels(
            mask=mask,
            boxes=np.asarray(rec['boxes'], np.float32).reshape(n, 4),
            class_ids=np.asarray(rec['class_ids'], np.int64).reshape(n),
            track_ids=np.asarray(rec['track_ids'], np.int64).reshape(n),
            truncation=np.asarray(rec['truncation'], np.float32).reshape(n),
            occlusion=np.asarray(rec['occlusion'], np.int64).reshape(n),
            stamp_ns=stamp,
            index=int(rec['index']),
            ignore_boxes=np.asarray(rec['ignore_boxes'], np.float32).reshape(-1, 4),
        )
    return out


def decode_image(msg: Any, msgtype: str) -> tuple[np.ndarray, str]:
    """Decode a sensor_msgs Image or CompressedImage into (H, W, 3) uint8 RGB."""
    if msgtype == COMPRESSED:
        try:
            return decode_compressed(bytes(msg.data)), str(msg.format)
        except DecodeError as error:
            raise ValueError(f'cannot decode compressed image of format {msg.format!r}: '
                             f'{error}') from None
    enc = str(msg.encoding).lower()
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.frombuffer(bytes(msg.data), np.uint8)
    if enc == 'mono16' or enc == '16uc1':
        big = '>' if msg.is_bigendian else '<'
        rows = np.frombuffer(bytes(msg.data), np.dtype(f'{big}u2')).reshape(h, step // 2)
        grey = (rows[:, :w] >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2), enc
    channels = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, '8uc1': 1,
                'bayer_rggb8': 1, 'bayer_bggr8': 1, 'bayer_gbrg8': 1, 'bayer_grbg8': 1}
    if enc not in channels:
        raise ValueError(f'unsupported image encoding {msg.encoding!r}')
    c = channels[enc]
    pixels = data.reshape(h, step)[:, :w * c].reshape(h, w, c)
    if enc == 'rgb8':
        return pixels.copy(), enc
    if enc == 'bgr8':
        return pixels[..., ::-1].copy(), enc
    if enc == 'rgba8':
        return pixels[..., :3].copy(), enc
    if enc == 'bgra8':
        return pixels[..., 2::-1].copy(), enc
    if enc.startswith('bayer_'):
        codes = {'bayer_rggb8': cv2.COLOR_BayerBG2RGB, 'bayer_bggr8': cv2.COLOR_BayerRG2RGB,
                 'bayer_gbrg8': cv2.COLOR_BayerGR2RGB, 'bayer_grbg8': cv2.COLOR_BayerGB2RGB}
        return cv2.cvtColor(pixels[..., 0], codes[enc]), enc
    return np.repeat(pixels, 3, axis=2), enc


def iter_bag_images(path: str | Path, topic: str | None = None) -> Iterator[BagImage]:
    """Yield the images of a bag in time order: all image topics, or only ``topic``.

    Reads ROS 1 ``.bag`` files and rosbag2 folders (sqlite3 or MCAP); images are returned
    as RGB whatever their encoding (rgb8, bgr8, rgba8, bgra8, mono8, mono16, bayer, or a
    CompressedImage decoded with OpenCV).
    """
    path = Path(path)
    with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        conns = [c for c in reader.connections if c.msgtype in (IMAGE, COMPRESSED)
                 and (topic is None or c.topic == topic)]
        if topic is not None and not conns:
            found = sorted({c.topic for c in reader.connections})
            raise KeyError(f'{path}: no image topic {topic!r}; topics: {", ".join(found)}')
        for conn, _, raw in reader.messages(connections=conns):
            msg = reader.deserialize(raw, conn.msgtype)
            image, encoding = decode_image(msg, conn.msgtype)
            stamp = msg.header.stamp  # type: ignore[attr-defined]
            yield BagImage(int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec),
                           str(msg.header.frame_id), image, encoding,  # type: ignore[attr-defined]
                           conn.topic)


def vision_msgs_dir() -> Path | None:
    """Return the folder of vision_msgs .msg files: an installed share, else the repository's."""
    for prefix in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep):
        if prefix:
            share = Path(prefix) / 'share' / 'vision_msgs' / 'msg'
            if share.is_dir() and any(share.glob('*.msg')):
                return share
    repo = Path(__file__).resolve().parents[2] / 'interfaces' / 'vision_msgs' / 'msg'
    return repo if repo.is_dir() and any(repo.glob('*.msg')) else None


def vision_msgs_typestore() -> Typestore:
    """Return a ROS 2 typestore with vision_msgs registered from its .msg definitions."""
    folder = vision_msgs_dir()
    if folder is None:
        raise FileNotFoundError('no vision_msgs .msg files: install vision_msgs or use a '
                                'checkout with interfaces/vision_msgs/msg')
    store = _typestore()
    types = {}
    for msg_file in sorted(folder.glob('*.msg')):
        types.update(get_types_from_msg(msg_file.read_text(), f'vision_msgs/msg/{msg_file.stem}'))
    store.register(types)
    return store
