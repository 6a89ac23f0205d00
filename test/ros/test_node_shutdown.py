# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Ctrl-C while a callback runs: the node's main exits cleanly, without a traceback.

A fresh-clone CI run caught it: SIGINT shut the context down while the QoS re-check timer was
querying the graph, which raised rclpy's RCLError ("context is invalid") out of spin, so the
node exited 1 with a traceback. Here a small node's timer shuts the context down and then
queries the graph, the same race made certain; main runs it in a child process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.ros

RACE = textwrap.dedent("""
    import rclpy
    from rclpy.node import Node

    from patchdrivenet_ros.ros import node as node_main

    class RacingNode(Node):
        def __init__(self):
            super().__init__('racing')
            self.create_timer(0.05, self.tick)

        def tick(self):
            rclpy.shutdown()  # what the SIGINT handler does
            self.get_publishers_info_by_topic('/image')  # the callback still running

    node_main.PerceptionNode = RacingNode
    raise SystemExit(node_main.main(['perception_node']))
""")

FAILING = RACE.replace('rclpy.shutdown()  # what the SIGINT handler does',
                       "raise RuntimeError('a real failure')")


def test_a_callback_racing_the_shutdown_ends_the_node_cleanly() -> None:
    done = subprocess.run([sys.executable, '-c', RACE], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert 'Traceback' not in done.stderr, done.stderr


def test_a_failing_callback_with_the_context_alive_still_fails() -> None:
    done = subprocess.run([sys.executable, '-c', FAILING], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode != 0 and 'a real failure' in done.stderr
