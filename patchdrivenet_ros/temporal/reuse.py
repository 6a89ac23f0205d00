# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Temporal patch reuse: the bounded patch cache, the two reuse rules and per-stream state.

The state also keeps the stream's global features for their reuse (temporal/global_reuse.py).

One frame, as the engine uses it::

    flow = state.advance(grey, stamp, frame_size, time_jump_s, estimator)   # None after a reset
    where = reference_boxes(cell_ids, boxes, state.cache)
    motion = None if flow is None else patch_motion(flow, where, scale)
    decision = decide_reuse(rule, cell_ids, boxes, motion, state.cache, state.frame_index, ...)
    # recomputed patches: state.cache.put(cell, box, payload, state.frame_index)
    # reused patches:     state.cache.move(cell, decision.boxes[k])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from patchdrivenet_ros.temporal.flow import FlowEstimator, PatchMotion
from patchdrivenet_ros.temporal.global_reuse import CachedGlobal

RULES = ('off', 'displacement', 'compensated')
"""Reuse rules: never reuse; reuse patches that barely moved; reuse motion-compensated."""


@dataclass
class CachedPatch:
    """A cached per-patch result and where it lies."""

    box: np.ndarray  # (4,) int32 xyxy where the payload currently lies (moves when reused)
    payload: Any  # opaque here; the model stores its per-patch tensors
    computed_at: int  # frame index when the payload was computed (reuse does not refresh it)


class PatchCache:
    """Bounded map cell_id -> CachedPatch; evicts the oldest computed_at beyond capacity."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f'capacity must be >= 0, got {capacity}')
        self.capacity = capacity
        self._entries: dict[int, CachedPatch] = {}

    def get(self, cell_id: int) -> CachedPatch | None:
        """Return the entry of ``cell_id``, or None."""
        return self._entries.get(int(cell_id))

    def put(self, cell_id: int, box: np.ndarray, payload: Any, frame_index: int) -> None:
        """Store a freshly computed payload, then evict the oldest entries beyond capacity.

        Among entries of equal age the one stored first goes first.
        """
        key = int(cell_id)
        self._entries.pop(key, None)
        self._entries[key] = CachedPatch(_as_box(box), payload, int(frame_index))
        while len(self._entries) > self.capacity:
            oldest = min(self._entries, key=lambda k: self._entries[k].computed_at)
            del self._entries[oldest]

    def move(self, cell_id: int, box: np.ndarray) -> None:
        """Record that the payload of ``cell_id`` now lies at ``box`` (after a compensated reuse).

        Raises KeyError when ``cell_id`` is not cached.
        """
        self._entries[int(cell_id)].box = _as_box(box)

    def clear(self) -> None:
        """Drop every entry."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _as_box(box: np.ndarray) -> np.ndarray:
    """Return a (4,) int32 copy of an xyxy box."""
    out = np.array(box, dtype=np.int32).reshape(-1)
    if out.shape != (4,):
        raise ValueError(f'expected an xyxy box, got shape {np.shape(box)}')
    return out


@dataclass(frozen=True)
class ReuseDecision:
    """Which chosen patches take their cached payload, and where each payload goes this frame."""

    reuse: np.ndarray  # (K,) bool: True = take the cached payload instead of recomputing
    boxes: np.ndarray  # (K, 4) int32: reused -> where the payload is written; else the chosen box


def reference_boxes(cell_ids: np.ndarray, boxes: np.ndarray, cache: PatchCache) -> np.ndarray:
    """Return (K, 4) int32 boxes over which to measure each patch's motion.

    The cached box where ``cell_ids[k]`` is cached (where its payload lay in the previous frame,
    which is where the previous -> current flow is sampled), else the chosen box.
    """
    out = np.array(boxes, dtype=np.int32).reshape(-1, 4)  # (K, 4)
    for k, cell in enumerate(np.asarray(cell_ids).reshape(-1)):
        entry = cache.get(int(cell))
        if entry is not None:
            out[k] = entry.box
    return out


def decide_reuse(
    rule: str,
    cell_ids: np.ndarray,
    boxes: np.ndarray,
    motion: PatchMotion | None,
    cache: PatchCache,
    frame_index: int,
    threshold: float,
    max_age: int,
    frame_size: tuple[int, int],
) -> ReuseDecision:
    """Decide, per chosen patch, whether to reuse its cached payload.

    ``cell_ids`` (K,) and ``boxes`` (K, 4) are the chosen patches; ``motion`` holds their motion
    in full-resolution pixels, measured over ``reference_boxes``; None (no flow: first frame or
    reset) recomputes all. ``frame_size`` is (width, height). A patch may reuse only when it is
    cached with age = frame_index - computed_at <= max_age, and then:

    - 'displacement': |mean flow| <= threshold; the payload stays at its cached box.
    - 'compensated': residual <= threshold and the cached box shifted by the rounded mean flow
      lies inside the frame; the payload is written at that shifted box.
    - 'off': never.
    """
    if rule not in RULES:
        raise ValueError(f'rule {rule!r} is not one of {", ".join(RULES)}')
    cells = np.asarray(cell_ids).reshape(-1)  # (K,)
    out_boxes = np.array(boxes, dtype=np.int32).reshape(-1, 4)  # (K, 4)
    count = cells.shape[0]
    if out_boxes.shape[0] != count:
        raise ValueError(f'{count} cell ids but {out_boxes.shape[0]} boxes')
    reuse = np.zeros(count, dtype=bool)  # (K,)
    if rule == 'off' or motion is None or count == 0:
        return ReuseDecision(reuse=reuse, boxes=out_boxes)
    if motion.mean.shape != (count, 2) or motion.residual.shape != (count,):
        raise ValueError(f'motion is for {motion.residual.shape[0]} patches, expected {count}')
    width, height = frame_size
    shifts = np.rint(motion.mean).astype(np.int32)  # (K, 2)
    speeds = np.linalg.norm(motion.mean, axis=1)  # (K,)
    for k in range(count):
        entry = cache.get(int(cells[k]))
        if entry is None or frame_index - entry.computed_at > max_age:
            continue
        if rule == 'displacement':
            if speeds[k] <= threshold:
                reuse[k] = True
                out_boxes[k] = entry.box
            continue
        shifted = entry.box + np.tile(shifts[k], 2)  # (4,)
        inside = min(shifted[0], shifted[1]) >= 0 and shifted[2] <= width and shifted[3] <= height
        if motion.residual[k] <= threshold and inside:
            reuse[k] = True
            out_boxes[k] = shifted
    return ReuseDecision(reuse=reuse, boxes=out_boxes)


class TemporalState:
    """Per camera stream: the cache, the previous low-res grey frame, the last stamp and index."""

    def __init__(self, cache_capacity: int) -> None:
        self.cache = PatchCache(cache_capacity)
        self.global_entry: CachedGlobal | None = None  # the global features, when kept
        self.frame_index = -1  # index of the current frame; the first advance makes it 0
        self._previous: np.ndarray | None = None  # (h, w) uint8
        self._stamp: float | None = None
        self._frame_size: tuple[int, int] | None = None
        self.interval_s: float | None = None  # stamp gap the last flow spans (None: unknown)

    def advance(
        self,
        grey: np.ndarray,
        stamp: float | None,
        frame_size: tuple[int, int],
        time_jump_s: float,
        flow: FlowEstimator,
    ) -> np.ndarray | None:
        """Start a new frame; return the (h, w, 2) flow previous -> current, or None after a reset.

        ``grey`` is the (h, w) uint8 low-res frame, ``stamp`` seconds (None: unknown, never
        checked), ``frame_size`` the full-res (width, height). Resets (clears the caches, no flow)
        on the first frame, a change of frame size or grey size, a stamp going backwards, or a
        gap above ``time_jump_s``.
        """
        self.frame_index += 1
        previous, last_stamp = self._previous, self._stamp
        jumped = (
            stamp is not None
            and last_stamp is not None
            and (stamp < last_stamp or stamp - last_stamp > time_jump_s)
        )
        if grey.ndim != 2 or grey.dtype != np.uint8:
            raise ValueError(f'expected a (h, w) uint8 frame, got {grey.shape} {grey.dtype}')
        resized = self._frame_size != (int(frame_size[0]), int(frame_size[1]))
        result = None
        if previous is None or previous.shape != grey.shape or resized or jumped:
            self.cache.clear()
            self.global_entry = None
        else:
            result = flow.estimate(previous, grey)  # (h, w, 2)
        self.interval_s = None
        if result is not None and stamp is not None and last_stamp is not None:
            self.interval_s = stamp - last_stamp if stamp > last_stamp else None
        self._previous = grey.copy()
        self._stamp = stamp
        self._frame_size = (int(frame_size[0]), int(frame_size[1]))
        return result

    @property
    def previous(self) -> np.ndarray | None:
        """The (h, w) uint8 grey frame of the last advance (None before any or after a reset)."""
        return self._previous

    def reset(self) -> None:
        """Forget the previous frame and the caches; the next advance returns no flow."""
        self.cache.clear()
        self.global_entry = None
        self._previous = None
        self._stamp = None
        self._frame_size = None
