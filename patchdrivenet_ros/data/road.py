# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The road: a curved centreline by arc length and a cross-section of lanes and sidewalks.

Road coordinates are (s, d): arc length along the centreline and lateral offset, positive to
the right of the direction of travel. Traffic keeps right: lanes of the ego's direction have
d > 0, oncoming lanes d < 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_STEP = 1.0  # metres between centreline samples


@dataclass(frozen=True)
class Layout:
    """Cross-section of the road, all widths in metres."""

    lane_width: float
    lanes_forward: int
    lanes_oncoming: int
    parking_right: float
    parking_left: float
    sidewalk_right: float
    sidewalk_left: float
    centre_line: str  # 'solid', 'double' or 'dashed'
    marking_width: float

    @property
    def right_edge(self) -> float:
        """Lateral offset of the right kerb."""
        return self.lanes_forward * self.lane_width + self.parking_right

    @property
    def left_edge(self) -> float:
        """Lateral offset of the left kerb (negative)."""
        return -(self.lanes_oncoming * self.lane_width + self.parking_left)

    def lane_centre(self, lane: int) -> float:
        """Lateral offset of a lane's centre: lane >= 0 forward from the middle, < 0 oncoming."""
        return (lane + 0.5) * self.lane_width

    @staticmethod
    def sample(rng: np.random.Generator) -> Layout:
        """Draw a plausible urban or suburban cross-section."""
        lanes_forward = int(rng.choice([1, 1, 2]))
        lanes_oncoming = int(rng.choice([1, 1, 2]))
        return Layout(
            lane_width=float(rng.uniform(3.0, 3.7)),
            lanes_forward=lanes_forward,
            lanes_oncoming=lanes_oncoming,
            parking_right=float(rng.choice([0.0, 2.2], p=[0.4, 0.6])),
            parking_left=float(rng.choice([0.0, 2.2], p=[0.5, 0.5])),
            sidewalk_right=float(rng.uniform(2.0, 4.5)),
            sidewalk_left=float(rng.uniform(2.0, 4.5)),
            centre_line=str(rng.choice(['solid', 'double', 'dashed'])),
            marking_width=float(rng.uniform(0.10, 0.16)),
        )


class Centreline:
    """Planar curve sampled every metre, with curvature varying smoothly along it."""

    def __init__(self, s_start: float, s_end: float, max_curvature: float,
                 rng: np.random.Generator) -> None:
        n = int(np.ceil((s_end - s_start) / _STEP)) + 2
        self.s0 = s_start
        knots_s = [0.0]
        knots_k = [0.0]
        while knots_s[-1] < n * _STEP:
            knots_s.append(knots_s[-1] + float(rng.uniform(40.0, 160.0)))
            straight = rng.random() < 0.45
            knots_k.append(0.0 if straight else float(rng.uniform(-1.0, 1.0)) * max_curvature)
        local = np.arange(n) * _STEP
        curvature = np.interp(local, knots_s, knots_k)
        start_heading = float(rng.uniform(-0.3, 0.3))
        heading = start_heading + np.concatenate([[0.0], np.cumsum(curvature[:-1]) * _STEP])
        mid = heading + 0.5 * curvature * _STEP
        x = np.concatenate([[0.0], np.cumsum(np.sin(mid[:-1])) * _STEP])
        z = np.concatenate([[0.0], np.cumsum(np.cos(mid[:-1])) * _STEP])
        self.x = x
        self.z = z
        self.heading = heading
        self.curvature = curvature

    def frame(self, s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return centreline X, Z and heading at arc lengths s (any shape)."""
        u = (np.asarray(s, np.float64) - self.s0) / _STEP
        u = np.clip(u, 0.0, len(self.x) - 1.000001)
        i = u.astype(np.int64)
        f = u - i
        x = self.x[i] * (1 - f) + self.x[i + 1] * f
        z = self.z[i] * (1 - f) + self.z[i + 1] * f
        h = self.heading[i] * (1 - f) + self.heading[i + 1] * f
        return x, z, h

    def to_world(self, s: np.ndarray | float, d: np.ndarray | float) -> tuple[np.ndarray,
                                                                               np.ndarray]:
        """Map road coordinates (s, d) to world X, Z (broadcast shapes)."""
        x, z, h = self.frame(s)
        d = np.asarray(d, np.float64)
        return x + d * np.cos(h), z - d * np.sin(h)

    def curvature_at(self, s: float) -> float:
        """Curvature (1/m) at arc length s."""
        u = int(np.clip((s - self.s0) / _STEP, 0, len(self.curvature) - 1))
        return float(self.curvature[u])
