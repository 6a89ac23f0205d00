# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The tools' bounded, event-driven wait."""

from __future__ import annotations

import threading

from patchdrivenet_ros.tools.waiting import wait_on


def test_a_notification_ends_the_wait_once_the_predicate_holds() -> None:
    changed = threading.Condition()
    state = {'done': False}

    def finish() -> None:
        with changed:
            state['done'] = True
            changed.notify_all()

    timer = threading.Timer(0.05, finish)
    timer.start()
    # The poll interval is far longer than the test: only the notification can end it in time.
    assert wait_on(changed, lambda: state['done'], timeout_s=30.0, poll_s=30.0)
    timer.join()


def test_the_wait_gives_up_after_its_bound() -> None:
    assert not wait_on(threading.Condition(), lambda: False, timeout_s=0.05, poll_s=0.01)
    assert wait_on(threading.Condition(), lambda: True, timeout_s=0.0, poll_s=0.01)
