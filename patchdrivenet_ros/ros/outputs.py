# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The result publishers of one camera; managed (lifecycle) publishers on a managed node.

On a ``rclpy.lifecycle.LifecycleNode`` the publishers are lifecycle publishers: the node's
activate and deactivate transitions switch them on and off, so nothing is published while the
node is inactive, not even a frame that was being processed when it was deactivated.
"""

from __future__ import annotations

from typing import Any

from rclpy.lifecycle import LifecycleNode, LifecyclePublisher
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray, LabelInfo

from patchdrivenet_ros.ros.image_input import camera_topic
from patchdrivenet_ros.ros.qos import latched_qos, output_qos


def create_output_publisher(node: Node, msg_type: Any, topic: str,
                            qos: QoSProfile) -> Publisher[Any]:
    """Create a publisher: a lifecycle publisher on a managed node, a plain one otherwise."""
    if isinstance(node, LifecycleNode):
        return node.create_lifecycle_publisher(msg_type, topic, qos)
    return node.create_publisher(msg_type, topic, qos)


def destroy_output_publisher(node: Node, publisher: Publisher[Any]) -> None:
    """Destroy a publisher made by ``create_output_publisher`` (and forget a managed one)."""
    if isinstance(node, LifecycleNode) and isinstance(publisher, LifecyclePublisher):
        node.destroy_lifecycle_publisher(publisher)
    else:
        node.destroy_publisher(publisher)


class CameraOutputs:
    """The publishers of one camera's results."""

    def __init__(self, node: Node, camera: str) -> None:
        self._node = node
        qos = output_qos()
        self.mask = create_output_publisher(
            node, Image, camera_topic(camera, 'segmentation/mask'), qos)
        self.color = create_output_publisher(
            node, Image, camera_topic(camera, 'segmentation/color'), qos)
        self.attention = create_output_publisher(
            node, Image, camera_topic(camera, 'patch_attention'), qos)
        self.detections = create_output_publisher(
            node, Detection2DArray, camera_topic(camera, 'detections'), qos)
        self.label_info = create_output_publisher(
            node, LabelInfo, camera_topic(camera, 'label_info'), latched_qos())
        self.mask_forecast = create_output_publisher(
            node, Image, camera_topic(camera, 'segmentation/mask_forecast'), qos)
        self.detections_forecast = create_output_publisher(
            node, Detection2DArray, camera_topic(camera, 'detections_forecast'), qos)

    def destroy(self) -> None:
        """Remove the publishers."""
        for publisher in (self.mask, self.color, self.attention, self.detections,
                          self.label_info, self.mask_forecast, self.detections_forecast):
            destroy_output_publisher(self._node, publisher)


__all__ = ['CameraOutputs', 'create_output_publisher', 'destroy_output_publisher']
