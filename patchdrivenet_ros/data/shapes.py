# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Primitives of each kind of object: buildings, trees, poles, signs, lights, vehicles, people."""

from __future__ import annotations

import math

import numpy as np

from patchdrivenet_ros.classes import class_id
from patchdrivenet_ros.data.appearance import Color
from patchdrivenet_ros.data.render import Drawing, Painter, Target, label_code
from patchdrivenet_ros.data.scene import Actor, Block, Furniture, Tree, World

UP = np.array([0.0, 1.0, 0.0])
_GLASS: Color = (45, 55, 68)
_TYRE: Color = (22, 22, 24)
_SIGN_SHAPES = {
    'circle': np.stack([np.cos(np.linspace(0, 2 * np.pi, 14, endpoint=False)) * 0.5,
                        np.sin(np.linspace(0, 2 * np.pi, 14, endpoint=False)) * 0.5], 1),
    'octagon': np.stack([np.cos(np.linspace(0, 2 * np.pi, 8, endpoint=False) + np.pi / 8) * 0.5,
                         np.sin(np.linspace(0, 2 * np.pi, 8, endpoint=False) + np.pi / 8) * 0.5],
                        1),
    'triangle': np.array([[0.0, 0.5], [0.5, -0.38], [-0.5, -0.38]]),
    'square': np.array([[-0.45, -0.45], [0.45, -0.45], [0.45, 0.45], [-0.45, 0.45]]),
    'diamond': np.array([[0.0, 0.5], [0.5, 0.0], [0.0, -0.5], [-0.5, 0.0]]),
}


def _axes(yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the forward and right unit vectors (3,) of a heading."""
    return (np.array([math.sin(yaw), 0.0, math.cos(yaw)]),
            np.array([math.cos(yaw), 0.0, -math.sin(yaw)]))


def _scale(color: Color, k: float) -> Color:
    return (min(255, int(color[0] * k)), min(255, int(color[1] * k)), min(255, int(color[2] * k)))


def _distance(painter: Painter, x: float, z: float) -> float:
    return float(math.hypot(x - painter.cam.position[0], z - painter.cam.position[2]))


def block(painter: Painter, world: World, item: Block) -> Drawing:
    """Return a building (box with a window grid on its visible walls) or a hedge."""
    fwd, right = _axes(item.yaw)
    centre = np.array([item.x, 0.0, item.z])
    hl, hd = item.length / 2, item.depth / 2
    corners = np.array([[hl, hd], [hl, -hd], [-hl, -hd], [-hl, hd]])
    footprint = (np.array([item.x, item.z]) + corners[:, :1] * fwd[[0, 2]]
                 + corners[:, 1:] * right[[0, 2]])
    cam_xz = painter.cam.position[[0, 2]]
    nearest = float(np.min(np.hypot(*(footprint - cam_xz).T)))
    drawing = Drawing(distance=nearest, backdrop=True, footprint=footprint,
                      anchor=np.array([item.x, item.z]))
    code = label_code(item.cls)
    colors = (item.color,) * 4 + (_scale(item.color, 0.8),)
    shown = painter.box(drawing, centre, item.yaw, item.length, item.depth, item.height, colors,
                        code, world.look.shade)
    if item.window_seed >= 0:
        _windows(painter, world, drawing, item, shown, code)
    return drawing


def _windows(painter: Painter, world: World, drawing: Drawing, item: Block,
             shown: tuple[str, ...], code: int) -> None:
    """Add a facade grid of windows on the visible walls of a building."""
    rng = np.random.default_rng(item.window_seed)
    floor = float(rng.uniform(2.8, 3.6))
    spacing = float(rng.uniform(2.2, 3.8))
    ww = spacing * float(rng.uniform(0.35, 0.7))
    wh = floor * float(rng.uniform(0.35, 0.6))
    shop = rng.random() < 0.5
    fwd, right = _axes(item.yaw)
    centre = np.array([item.x, 0.0, item.z])
    hl, hd = item.length / 2, item.depth / 2
    walls = {  # origin corner, along-wall axis, wall length, outward normal
        'right': (centre + right * hd + fwd * hl, -fwd, item.length, right),
        'left': (centre - right * hd - fwd * hl, fwd, item.length, -right),
        'front': (centre + fwd * hl - right * hd, right, item.depth, fwd),
        'back': (centre - fwd * hl + right * hd, -right, item.depth, -fwd),
    }
    for name in shown:
        if name == 'top':
            continue
        origin, along, length, normal = walls[name]
        dist = float(np.linalg.norm(painter.cam.to_camera(origin[None])[0]))
        if painter.cam.focal * floor / max(dist, 1.0) < 3.0:
            continue
        cols = np.arange(spacing / 2, length - spacing / 2 + 1e-6, spacing)
        rows = np.arange(1.0 if not shop else floor + 0.8, item.height - wh - 0.4, floor)
        if cols.size == 0 or rows.size == 0:
            continue
        uu, vv = np.meshgrid(cols, rows)
        u0 = uu.ravel() - ww / 2
        v0 = vv.ravel()
        quad_u = np.stack([u0, u0 + ww, u0 + ww, u0], 1)
        quad_v = np.stack([v0, v0, v0 + wh, v0 + wh], 1)
        pts = (origin + normal * 0.03 + quad_u[..., None] * along
               + quad_v[..., None] * UP)  # (P, 4, 3)
        pick = rng.integers(0, len(world.look.windows), size=pts.shape[0])
        for k, color in enumerate(world.look.windows):
            painter.polygons(drawing, pts[pick == k], world.look.shade(color, normal), code)
        if shop:
            s0 = np.arange(0.4, length - 1.0, spacing * 1.5)
            quad_u = np.stack([s0, s0 + spacing * 1.2, s0 + spacing * 1.2, s0], 1)
            quad_v = np.tile(np.array([0.3, 0.3, floor - 0.6, floor - 0.6]), (s0.size, 1))
            pts = origin + normal * 0.03 + quad_u[..., None] * along + quad_v[..., None] * UP
            painter.polygons(drawing, pts, world.look.shade(world.look.windows[1], normal), code)


def tree(painter: Painter, world: World, item: Tree) -> Drawing:
    """Return a tree: trunk and crown blobs, lit from the sun's side."""
    drawing = Drawing(distance=_distance(painter, item.x, item.z),
                      anchor=np.array([item.x, item.z]))
    code = label_code(class_id('vegetation'))
    base = np.array([item.x, 0.0, item.z])
    painter.capsule(drawing, base, base + UP * item.trunk_height, item.trunk_radius,
                    world.look.trunk, code)
    sun = world.look.sun
    detail = painter.pixels(float(item.crowns[0, 3]), drawing.distance) >= 6.0
    for (dx, y, dz, r), color in zip(item.crowns, item.colors, strict=True):
        centre = np.array([item.x + dx, y, item.z + dz])
        painter.disc(drawing, centre, r, _scale(color, 0.8), code)
        if detail:
            painter.disc(drawing, centre + sun * r * 0.3, r * 0.6, _scale(color, 1.15), code, 8)
    return drawing


def furniture(painter: Painter, world: World, item: Furniture, index: int,
              instance: int) -> Drawing:
    """Return a street lamp, a traffic sign or a traffic light with its pole."""
    drawing = Drawing(distance=_distance(painter, item.x, item.z),
                      anchor=np.array([item.x, item.z]), instance=instance)
    pole = label_code(class_id('pole'))
    base = np.array([item.x, 0.0, item.z])
    look = world.look
    if item.kind == 'lamp':
        top = base + UP * item.height
        arm_dir = np.array([math.sin(item.facing), 0.0, math.cos(item.facing)])
        head = top + arm_dir * item.arm + UP * 0.15
        _limbs(painter, drawing, [(base, top, 0.09, item.colors[0]),
                                  (top, head, 0.05, item.colors[0]),
                                  (head - arm_dir * 0.3, head + arm_dir * 0.25, 0.12,
                                   (190, 190, 185))], pole)
        drawing.lights.append((head - UP * 0.12, 0.6, (255, 220, 170)))
        return drawing
    normal, across = _axes(item.facing)
    toward = float(normal @ (painter.cam.position - base)) > 0.0
    if item.kind == 'sign':
        code = label_code(class_id('traffic_sign'), instance)
        centre = base + UP * item.height + normal * 0.05
        outline = _SIGN_SHAPES[item.shape] * item.size
        plate = centre + outline[:, :1] * across + outline[:, 1:] * UP
        if not toward:
            painter.polygon(drawing, plate, look.shade(item.colors[2], -normal), code)
        painter.capsule(drawing, base, base + UP * (item.height + 0.2), 0.045, (120, 122, 125),
                        pole)
        if toward:
            outer, inner = item.colors[0], item.colors[1]
            if item.shape == 'square':
                outer, inner = inner, outer
            painter.polygon(drawing, plate + normal * 0.01, look.shade(outer, normal), code)
            painter.polygon(drawing, centre + normal * 0.02 + 0.72 * (
                outline[:, :1] * across + outline[:, 1:] * UP), look.shade(inner, normal), code)
            mark = np.array([[-0.18, -0.05], [0.18, -0.05], [0.18, 0.05], [-0.18, 0.05]])
            mark = mark * item.size
            painter.polygon(drawing, centre + normal * 0.03 + mark[:, :1] * across
                            + mark[:, 1:] * UP, (40, 40, 45), code)
        drawing.target = Target(item.track_id, class_id('traffic_sign'), 0.06, item.size,
                                item.size, float(centre[0]), float(centre[2]),
                                item.height - item.size / 2, item.facing)
        return drawing
    code = label_code(class_id('traffic_light'), instance)
    top = base + UP * item.height
    painter.capsule(drawing, base, top + UP * 0.2, 0.08, item.colors[1], pole)
    housing_at = top
    if item.arm > 0.0:
        arm_dir = -across
        housing_at = top + arm_dir * item.arm
        painter.capsule(drawing, top, housing_at + arm_dir * 0.3, 0.06, item.colors[1], pole)
    housing_base = housing_at - UP * 0.55 + normal * 0.05
    shown = painter.box(drawing, housing_base, item.facing, 0.3, item.size, 0.95,
                        (item.colors[0],) * 5, code, look.shade)
    state = world.light_state(item, index)
    lamps = ((255, 40, 30), (255, 180, 20), (40, 255, 90))
    if 'front' in shown:
        ring = np.linspace(0.0, 2 * np.pi, 10, endpoint=False)
        circle = np.stack([np.cos(ring), np.sin(ring)], 1) * 0.11
        for k, lit in enumerate(lamps):
            centre = housing_base + UP * (0.78 - 0.3 * k) + normal * 0.16
            color = lit if k == state else _scale(lit, 0.22)
            painter.polygon(drawing, centre + circle[:, :1] * across + circle[:, 1:] * UP,
                            color, code)
            if k == state:
                drawing.lights.append((centre + normal * 0.05, 0.35, lit))
    drawing.target = Target(item.track_id, class_id('traffic_light'), 0.3, item.size, 0.95,
                            float(housing_base[0]), float(housing_base[2]),
                            float(housing_base[1]), item.facing)
    return drawing


def _actor_start(painter: Painter, actor: Actor, index: int, instance: int
                 ) -> tuple[float, float, float, int, int, Drawing]:
    """Return an actor's (x, z, yaw) at frame index, its class, label code and empty drawing."""
    assert actor.x is not None and actor.z is not None and actor.yaw is not None
    x, z, yaw = float(actor.x[index]), float(actor.z[index]), float(actor.yaw[index])
    cls = class_id(actor.kind)
    code = label_code(cls, instance)
    drawing = Drawing(distance=_distance(painter, x, z), anchor=np.array([x, z]),
                      instance=instance)
    return x, z, yaw, cls, code, drawing


def vehicle(painter: Painter, world: World, actor: Actor, index: int, instance: int,
            shadows: Drawing) -> Drawing:
    """Return a car or truck: undercarriage, body, cabin or cargo box, wheels and lamps."""
    x, z, yaw, cls, code, drawing = _actor_start(painter, actor, index, instance)
    look = world.look
    paint = actor.colors[0]
    fwd, right = _axes(yaw)
    centre = np.array([x, 0.0, z])
    length, w, h = actor.length, actor.width, actor.height
    detail = painter.pixels(h, drawing.distance) >= 10.0
    if detail:
        _shadow(painter, shadows, world, x, z, yaw, length, w, look.asphalt)
        painter.box(drawing, centre + UP * 0.08, yaw, length - 0.5, w - 0.15, 0.3,
                    ((30, 30, 32),) * 5, code, look.shade)
    if actor.kind == 'car':
        wheel = 0.32
        body_h = h * (0.42 if actor.variant < 2 else 0.5)
        cabin_l = length * (0.48, 0.58, 0.82)[actor.variant]
        shift = (-0.06, -0.14, -0.06)[actor.variant] * length
        parts = [(centre + UP * 0.28, length, w, body_h, (paint,) * 5),
                 (centre + UP * (0.28 + body_h) + fwd * shift, cabin_l, w * 0.86,
                  h - 0.28 - body_h, (_GLASS,) * 4 + (paint,))]
    else:
        wheel = 0.5
        if actor.variant == 0:
            cab_l = 2.3
            cargo = actor.colors[0] if sum(paint) > 600 else (225, 225, 220)
            cargo_l = length - cab_l - 0.2
            parts = [(centre + UP * 0.9 - fwd * (cab_l + 0.2) / 2, cargo_l, w, h - 0.9,
                      (cargo,) * 4 + (_scale(cargo, 0.9),)),
                     (centre + UP * 0.5 + fwd * (length - cab_l) / 2, cab_l, w * 0.98, 2.4,
                      (paint,) * 5)]
        else:
            parts = [(centre + UP * 0.35, length, w, h - 0.35, (paint,) * 5)]
        cam_xz = painter.cam.position[[0, 2]]
        parts.sort(key=lambda p: -float(np.hypot(*(p[0][[0, 2]] - cam_xz))))
    for base, pl, pw, ph, colors in parts:
        painter.box(drawing, base, yaw, pl, pw, ph, colors, code, look.shade)
    drawing.target = Target(actor.track_id, cls, length, w, h, x, z, 0.0, yaw)
    if not detail:
        return drawing
    if actor.kind == 'truck' and actor.variant == 1:
        _bus_windows(painter, drawing, actor, centre, fwd, right, code)
    if actor.kind == 'truck' and actor.variant == 0:
        _cab_glass(painter, drawing, centre, fwd, right, length, w, code)
    _wheels(painter, drawing, centre, fwd, right, length, w, wheel, code)
    _lamps(painter, drawing, centre, fwd, right, length, w, h, actor.kind, code)
    return drawing


def _shadow(painter: Painter, drawing: Drawing, world: World, x: float, z: float, yaw: float,
           length: float, width: float, surface: Color) -> None:
    """Add a soft contact shadow (image only) under an object standing at (x, z)."""
    sun = world.look.sun
    push = np.array([-sun[0], -sun[2]]) * min(2.0, 0.8 / max(sun[1], 0.3))
    fwd = np.array([math.sin(yaw), math.cos(yaw)])
    right = np.array([math.cos(yaw), -math.sin(yaw)])
    hl, hw = length / 2 + 0.15, width / 2 + 0.15
    corners = np.array([[hl, -hw], [hl, hw], [-hl, hw], [-hl, -hw]])
    xz = np.array([x, z]) + push * 0.25 + corners[:, :1] * fwd + corners[:, 1:] * right
    world_pts = np.stack([xz[:, 0], np.zeros(4), xz[:, 1]], axis=1)
    dark = (int(surface[0] * 0.45), int(surface[1] * 0.45), int(surface[2] * 0.45))
    painter.polygon(drawing, world_pts, dark, 0, image_only=True)


def _wheels(painter: Painter, drawing: Drawing, centre: np.ndarray, fwd: np.ndarray,
            right: np.ndarray, length: float, width: float, radius: float, code: int) -> None:
    ring = np.linspace(0.0, 2 * np.pi, 12, endpoint=False)
    circle = np.stack([np.cos(ring), np.sin(ring)], 1)
    to_cam = painter.cam.position - centre
    side = 1.0 if float(right @ to_cam) > 0 else -1.0
    if abs(float(right @ to_cam)) < width / 2:
        return
    axle = length / 2 - max(0.8, radius * 2.0)
    for along in (axle, -axle):
        hub = centre + fwd * along + right * side * (width / 2 + 0.02) + UP * radius
        tyre = hub + radius * (circle[:, :1] * fwd + circle[:, 1:] * UP)
        painter.polygon(drawing, tyre, _TYRE, code)
        painter.polygon(drawing, hub + right * side * 0.01 + 0.55 * radius * (
            circle[:, :1] * fwd + circle[:, 1:] * UP), (120, 122, 126), code)


def _lamps(painter: Painter, drawing: Drawing, centre: np.ndarray, fwd: np.ndarray,
           right: np.ndarray, length: float, width: float, height: float, kind: str,
           code: int) -> None:
    to_cam = painter.cam.position - centre
    facing = 1.0 if float(fwd @ to_cam) > length / 2 else (
        -1.0 if float(fwd @ to_cam) < -length / 2 else 0.0)
    if facing == 0.0:
        return
    y = 0.7 if kind == 'car' else 0.9
    color: Color = (250, 250, 235) if facing > 0 else (200, 20, 25)
    for side in (-1.0, 1.0):
        c = centre + fwd * facing * (length / 2 + 0.02) + right * side * (width / 2 - 0.25)
        quad = np.array([c - right * 0.15 + UP * y, c + right * 0.15 + UP * y,
                         c + right * 0.15 + UP * (y + 0.12), c - right * 0.15 + UP * (y + 0.12)])
        painter.polygon(drawing, quad, color, code)
        drawing.lights.append((c + UP * (y + 0.06) + fwd * facing * 0.05,
                               0.5 if facing > 0 else 0.25, color))


def _bus_windows(painter: Painter, drawing: Drawing, actor: Actor, centre: np.ndarray,
                 fwd: np.ndarray, right: np.ndarray, code: int) -> None:
    to_cam = painter.cam.position - centre
    side = 1.0 if float(right @ to_cam) > 0 else -1.0
    if abs(float(right @ to_cam)) < actor.width / 2:
        return
    hl = actor.length / 2 - 0.6
    wall = centre + right * side * (actor.width / 2 + 0.02)
    quad = np.array([wall + fwd * hl + UP * 1.5, wall - fwd * hl + UP * 1.5,
                     wall - fwd * hl + UP * 2.5, wall + fwd * hl + UP * 2.5])
    painter.polygon(drawing, quad, _GLASS, code)


def _cab_glass(painter: Painter, drawing: Drawing, centre: np.ndarray, fwd: np.ndarray,
               right: np.ndarray, length: float, width: float, code: int) -> None:
    to_cam = painter.cam.position - centre
    if float(fwd @ to_cam) < length / 2:
        return
    front = centre + fwd * (length / 2 + 0.03)
    hw = width * 0.42
    quad = np.array([front - right * hw + UP * 1.7, front + right * hw + UP * 1.7,
                     front + right * hw + UP * 2.6, front - right * hw + UP * 2.6])
    painter.polygon(drawing, quad, _GLASS, code)


Limb = tuple[np.ndarray, np.ndarray, float, Color]


def _limbs(painter: Painter, drawing: Drawing, limbs: list[Limb], code: int) -> None:
    """Add limbs (start, end, radius, colour) as capsules in the given order."""
    painter.capsules(drawing, np.stack([j[0] for j in limbs]), np.stack([j[1] for j in limbs]),
                     np.array([j[2] for j in limbs]), [j[3] for j in limbs], code)


def person(painter: Painter, world: World, actor: Actor, index: int, instance: int,
           shadows: Drawing) -> Drawing:
    """Return a walking or standing pedestrian, or a cyclist on a bicycle."""
    x, z, yaw, cls, code, drawing = _actor_start(painter, actor, index, instance)
    shirt, trousers, skin, hair = actor.colors
    h = actor.height
    fwd, right = _axes(yaw)
    base = np.array([x, 0.0, z])
    travelled = float(np.sum(actor.speed[:index])) * world.dt + actor.track_id * 0.37
    top = h if actor.kind == 'pedestrian' else 1.01 + 0.47 * h
    drawing.target = Target(actor.track_id, cls, actor.length, actor.width, top, x, z, 0.0, yaw)
    if painter.pixels(h, drawing.distance) < 12.0:
        hip = base + UP * (0.52 * h if actor.kind == 'pedestrian' else 0.95)
        _limbs(painter, drawing, [(base + UP * 0.05, hip, 0.09 * h, trousers),
                                  (hip, base + UP * (top - 0.12 * h), 0.11 * h, shirt)], code)
        painter.disc(drawing, base + UP * (top - 0.07 * h), 0.07 * h, skin, code, 8)
        return drawing
    surface = world.look.asphalt if actor.kind == 'cyclist' else world.look.sidewalk
    _shadow(painter, shadows, world, x, z, yaw, actor.length * 0.8, 0.5, surface)
    near = 1.0 if float(right @ (painter.cam.position - base)) > 0 else -1.0
    if actor.kind == 'pedestrian':
        swing = 0.45 * math.sin(travelled * 2 * math.pi / 1.4) if actor.speed[index] > 0 else 0.0
        hip = base + UP * 0.52 * h
        neck = base + UP * 0.8 * h
        far: list[Limb] = []
        close: list[Limb] = []
        for side, phase in ((1.0, swing), (-1.0, -swing)):
            hip_j = hip + right * side * 0.05 * h
            foot = hip_j + fwd * math.sin(phase) * 0.5 * h - UP * math.cos(phase) * 0.5 * h
            shoulder = neck + right * side * 0.12 * h - UP * 0.02 * h
            hand = shoulder - fwd * math.sin(phase) * 0.3 * h - UP * math.cos(phase) * 0.33 * h
            group = close if side == near else far
            group += [(hip_j, foot, 0.05 * h, trousers), (shoulder, hand, 0.032 * h, shirt)]
        torso: Limb = (hip + UP * 0.02 * h, neck, 0.1 * h, shirt)
        _limbs(painter, drawing, [*far, torso, *close], code)
        head = base + UP * 0.915 * h
    else:
        wheel = 0.34
        scale = h / 1.75
        rear = base - fwd * 0.52 + UP * wheel
        front = base + fwd * 0.52 + UP * wheel
        crank = base + UP * 0.3
        seat = base - fwd * 0.2 + UP * 0.95
        bar = base + fwd * 0.42 + UP * 1.05
        hip = seat + UP * 0.06
        neck = hip + fwd * 0.35 * scale + UP * 0.5 * scale
        frame: Color = actor.colors[1]
        pedal = travelled * 2 * math.pi / 2.2
        far_foot = crank - fwd * 0.17 * math.cos(pedal) + UP * 0.17 * math.sin(pedal)
        near_foot = crank + fwd * 0.17 * math.cos(pedal) - UP * 0.17 * math.sin(pedal)
        painter.ring(drawing, rear, fwd, UP, wheel, 0.045, _TYRE, code)
        _limbs(painter, drawing, [
            (hip - right * near * 0.08, far_foot, 0.05 * h, trousers),
            (rear, crank, 0.025, frame), (crank, seat, 0.025, frame), (seat, bar, 0.025, frame),
            (bar, front, 0.025, frame), (rear, seat - UP * 0.05, 0.02, frame),
        ], code)
        painter.ring(drawing, front, fwd, UP, wheel, 0.045, _TYRE, code)
        _limbs(painter, drawing, [
            (hip, neck, 0.1 * h, shirt),
            (hip + right * near * 0.08, near_foot, 0.05 * h, trousers),
            (neck + right * near * 0.15, bar + right * near * 0.2, 0.032 * h, shirt),
        ], code)
        head = neck + UP * 0.12 * h + fwd * 0.05
    painter.disc(drawing, head, 0.065 * h, skin, code)
    painter.disc(drawing, head + UP * 0.025 * h - fwd * 0.01, 0.055 * h, hair, code, 8)
    return drawing
