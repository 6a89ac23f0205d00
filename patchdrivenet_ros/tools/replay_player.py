# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The DDS side of ``patchdrivenet-replay``: publish a bag's camera frames, record the answers.

``Player`` is the tool's ROS node, spinning in a background thread. It publishes each camera
stream on the bag's own topic (reliable, as a camera driver does; the node matches it) and
``/clock`` for nodes that run on ``use_sim_time``: the bag time of each frame just before the
frame, and in between at ``CLOCK_HZ``, advancing at the rate ``send`` is given,
so the node's timers keep running until the end. It subscribes to every output of every camera
under the node's namespace, writes each message unchanged to an MCAP bag when recording (with
a ``<camera>/replay/sent`` marker per frame sent: outputs_bag.py), and notes when each frame's
mask arrived. Waits are event-driven and bounded. ROS is imported when a Player is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
import threading
import time
from typing import Any

from patchdrivenet_ros.data.bags import COMPRESSED, IMAGE, vision_msgs_typestore
from patchdrivenet_ros.outputs_bag import FORECASTS, SENT, SENT_TYPE
from patchdrivenet_ros.tools.replay_bag import BagFrame, CameraStream
from patchdrivenet_ros.tools.waiting import wait_on

OUTPUTS = {  # relative topic of one camera -> message type
    'segmentation/mask': IMAGE,
    'segmentation/color': IMAGE,
    'patch_attention': IMAGE,
    'detections': 'vision_msgs/msg/Detection2DArray',
    'label_info': 'vision_msgs/msg/LabelInfo',
}
OUTPUTS.update({topic: OUTPUTS[name] for topic, name in FORECASTS.items()})
OPTIONAL_OUTPUTS = ('label_info', *FORECASTS)
"""Outputs not awaited before playing (latched, or published only when asked for)."""
DIAGNOSTICS = ('/diagnostics', 'diagnostic_msgs/msg/DiagnosticArray')
CLOCK_HZ = 10.0
READY_SETTLE_S = 0.5
"""How long the node must look ready before the first frame: a publisher matches a
re-created subscription a moment after the graph shows it, and a frame sent in between is lost."""
WRITER_DEPTH = 10
"""Frames the publisher keeps for a slow reader (the node itself keeps only the newest)."""

OutputCallback = Callable[[str, str, Any], None]
"""Called with (camera, relative topic, deserialised message) for every answer received."""


@dataclass
class SentFrame:
    """One published frame and when its mask came back (wall clock, s)."""

    camera: str
    sent_s: float
    answered_s: float | None = None


@dataclass
class PlayState:
    """What the player saw: frames by (camera, stamp), the node's newest status, counts."""

    frames: dict[tuple[str, int], SentFrame] = field(default_factory=dict)
    answered: int = 0  # frames whose mask arrived
    last_sent: dict[str, SentFrame] = field(default_factory=dict)  # per camera
    diagnostics: dict[str, str] = field(default_factory=dict)
    recorded: int = 0
    statuses: int = 0  # statuses of the node received
    last_output_s: float = 0.0
    outputs: dict[tuple[str, str], set[int]] = field(default_factory=dict)  # per-frame topic
    # (camera, relative topic) -> stamps received

    def outputs_complete(self) -> bool:
        """Whether every answered frame has its message on each per-frame output topic.

        A topic counts once it delivered anything, and only from its first frame on: the node
        renders the debug images only for subscribers it has matched, and never with
        ``publish_debug`` off.
        """
        for (camera, _), stamps in self.outputs.items():
            first = min(stamps)
            if any(stamp >= first and stamp not in stamps
                   for (frame_camera, stamp), frame in self.frames.items()
                   if frame_camera == camera and frame.answered_s is not None):
                return False
        return True


def output_topic(namespace: str, camera: str, name: str) -> str:
    """Return the absolute topic of output ``name`` of ``camera`` under ``namespace``."""
    parts = [p for p in (namespace.strip('/'), camera, name) if p]
    return '/' + '/'.join(parts)


class Player:
    """Publishes camera frames and /clock; records the node's outputs (see module doc)."""

    def __init__(self, streams: Sequence[CameraStream], namespace: str, node_name: str,
                 record: Path | None = None, on_output: OutputCallback | None = None) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self._rclpy = rclpy
        self.state = PlayState()
        self._streams = list(streams)
        self._namespace = namespace
        self._status_name = output_topic(namespace, '', node_name)
        self._on_output = on_output
        self._changed = threading.Condition()
        self._writer: Any = None
        self._write_lock = threading.Lock()
        self._outputs: list[Any] = []  # per-frame output subscriptions (they must match first)
        self._last_frames: dict[str, tuple[BagFrame, float]] = {}  # per camera: frame, clock rate
        self.context = rclpy.Context()
        rclpy.init(args=['patchdrivenet-replay'], context=self.context)  # not the tool's argv
        self.node = rclpy.create_node('patchdrivenet_replay', context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._publishers = self._create_publishers()
        self._clock = _ClockPublisher(self.node)
        self._subscribe(record)
        self._thread = threading.Thread(target=self._spin, name='replay-player', daemon=True)
        self._thread.start()

    def _create_publishers(self) -> dict[str, Any]:
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CompressedImage, Image

        qos = QoSProfile(depth=WRITER_DEPTH, reliability=ReliabilityPolicy.RELIABLE)
        return {s.topic: self.node.create_publisher(
            CompressedImage if s.msgtype == COMPRESSED else Image, s.topic, qos)
            for s in self._streams}

    def _subscribe(self, record: Path | None) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.serialization import deserialize_message
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray, LabelInfo

        from patchdrivenet_ros.ros.qos import latched_qos, output_qos

        types = {IMAGE: Image, OUTPUTS['detections']: Detection2DArray,
                 OUTPUTS['label_info']: LabelInfo, DIAGNOSTICS[1]: DiagnosticArray}
        store = vision_msgs_typestore()
        if record is not None:
            from rosbags.rosbag2 import StoragePlugin, Writer

            self._writer = Writer(record, version=8, storage_plugin=StoragePlugin.MCAP)
            self._writer.open()
            self._store = store
            self._sent = {s.camera: self._writer.add_connection(
                output_topic(self._namespace, s.camera, SENT), SENT_TYPE, typestore=store)
                for s in self._streams}
        subscriptions = [(s.camera, name, output_topic(self._namespace, s.camera, name), kind)
                         for s in self._streams for name, kind in OUTPUTS.items()]
        subscriptions.append(('', 'diagnostics', *DIAGNOSTICS))
        for camera, name, topic, kind in subscriptions:
            connection = (self._writer.add_connection(topic, kind, typestore=store)
                          if self._writer is not None else None)
            qos = latched_qos() if name == 'label_info' else output_qos(depth=50)
            receive = partial(self._on_raw, camera, name, types[kind], connection,
                              deserialize_message)
            subscription = self.node.create_subscription(types[kind], topic, receive, qos,
                                                         raw=True)
            if name in OUTPUTS and name not in OPTIONAL_OUTPUTS:
                self._outputs.append(subscription)

    def _on_raw(self, camera: str, name: str, msg_class: Any, connection: Any,
                deserialize: Callable[[bytes, Any], Any], raw: bytes) -> None:
        """Record one serialised output and hand it on (message-only callback: every distro)."""
        arrived = time.time()
        if connection is not None and self._write(connection, raw):
            self.state.recorded += 1
        self._received(camera, name, deserialize(raw, msg_class), arrived)

    def _write(self, connection: Any, raw: bytes) -> bool:
        """Write one message unless the recording is closed; return whether it was."""
        with self._write_lock:  # outputs (spin thread), sent markers (caller's), close
            if self._writer is None:
                return False
            self._writer.write(connection, time.time_ns(), raw)
            return True

    def _received(self, camera: str, name: str, message: Any, arrived: float) -> None:
        if name == 'diagnostics':
            for status in message.status:
                if status.name.split(':')[0] == self._status_name:
                    self.state.diagnostics = {kv.key: kv.value for kv in status.values}
                    self.state.statuses += 1
        else:
            self.state.last_output_s = arrived
            if name != 'label_info':
                stamp = message.header.stamp
                stamp_ns = int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)
                self.state.outputs.setdefault((camera, name), set()).add(stamp_ns)
            if name == 'segmentation/mask':
                frame = self.state.frames.get((camera, stamp_ns))
                if frame is not None and frame.answered_s is None:
                    frame.answered_s = arrived
                    self.state.answered += 1
            if self._on_output is not None:
                self._on_output(camera, name, message)
        with self._changed:
            self._changed.notify_all()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self._executor.spin_once(timeout_sec=1.0 / CLOCK_HZ)
                self._clock.tick()
            except Exception:  # noqa: BLE001 - the context is shutting down
                return

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until ``predicate()`` holds (woken by every output); return whether it held."""
        return wait_on(self._changed, predicate, timeout_s, poll_s=0.1)

    def wait_ready(self, alive: Callable[[], bool], timeout_s: float, reliable: bool) -> bool:
        """Wait until every camera topic has a subscriber and every output topic a publisher.

        ``reliable``: wait for a reliable subscriber. A node matching its publishers'
        reliability subscribes best effort while it sees no publisher, then reliably; large
        frames sent before that are lost.
        """
        from rclpy.qos import ReliabilityPolicy

        masks = [output_topic(self._namespace, s.camera, 'segmentation/mask')
                 for s in self._streams]

        def subscribed(topic: str) -> bool:
            infos = self.node.get_subscriptions_info_by_topic(topic)
            return any(not reliable or i.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                       for i in infos)

        def ready() -> bool:  # the node publishes debug images only to matched subscribers
            return (all(subscribed(topic) and publisher.get_subscription_count() > 0
                        for topic, publisher in self._publishers.items())
                    and all(self.node.count_publishers(m) > 0 for m in masks)
                    and all(s.get_publisher_count() > 0 for s in self._outputs))

        since: list[float] = []  # when ready() last became true

        def settled() -> bool:  # ready for READY_SETTLE_S in a row: discovery has caught up
            if not ready():
                since.clear()
                return not alive()
            since[:] = since or [time.monotonic()]
            return time.monotonic() - since[0] >= READY_SETTLE_S

        return self.wait_for(settled, timeout_s) and alive()

    def send(self, frame: BagFrame, clock_rate: float) -> None:
        """Publish /clock at the frame's bag time, then the frame (its CDR bytes unchanged)."""
        self._last_frames[frame.stream.camera] = (frame, clock_rate)
        self._clock.set(frame.bag_ns, clock_rate)
        key = (frame.stream.camera, frame.stamp_ns)
        sent = self.state.frames[key] = SentFrame(frame.stream.camera, time.time())
        self.state.last_sent[frame.stream.camera] = sent
        if self._writer is not None:
            self._write(self._sent[frame.stream.camera], self._sent_marker(frame))
        self._publishers[frame.stream.topic].publish(frame.cdr)

    def _sent_marker(self, frame: BagFrame) -> bytes:
        """Return the std_msgs Header recorded when a frame is sent (its stamp and topic)."""
        types = self._store.types
        sec, nanosec = divmod(frame.stamp_ns, 1_000_000_000)
        header = types[SENT_TYPE](stamp=types['builtin_interfaces/msg/Time'](
            sec=sec, nanosec=nanosec), frame_id=frame.stream.topic)
        return bytes(self._store.serialize_cdr(header, SENT_TYPE))

    def send_again(self, camera: str) -> None:
        """Send the frame ``camera`` sent last once more, as ``send`` did, if still unanswered."""
        last = self._last_frames.get(camera)
        if last is not None and self.pending(camera):
            self.send(*last)

    def pending(self, camera: str) -> bool:
        """Whether the frame of ``camera`` sent last has not been answered yet."""
        last = self.state.last_sent.get(camera)
        return last is not None and last.answered_s is None

    def close(self) -> None:
        """Stop spinning, finish the recording and shut the node down."""
        self._executor.shutdown(timeout_sec=1.0)
        self._thread.join(timeout=2.0)
        with self._write_lock:  # a callback still running (a starved thread) cannot write now
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self.context)


class _ClockPublisher:
    """Publishes /clock: set at each frame's bag time, advanced at the playback rate between."""

    def __init__(self, node: Any) -> None:
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from rosgraph_msgs.msg import Clock

        self._clock_type = Clock
        self._publisher = node.create_publisher(
            Clock, '/clock', QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self._lock = threading.Lock()
        self._anchor: tuple[int, float, float] | None = None  # bag ns, wall s, rate
        self._last_ns = 0

    def set(self, bag_ns: int, rate: float) -> None:
        """Publish ``bag_ns`` now; advance from it at ``rate`` (0: hold) until the next set."""
        with self._lock:
            self._anchor = (bag_ns, time.monotonic(), rate)
        self.tick()

    def tick(self) -> None:
        """Publish the current playback time (never backwards)."""
        with self._lock:
            if self._anchor is None:
                return
            bag_ns, wall, rate = self._anchor
            now = max(self._last_ns, bag_ns + int((time.monotonic() - wall) * rate * 1e9))
            self._last_ns = now
        message = self._clock_type()
        message.clock.sec, message.clock.nanosec = divmod(now, 1_000_000_000)
        self._publisher.publish(message)


__all__ = ['OUTPUTS', 'PlayState', 'Player', 'SentFrame', 'output_topic']
