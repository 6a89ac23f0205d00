# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures for tests over real DDS: a tiny weights file, node processes and a test client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

STOP_TIMEOUT_S = 60.0  # a clean Ctrl-C exit on a busy machine; then the process is killed


class NodeProcess:
    """The perception node in its own process; its output is kept for failure reports."""

    def __init__(self, ros_args: list[str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open('w', encoding='utf-8')
        command = [sys.executable, '-m', 'patchdrivenet_ros.ros.node', '--ros-args', *ros_args]
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ),
            cwd=Path(__file__).resolve().parents[2],
        )

    def output(self) -> str:
        """Return what the node printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding='utf-8', errors='replace')

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def stop(self) -> int:
        """Interrupt the node (as Ctrl-C does) and return its exit status (again when stopped)."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
        status = self.process.wait()
        self._log.close()
        return status


@pytest.fixture(scope='module')
def start_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., NodeProcess]]:
    """Start node processes with the given --ros-args; stop them after the module's tests."""
    started: list[NodeProcess] = []
    folder = tmp_path_factory.mktemp('nodes')

    def start(*ros_args: str) -> NodeProcess:
        node = NodeProcess(list(ros_args), folder / f'node{len(started)}.log')
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


class RosClient:
    """A test-side node spinning in a background thread, with helpers that wait with a bound."""

    def __init__(self) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('perception_test_client', context=self.context)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self.context.ok():
            try:
                self._executor.spin_once(timeout_sec=0.05)
            except Exception:  # shutting down
                return

    def collect(self, msg_type: Any, topic: str, qos: Any = 10) -> list[Any]:
        """Subscribe ``topic`` and return the list the messages are appended to."""
        received: list[Any] = []
        self.node.create_subscription(msg_type, topic, received.append, qos)
        return received

    @staticmethod
    def wait_for(predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.02) -> bool:
        """Poll ``predicate`` until it holds or ``timeout_s`` passes; return whether it held."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if predicate():
                return True
            time.sleep(step_s)
        return predicate()

    def call(self, client: Any, request: Any, timeout_s: float = 60.0,
             resend_s: float | None = None) -> Any:
        """Call a service and return its response (None on timeout).

        With ``resend_s`` (only for requests that are safe to repeat), the request is sent
        again every ``resend_s`` seconds without an answer: a service seen as ready can still
        lose its first response while its response writer has not yet matched this client's
        reader (the DDS discovery race of ROS 2 services).
        """
        end = time.monotonic() + timeout_s
        if not client.wait_for_service(timeout_sec=timeout_s):
            return None
        futures: list[Any] = []
        while time.monotonic() < end or not futures:
            futures.append(client.call_async(request))
            remaining = end - time.monotonic()
            window = remaining if resend_s is None else min(resend_s, remaining)
            if self.wait_for(lambda: any(f.done() for f in futures), max(window, 0.0)):
                return next(f.result() for f in futures if f.done())
        return None

    def close(self) -> None:
        """Shut the client down."""
        import rclpy

        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=2.0)


@pytest.fixture(scope='module')
def ros_client() -> Iterator[RosClient]:
    """Provide a test-side ROS client for the module's tests."""
    client = RosClient()
    yield client
    client.close()
