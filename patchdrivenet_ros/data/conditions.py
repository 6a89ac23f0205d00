# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Adverse conditions: night, fog, rain, snow, motion blur and sensor noise.

They change pixels only; the labels of a frame stay exactly those of the clear scene.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import cv2
import numpy as np

from patchdrivenet_ros.data.appearance import Color


@dataclass(frozen=True)
class Light:
    """A visible light source in pixels."""

    u: float
    v: float
    radius: float  # px
    color: Color


@dataclass(frozen=True)
class Context:
    """What the conditions need to know about a frame besides its pixels."""

    depth: np.ndarray | None  # (H, W) float32 metres, inf for sky
    ground: np.ndarray  # (H, W) bool, pixels on the ground plane
    lights: list[Light]
    horizon: float  # image row of the horizon at the centre column
    speed: float  # m/s
    yaw_rate: float  # rad/s
    focal: float
    fps: float
    strength: float  # per-drive severity in [0, 1]


def apply_conditions(image: np.ndarray, conditions: tuple[str, ...], ctx: Context,
                     rng: np.random.Generator, noise_bank: np.ndarray | None) -> np.ndarray:
    """Return ``image`` (H, W, 3) uint8 RGB with the named conditions applied in a fixed order."""
    out = image
    if 'night' in conditions:
        out = _night(out, ctx)
    if 'fog' in conditions:
        out = _fog(out, ctx, night='night' in conditions)
    if 'rain' in conditions:
        out = _rain(out, ctx, rng)
    if 'snow' in conditions:
        out = _snow(out, ctx, rng)
    if 'motion_blur' in conditions:
        out = _motion_blur(out, ctx)
    if 'noise' in conditions and noise_bank is not None:
        out = _noise(out, rng, noise_bank, scale=2.0 if 'night' in conditions else 1.0)
    return out


def _night(image: np.ndarray, ctx: Context) -> np.ndarray:
    h, w = image.shape[:2]
    img = image.astype(np.float32)
    dark = img * np.array([0.13, 0.14, 0.19], np.float32)
    if ctx.depth is not None:
        # Low-beam headlights: a cone about the optical axis, mostly below the horizon.
        u = np.arange(w, dtype=np.float32)
        cone = np.exp(-(((u - w / 2) / (0.24 * w)) ** 2))[None, :]
        v = np.arange(h, dtype=np.float32)[:, None]
        rows = np.clip((v - ctx.horizon + 0.08 * h) / (0.25 * h), 0.0, 1.0)
        beam = 1.2 * np.exp(-ctx.depth / 30.0) * cone * rows
        dark += img * np.minimum(beam, 1.0)[..., None] * 0.8
    glow = np.zeros((h // 4 + 1, w // 4 + 1, 3), np.float32)
    for light in ctx.lights:
        r = min(max(1.0, light.radius * 2.5 / 4.0), 0.004 * w)
        cv2.circle(glow, (int(light.u / 4), int(light.v / 4)), int(math.ceil(r)),
                   tuple(float(c) * 1.2 for c in light.color), -1)
    sigma = max(1.0, 0.006 * w)
    glow = cv2.GaussianBlur(glow, (0, 0), sigma)
    glow = cv2.resize(glow, (w, h), interpolation=cv2.INTER_LINEAR)
    core = np.zeros_like(dark)
    for light in ctx.lights:
        cv2.circle(core, (int(light.u), int(light.v)), int(np.clip(light.radius, 1, 0.01 * w)),
                   tuple(float(c) for c in light.color), -1)
    out = dark + glow * 2.5 + core
    return np.clip(out, 0, 255).astype(np.uint8)


def _fog(image: np.ndarray, ctx: Context, night: bool) -> np.ndarray:
    if ctx.depth is None:
        return image
    visibility = 140.0 - 100.0 * ctx.strength  # metres
    transmit = np.exp(-3.0 / visibility * np.minimum(ctx.depth, 1e4))[..., None]
    air = np.array([38, 40, 48] if night else [200, 202, 206], np.float32)
    out = image.astype(np.float32) * transmit + air * (1.0 - transmit)
    return np.clip(out, 0, 255).astype(np.uint8)


def _rain(image: np.ndarray, ctx: Context, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    count = int(w * h / 900 * (0.5 + ctx.strength))
    x = rng.uniform(0, w, count)
    y = rng.uniform(0, h, count)
    length = rng.uniform(0.02, 0.07, count) * h
    slant = rng.normal(0.15, 0.05, count)
    ends = np.stack([x + slant * length, y + length], 1)
    lines = np.stack([np.stack([x, y], 1), ends], 1).astype(np.int32)
    layer = np.zeros((h, w), np.uint8)
    cv2.polylines(layer, list(lines), False, 255, max(1, w // 1400), cv2.LINE_AA)
    streaks = cv2.blur(layer, (3, 3)).astype(np.float32)
    out = image.astype(np.float32) * 0.82 + 12.0
    out += (streaks * (0.35 * (0.5 + ctx.strength)))[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _snow(image: np.ndarray, ctx: Context, rng: np.random.Generator) -> np.ndarray:
    h, w = image.shape[:2]
    out = image.astype(np.float32)
    ground = ctx.ground[..., None]
    out = np.where(ground, out * 0.45 + 125.0, out * 0.85 + 30.0)
    small = np.zeros((h // 2 + 1, w // 2 + 1), np.float32)
    count = int(w * h / 500 * (0.5 + ctx.strength))
    ys = rng.integers(0, small.shape[0], count)
    xs = rng.integers(0, small.shape[1], count)
    small[ys, xs] = rng.uniform(150, 255, count)
    small = cv2.GaussianBlur(small, (0, 0), 0.7)
    flakes = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) * 2.0
    big = np.zeros((h, w), np.float32)
    for _ in range(int(40 + 80 * ctx.strength)):
        cv2.circle(big, (int(rng.integers(w)), int(rng.integers(h))),
                   int(rng.integers(2, max(3, h // 90))), 230.0, -1, cv2.LINE_AA)
    flakes = np.maximum(flakes, cv2.GaussianBlur(big, (0, 0), 1.0))
    out = out + flakes[..., None] * 0.8
    return np.clip(out, 0, 255).astype(np.uint8)


def _motion_blur(image: np.ndarray, ctx: Context) -> np.ndarray:
    h, w = image.shape[:2]
    exposure = (0.1 + 0.2 * ctx.strength) / ctx.fps
    zoom = ctx.speed * exposure / 20.0  # relative scale change of a point 20 m away
    out = image
    if zoom > 1e-3:
        acc = image.astype(np.float32)
        centre = (w / 2.0, ctx.horizon)
        for k in (1, 2, 3):
            m = cv2.getRotationMatrix2D(centre, 0.0, 1.0 + zoom * k / 3.0)
            acc += cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REFLECT).astype(np.float32)
        out = (acc / 4.0).astype(np.uint8)
    shift = abs(ctx.yaw_rate) * exposure * ctx.focal + max(2.0, 0.003 * w)  # plus shake
    length = int(round(shift))
    if length >= 2:
        kernel = np.full((1, length), 1.0 / length, np.float32)
        out = cv2.filter2D(out, -1, kernel, borderType=cv2.BORDER_REFLECT)
    return out


def _noise(image: np.ndarray, rng: np.random.Generator, bank: np.ndarray,
           scale: float) -> np.ndarray:
    h, w = image.shape[:2]
    dy = int(rng.integers(0, bank.shape[0] - h + 1))
    dx = int(rng.integers(0, bank.shape[1] - w + 1))
    grain = bank[dy:dy + h, dx:dx + w].astype(np.int16)
    if scale != 1.0:
        grain = (grain * scale).astype(np.int16)
    return np.clip(image.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def noise_bank(rng: np.random.Generator, height: int, width: int, sigma: float) -> np.ndarray:
    """Return a (H + 24, W + 24, 3) int8 bank of Gaussian sensor noise to crop frames from."""
    values = rng.standard_normal((height + 24, width + 24, 3), dtype=np.float32) * sigma
    return np.clip(values, -127, 127).astype(np.int8)
