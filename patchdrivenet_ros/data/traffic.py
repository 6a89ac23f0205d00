# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Longitudinal traffic: vehicles in lanes follow the intelligent driver model (IDM).

Each lane is simulated along its own direction of travel (coordinate q, increasing forward);
crossing pedestrians appear as stopped obstacles while they are on the road, so traffic and the
ego wait for them instead of driving through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MIN_GAP = 2.0  # m
_HEADWAY = 1.2  # s
_ACCEL = 1.5  # m/s^2
_COMFORT = 2.5  # m/s^2
_MAX_BRAKE = 8.0  # m/s^2


@dataclass(frozen=True)
class Obstacle:
    """A point on a lane that blocks traffic during [start, end) seconds."""

    q: float
    start: float
    end: float


def simulate_lane(
    q0: np.ndarray,
    lengths: np.ndarray,
    desired: np.ndarray,
    obstacles: list[Obstacle],
    num_frames: int,
    dt: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one lane; return positions and speeds, both (num_frames, N).

    q0 (N,) initial positions, lengths (N,), desired (num_frames, N) desired speeds.
    """
    n = q0.shape[0]
    if n == 0:
        return np.zeros((num_frames, 0)), np.zeros((num_frames, 0))
    q = q0.astype(np.float64).copy()
    v = desired[0].astype(np.float64).copy()
    qs = np.zeros((num_frames, n))
    vs = np.zeros((num_frames, n))
    obs_q = np.array([o.q for o in obstacles], np.float64)
    obs_t = np.array([(o.start, o.end) for o in obstacles], np.float64).reshape(-1, 2)
    for k in range(num_frames):
        qs[k], vs[k] = q, v
        t = k * dt
        active = (obs_t[:, 0] <= t) & (t < obs_t[:, 1])
        centres = np.concatenate([q, obs_q[active]])
        rears = np.concatenate([q - lengths / 2, obs_q[active]])
        lead_v = np.concatenate([v, np.zeros(int(active.sum()))])
        gaps = rears[None, :] - (q + lengths / 2)[:, None]  # (N, N + M) bumper to bumper
        ahead = centres[None, :] > q[:, None]
        ahead[np.arange(n), np.arange(n)] = False
        gaps = np.where(ahead, gaps, np.inf)
        leader = np.argmin(gaps, axis=1)
        gap = gaps[np.arange(n), leader]
        dv = v - lead_v[leader]
        v0 = np.maximum(desired[k], 0.05)
        free = np.clip(_ACCEL * (1.0 - (v / v0) ** 4), -_COMFORT, _ACCEL)
        brake = v * dv / (2 * np.sqrt(_ACCEL * _COMFORT))
        s_star = _MIN_GAP + np.maximum(0.0, v * _HEADWAY + brake)
        interact = np.where(np.isfinite(gap), (s_star / np.maximum(gap, 0.1)) ** 2, 0.0)
        accel = np.clip(free - _ACCEL * interact, -_MAX_BRAKE, _ACCEL)
        v = np.maximum(0.0, v + accel * dt)
        q = q + v * dt
    return qs, vs
