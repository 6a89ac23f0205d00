# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image subscription QoS: depth 1, reliability matched to the publishers found.

A best-effort subscription matches every publisher, yet with Fast DDS a large frame (1242x375,
even 640x360) sent by another process reaches a best-effort reader almost never, while a reliable
reader gets every frame; small frames (320x240) arrive either way. A reliable subscription, on
the other hand, does not match best-effort publishers at all. So:

- all publishers reliable -> reliable (every frame arrives, whatever its size);
- any publisher best effort -> best effort (the only choice that matches it);
- no publisher known yet -> best effort (the sensor-data default), re-checked when one appears;
- the ``qos_reliability`` parameter (reliable / best_effort) overrides the choice.

Depth 1 with keep-last: a slow node always gets the newest frame and never builds a queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)


@dataclass(frozen=True)
class ReliabilityChoice:
    """The chosen reliability and why, for the log."""

    reliability: ReliabilityPolicy
    reason: str
    publishers_known: bool


def choose_reliability(
    publishers: Iterable[ReliabilityPolicy], override: str = 'auto'
) -> ReliabilityChoice:
    """Choose the image subscription's reliability from the publishers' and the override."""
    found = list(publishers)
    if override == 'reliable':
        return ReliabilityChoice(ReliabilityPolicy.RELIABLE, 'set by qos_reliability', bool(found))
    if override == 'best_effort':
        return ReliabilityChoice(
            ReliabilityPolicy.BEST_EFFORT, 'set by qos_reliability', bool(found)
        )
    if override != 'auto':
        raise ValueError(f'qos_reliability {override!r} is not auto, reliable or best_effort')
    if not found:
        return ReliabilityChoice(
            ReliabilityPolicy.BEST_EFFORT, 'no publisher (yet): sensor-data default', False
        )
    best_effort = sum(1 for r in found if r == ReliabilityPolicy.BEST_EFFORT)
    if best_effort:
        return ReliabilityChoice(
            ReliabilityPolicy.BEST_EFFORT,
            f'{best_effort} of {len(found)} publishers are best effort',
            True,
        )
    return ReliabilityChoice(
        ReliabilityPolicy.RELIABLE, f'all {len(found)} publishers are reliable', True
    )


def image_qos(reliability: ReliabilityPolicy) -> QoSProfile:
    """Return the image subscription profile: keep last 1, volatile, ``reliability``."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=reliability,
        durability=DurabilityPolicy.VOLATILE,
    )


def output_qos(depth: int = 5) -> QoSProfile:
    """Return the outputs' profile: reliable keep-last (best-effort readers match it too)."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.VOLATILE,
    )


def latched_qos() -> QoSProfile:
    """Return the profile of once-published data (LabelInfo): reliable, transient local."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


__all__ = ['ReliabilityChoice', 'choose_reliability', 'image_qos', 'latched_qos', 'output_qos']
