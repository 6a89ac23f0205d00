# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ground layer of a frame: sky, verge, distant skyline, sidewalks, road and markings.

Everything here lies on (or at infinity beyond) the ground, so it is painted before any
standing object.
"""

from __future__ import annotations

import math

import numpy as np

from patchdrivenet_ros.classes import class_id
from patchdrivenet_ros.data.appearance import SKY_COLUMNS_PER_RAD
from patchdrivenet_ros.data.camera import Camera
from patchdrivenet_ros.data.render import Drawing, Painter, Primitive, label_code
from patchdrivenet_ros.data.scene import World

_DASH = 3.0
_DASH_PERIOD = 10.0


def _samples(ego_s: float, view: float) -> np.ndarray:
    """Arc lengths from behind the camera to the view distance, denser near."""
    near = np.linspace(-8.0, 12.0, 9)
    far = 12.0 * 1.12 ** np.arange(1, 60)
    far = far[far < view]
    return ego_s + np.concatenate([near, far, [view]])


def _band(world: World, s: np.ndarray, d0: float, d1: float) -> np.ndarray:
    """Return a ground polygon (2n, 3) between lateral offsets d0 and d1 along s."""
    x0, z0 = world.road.to_world(s, d0)
    x1, z1 = world.road.to_world(s[::-1], d1)
    xs = np.concatenate([x0, x1])
    zs = np.concatenate([z0, z1])
    return np.stack([xs, np.zeros_like(xs), zs], axis=1)


def _quads(world: World, s0: np.ndarray, s1: np.ndarray, d0: np.ndarray,
           d1: np.ndarray) -> np.ndarray:
    """Return ground quads (P, 4, 3) spanning [s0, s1] x [d0, d1] in road coordinates."""
    ss = np.stack([s0, s1, s1, s0], axis=1)
    dd = np.stack([d0, d0, d1, d1], axis=1)
    x, z = world.road.to_world(ss, dd)
    return np.stack([x, np.zeros_like(x), z], axis=2)


def sky_and_verge(painter: Painter, world: World) -> Drawing:
    """Return the sky above the horizon, the verge below it and the distant skyline."""
    cam = painter.cam
    look = world.look
    left, right = cam.horizon()
    top = -4.0 * (cam.width + cam.height)
    bottom = 5.0 * (cam.width + cam.height)
    drawing = Drawing(distance=np.inf)
    sky = np.array([[left[0], top], [right[0], top], right, left])
    ground = np.array([left, right, [right[0], bottom], [left[0], bottom]])
    drawing.primitives.append(Primitive([sky], (0, 0, 0), label_code(class_id('sky')), np.inf,
                                        label_only=True))
    drawing.primitives.append(Primitive([ground], look.verge,
                                        label_code(class_id('vegetation'), ground=True), 1e4))
    # Distant skyline: elevation by azimuth, at infinity, so it moves only with rotation.
    u = np.linspace(-2.0, cam.width + 2.0, 96)
    forward = cam.rotation.T @ np.array([0.0, 0.0, 1.0])
    heading = math.atan2(forward[0], forward[2])
    azimuth = heading + np.arctan((u - cam.cx) / cam.focal)
    cols = (azimuth * SKY_COLUMNS_PER_RAD).astype(np.int64) % look.skyline.size
    elevation = look.skyline[cols]
    slope = (right[1] - left[1]) / (right[0] - left[0])
    v_h = left[1] + slope * (u - left[0])
    v_top = v_h - cam.focal * np.tan(elevation)
    poly = np.concatenate([np.stack([u, v_top], 1), np.stack([u[::-1], v_h[::-1] + 1.0], 1)])
    cls = class_id('building') if look.skyline_city else class_id('vegetation')
    color = look.skyline_color if look.skyline_city else look.greens[1]
    drawing.primitives.append(Primitive([poly], color, label_code(cls), 1e4))
    return drawing


def road_surface(painter: Painter, world: World, ego_s: float) -> Drawing:
    """Return sidewalks, kerbs, side streets, the carriageway and its markings."""
    lay = world.layout
    look = world.look
    s = _samples(ego_s, world.config.view_distance)
    drawing = Drawing(distance=np.inf)
    side_code = label_code(class_id('sidewalk'), ground=True)
    road_code = label_code(class_id('road'), ground=True)
    mark_code = label_code(class_id('lane_marking'), ground=True)
    forecourt = 3.0 * world.urban
    for d_kerb, walk in ((lay.right_edge, lay.sidewalk_right),
                         (lay.left_edge, -lay.sidewalk_left)):
        sign = 1.0 if walk > 0 else -1.0
        painter.polygon(drawing, _band(world, s, d_kerb, d_kerb + walk + sign * forecourt),
                        look.sidewalk, side_code)
        painter.polygon(drawing, _band(world, s, d_kerb, d_kerb + sign * 0.18), look.kerb,
                        side_code)
    near = world.junctions[(world.junctions > ego_s - 30) &
                           (world.junctions < ego_s + world.config.view_distance + 20)]
    for sj, side, width in world.side_streets:
        if sj not in near:
            continue
        kerb = lay.right_edge if side > 0 else lay.left_edge
        quad = _quads(world, np.array([sj - width / 2]), np.array([sj + width / 2]),
                      np.array([kerb]), np.array([kerb + side * 60.0]))[0]
        painter.polygon(drawing, quad, look.asphalt, road_code)
    painter.polygon(drawing, _band(world, s, lay.left_edge, lay.right_edge), look.asphalt,
                    road_code)
    for d0, width in ((lay.lanes_forward * lay.lane_width, lay.parking_right),
                      (-lay.lanes_oncoming * lay.lane_width, -lay.parking_left)):
        if width != 0.0:
            painter.polygon(drawing, _band(world, s, d0, d0 + width), look.parking, road_code)
    _markings(painter, world, drawing, s, ego_s, mark_code, near)
    return drawing


def _markings(painter: Painter, world: World, drawing: Drawing, s: np.ndarray, ego_s: float,
              code: int, junctions: np.ndarray) -> None:
    lay = world.layout
    color = world.look.marking
    w = lay.marking_width
    solid = [lay.lanes_forward * lay.lane_width - w, -lay.lanes_oncoming * lay.lane_width + w]
    dashed = [i * lay.lane_width for i in range(1, lay.lanes_forward)]
    dashed += [-i * lay.lane_width for i in range(1, lay.lanes_oncoming)]
    if lay.centre_line == 'solid':
        solid.append(0.0)
    elif lay.centre_line == 'double':
        solid += [-1.2 * w, 1.2 * w]
    else:
        dashed.append(0.0)
    for d in solid:
        painter.polygon(drawing, _band(world, s, d - w / 2, d + w / 2), color, code)
    first = math.floor((ego_s - 8.0) / _DASH_PERIOD) * _DASH_PERIOD
    starts = np.arange(first, s[-1], _DASH_PERIOD)
    if dashed and starts.size:
        s0 = np.repeat(starts, len(dashed))
        offsets = np.tile(np.asarray(dashed), starts.size)
        painter.polygons(drawing, _quads(world, s0, s0 + _DASH, offsets - w / 2,
                                         offsets + w / 2), color, code)
    for sj in junctions:
        zebra = np.arange(lay.left_edge + 0.4, lay.right_edge - 0.4, 1.1)
        s0 = np.full(zebra.size, sj - 8.0)
        painter.polygons(drawing, _quads(world, s0, s0 + 3.0, zebra, zebra + 0.5), color, code)
        stop = _quads(world, np.array([sj - 10.0]), np.array([sj - 9.6]), np.array([0.0]),
                      np.array([lay.lanes_forward * lay.lane_width]))
        painter.polygons(drawing, stop, color, code)


def camera_for(world: World, index: int) -> Camera:
    """Return the camera of frame ``index``."""
    pose = world.ego[index]
    cfg = world.config
    return Camera.at(cfg.focal_length, cfg.width, cfg.height,
                     (pose.x, cfg.camera_height, pose.z), pose.heading, pose.pitch, pose.roll)
