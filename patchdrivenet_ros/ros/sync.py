# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Group frames of several cameras whose stamps lie within a slop; pure, no ROS.

One slot per camera holds that camera's newest frame, never a queue: a frame replaced before it
was grouped counts as dropped, so a slow node always works on the newest set. A frame older than
the newest frame in any slot by more than the slop can never join a group (the other camera only
sends newer frames) and is dropped. When every slot holds a frame, the set is complete and
leaves the synchroniser. With one camera every frame is a complete set.

This is our own rather than message_filters' ApproximateTimeSynchronizer: message_filters is
not installable everywhere this package runs, and its queue-based matching would hold several
frames per camera; this one behaves the same everywhere and keeps depth-1 semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

ItemT = TypeVar('ItemT')


@dataclass(frozen=True)
class Stamped(Generic[ItemT]):
    """One camera's frame with its stamp in seconds."""

    camera: str
    stamp: float
    item: ItemT


class StampSynchronizer(Generic[ItemT]):
    """Emit one frame per camera once their stamps lie within ``slop_s`` of each other."""

    def __init__(self, cameras: Sequence[str], slop_s: float) -> None:
        if not cameras or len(set(cameras)) != len(cameras):
            raise ValueError('give at least one camera, each once')
        if slop_s < 0.0:
            raise ValueError('slop_s must be >= 0')
        self._cameras = tuple(cameras)
        self._slop_s = slop_s
        self._slots: dict[str, Stamped[ItemT]] = {}
        self.dropped = 0

    @property
    def cameras(self) -> tuple[str, ...]:
        """Camera names, in the order sets are emitted."""
        return self._cameras

    def push(self, camera: str, stamp: float, item: ItemT) -> list[Stamped[ItemT]] | None:
        """Add a frame; return the complete set (in camera order) when this frame completes it."""
        if camera not in self._cameras:
            raise KeyError(f'unknown camera {camera!r}')
        if camera in self._slots:
            self.dropped += 1
        self._slots[camera] = Stamped(camera, stamp, item)
        newest = max(s.stamp for s in self._slots.values())
        for name in [n for n, s in self._slots.items() if s.stamp < newest - self._slop_s]:
            del self._slots[name]
            self.dropped += 1
        if len(self._slots) < len(self._cameras):
            return None
        group = [self._slots[name] for name in self._cameras]
        self._slots.clear()
        return group

    def clear(self) -> None:
        """Forget waiting frames (e.g. after a time jump) without counting them as dropped."""
        self._slots.clear()


__all__ = ['StampSynchronizer', 'Stamped']
