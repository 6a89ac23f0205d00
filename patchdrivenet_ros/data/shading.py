# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Image-space shading: the sky background, world-anchored ground texture, colour grading."""

from __future__ import annotations

import math

import cv2
import numpy as np

from patchdrivenet_ros.data.appearance import (
    SKY_COLUMNS_PER_RAD,
    SKY_ROWS_PER_RAD,
    TILE_METRES,
    Appearance,
    texture_weights,
)
from patchdrivenet_ros.data.camera import Camera
from patchdrivenet_ros.data.render import GROUND_BIT

_PAD = 64  # rows replicated above and below the sky panorama
_WEIGHTS = np.concatenate([np.zeros((GROUND_BIT, 3), np.float32),
                           texture_weights()[:GROUND_BIT]])  # by class | ground bit


def horizon_row(cam: Camera) -> float:
    """Image row of the horizon at the centre column."""
    left, right = cam.horizon()
    slope = (right[1] - left[1]) / (right[0] - left[0])
    return float(left[1] + slope * (cam.cx - left[0]))


def padded_sky(look: Appearance) -> np.ndarray:
    """Return the sky panorama with replicated rows above and below, ready to warp."""
    return cv2.copyMakeBorder(look.sky_panorama, _PAD, _PAD, 0, 0, cv2.BORDER_REPLICATE)


def sky_image(sky: np.ndarray, cam: Camera) -> np.ndarray:
    """Render the sky seen by ``cam`` (H, W, 3) uint8; it moves only with rotation."""
    forward = cam.rotation.T @ np.array([0.0, 0.0, 1.0])
    heading = math.atan2(forward[0], forward[2])
    v_h = horizon_row(cam)
    width = sky.shape[1]
    col0 = (heading - cam.cx / cam.focal) * SKY_COLUMNS_PER_RAD
    col0 = col0 % width
    rows_top = math.radians(45.0) * SKY_ROWS_PER_RAD + _PAD
    m = np.array([[SKY_COLUMNS_PER_RAD / cam.focal, 0.0, col0],
                  [0.0, SKY_ROWS_PER_RAD / cam.focal,
                   rows_top - SKY_ROWS_PER_RAD * v_h / cam.focal]])
    left, right = cam.horizon()
    rows = int(np.clip(math.ceil(max(left[1], right[1]) + 2.0), 0, cam.height))
    image = np.empty((cam.height, cam.width, 3), np.uint8)
    if rows > 0:
        cv2.warpAffine(sky, m, (cam.width, rows), dst=image[:rows],
                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_WRAP)
    image[rows:] = 0  # always covered by the ground
    return image


def ground_texture(image: np.ndarray, label: np.ndarray, cam: Camera, tile: np.ndarray) -> None:
    """Modulate ground pixels in place with the world-anchored texture tile.

    The texture factor is computed at half resolution and upsampled: the tile is smooth and
    the factor stays within a few percent of 1, so this costs no visible detail.
    """
    h, w = cam.height, cam.width
    horizon = horizon_row(cam)
    v0 = int(max(0.0, math.floor(horizon - 0.05 * h)))
    if v0 >= h - 2:
        return
    hh, hw = (h - v0 + 1) // 2, (w + 1) // 2
    texel = TILE_METRES / tile.shape[0]
    origin_x = math.floor(cam.position[0] / TILE_METRES) * TILE_METRES
    origin_z = math.floor(cam.position[2] / TILE_METRES) * TILE_METRES
    to_tile = np.array([[1.0 / texel, 0.0, -origin_x / texel],
                        [0.0, 1.0 / texel, -origin_z / texel], [0.0, 0.0, 1.0]])
    half = np.array([[2.0, 0.0, 0.5], [0.0, 2.0, v0 + 0.5], [0.0, 0.0, 1.0]])
    m = to_tile @ np.linalg.inv(cam.ground_homography()) @ half
    tex = cv2.warpPerspective(tile, m, (hw, hh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_WRAP)  # (hh, hw, 3)
    codes = label[v0::2, ::2] & (GROUND_BIT | 15)  # (hh, hw)
    weights = _WEIGHTS[codes]  # (hh, hw, 3)
    rows = v0 + 2.0 * np.arange(hh, dtype=np.float32)
    fade = np.clip((rows - horizon) / (0.08 * h), 0.0, 1.0)
    factor = 1.0 + (weights * tex).sum(axis=2) * fade[:, None]
    scaled = np.clip(factor * 128.0, 0, 255).astype(np.uint8)
    full = cv2.resize(scaled, (w, h - v0), interpolation=cv2.INTER_LINEAR)
    part = image[v0:]
    cv2.multiply(part, cv2.merge([full, full, full]), dst=part, scale=1.0 / 128.0)


def grading_lut(look: Appearance) -> np.ndarray:
    """Return a (256, 1, 3) uint8 lookup table with the drive's gamma and white balance."""
    x = np.arange(256, dtype=np.float32)[:, None] / 255.0
    y = np.power(x, look.gamma) * look.gains[None, :]
    return np.clip(y * 255.0, 0, 255).astype(np.uint8)[:, None, :]
