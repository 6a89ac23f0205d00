# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Bounded, event-driven waits of the tools' ROS clients (their executors spin in a thread)."""

from __future__ import annotations

from collections.abc import Callable
import threading
import time


def wait_on(changed: threading.Condition, predicate: Callable[[], bool], timeout_s: float,
            poll_s: float) -> bool:
    """Wait until ``predicate()`` holds; return whether it did within ``timeout_s``.

    Woken whenever ``changed`` is notified (an answer arrived), and at least every ``poll_s``
    for predicates that depend on time or on the ROS graph.
    """
    end = time.monotonic() + timeout_s
    with changed:
        while not predicate():
            left = end - time.monotonic()
            if left <= 0:
                return bool(predicate())
            changed.wait(min(left, poll_s))
    return True


__all__ = ['wait_on']
