# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Stamp matching of several cameras, newest frame per camera, and the one-slot mailbox."""

import threading

import pytest

from patchdrivenet_ros.ros.mailbox import LatestMailbox
from patchdrivenet_ros.ros.sync import StampSynchronizer


def test_one_camera_emits_every_frame() -> None:
    sync: StampSynchronizer[float] = StampSynchronizer([''], 0.0)
    for stamp in (1.0, 2.0, 0.5):
        group = sync.push('', stamp, stamp)
        assert group is not None and [s.item for s in group] == [stamp]
    assert sync.dropped == 0


def test_frames_within_the_slop_form_a_set_in_camera_order() -> None:
    sync: StampSynchronizer[str] = StampSynchronizer(['front', 'left'], 0.02)
    assert sync.push('left', 10.005, 'L') is None
    group = sync.push('front', 10.0, 'F')
    assert group is not None
    assert [(s.camera, s.item) for s in group] == [('front', 'F'), ('left', 'L')]
    assert sync.dropped == 0


def test_stale_frames_are_dropped_and_newest_replaces() -> None:
    sync: StampSynchronizer[str] = StampSynchronizer(['a', 'b'], 0.02)
    assert sync.push('a', 1.0, 'a1') is None
    assert sync.push('a', 1.1, 'a2') is None  # replaces a1
    assert sync.dropped == 1
    assert sync.push('b', 1.2, 'b1') is None  # a2 can never match: dropped
    assert sync.dropped == 2
    group = sync.push('a', 1.21, 'a3')
    assert group is not None and [s.item for s in group] == ['a3', 'b1']


def test_unknown_camera_and_bad_arguments() -> None:
    sync: StampSynchronizer[None] = StampSynchronizer(['a'], 0.1)
    with pytest.raises(KeyError):
        sync.push('b', 0.0, None)
    with pytest.raises(ValueError):
        StampSynchronizer([], 0.1)
    with pytest.raises(ValueError):
        StampSynchronizer(['a', 'a'], 0.1)
    with pytest.raises(ValueError):
        StampSynchronizer(['a'], -1.0)


def test_clear_forgets_without_counting() -> None:
    sync: StampSynchronizer[int] = StampSynchronizer(['a', 'b'], 0.1)
    sync.push('a', 1.0, 1)
    sync.clear()
    assert sync.push('b', 5.0, 2) is None
    assert sync.dropped == 0


def test_mailbox_keeps_the_newest_and_returns_what_it_replaced() -> None:
    box: LatestMailbox[int] = LatestMailbox()
    assert box.put(1) is None
    assert box.put(2) == 1
    assert box.take(0.01) == 2
    assert box.take(0.01) is None


def test_mailbox_wakes_a_waiting_worker_and_closes() -> None:
    box: LatestMailbox[int] = LatestMailbox()
    got = []
    worker = threading.Thread(target=lambda: got.append(box.take(60.0)))
    worker.start()
    box.put(7)
    worker.join(60.0)  # returns once the worker took the item: a bound, not a timing check
    assert got == [7]
    box.close()
    box.put(8)
    assert box.closed and box.take(0.01) is None
