# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The thread that owns the engine: builds it, applies updates and runs every frame set.

Everything torch does happens in this one thread. A model built in one thread and run in another
was about 2x slower here (torch's CPU thread pool belongs to the thread that first used it), so
the node never calls the engine from its executor thread: parameter changes are queued and
applied here before the next frame. Frames arrive through a one-slot mailbox (newest wins).
"""

from __future__ import annotations

from collections.abc import Callable
import threading
from typing import Generic, TypeVar

from patchdrivenet_ros.ros.mailbox import LatestMailbox

EngineT = TypeVar('EngineT')
ItemT = TypeVar('ItemT')

_IDLE_WAIT_S = 0.1


class EngineThread(Generic[EngineT, ItemT]):
    """Run ``handle(engine, item)`` for the newest submitted item, in one long-lived thread.

    ``on_error(error, item)`` hears of an exception of ``handle`` (or, with item None, of a
    queued update); the thread goes on.
    """

    def __init__(
        self,
        build: Callable[[], EngineT],
        handle: Callable[[EngineT, ItemT], None],
        on_error: Callable[[Exception, ItemT | None], None],
        name: str = 'perception',
    ) -> None:
        self._build = build
        self._handle = handle
        self._on_error = on_error
        self._mailbox: LatestMailbox[ItemT] = LatestMailbox()
        self._updates: list[Callable[[EngineT], None]] = []
        self._updates_lock = threading.Lock()
        self._ready = threading.Event()
        self._engine: EngineT | None = None
        self._build_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> EngineT:
        """Start the thread, wait until it built the engine and return it (or raise its error)."""
        self._thread.start()
        self._ready.wait()
        if self._build_error is not None:
            raise self._build_error
        assert self._engine is not None
        return self._engine

    def submit(self, item: ItemT) -> ItemT | None:
        """Hand over an item; return the unprocessed item it replaced, if any."""
        return self._mailbox.put(item)

    def update(self, apply: Callable[[EngineT], None]) -> None:
        """Queue ``apply(engine)``; it runs in the engine thread before the next item."""
        with self._updates_lock:
            self._updates.append(apply)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the item being processed; wait up to ``timeout_s``."""
        self._mailbox.close()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        try:
            engine = self._build()
        except BaseException as error:  # handed to start(), which raises it
            self._build_error = error
            self._ready.set()
            return
        self._engine = engine
        self._ready.set()
        while not self._mailbox.closed:
            self._apply_updates(engine)
            item = self._mailbox.take(timeout_s=_IDLE_WAIT_S)
            if item is None:
                continue
            self._apply_updates(engine)
            try:
                self._handle(engine, item)
            except Exception as error:  # one bad item must not stop the thread
                self._on_error(error, item)

    def _apply_updates(self, engine: EngineT) -> None:
        """Run the queued updates; a failing one is reported with no item."""
        with self._updates_lock:
            updates, self._updates = self._updates, []
        for apply in updates:
            try:
                apply(engine)
            except Exception as error:
                self._on_error(error, None)


__all__ = ['EngineThread']
