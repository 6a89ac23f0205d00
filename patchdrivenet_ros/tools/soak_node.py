# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The node under soak (a process of its own) and the tool's side of DDS.

The node runs in a ``NodeProcess`` (node_process.py). ``SoakClient`` is the tool's ROS node,
spinning in a background thread: it publishes to a node's input, collects the answers by header
stamp and the node's /diagnostics, and calls its parameter services. Every wait is for an
event, with a bound. ROS is imported when used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import threading
import time
from typing import Any

from patchdrivenet_ros.tools.node_process import NodeProcess
from patchdrivenet_ros.tools.soak_inputs import CompressedSpec, Spec
from patchdrivenet_ros.tools.soak_stats import in_flight
from patchdrivenet_ros.tools.waiting import wait_on

Stamp = tuple[int, int]
WRITER_DEPTH = 10
RESEND_S = 5.0  # a repeatable service request unanswered this long is sent again


def to_message(spec: Spec) -> Any:
    """Return the sensor_msgs Image or CompressedImage of ``spec``."""
    from sensor_msgs.msg import CompressedImage, Image

    msg: Any
    if isinstance(spec, CompressedSpec):
        msg = CompressedImage(format=spec.format)
    else:
        msg = Image(width=spec.width, height=spec.height, encoding=spec.encoding,
                    step=spec.step, is_bigendian=0)
    msg.data = spec.data
    msg.header.frame_id = spec.frame_id
    msg.header.stamp.sec, msg.header.stamp.nanosec = spec.stamp
    return msg


def _stamp(header: Any) -> Stamp:
    return int(header.stamp.sec), int(header.stamp.nanosec)


@dataclass
class NodeView:
    """What the client saw of one node: answers by stamp, and its diagnostics over time."""

    answers: dict[Stamp, float] = field(default_factory=dict)  # stamp -> received (wall, s)
    frame_ids: dict[Stamp, str] = field(default_factory=dict)  # stamp -> the answer's frame_id
    diagnostics: list[tuple[float, dict[str, str]]] = field(default_factory=list)  # wall clock
    publisher: Any = None


class SoakClient:
    """The tool's ROS node, spinning in a thread; waits are event-driven and bounded."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self._rclpy = rclpy
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('patchdrivenet_soak', context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._changed = threading.Condition()
        self._views: dict[str, NodeView] = {}
        self._diagnostics_subscribed = False
        self._clients: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._spin, name='soak-client', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self._executor.spin_once(timeout_sec=0.05)
            except Exception:  # noqa: BLE001 - the context is shutting down
                return

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until ``predicate()`` holds (woken by every answer and status); return it."""
        return wait_on(self._changed, predicate, timeout_s, poll_s=0.25)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def watch(self, node: NodeProcess, compressed: bool) -> NodeView:
        """Publish to ``node``'s input (reliable, as a camera driver does); collect its answers.

        One publisher carries good and malformed messages alike, so they arrive in the order
        sent; it keeps WRITER_DEPTH messages for the node to take (the node keeps one). An
        answer's time is when the middleware received it (wall clock), not when this client's
        executor got to it: a starved client must not add its own backlog to the latency.
        """
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import CompressedImage, Image

        view = NodeView()
        self._views[node.fqn] = view
        self._subscribe_diagnostics()

        def answered(msg: Any, info: Any) -> None:  # MessageInfo: the middleware's times
            stamp = _stamp(msg.header)
            view.frame_ids.setdefault(stamp, msg.header.frame_id)
            received_ns = int(info.get('received_timestamp') or 0)
            view.answers.setdefault(stamp, received_ns * 1e-9 if received_ns else time.time())
            self._notify()

        self.node.create_subscription(Image, f'{node.namespace}/segmentation/mask', answered,
                                      QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        topic = f'{node.namespace}/image' + ('/compressed' if compressed else '')
        view.publisher = self.node.create_publisher(
            CompressedImage if compressed else Image, topic,
            QoSProfile(depth=WRITER_DEPTH, reliability=ReliabilityPolicy.RELIABLE))
        return view

    def _subscribe_diagnostics(self) -> None:
        from diagnostic_msgs.msg import DiagnosticArray

        if self._diagnostics_subscribed:
            return
        self._diagnostics_subscribed = True

        def received(msg: Any) -> None:
            now = time.time()
            for status in msg.status:
                name = status.name.split(':')[0]
                if name in self._views:
                    values = {kv.key: kv.value for kv in status.values}
                    self._views[name].diagnostics.append((now, values))
            self._notify()

        self.node.create_subscription(DiagnosticArray, '/diagnostics', received, 50)

    def ready(self, node: NodeProcess, timeout_s: float) -> bool:
        """Wait until ``node`` subscribed its input reliably and publishes its mask."""
        from rclpy.qos import ReliabilityPolicy

        view = self._views[node.fqn]
        topic = view.publisher.topic_name
        mask = f'{node.namespace}/segmentation/mask'

        def matched() -> bool:
            infos = self.node.get_subscriptions_info_by_topic(topic)
            reliable = any(i.qos_profile.reliability == ReliabilityPolicy.RELIABLE for i in infos)
            return (reliable and view.publisher.get_subscription_count() > 0
                    and self.node.count_publishers(mask) > 0) or not node.alive()

        return self.wait_for(matched, timeout_s) and node.alive()

    def send(self, view: NodeView, spec: Spec) -> float:
        """Publish ``spec`` to the node; return the time it was sent (wall clock, s)."""
        msg = to_message(spec)
        sent = time.time()
        view.publisher.publish(msg)
        return sent

    def wait_answer(self, view: NodeView, stamp: Stamp, timeout_s: float) -> float | None:
        """Wait for the answer to the frame stamped ``stamp``; its arrival (wall) or None."""
        self.wait_for(lambda: stamp in view.answers, timeout_s)
        return view.answers.get(stamp)

    def settled(self, node: NodeProcess, timeout_s: float) -> dict[str, str]:
        """Wait for a status taken from now on counting no frame in flight; return it.

        Returns the newest status seen when none settles within ``timeout_s`` (empty if none).
        """
        view, since = self._views[node.fqn], time.time()

        def found() -> dict[str, str] | None:
            return next((values for stamp, values in reversed(view.diagnostics)
                         if stamp >= since and in_flight(values) == 0), None)

        self.wait_for(lambda: found() is not None or not node.alive(), timeout_s)
        settled = found()
        if settled is not None:
            return settled
        return view.diagnostics[-1][1] if view.diagnostics else {}

    def call(self, service_type: Any, name: str, request: Any, timeout_s: float,
             resend_s: float = RESEND_S) -> Any:
        """Call service ``name`` and return its response (None when none came in time).

        For requests that are safe to repeat (the parameter services): unanswered after
        ``resend_s``, the request goes again, since a freshly matched service can lose its
        first response while its response writer has not yet matched this client's reader.
        """
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = self.node.create_client(service_type, name)
        end = time.monotonic() + timeout_s
        if not client.wait_for_service(timeout_sec=timeout_s):
            return None
        futures: list[Any] = []
        while time.monotonic() < end or not futures:
            futures.append(client.call_async(request))
            futures[-1].add_done_callback(lambda _: self._notify())
            window = max(min(resend_s, end - time.monotonic()), 0.0)
            if self.wait_for(lambda: any(f.done() for f in futures), window):
                return next(f.result() for f in futures if f.done())
        return None

    def close(self) -> None:
        """Shut the client down."""
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=2.0)


__all__ = ['NodeView', 'SoakClient', 'Stamp', 'to_message']
