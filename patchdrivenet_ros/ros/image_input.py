# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""One camera's image subscription, re-created when the publishers' reliability calls for it."""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any

from rclpy.event_handler import (
    QoSMessageLostInfo,
    QoSRequestedIncompatibleQoSInfo,
    SubscriptionEventCallbacks,
)
from rclpy.node import Node
from rclpy.subscription import Subscription
from sensor_msgs.msg import CompressedImage, Image

from patchdrivenet_ros.ros.qos import ReliabilityChoice, choose_reliability, image_qos

ImageCallback = Callable[[str, Any, float], None]
"""Called with (camera, message, receive time from time.perf_counter())."""


def camera_topic(camera: str, name: str) -> str:
    """Return the relative topic ``name`` of ``camera`` ('' = the node's own namespace)."""
    return f'{camera}/{name}' if camera else name


class ImageInput:
    """Subscribe to one camera's ``image`` (or ``image/compressed``) with matched reliability."""

    def __init__(
        self,
        node: Node,
        camera: str,
        *,
        compressed: bool,
        override: str,
        callback: ImageCallback,
        on_lost: Callable[[int], None],
    ) -> None:
        self._node = node
        self.camera = camera
        self._msg_type: type[Any] = CompressedImage if compressed else Image
        self.topic = camera_topic(camera, 'image/compressed' if compressed else 'image')
        self.resolved_topic = node.resolve_topic_name(self.topic)
        self._override = override
        self._callback = callback
        self._on_lost = on_lost
        self._lost_total = 0
        self._subscription: Subscription[Any] | None = None
        self.choice: ReliabilityChoice | None = None
        self.refresh()

    def refresh(self) -> None:
        """Re-check the publishers; re-create the subscription when the reliability changes."""
        publishers = self._node.get_publishers_info_by_topic(self.resolved_topic)
        choice = choose_reliability((p.qos_profile.reliability for p in publishers),
                                    self._override)
        unchanged = self.choice is not None and choice.reliability == self.choice.reliability
        self.choice = choice
        if unchanged:
            return
        if self._subscription is not None:
            self._node.destroy_subscription(self._subscription)
        self._lost_total = 0
        self._subscription = self._node.create_subscription(
            self._msg_type,
            self.topic,
            self._receive,
            image_qos(choice.reliability),
            event_callbacks=SubscriptionEventCallbacks(
                message_lost=self._lost, incompatible_qos=self._incompatible),
        )
        self._node.get_logger().info(
            f'subscribed to {self.resolved_topic} ({self._msg_type.__name__}), '
            f'{choice.reliability.name.lower()}: {choice.reason}'
        )

    @property
    def reliability(self) -> str:
        """The current subscription's reliability, for diagnostics."""
        return self.choice.reliability.name.lower() if self.choice else 'none'

    def _receive(self, msg: Any) -> None:
        """Stamp the arrival and hand the message on."""
        self._callback(self.camera, msg, time.perf_counter())

    def _lost(self, info: QoSMessageLostInfo) -> None:
        """Report messages the middleware says never arrived (best-effort gaps)."""
        delta = int(info.total_count) - self._lost_total
        self._lost_total = int(info.total_count)
        if delta > 0:
            self._on_lost(delta)

    def _incompatible(self, _: QoSRequestedIncompatibleQoSInfo) -> None:
        """Note a publisher the subscription cannot match; ``refresh`` re-matches it soon."""
        self._node.get_logger().info(
            f'a publisher on {self.resolved_topic} has incompatible QoS; re-matching',
            throttle_duration_sec=5.0)

    def destroy(self) -> None:
        """Remove the subscription."""
        if self._subscription is not None:
            self._node.destroy_subscription(self._subscription)
            self._subscription = None


__all__ = ['ImageCallback', 'ImageInput', 'camera_topic']
