# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Settings of one synthetic drive and the camera profiles of the common datasets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
import math
from typing import Any

CONDITIONS: tuple[str, ...] = ('rain', 'snow', 'fog', 'night', 'motion_blur', 'noise')
"""Adverse conditions the renderer can apply; they change pixels, never labels."""

KITTI_START_NS = 1_317_042_145_964_389_445
"""Default first stamp of a KITTI-profile drive: 2011-09-26 13:02:25.964389445 UTC."""

NUSCENES_START_NS = 1_533_151_603_512_404_000
"""Default first stamp of a nuScenes-profile drive: 2018-08-01 19:26:43.512404 UTC."""


@dataclass(frozen=True)
class DriveConfig:
    """Everything that defines a synthetic drive; the same config and seed give the same frames.

    Distances are metres, speeds metres per second, angles degrees. The camera is a pinhole
    at ``camera_height`` above a flat ground with horizontal field of view ``hfov_deg``.
    """

    width: int = 1242  # frame size in pixels
    height: int = 375
    fps: float = 10.0  # frame rate; stamps are start_ns + index / fps
    num_frames: int = 100
    seed: int = 0  # everything random (world, look, traffic, conditions) follows from it
    conditions: tuple[str, ...] = ()  # subset of CONDITIONS
    hfov_deg: float = 81.4  # horizontal field of view
    camera_height: float = 1.65  # above the ground
    speed_range: tuple[float, float] = (5.0, 14.0)  # ego cruising speeds, m/s
    max_yaw_rate_dps: float = 8.0  # bounds road curvature: yaw rate at the top speed
    pitch_jitter_deg: float = 0.4  # amplitude of pitch oscillation at the top speed
    stop_probability: float = 0.03  # per second: chance the ego starts a 2-5 s stop
    object_density: float = 1.0  # scales traffic, pedestrians, cyclists and street furniture
    view_distance: float = 160.0  # metres of road and objects rendered ahead
    min_box_pixels: int = 12  # smaller visible instances become ignore regions
    start_ns: int = KITTI_START_NS  # stamp of the first frame

    def __post_init__(self) -> None:
        """Check ranges; raise ValueError naming the field at fault."""
        if self.width < 16 or self.height < 16:
            raise ValueError(f'size: {self.width}x{self.height} is below 16x16')
        if self.fps <= 0.0:
            raise ValueError(f'fps: must be positive, got {self.fps}')
        if self.num_frames < 1:
            raise ValueError(f'num_frames: must be at least 1, got {self.num_frames}')
        unknown = [c for c in self.conditions if c not in CONDITIONS]
        if unknown:
            raise ValueError(f'conditions: unknown {unknown}; choose from {", ".join(CONDITIONS)}')
        if not 10.0 <= self.hfov_deg <= 150.0:
            raise ValueError(f'hfov_deg: {self.hfov_deg} is outside [10, 150]')
        if not 0.5 <= self.camera_height <= 4.0:
            raise ValueError(f'camera_height: {self.camera_height} is outside [0.5, 4]')
        low, high = self.speed_range
        if not 0.0 <= low <= high <= 40.0:
            raise ValueError(f'speed_range: need 0 <= low <= high <= 40, got {self.speed_range}')
        if not 0.0 <= self.stop_probability <= 1.0:
            raise ValueError(f'stop_probability: {self.stop_probability} is outside [0, 1]')
        if not 0.0 <= self.object_density <= 4.0:
            raise ValueError(f'object_density: {self.object_density} is outside [0, 4]')
        if self.max_yaw_rate_dps < 0.0 or self.pitch_jitter_deg < 0.0:
            raise ValueError('max_yaw_rate_dps and pitch_jitter_deg must be non-negative')
        if self.view_distance < 20.0:
            raise ValueError(f'view_distance: {self.view_distance} is below 20')
        if self.min_box_pixels < 1:
            raise ValueError(f'min_box_pixels: must be at least 1, got {self.min_box_pixels}')

    @property
    def focal_length(self) -> float:
        """Focal length in pixels implied by the width and horizontal field of view."""
        return 0.5 * self.width / math.tan(math.radians(self.hfov_deg) / 2.0)

    @property
    def duration_s(self) -> float:
        """Length of the drive in seconds."""
        return self.num_frames / self.fps


PROFILES: dict[str, dict[str, Any]] = {
    'kitti': {
        'width': 1242, 'height': 375, 'fps': 10.0, 'hfov_deg': 81.4, 'camera_height': 1.65,
        'start_ns': KITTI_START_NS,
    },
    'nuscenes': {
        'width': 1600, 'height': 900, 'fps': 12.0, 'hfov_deg': 64.6, 'camera_height': 1.51,
        'start_ns': NUSCENES_START_NS,
    },
    '4k': {
        'width': 3840, 'height': 2160, 'fps': 30.0, 'hfov_deg': 70.0, 'camera_height': 1.5,
        'start_ns': NUSCENES_START_NS,
    },
}
"""Camera and timing of each dataset profile (KITTI 1242x375 at 10 Hz, nuScenes 1600x900 at
12 Hz, a 4K dash camera)."""


def profile_config(profile: str, **overrides: Any) -> DriveConfig:
    """Return the DriveConfig of ``profile`` ('kitti', 'nuscenes' or '4k') with overrides."""
    if profile not in PROFILES:
        raise ValueError(f'profile: {profile!r} is not one of {", ".join(PROFILES)}')
    names = {f.name for f in dataclasses.fields(DriveConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f'unknown DriveConfig fields: {", ".join(unknown)}')
    values = {**PROFILES[profile], **overrides}
    if 'conditions' in values:
        values['conditions'] = tuple(values['conditions'])
    if 'speed_range' in values:
        values['speed_range'] = tuple(values['speed_range'])
    return DriveConfig(**values)
