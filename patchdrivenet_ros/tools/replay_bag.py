# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The bag side of ``patchdrivenet-replay``: which camera topics to play, and their messages.

Reads what rosbags' AnyReader reads: rosbag2 folders, bare ``.mcap`` and ``.db3`` files and
ROS 1 ``.bag`` files. Camera topics are those of type ``sensor_msgs/msg/Image`` or
``sensor_msgs/msg/CompressedImage``. Every message comes out as ROS 2 CDR bytes (ROS 1
messages are converted), ready to publish unchanged, with its header stamp. No ROS needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.typesys import Stores, get_typestore

from patchdrivenet_ros.data.bags import COMPRESSED, IMAGE
from patchdrivenet_ros.outputs_bag import stamp_ns

CAMERA_TYPES = (IMAGE, COMPRESSED)


class ReplayError(Exception):
    """A bag or topic choice that cannot be replayed; the message says why."""


@dataclass(frozen=True)
class CameraStream:
    """One camera topic of the bag and the name the node knows the camera by."""

    topic: str
    msgtype: str  # IMAGE or COMPRESSED
    camera: str  # '' when the bag has one camera, else camera_0, camera_1, ... in topic order
    count: int  # messages in the bag

    @property
    def compressed(self) -> bool:
        """Whether the topic carries CompressedImage messages."""
        return self.msgtype == COMPRESSED


@dataclass(frozen=True)
class BagFrame:
    """One camera message: its stream, bag time, header stamp and ROS 2 CDR bytes."""

    stream: CameraStream
    bag_ns: int
    stamp_ns: int
    cdr: bytes


@contextmanager
def read_bag(path: Path) -> Iterator[AnyReader]:
    """Open the bag at ``path`` for the block (ReplayError with the reason when it cannot)."""
    if not path.exists():
        raise ReplayError(f'no bag at {path}')
    reader = AnyReader([path], default_typestore=get_typestore(Stores.ROS2_KILTED))
    try:
        reader.open()
    except (AnyReaderError, OSError, ValueError) as error:
        raise ReplayError(f'{path}: cannot read the bag: {error}') from None
    try:
        yield reader
    finally:
        reader.close()


def camera_streams(reader: AnyReader, topics: Sequence[str] = ()) -> list[CameraStream]:
    """Return the camera streams to play: ``topics`` (checked), or every camera topic.

    The node takes one image transport for all its cameras, so raw and compressed topics
    cannot be played together; choose some with ``topics`` then.
    """
    found: dict[str, tuple[str, int]] = {}
    for connection in reader.connections:
        if connection.msgtype in CAMERA_TYPES:
            _, count = found.get(connection.topic, (connection.msgtype, 0))
            found[connection.topic] = (connection.msgtype, count + connection.msgcount)
    if not found:
        listed = ', '.join(sorted({c.topic for c in reader.connections})) or 'none'
        raise ReplayError(f'the bag has no Image or CompressedImage topic (topics: {listed})')
    chosen = list(topics) or sorted(found)
    unknown = [t for t in chosen if t not in found]
    if unknown:
        raise ReplayError(f'no camera topic {", ".join(unknown)} in the bag; camera topics: '
                          f'{", ".join(sorted(found))}')
    if len(set(chosen)) != len(chosen):
        raise ReplayError('a topic is given twice')
    kinds = {found[t][0] for t in chosen}
    if len(kinds) > 1:
        raise ReplayError('raw and compressed camera topics cannot be played into one node; '
                          'choose them with --topic')
    several = len(chosen) > 1
    return [CameraStream(topic, found[topic][0], f'camera_{index}' if several else '',
                         found[topic][1]) for index, topic in enumerate(chosen)]


def bag_frames(reader: AnyReader, streams: Sequence[CameraStream]) -> Iterator[BagFrame]:
    """Yield the streams' messages in bag time order, as ROS 2 CDR bytes with their stamps."""
    by_topic = {stream.topic: stream for stream in streams}
    connections = [c for c in reader.connections if c.topic in by_topic]
    for connection, bag_ns, raw in reader.messages(connections=connections):
        message = reader.deserialize(raw, connection.msgtype)
        cdr = bytes(raw) if reader.is2 else ros2_cdr(message, connection.msgtype)
        yield BagFrame(by_topic[connection.topic], int(bag_ns), stamp_ns(message), cdr)


def ros2_cdr(message: Any, msgtype: str) -> bytes:
    """Return a ROS 1 Image or CompressedImage message as ROS 2 CDR bytes (no header seq)."""
    store = get_typestore(Stores.ROS2_KILTED)
    header = message.header
    stamp = store.types['builtin_interfaces/msg/Time'](sec=int(header.stamp.sec),
                                                       nanosec=int(header.stamp.nanosec))
    fields = {name: getattr(message, name) for name in message.__dataclass_fields__
              if name not in ('header', '__msgtype__')}
    converted = store.types[msgtype](
        header=store.types['std_msgs/msg/Header'](stamp=stamp, frame_id=str(header.frame_id)),
        **fields)
    return bytes(store.serialize_cdr(converted, msgtype))


__all__ = ['BagFrame', 'CameraStream', 'ReplayError', 'bag_frames', 'camera_streams',
           'read_bag', 'ros2_cdr']
