# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Seeded procedural driving video with exact labels.

``generate_drive(config)`` yields ``LabeledFrame``s of one drive: a perspective street scene
(road, lane markings, sidewalks, buildings, vegetation, sky, poles, traffic signs and lights,
parked and moving cars and trucks, pedestrians, cyclists) seen from a moving ego camera.
The same config gives the same frames, bit for bit. Labels are exact: image and label buffer
are filled with the same integer polygons, far to near, so occlusion is what the pixels show.

Example::

    from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
    for frame in generate_drive(profile_config('kitti', num_frames=20, seed=3)):
        frame.image, frame.mask, frame.boxes
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX
from patchdrivenet_ros.data.conditions import Context, Light, apply_conditions, noise_bank
from patchdrivenet_ros.data.drive_config import CONDITIONS, PROFILES, DriveConfig, profile_config
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.ground import camera_for, road_surface, sky_and_verge
from patchdrivenet_ros.data.labels import extract_boxes
from patchdrivenet_ros.data.render import (
    GROUND_BIT,
    INSTANCE_SHIFT,
    Canvas,
    Drawing,
    Painter,
    paint_order,
)
from patchdrivenet_ros.data.scene import World
from patchdrivenet_ros.data.shading import (
    grading_lut,
    ground_texture,
    horizon_row,
    padded_sky,
    sky_image,
)
from patchdrivenet_ros.data.shapes import block, furniture, person, tree, vehicle

__all__ = ['CONDITIONS', 'PROFILES', 'DriveConfig', 'generate_drive', 'profile_config']

_SEED_STREAM = 0x5EED


def generate_drive(config: DriveConfig, start: int = 0, step: int = 1) -> Iterator[LabeledFrame]:
    """Yield frames start, start + step, ... of the drive defined by ``config``.

    Each frame is a pure function of the config and its index, so frames skipped by ``step``
    are never rendered, and the frames yielded equal those of the full drive bit for bit.
    """
    if start < 0 or step < 1:
        raise ValueError(f'need start >= 0 and step >= 1, got start={start}, step={step}')
    world = World(config)
    sky = padded_sky(world.look)
    lut = grading_lut(world.look)
    effects = np.random.default_rng([config.seed, _SEED_STREAM])
    strength = float(effects.uniform(0.3, 1.0))
    bank = (noise_bank(effects, config.height, config.width, float(effects.uniform(3.0, 7.0)))
            if 'noise' in config.conditions else None)
    for index in range(start, config.num_frames, step):
        yield _render(world, index, sky, lut, strength, bank)


def _drawings(world: World, painter: Painter, index: int, shadows: Drawing) -> list[Drawing]:
    """Return the drawings of every object in view at frame ``index``."""
    ego = world.ego[index]
    cam = painter.cam
    drawings: list[Drawing] = []
    instance = 1

    def in_view(x: float, z: float, radius: float) -> bool:
        p = cam.to_camera(np.array([[x, 0.0, z]]))[0]
        if p[2] < -radius or p[2] > world.config.view_distance + radius:
            return False
        return abs(p[0]) - radius < (cam.width / 2 / cam.focal) * max(p[2], 0.0) + 2.0

    for i in world.visible(world.block_s, ego.s, 60.0):
        item = world.blocks[i]
        if in_view(item.x, item.z, max(item.length, item.depth)):
            drawings.append(block(painter, world, item))
    for i in world.visible(world.tree_s, ego.s):
        item_t = world.trees[i]
        if in_view(item_t.x, item_t.z, 4.0):
            drawings.append(tree(painter, world, item_t))
    for i in world.visible(world.furniture_s, ego.s):
        item_f = world.furniture[i]
        if in_view(item_f.x, item_f.z, 3.0 + item_f.arm):
            drawings.append(furniture(painter, world, item_f, index, instance))
            instance += 1
    for actor in world.actors:
        assert actor.x is not None and actor.z is not None
        s = actor.s[index]
        if not ego.s - 25.0 < s < ego.s + world.config.view_distance + 15.0:
            continue
        if not in_view(float(actor.x[index]), float(actor.z[index]), actor.length):
            continue
        if actor.kind in ('car', 'truck'):
            drawings.append(vehicle(painter, world, actor, index, instance, shadows))
        else:
            drawings.append(person(painter, world, actor, index, instance, shadows))
        instance += 1
    return [d for d in drawings if d.primitives]


def _render(world: World, index: int, sky: np.ndarray, lut: np.ndarray, strength: float,
            bank: np.ndarray | None) -> LabeledFrame:
    cfg = world.config
    cam = camera_for(world, index)
    painter = Painter(cam)
    conditions = cfg.conditions
    canvas = Canvas(sky_image(sky, cam), with_depth='fog' in conditions or 'night' in conditions)
    ego = world.ego[index]
    shadows = Drawing(distance=np.inf)
    drawings = _drawings(world, painter, index, shadows)
    canvas.paint(sky_and_verge(painter, world))
    canvas.paint(road_surface(painter, world, ego.s))
    canvas.paint(shadows)
    for i in paint_order(drawings, cam.position[[0, 2]]):
        canvas.paint(drawings[i])
    labels = extract_boxes(canvas.label, drawings, cam, cfg.min_box_pixels)
    image = canvas.image
    ground_texture(image, canvas.label, cam, world.look.ground_tile)
    image = cv2.LUT(image, lut)
    image = cv2.GaussianBlur(image, (3, 3), 0.55)
    mask = (canvas.label & 15).astype(np.uint8)
    mask[mask >= len(CLASS_NAMES)] = IGNORE_INDEX
    if conditions:
        ground = (canvas.label & GROUND_BIT) > 0
        ctx = Context(
            depth=_depth(canvas, ground, cam.focal, cfg.camera_height, horizon_row(cam)),
            ground=ground,
            lights=_lights(drawings, painter, canvas.label),
            horizon=horizon_row(cam),
            speed=ego.speed,
            yaw_rate=ego.yaw_rate,
            focal=cam.focal,
            fps=cfg.fps,
            strength=strength,
        )
        rng = np.random.default_rng([cfg.seed, index, _SEED_STREAM])
        image = apply_conditions(image, conditions, ctx, rng, bank)
    return LabeledFrame(
        image=np.ascontiguousarray(image),
        mask=mask,
        boxes=labels.boxes,
        class_ids=labels.class_ids,
        track_ids=labels.track_ids,
        truncation=labels.truncation,
        occlusion=labels.occlusion,
        stamp_ns=cfg.start_ns + int(round(index * 1e9 / cfg.fps)),
        index=index,
        ignore_boxes=labels.ignore,
        boxes_3d=labels.boxes_3d,
        camera_matrix=cam.matrix,
        camera_pose=cam.pose,
    )


def _depth(canvas: Canvas, ground: np.ndarray, focal: float, cam_height: float,
           horizon: float) -> np.ndarray | None:
    """Per-pixel depth: exact flat-ground depth on the ground, painted depth elsewhere."""
    if canvas.depth is None:
        return None
    h = canvas.depth.shape[0]
    rows = np.arange(h, dtype=np.float32) - horizon
    ground_depth = np.where(rows > 0.5, focal * cam_height / np.maximum(rows, 0.5), 1e4)
    return np.where(ground, ground_depth[:, None].astype(np.float32), canvas.depth)


def _lights(drawings: list[Drawing], painter: Painter, label: np.ndarray) -> list[Light]:
    """Project the light sources of the drawings; drop those hidden behind something else."""
    cam = painter.cam
    h, w = label.shape
    lights = []
    for drawing in drawings:
        for point, radius, color in drawing.lights:
            p = cam.to_camera(point[None])[0]
            if p[2] < 1.0:
                continue
            u, v = cam.project(p[None])[0]
            if not (0 <= u < w and 0 <= v < h):
                continue
            owner = label[int(v), int(u)] >> INSTANCE_SHIFT
            if drawing.instance and owner != drawing.instance:
                continue
            lights.append(Light(float(u), float(v), max(1.0, cam.focal * radius / p[2] * 0.5),
                                color))
    return lights

