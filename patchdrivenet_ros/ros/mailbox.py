# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A one-slot mailbox between the subscription callbacks and the worker: newest item wins."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

ItemT = TypeVar('ItemT')


class LatestMailbox(Generic[ItemT]):
    """Hold the newest item; ``put`` returns the item it replaced, unprocessed (or None)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: ItemT | None = None
        self._closed = False

    def put(self, item: ItemT) -> ItemT | None:
        """Store ``item`` for the worker; return the older item it replaced, if any."""
        with self._condition:
            replaced, self._item = self._item, item
            self._condition.notify()
            return replaced

    def take(self, timeout_s: float) -> ItemT | None:
        """Wait up to ``timeout_s`` for an item and remove it; None on timeout or when closed."""
        with self._condition:
            if self._item is None and not self._closed:
                self._condition.wait(timeout_s)
            item, self._item = self._item, None
            return None if self._closed else item

    def close(self) -> None:
        """Wake the worker for good; later ``take`` calls return None."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        with self._condition:
            return self._closed


__all__ = ['LatestMailbox']
