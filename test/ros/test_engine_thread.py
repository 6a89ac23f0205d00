# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The engine thread builds, updates and runs the engine in one thread; errors do not stop it."""

from collections.abc import Callable
import threading
import time

import pytest

from patchdrivenet_ros.ros.engine_thread import EngineThread

WAIT_S = 60.0  # a bound on waits for events, generous for a loaded machine; never a timing check


class FakeEngine:
    def __init__(self) -> None:
        self.threads = {'build': threading.get_ident()}
        self.setting = 0
        self.seen: list[tuple[int, int]] = []


def _wait(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and not predicate():
        time.sleep(0.01)
    return predicate()


def test_build_update_and_run_share_one_thread() -> None:
    errors = []

    def handle(engine: FakeEngine, item: int) -> None:
        engine.threads['run'] = threading.get_ident()
        engine.seen.append((item, engine.setting))

    worker: EngineThread[FakeEngine, int] = EngineThread(
        FakeEngine, handle, lambda error, item: errors.append((error, item)))
    engine = worker.start()

    def set_three(e: FakeEngine) -> None:
        e.threads['update'] = threading.get_ident()
        e.setting = 3

    worker.update(set_three)
    worker.submit(1)
    assert _wait(lambda: engine.seen == [(1, 3)])
    worker.stop()
    assert len(set(engine.threads.values())) == 1
    assert engine.threads['build'] != threading.get_ident()
    assert not errors


def test_build_errors_are_raised_by_start() -> None:
    def broken() -> FakeEngine:
        raise FileNotFoundError('no weights')

    worker: EngineThread[FakeEngine, int] = EngineThread(broken, lambda e, i: None,
                                                         lambda e, i: None)
    with pytest.raises(FileNotFoundError, match='no weights'):
        worker.start()


def test_failures_are_reported_and_the_thread_goes_on() -> None:
    errors = []
    done = []

    def handle(engine: FakeEngine, item: int) -> None:
        if item == 1:
            raise ValueError('bad frame')
        done.append(item)

    def bad_update(engine: FakeEngine) -> None:
        raise RuntimeError('bad update')

    worker: EngineThread[FakeEngine, int] = EngineThread(
        FakeEngine, handle, lambda error, item: errors.append((str(error), item)))
    worker.start()
    worker.submit(1)
    assert _wait(lambda: len(errors) == 1)
    worker.update(bad_update)
    worker.submit(2)
    assert _wait(lambda: done == [2])
    worker.stop()
    assert errors == [('bad frame', 1), ('bad update', None)]


def test_newest_item_wins() -> None:
    started, release = threading.Event(), threading.Event()
    done = []

    def handle(engine: FakeEngine, item: int) -> None:
        started.set()
        release.wait(WAIT_S)
        done.append(item)

    worker: EngineThread[FakeEngine, int] = EngineThread(FakeEngine, handle, lambda e, i: None)
    worker.start()
    worker.submit(1)
    assert started.wait(WAIT_S)  # busy with 1
    assert worker.submit(2) is None
    assert worker.submit(3) == 2  # 2 was never processed
    release.set()
    assert _wait(lambda: done == [1, 3])
    worker.stop()
