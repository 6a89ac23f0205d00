# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Pinhole camera over a flat world: pose, projection, near-plane clipping, ground homography.

World axes: X right and Z forward at road heading 0, Y up, ground at Y = 0. Camera axes (as
KITTI): x right, y down, z forward. A heading psi turns the view from +Z towards +X.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

NEAR = 0.4
"""Near clipping plane in metres: geometry closer than this is cut away."""


@dataclass(frozen=True)
class Camera:
    """Intrinsics and pose of the camera for one frame."""

    focal: float
    cx: float
    cy: float
    width: int
    height: int
    position: np.ndarray  # (3,) world position of the optical centre
    rotation: np.ndarray  # (3, 3) world -> camera

    @staticmethod
    def at(
        focal: float,
        width: int,
        height: int,
        position: tuple[float, float, float],
        heading: float,
        pitch: float = 0.0,
        roll: float = 0.0,
    ) -> Camera:
        """Build a camera at ``position`` looking along ``heading`` (rad), nose down by pitch."""
        ch, sh = math.cos(heading), math.sin(heading)
        yaw = np.array([[ch, 0.0, -sh], [0.0, -1.0, 0.0], [sh, 0.0, ch]])
        cp, sp = math.cos(pitch), math.sin(pitch)
        tilt = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
        cr, sr = math.cos(roll), math.sin(roll)
        spin = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
        return Camera(
            focal=focal,
            cx=width / 2.0,
            cy=height / 2.0,
            width=width,
            height=height,
            position=np.asarray(position, np.float64),
            rotation=spin @ tilt @ yaw,
        )

    @property
    def matrix(self) -> np.ndarray:
        """Intrinsic matrix K, (3, 3)."""
        return np.array([[self.focal, 0.0, self.cx], [0.0, self.focal, self.cy], [0, 0, 1.0]])

    @property
    def pose(self) -> np.ndarray:
        """Camera-to-world transform (4, 4)."""
        out = np.eye(4)
        out[:3, :3] = self.rotation.T
        out[:3, 3] = self.position
        return out

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """Map world points (N, 3) to camera coordinates (N, 3)."""
        return (points - self.position) @ self.rotation.T

    def project(self, cam_points: np.ndarray) -> np.ndarray:
        """Project camera-frame points (N, 3) with z > 0 to pixels (N, 2)."""
        inv_z = 1.0 / cam_points[:, 2:3]
        return cam_points[:, :2] * inv_z * self.focal + (self.cx, self.cy)

    def horizon(self) -> tuple[np.ndarray, np.ndarray]:
        """Return two image points (2,) on the horizon line, left and right of the image."""
        forward = self.rotation.T @ np.array([0.0, 0.0, 1.0])
        heading = math.atan2(forward[0], forward[2])
        points = []
        for offset in (-0.3, 0.3):
            direction = np.array([math.sin(heading + offset), 0.0, math.cos(heading + offset)])
            d = self.rotation @ direction
            points.append(np.array([self.focal * d[0] / d[2] + self.cx,
                                    self.focal * d[1] / d[2] + self.cy]))
        left, right = points
        slope = (right[1] - left[1]) / (right[0] - left[0])
        far = 4.0 * (self.width + self.height)
        return (np.array([-far, left[1] + slope * (-far - left[0])]),
                np.array([self.width + far, left[1] + slope * (self.width + far - left[0])]))

    def ground_homography(self) -> np.ndarray:
        """Return H (3, 3) mapping ground coordinates (X, Z, 1) to homogeneous pixels."""
        cols = np.stack(
            [self.rotation[:, 0], self.rotation[:, 2], -self.rotation @ self.position], axis=1
        )
        return self.matrix @ cols


def clip_near(cam_points: np.ndarray, near: float = NEAR) -> np.ndarray:
    """Clip a closed polygon (K, 3) in camera coordinates to z >= near (Sutherland-Hodgman).

    Returns the clipped polygon (M, 3), possibly empty.
    """
    z = cam_points[:, 2]
    inside = z >= near
    if inside.all():
        return cam_points
    if not inside.any():
        return cam_points[:0]
    nxt = np.roll(cam_points, -1, axis=0)
    z_next = nxt[:, 2]
    crossing = inside != np.roll(inside, -1)
    t = np.where(crossing, (near - z) / np.where(crossing, z_next - z, 1.0), 0.0)
    hits = cam_points + (nxt - cam_points) * t[:, None]  # (K, 3)
    pairs = np.stack([cam_points, hits], axis=1)  # (K, 2, 3)
    keep = np.stack([inside, crossing], axis=1)  # (K, 2)
    return pairs[keep]
