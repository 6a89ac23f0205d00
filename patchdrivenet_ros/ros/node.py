# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The perception node: camera images in; mask, detections, patch attention and diagnostics out.

``perception_node`` runs the plain node, which loads the model and subscribes its cameras as
it starts; ``perception_node --lifecycle`` runs the managed node of lifecycle_node.py instead,
which waits for a lifecycle manager's configure and activate. Both run the same
PerceptionPipeline (pipeline.py: threads, cameras, outputs).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.utilities import remove_ros_args

from patchdrivenet_ros.config import DEFAULT_NODE_NAME, ConfigError, PerceptionConfig
from patchdrivenet_ros.ros.lifecycle_node import PerceptionLifecycleNode
from patchdrivenet_ros.ros.params import ConfigParameters
from patchdrivenet_ros.ros.pipeline import PerceptionPipeline, changed_fields


class PerceptionNode(Node):
    """Run the PerceptionEngine on camera images and publish its results, from the start."""

    def __init__(self, node_name: str = DEFAULT_NODE_NAME, **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self._pipeline: PerceptionPipeline | None = None
        self._config_parameters = ConfigParameters(self, on_change=self._on_config_change)
        self._pipeline = PerceptionPipeline(self, self._config_parameters)
        self._pipeline.activate()
        self.get_logger().info('ready')

    @property
    def config(self) -> PerceptionConfig:
        """The node's validated configuration now."""
        return self._config_parameters.config

    def _on_config_change(self, old: PerceptionConfig, new: PerceptionConfig) -> None:
        """Hand an accepted runtime parameter change to the pipeline."""
        if self._pipeline is not None:
            self._pipeline.on_config_change(old, new)
        self.get_logger().info(f'parameters changed: {changed_fields(old, new)}')

    def destroy_node(self) -> None:
        """Close the pipeline, then destroy the node (also when construction failed)."""
        pipeline = getattr(self, '_pipeline', None)
        if pipeline is not None:
            pipeline.close()
            self._pipeline = None
        super().destroy_node()


def parse_options(argv: list[str]) -> argparse.Namespace:
    """Parse the node's own command line (the part outside ``--ros-args``)."""
    parser = argparse.ArgumentParser(
        prog='perception_node',
        description='PatchDriveNet perception node; ROS arguments follow --ros-args.')
    parser.add_argument(
        '--lifecycle', action='store_true',
        help='run as a managed (lifecycle) node: starts unconfigured; configure loads the '
             'model, activate subscribes and publishes')
    return parser.parse_args(remove_ros_args(argv)[1:])


def main(args: list[str] | None = None) -> int:
    """Run the perception node until shut down; return the exit status.

    OpenMP threads that spin while waiting collapse torch's throughput as soon as other
    processes share the cores (measured on 2 loaded cores: 0.2 to 5 s per frame with 2 spinning
    threads, about 0.1 s with passive ones), so OMP_WAIT_POLICY defaults to PASSIVE here, before
    torch loads. Set the variable yourself to choose otherwise.
    """
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    argv = sys.argv if args is None else args
    options = parse_options(argv)
    from patchdrivenet_ros.model.weights import WeightsError

    rclpy.init(args=argv)
    node: Node | None = None
    status = 0
    try:
        node = PerceptionLifecycleNode() if options.lifecycle else PerceptionNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ConfigError, WeightsError, ParameterException) as error:
        print(f'[{DEFAULT_NODE_NAME}] cannot start: {error}', file=sys.stderr)
        status = 2
    except RuntimeError:  # after WeightsError, one of them
        # Ctrl-C shuts the context down from the signal handler; a callback running at that
        # moment fails on the invalid context (rclpy's RCLError). That is the shutdown asked
        # for, not an error; with the context still valid it is one.
        if rclpy.ok():
            raise
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return status


if __name__ == '__main__':
    sys.exit(main())
