# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""launch_testing: perception.launch.py starts a node that answers an image with a mask.

Runs where launch_testing and the installed package are available (a ROS 2 workspace:
``colcon test`` or ``launch_test test/ros/test_launch_proof_of_life.py``); skipped elsewhere.
The client node lives in a context of its own, so it is spun by an executor of that context
(``rclpy.spin_once(node)`` would use the default context's global executor and fail).
"""

from __future__ import annotations

from pathlib import Path
import tempfile
import time
from typing import Any
import unittest

import pytest

pytest.importorskip(
    'launch_testing', reason='launch_testing is not installed (it comes with a ROS 2 install)')
pytest.importorskip('launch_ros', reason='launch_ros is not installed')

from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.launch_description import LaunchDescription  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from patchdrivenet_ros.ros.conversions import frame_to_image  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / 'launch' / 'perception.launch.py'
NAMESPACE = 'proof_of_life'
ANSWER_TIMEOUT_S = 180.0  # the node imports torch and builds its model first; machines are busy


def _tiny_weights() -> str:
    """Save a tiny random model in a temporary folder; return its path."""
    from patchdrivenet_ros.config import ModelConfig
    from patchdrivenet_ros.model.factory import build_model
    from patchdrivenet_ros.model.weights import save_weights

    path = Path(tempfile.mkdtemp()) / 'tiny.safetensors'
    config = ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16,
                         attention_heads=2)
    save_weights(build_model(config), path)
    return str(path)


@pytest.mark.launch_test
@pytest.mark.ros
def generate_test_description() -> LaunchDescription:
    """Launch the node through the real launch file with a tiny model."""
    include = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={
            'namespace': NAMESPACE, 'weights': _tiny_weights(), 'patch_budget': '2',
        }.items(),
    )
    return LaunchDescription([include, launch_testing.actions.ReadyToTest()])


class TestProofOfLife(unittest.TestCase):
    """The launched node answers one frame."""

    def test_answers_an_image_with_a_mask(self) -> None:
        context = rclpy.Context()
        rclpy.init(context=context)
        node = rclpy.create_node('proof_of_life_client', context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        try:
            masks: list[Image] = []
            node.create_subscription(Image, f'/{NAMESPACE}/segmentation/mask', masks.append, 5)
            publisher = node.create_publisher(
                Image, f'/{NAMESPACE}/image',
                QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
            header = Header(frame_id='camera')
            header.stamp.sec = 7
            msg = frame_to_image(np.zeros((96, 128, 3), np.uint8), header)
            end = time.monotonic() + ANSWER_TIMEOUT_S
            while not masks and time.monotonic() < end:
                publisher.publish(msg)
                executor.spin_once(timeout_sec=0.5)
            self.assertTrue(masks, f'no mask within {ANSWER_TIMEOUT_S:.0f} s')
            self.assertEqual((masks[0].width, masks[0].height), (128, 96))
            self.assertEqual(masks[0].header.stamp.sec, 7)
        finally:
            executor.shutdown()
            node.destroy_node()
            rclpy.try_shutdown(context=context)


@launch_testing.post_shutdown_test()
class TestShutdown(unittest.TestCase):
    """The node exits cleanly when the launch ends."""

    def test_exit_codes(self, proc_info: Any) -> None:
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
