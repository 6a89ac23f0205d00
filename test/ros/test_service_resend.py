# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Repeatable service calls are sent again when the first answer does not come.

A ROS 2 service seen as ready can lose the response to its first request while its response
writer has not yet matched the client's reader. The soak tool's parameter calls and the tests'
lifecycle ``get_state`` calls resend after a while. Here a real service (own context, own
executor) holds its first answer back, which to the client looks like a lost response.
"""

from __future__ import annotations

from collections.abc import Iterator
import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.ros

SERVICE = '/resend_test/list_parameters'


class SlowFirstAnswer:
    """A ListParameters service whose first request is answered only after ``hold_s``."""

    def __init__(self, hold_s: float) -> None:
        from rcl_interfaces.srv import ListParameters
        import rclpy
        from rclpy.callback_groups import ReentrantCallbackGroup
        from rclpy.executors import MultiThreadedExecutor

        self.requests = 0
        self._hold_s = hold_s
        self._lock = threading.Lock()
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('resend_test_server', context=self.context)
        self.node.create_service(ListParameters, SERVICE, self._answer,
                                 callback_group=ReentrantCallbackGroup())
        self._executor = MultiThreadedExecutor(num_threads=2, context=self.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._executor.spin, daemon=True)
        self._thread.start()

    def _answer(self, request: Any, response: Any) -> Any:
        with self._lock:
            self.requests += 1
            first = self.requests == 1
        if first:
            time.sleep(self._hold_s)
        response.result.names = ['first' if first else 'resent']
        return response

    def close(self) -> None:
        import rclpy

        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=2.0)


@pytest.fixture()
def server() -> Iterator[SlowFirstAnswer]:
    """Serve ListParameters with the first answer held back 8 s."""
    served = SlowFirstAnswer(hold_s=8.0)
    yield served
    served.close()


def test_soak_client_resends_an_unanswered_request(server: SlowFirstAnswer) -> None:
    from rcl_interfaces.srv import ListParameters

    from patchdrivenet_ros.tools.soak_node import SoakClient

    client = SoakClient()
    try:
        started = time.monotonic()
        response = client.call(ListParameters, SERVICE, ListParameters.Request(),
                               timeout_s=30.0, resend_s=0.5)
        waited = time.monotonic() - started
    finally:
        client.close()
    assert response is not None
    assert list(response.result.names) == ['resent']
    assert server.requests >= 2
    assert waited < 8.0


def test_test_client_waits_without_resend_and_resends_when_asked(
    ros_client: Any, server: SlowFirstAnswer,
) -> None:
    from rcl_interfaces.srv import ListParameters

    service = ros_client.node.create_client(ListParameters, SERVICE)
    try:
        assert ros_client.call(service, ListParameters.Request(), timeout_s=2.0) is None
        assert server.requests == 1
        response = ros_client.call(service, ListParameters.Request(), timeout_s=30.0,
                                   resend_s=0.5)
    finally:
        ros_client.node.destroy_client(service)
    assert response is not None
    assert list(response.result.names) == ['resent']
