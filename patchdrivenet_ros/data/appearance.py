# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Per-drive look: palettes, sun, sky panorama and world-anchored ground textures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

import cv2
import numpy as np

from patchdrivenet_ros.classes import class_id

Color = tuple[int, int, int]

TILE_METRES = 10.24
"""Period of the ground texture tile in metres (it repeats in X and Z)."""

_TILE = 256
_SKY_W, _SKY_H = 720, 90  # panorama: 0.5 degree per pixel, 45 degrees of elevation

_CAR_COLORS: tuple[Color, ...] = (
    (235, 235, 235), (20, 20, 22), (150, 152, 156), (110, 112, 118), (160, 20, 25),
    (25, 50, 120), (200, 200, 190), (60, 70, 60), (190, 140, 40), (90, 30, 30), (40, 90, 140),
)


def _jitter(rng: np.random.Generator, color: Sequence[float] | np.ndarray, amount: int) -> Color:
    values = np.clip(np.asarray(color) + rng.integers(-amount, amount + 1, 3), 0, 255)
    return (int(values[0]), int(values[1]), int(values[2]))


def _smooth_noise(rng: np.random.Generator, height: int, width: int,
                  octaves: tuple[int, ...]) -> np.ndarray:
    """Return noise (H, W) float32 with zero mean and unit std, tileable along x.

    Each octave has ``cells`` square cells across the width (which it must divide); the
    coarse grid is padded by wrapping and upsampled cubically, so the seam is invisible.
    """
    out = np.zeros((height, width), np.float32)
    for cells in octaves:
        cell = width // cells
        rows = -(-height // cell)
        coarse = rng.standard_normal((rows, cells)).astype(np.float32)
        padded = np.pad(coarse, 2, mode='wrap')
        big = cv2.resize(padded, ((cells + 4) * cell, (rows + 4) * cell),
                         interpolation=cv2.INTER_CUBIC)
        out += big[2 * cell:2 * cell + height, 2 * cell:2 * cell + width] * np.float32(
            1.0 / math.sqrt(cells))
    out -= out.mean()
    return out / max(float(out.std()), 1e-6)


@dataclass(frozen=True)
class Appearance:
    """Colours and lighting of one drive."""

    sky_top: Color
    sky_horizon: Color
    cloudiness: float
    asphalt: Color
    parking: Color
    marking: Color
    sidewalk: Color
    kerb: Color
    verge: Color
    buildings: tuple[Color, ...]
    windows: tuple[Color, ...]
    greens: tuple[Color, ...]
    trunk: Color
    skyline_city: bool
    skyline_color: Color
    sun: np.ndarray  # (3,) unit vector towards the sun, world axes
    ambient: float
    gains: np.ndarray  # (3,) float32 RGB white balance
    gamma: float
    sky_panorama: np.ndarray  # (_SKY_H, _SKY_W, 3) uint8 RGB
    skyline: np.ndarray  # (_SKY_W,) float32 skyline elevation (rad) by azimuth
    ground_tile: np.ndarray  # (_TILE, _TILE, 3) float32 texture channels: asphalt, paving, grass

    @staticmethod
    def sample(rng: np.random.Generator) -> Appearance:
        """Draw the look of a drive."""
        overcast = float(rng.uniform(0.0, 1.0))
        blue = np.array([70, 130, 210]) * (1 - overcast) + np.array([170, 175, 185]) * overcast
        sky_top = _jitter(rng, blue, 15)
        sky_horizon = _jitter(rng, np.minimum(255, blue * 0.5 + 120), 10)
        grey = int(rng.integers(70, 120))
        asphalt = _jitter(rng, (grey, grey, grey + 4), 6)
        sidewalk = _jitter(rng, rng.choice(
            [(150, 150, 150), (170, 160, 140), (140, 130, 130), (185, 180, 170)]), 12)
        sun_az = float(rng.uniform(0, 2 * math.pi))
        sun_el = float(rng.uniform(0.25, 1.1))
        sun = np.array([math.cos(sun_el) * math.sin(sun_az), math.sin(sun_el),
                        math.cos(sun_el) * math.cos(sun_az)])
        buildings = tuple(_jitter(rng, c, 20)
                          for c in rng.choice(
                              [(150, 140, 130), (180, 170, 150), (120, 100, 90), (200, 195, 185),
                               (140, 80, 60), (100, 105, 110), (210, 200, 170), (170, 120, 90)],
                              size=5))
        greens = tuple(_jitter(rng, c, 15) for c in ((60, 100, 40), (40, 80, 35), (85, 120, 50),
                                                      (55, 90, 55)))
        return Appearance(
            sky_top=sky_top,
            sky_horizon=sky_horizon,
            cloudiness=float(rng.uniform(0.0, 0.8)),
            asphalt=asphalt,
            parking=_jitter(rng, asphalt, 10),
            marking=_jitter(rng, (225, 225, 215), 15),
            sidewalk=sidewalk,
            kerb=_jitter(rng, (185, 185, 180), 10),
            verge=_jitter(rng, (90, 110, 55), 20),
            buildings=buildings,
            windows=(_jitter(rng, (40, 50, 60), 10), _jitter(rng, (90, 110, 130), 15),
                     _jitter(rng, (160, 170, 175), 15)),
            greens=greens,
            trunk=_jitter(rng, (80, 60, 45), 10),
            skyline_city=bool(rng.random() < 0.5),
            skyline_color=_jitter(rng, (120, 125, 135), 20),
            sun=sun,
            ambient=float(rng.uniform(0.45, 0.7)),
            gains=rng.uniform(0.92, 1.08, 3).astype(np.float32),
            gamma=float(rng.uniform(0.85, 1.15)),
            sky_panorama=_sky_panorama(rng, sky_top, sky_horizon),
            skyline=_skyline(rng),
            ground_tile=_ground_tile(rng),
        )

    def car_color(self, rng: np.random.Generator) -> Color:
        """Draw a vehicle paint colour."""
        return _jitter(rng, _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))], 12)

    def shade(self, color: Color, normal: np.ndarray) -> Color:
        """Lambertian shading of a surface with world normal (3,) under this drive's sun."""
        light = self.ambient + (1.0 - self.ambient) * max(0.0, float(normal @ self.sun))
        light = min(1.15, light * 1.15)
        return (min(255, int(color[0] * light)), min(255, int(color[1] * light)),
                min(255, int(color[2] * light)))


def _sky_panorama(rng: np.random.Generator, top: Color, horizon: Color) -> np.ndarray:
    """Return a 360-degree sky panorama (rows from 45 degrees elevation down to the horizon)."""
    t = np.linspace(0.0, 1.0, _SKY_H, dtype=np.float32)[:, None, None] ** 0.7
    gradient = np.asarray(top, np.float32) * (1 - t) + np.asarray(horizon, np.float32) * t
    clouds = _smooth_noise(rng, _SKY_H, _SKY_W, (8, 24, 72))
    cover = float(rng.uniform(-0.5, 1.2))
    alpha = np.clip((clouds - cover) * 0.6, 0.0, 0.85)[..., None]
    white = np.asarray((235, 235, 238), np.float32)
    sky = gradient * (1 - alpha) + white * alpha
    return np.clip(sky, 0, 255).astype(np.uint8)


def _skyline(rng: np.random.Generator) -> np.ndarray:
    """Return the distant skyline elevation (rad) per panorama column."""
    noise = _smooth_noise(rng, 1, _SKY_W, (12, 48, 180))[0]
    blocks = np.repeat(rng.uniform(0.0, 1.0, _SKY_W // 8), 8).astype(np.float32)
    mix = float(rng.uniform(0.0, 1.0))
    height = 0.006 + 0.012 * ((noise * 0.25 + 0.5) * (1 - mix) + blocks * mix)
    return np.clip(height, 0.0015, 0.05).astype(np.float32)


def _ground_tile(rng: np.random.Generator) -> np.ndarray:
    """Return a tileable texture (T, T, 3): asphalt speckle, paving joints, grass noise."""
    asphalt = 0.6 * _smooth_noise(rng, _TILE, _TILE, (8, 32, 128)) \
        + 0.4 * rng.standard_normal((_TILE, _TILE)).astype(np.float32)
    paving = np.zeros((_TILE, _TILE), np.float32)
    joint = _TILE // 20  # 0.5 m slabs
    paving[::joint, :] = -2.5
    paving[:, ::joint] = -2.5
    paving += 0.5 * _smooth_noise(rng, _TILE, _TILE, (16, 64))
    grass = _smooth_noise(rng, _TILE, _TILE, (16, 64, 128))
    return np.stack([asphalt, paving, grass], axis=-1).astype(np.float32)


def texture_weights() -> np.ndarray:
    """Return (256, 3) float32 amplitude of each ground texture channel per class id."""
    weights = np.zeros((256, 3), np.float32)
    weights[class_id('road')] = (0.07, 0.0, 0.0)
    weights[class_id('lane_marking')] = (0.05, 0.0, 0.0)
    weights[class_id('sidewalk')] = (0.02, 0.05, 0.0)
    weights[class_id('vegetation')] = (0.0, 0.0, 0.16)
    return weights


SKY_COLUMNS_PER_RAD = _SKY_W / (2 * math.pi)
SKY_ROWS_PER_RAD = _SKY_H / math.radians(45.0)
