# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The world of one drive: road, static street furniture, traffic, pedestrians and the ego.

Everything is drawn from one seeded generator at construction, and every trajectory is
precomputed for the whole drive, so a frame depends only on (config, index).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from patchdrivenet_ros.classes import class_id
from patchdrivenet_ros.data.appearance import Appearance, Color
from patchdrivenet_ros.data.drive_config import DriveConfig
from patchdrivenet_ros.data.road import Centreline, Layout
from patchdrivenet_ros.data.traffic import Obstacle, simulate_lane

EGO_LENGTH = 4.5


@dataclass(frozen=True)
class Block:
    """A static box by the road: a building (with windows) or a hedge."""

    s: float
    x: float
    z: float
    yaw: float
    length: float
    depth: float
    height: float
    color: Color
    cls: int
    window_seed: int  # < 0: no windows


@dataclass(frozen=True)
class Tree:
    """A tree: trunk and a crown of several blobs (offsets in metres, world axes)."""

    s: float
    x: float
    z: float
    trunk_height: float
    trunk_radius: float
    crowns: np.ndarray  # (K, 4) dx, y, dz, radius
    colors: tuple[Color, ...]


@dataclass(frozen=True)
class Furniture:
    """A pole-mounted item: street lamp, traffic sign or traffic light."""

    kind: str  # 'lamp', 'sign', 'light'
    s: float
    x: float
    z: float
    facing: float  # heading the sign/light face points to (world), lamp arm direction
    height: float
    size: float
    arm: float  # horizontal arm length (lamps, overhead lights), 0 for none
    shape: str  # sign shape: 'circle', 'triangle', 'square', 'octagon', 'diamond'
    colors: tuple[Color, ...]
    track_id: int
    phase: float  # traffic light phase offset, seconds


@dataclass
class Actor:
    """A moving or parked road user with a trajectory over the whole drive."""

    kind: str  # 'car', 'truck', 'pedestrian', 'cyclist'
    track_id: int
    length: float
    width: float
    height: float
    colors: tuple[Color, ...]
    s: np.ndarray  # (F,) arc length
    d: np.ndarray  # (F,) lateral offset
    yaw_rel: np.ndarray  # (F,) heading relative to the road tangent
    speed: np.ndarray  # (F,) m/s
    variant: int = 0
    x: np.ndarray | None = None  # (F,) world, filled by World
    z: np.ndarray | None = None
    yaw: np.ndarray | None = None


@dataclass(frozen=True)
class EgoPose:
    """Camera pose of one frame."""

    x: float
    z: float
    heading: float
    pitch: float
    roll: float
    s: float
    speed: float
    yaw_rate: float


class World:
    """All content of one drive, in road and world coordinates."""

    def __init__(self, config: DriveConfig) -> None:
        rng = np.random.default_rng(config.seed)
        self.config = config
        self.look = Appearance.sample(rng)
        self.layout = Layout.sample(rng)
        self.dt = 1.0 / config.fps
        self.num_frames = config.num_frames
        duration = config.num_frames * self.dt
        v_lo, v_hi = config.speed_range
        self.s_min = -40.0
        self.s_max = v_hi * duration + config.view_distance + 40.0
        self.s_far = self.s_max + 16.0 * duration + 60.0
        max_curvature = min(1.0 / 120.0, math.radians(config.max_yaw_rate_dps) / max(v_hi, 4.0))
        self.road = Centreline(self.s_min - 20.0, self.s_far + 20.0, max_curvature, rng)
        self.urban = float(rng.uniform(0.2, 1.0))
        self.traffic = float(rng.uniform(0.3, 1.4))
        self._next_track = 0
        self.junctions = self._junctions(rng)
        self.blocks: list[Block] = []
        self.trees: list[Tree] = []
        self.furniture: list[Furniture] = []
        for side in (1, -1):
            self._roadside(rng, side)
        self._junction_furniture(rng)
        self.actors: list[Actor] = []
        self.ego = self._traffic(rng)
        self._people(rng)
        for actor in self.actors:
            actor.x, actor.z = self.road.to_world(actor.s, actor.d)
            actor.yaw = self.road.frame(actor.s)[2] + actor.yaw_rel
        self.block_s = np.array([b.s for b in self.blocks])
        self.tree_s = np.array([t.s for t in self.trees])
        self.furniture_s = np.array([f.s for f in self.furniture])

    # ----------------------------------------------------------------- layout
    def _track(self) -> int:
        self._next_track += 1
        return self._next_track - 1

    def _junctions(self, rng: np.random.Generator) -> np.ndarray:
        positions = []
        s = float(rng.uniform(25.0, 140.0))
        while s < self.s_max:
            positions.append(s)
            s += float(rng.uniform(90.0, 260.0))
        return np.array(positions)

    def _near_junction(self, s: float, margin: float) -> bool:
        return bool(self.junctions.size and np.min(np.abs(self.junctions - s)) < margin)

    def _roadside(self, rng: np.random.Generator, side: int) -> None:
        """Place buildings, hedges, trees, lamps and signs along one side of the road."""
        lay = self.layout
        kerb = lay.right_edge if side > 0 else -lay.left_edge
        walk = lay.sidewalk_right if side > 0 else lay.sidewalk_left
        outer = kerb + walk
        density = self.config.object_density
        s = self.s_min - 20.0
        occupied: list[tuple[float, float]] = []
        while s < self.s_max + 20.0:
            length = float(rng.uniform(8.0, 35.0))
            if self._near_junction(s + length / 2, 10.0 + length / 2):
                s += 4.0
                continue
            roll = rng.random()
            mid = s + length / 2
            sagitta = length**2 / 8.0 * abs(self.road.curvature_at(mid)) + 0.2
            if roll < 0.25 + 0.7 * self.urban:
                setback = float(rng.uniform(0.0, 3.0)) + sagitta
                depth = float(rng.uniform(8.0, 16.0))
                height = float(rng.uniform(4.0, 8.0 + 20.0 * self.urban))
                color = self.look.buildings[int(rng.integers(len(self.look.buildings)))]
                self._block(mid, side * (outer + setback + depth / 2), length, depth, height,
                            color, class_id('building'), int(rng.integers(1 << 30)))
                occupied.append((s, s + length))
                s += length + (0.0 if rng.random() < 0.5 else float(rng.uniform(1.0, 10.0)))
            elif roll < 0.4 + 0.6 * self.urban:
                depth = float(rng.uniform(0.8, 2.0))
                self._block(mid, side * (outer + 0.6 + sagitta + depth / 2), length, depth,
                            float(rng.uniform(0.8, 2.2)), self.look.greens[1],
                            class_id('vegetation'), -1)
                occupied.append((s, s + length))
                s += length + float(rng.uniform(2.0, 12.0))
            else:
                s += length
        self._trees(rng, side, kerb, outer, occupied)
        s = self.s_min + float(rng.uniform(0.0, 30.0))
        while s < self.s_max:
            if not self._near_junction(s, 6.0):
                self._furniture(rng, 'lamp', s, side * (kerb + 0.5), side)
            s += float(rng.uniform(22.0, 40.0)) / max(density, 0.3)
        s = self.s_min + float(rng.uniform(0.0, 40.0))
        while s < self.s_max:
            if not self._near_junction(s, 12.0):
                self._furniture(rng, 'sign', s, side * (kerb + 0.4), side)
            s += float(rng.exponential(55.0)) / max(density, 0.2) + 8.0

    def _block(self, s: float, d: float, length: float, depth: float, height: float,
               color: Color, cls: int, window_seed: int) -> None:
        x, z = self.road.to_world(s, d)
        _, _, heading = self.road.frame(s)
        self.blocks.append(Block(s, float(x), float(z), float(heading), length, depth, height,
                                 color, cls, window_seed))

    def _trees(self, rng: np.random.Generator, side: int, kerb: float, outer: float,
               occupied: list[tuple[float, float]]) -> None:
        density = self.config.object_density
        s = self.s_min + float(rng.uniform(0.0, 10.0))
        while s < self.s_max:
            free = not any(a - 2.0 < s < b + 2.0 for a, b in occupied)
            if free and rng.random() < 0.7:
                d = outer + float(rng.uniform(1.0, 7.0))
            elif rng.random() < 0.35 + 0.3 * self.urban:
                d = outer - 0.7
            else:
                d = 0.0
            if d > 0.0 and not self._near_junction(s, 9.0):
                x, z = self.road.to_world(s, side * d)
                height = float(rng.uniform(2.0, 4.5))
                radius = float(rng.uniform(1.2, 3.0))
                k = int(rng.integers(3, 7))
                crowns = np.stack([
                    rng.uniform(-0.6, 0.6, k) * radius,
                    height + radius * rng.uniform(0.5, 1.3, k),
                    rng.uniform(-0.6, 0.6, k) * radius,
                    radius * rng.uniform(0.55, 0.9, k),
                ], axis=1)
                colors = tuple(self.look.greens[int(i)]
                               for i in rng.integers(len(self.look.greens), size=k))
                self.trees.append(Tree(s, float(x), float(z), height + radius * 0.6,
                                       float(rng.uniform(0.12, 0.25)), crowns, colors))
            s += float(rng.uniform(6.0, 18.0)) / max(density, 0.3)

    def _furniture(self, rng: np.random.Generator, kind: str, s: float, d: float,
                   side: int, facing_ego: bool | None = None, arm: float = 0.0) -> None:
        x, z = self.road.to_world(s, d)
        heading = float(self.road.frame(s)[2])
        track = -1
        shape = ''
        colors: tuple[Color, ...] = ()
        size = 0.0
        phase = 0.0
        if kind == 'lamp':
            height = float(rng.uniform(6.0, 9.0))
            facing = heading - side * math.pi / 2  # arm points over the road
            arm = float(rng.uniform(1.0, 2.5))
            colors = ((95, 98, 100),)
        else:
            toward = facing_ego if facing_ego is not None else side > 0
            facing = heading + (math.pi if toward else 0.0)  # front faces approaching traffic
            track = self._track()
            if kind == 'sign':
                height = float(rng.uniform(1.9, 2.7))
                size = float(rng.uniform(0.55, 0.85))
                shape = str(rng.choice(['circle', 'circle', 'triangle', 'square', 'octagon',
                                        'diamond']))
                rim = [(200, 30, 30), (30, 70, 170), (220, 180, 30)][int(rng.integers(3))]
                colors = (rim, (235, 235, 235), (130, 130, 135))
            else:
                height = float(rng.uniform(2.6, 3.6)) if arm == 0.0 else 5.4
                size = 0.32
                colors = ((35, 38, 35), (120, 122, 120))
                phase = float(rng.uniform(0.0, 20.0))
        self.furniture.append(Furniture(kind, s, float(x), float(z), facing, height, size, arm,
                                        shape, colors, track, phase))

    def _junction_furniture(self, rng: np.random.Generator) -> None:
        lay = self.layout
        self.side_streets: list[tuple[float, int, float]] = []
        for sj in self.junctions:
            self._furniture(rng, 'light', sj - 8.0, lay.right_edge + 0.6, 1, True)
            self._furniture(rng, 'light', sj + 9.0, lay.right_edge + 0.6, 1, True)
            self._furniture(rng, 'light', sj + 8.0, lay.left_edge - 0.6, -1, False)
            if rng.random() < 0.45:
                span = lay.right_edge - 0.5 * lay.lane_width
                self._furniture(rng, 'light', sj - 8.0, lay.right_edge + 0.6, 1, True, arm=span)
            for side in (1, -1):
                if rng.random() < 0.75:
                    self.side_streets.append((float(sj), side, float(rng.uniform(7.0, 12.0))))

    # ---------------------------------------------------------------- traffic
    def _desired_ego_speed(self, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        n = self.num_frames
        v_lo, v_hi = cfg.speed_range
        t = np.arange(n) * self.dt
        knots_t = np.arange(0.0, t[-1] + 8.0, 6.0)
        speed = np.interp(t, knots_t, rng.uniform(v_lo, v_hi, knots_t.size))
        stopped_until = -1.0
        if rng.random() < min(1.0, cfg.stop_probability * 8.0):
            stopped_until = float(rng.uniform(1.0, 4.0))
        for k in range(n):
            if t[k] >= stopped_until and rng.random() < cfg.stop_probability * self.dt:
                stopped_until = t[k] + float(rng.uniform(2.0, 5.0))
            if t[k] < stopped_until:
                speed[k] = 0.0
        return speed

    @staticmethod
    def _vehicle(rng: np.random.Generator) -> tuple[str, float, float, float, int]:
        """Draw a vehicle: kind, length, width, height and body variant."""
        if rng.random() < 0.18:
            variant = int(rng.integers(2))  # box truck, bus
            length = float(rng.uniform(7.0, 11.0)) if variant == 0 else float(rng.uniform(10, 12))
            width, height = float(rng.uniform(2.3, 2.55)), float(rng.uniform(3.0, 3.8))
            return 'truck', length, width, height, variant
        variant = int(rng.integers(3))  # sedan, hatchback, van
        length = float(rng.uniform(3.8, 4.9)) if variant < 2 else float(rng.uniform(4.6, 5.4))
        height = float(rng.uniform(1.4, 1.6)) if variant < 2 else float(rng.uniform(1.8, 2.2))
        return 'car', length, float(rng.uniform(1.7, 1.95)), height, variant

    def _traffic(self, rng: np.random.Generator) -> list[EgoPose]:
        """Populate lanes, simulate them with the ego, and return the ego poses."""
        cfg = self.config
        lay = self.layout
        n = self.num_frames
        desired_ego = self._desired_ego_speed(rng)
        ego_lane = lay.lanes_forward - 1 if rng.random() < 0.7 else int(
            rng.integers(lay.lanes_forward))
        rough_ego = np.concatenate([[0.0], np.cumsum(desired_ego[:-1]) * self.dt])
        obstacles = self._crossings(rng, rough_ego)
        limit = max(cfg.speed_range[1], 8.0)
        spacing = 45.0 / max(cfg.object_density * self.traffic, 0.05)
        ego_poses: list[EgoPose] = []
        lanes = list(range(lay.lanes_forward)) + [-(i + 1) for i in range(lay.lanes_oncoming)]
        for lane in lanes:
            forward = lane >= 0
            specs = []
            if forward:
                q = 12.0 + float(rng.uniform(0.0, 30.0)) if lane == ego_lane else \
                    self.s_min + float(rng.uniform(0.0, 20.0))
                q_end = self.s_max
            else:
                q = -(self.s_far - float(rng.uniform(0.0, 20.0)))
                q_end = -self.s_min
            while q < q_end:
                kind, length, width, height, variant = self._vehicle(rng)
                specs.append((q + length / 2, kind, length, width, height, variant))
                q += length + 6.0 + float(rng.exponential(spacing))
            if lane == ego_lane:
                specs.append((0.0, 'ego', EGO_LENGTH, 1.8, 1.5, 0))
            if not specs:
                continue
            q0 = np.array([sp[0] for sp in specs])
            lengths = np.array([sp[2] for sp in specs])
            desired = np.tile(rng.uniform(0.7, 1.05, q0.size) * limit, (n, 1))
            if lane == ego_lane:
                desired[:, -1] = desired_ego
            lane_obstacles = [Obstacle(o.q if forward else -o.q - 5.0, o.start, o.end)
                              for o in obstacles]
            qs, vs = simulate_lane(q0, lengths, desired, lane_obstacles, n, self.dt)
            d = lay.lane_centre(lane)
            for i, (_, kind, length, width, height, variant) in enumerate(specs):
                s = qs[:, i] if forward else -qs[:, i]
                if kind == 'ego':
                    ego_poses = self._ego_poses(rng, s, vs[:, i], d)
                    continue
                if s.max() < self.s_min - 20 or s.min() > self.s_far:
                    continue
                self._add_actor(rng, kind, length, width, height, variant, s,
                                np.full(n, d + float(rng.uniform(-0.2, 0.2))),
                                0.0 if forward else math.pi, vs[:, i])
        self._parked(rng)
        return ego_poses

    def _add_actor(self, rng: np.random.Generator, kind: str, length: float, width: float,
                   height: float, variant: int, s: np.ndarray, d: np.ndarray,
                   yaw_rel: float | np.ndarray, speed: np.ndarray) -> None:
        n = self.num_frames
        if kind in ('car', 'truck'):
            colors: tuple[Color, ...] = (self.look.car_color(rng),)
        else:
            colors = (self.look.car_color(rng), self.look.car_color(rng),
                      ((230, 190, 160), (200, 150, 120), (140, 100, 70), (90, 60, 45))[
                          int(rng.integers(4))], ((30, 25, 20), (90, 60, 30), (200, 170, 90))[
                          int(rng.integers(3))])
        self.actors.append(Actor(kind, self._track(), length, width, height, colors, s, d,
                                 np.broadcast_to(np.asarray(yaw_rel, np.float64), (n,)).copy(),
                                 speed, variant))

    def _parked(self, rng: np.random.Generator) -> None:
        lay = self.layout
        n = self.num_frames
        for side, width in ((1, lay.parking_right), (-1, lay.parking_left)):
            if width <= 0.0:
                continue
            edge = lay.right_edge if side > 0 else -lay.left_edge
            occupancy = float(rng.uniform(0.3, 0.9)) * min(1.0, self.config.object_density)
            s = self.s_min + float(rng.uniform(0.0, 8.0))
            while s < self.s_max:
                kind, length, w, height, variant = self._vehicle(rng)
                if rng.random() < occupancy and not self._near_junction(s, 14.0):
                    d = side * (edge - width / 2 + float(rng.uniform(-0.15, 0.15)))
                    flip = math.pi if (side < 0) == (rng.random() < 0.8) else 0.0
                    self._add_actor(rng, kind, length, w, height, variant,
                                    np.full(n, s + length / 2), np.full(n, d),
                                    flip + float(rng.uniform(-0.04, 0.04)), np.zeros(n))
                s += length + float(rng.uniform(0.6, 6.0))

    def _crossings(self, rng: np.random.Generator, rough_ego: np.ndarray) -> list[Obstacle]:
        """Schedule pedestrians crossing ahead of the ego; return the obstacles they make."""
        lay = self.layout
        n = self.num_frames
        t = np.arange(n) * self.dt
        duration = n * self.dt
        rate = 0.08 * self.config.object_density * (0.5 + self.urban)
        count = int(rng.poisson(rate * max(duration, 3.0)))
        obstacles = []
        width = lay.right_edge - lay.left_edge
        for _ in range(count):
            t0 = float(rng.uniform(-2.0, max(duration - 2.0, 0.5)))
            ego_s = float(np.interp(t0, t, rough_ego))
            s_c = ego_s + float(rng.uniform(25.0, 80.0))
            ahead = self.junctions[(self.junctions > s_c - 30) & (self.junctions < s_c + 30)]
            if ahead.size and rng.random() < 0.7:
                s_c = float(ahead[0]) - 7.0
            speed = float(rng.uniform(1.0, 1.7))
            direction = 1 if rng.random() < 0.5 else -1
            start = lay.left_edge - 0.8 if direction > 0 else lay.right_edge + 0.8
            walk = (width + 1.6) / speed
            d = start + direction * np.clip(t - t0, 0.0, walk) * speed
            yaw = np.where((t >= t0) & (t <= t0 + walk), direction * math.pi / 2,
                           math.pi if rng.random() < 0.5 else 0.0)
            moving = ((t >= t0) & (t <= t0 + walk)).astype(np.float64) * speed
            height = float(rng.uniform(1.5, 1.9))
            self._add_actor(rng, 'pedestrian', 0.5, 0.55, height, int(rng.integers(4)),
                            np.full(n, s_c + float(rng.uniform(-1.0, 1.0))), d, yaw, moving)
            obstacles.append(Obstacle(s_c - 2.5, t0 - 1.0, t0 + walk + 0.5))
        return obstacles

    def _people(self, rng: np.random.Generator) -> None:
        """Add pedestrians on the sidewalks and cyclists at the road edges."""
        lay = self.layout
        n = self.num_frames
        t = np.arange(n) * self.dt
        length = self.s_max - self.s_min
        density = self.config.object_density
        for side in (1, -1):
            kerb = lay.right_edge if side > 0 else -lay.left_edge
            walk = lay.sidewalk_right if side > 0 else lay.sidewalk_left
            count = int(rng.poisson(length * 0.035 * density * (0.3 + self.urban)))
            for _ in range(count):
                s0 = float(rng.uniform(self.s_min, self.s_max))
                d = side * (kerb + float(rng.uniform(0.4, walk - 0.3)))
                standing = rng.random() < 0.3
                speed = 0.0 if standing else float(rng.uniform(0.8, 1.7))
                direction = 1.0 if rng.random() < 0.5 else -1.0
                yaw = float(rng.uniform(-math.pi, math.pi)) if standing else (
                    0.0 if direction > 0 else math.pi)
                self._add_actor(rng, 'pedestrian', 0.5, 0.55, float(rng.uniform(1.5, 1.9)),
                                int(rng.integers(4)), s0 + direction * speed * t,
                                np.full(n, d), yaw, np.full(n, speed))
        count = int(rng.poisson(length * 0.015 * density + 1.0))
        for _ in range(count):
            forward = rng.random() < 0.6
            speed = float(rng.uniform(3.0, 7.0))
            if forward:
                d = lay.lanes_forward * lay.lane_width - 0.55
                s0 = float(rng.uniform(8.0, self.s_max))
                s = s0 + speed * t
            else:
                d = -(lay.lanes_oncoming * lay.lane_width - 0.55)
                s0 = float(rng.uniform(self.s_min, self.s_far))
                s = s0 - speed * t
            self._add_actor(rng, 'cyclist', 1.75, 0.6, float(rng.uniform(1.6, 1.85)),
                            int(rng.integers(2)), s, np.full(n, d),
                            0.0 if forward else math.pi, np.full(n, speed))

    def _ego_poses(self, rng: np.random.Generator, s: np.ndarray, speed: np.ndarray,
                   lane_d: float) -> list[EgoPose]:
        cfg = self.config
        n = self.num_frames
        t = np.arange(n) * self.dt
        period = float(rng.uniform(6.0, 14.0))
        wander_phase = float(rng.uniform(0, 2 * math.pi))
        amplitude = float(rng.uniform(0.0, 0.25))
        d = lane_d + amplitude * np.sin(2 * math.pi * t / period + wander_phase)
        d_rate = amplitude * 2 * math.pi / period * np.cos(2 * math.pi * t / period + wander_phase)
        slip = np.arctan2(d_rate, np.maximum(speed, 2.0))
        heading = self.road.frame(s)[2]
        px, pz = self.road.to_world(s, d)
        accel = np.gradient(speed, self.dt) if n > 1 else np.zeros(n)
        jitter = np.zeros(n)
        for _ in range(3):
            freq = float(rng.uniform(0.6, 2.5))
            jitter += np.sin(2 * math.pi * freq * t + float(rng.uniform(0, 2 * math.pi)))
        v_hi = max(cfg.speed_range[1], 1.0)
        jitter *= math.radians(cfg.pitch_jitter_deg) / 2.0 * (0.3 + speed / v_hi)
        base_pitch = math.radians(float(rng.uniform(-0.3, 1.2)))
        pitch = base_pitch + jitter - math.radians(0.25) * np.clip(accel, -4.0, 2.0)
        roll = math.radians(0.3) * np.sin(2 * math.pi * t / float(rng.uniform(3, 8)))
        yaw = heading + slip
        yaw_rate = np.gradient(yaw, self.dt) if n > 1 else np.zeros(n)
        return [EgoPose(float(px[k]), float(pz[k]), float(yaw[k]), float(pitch[k]),
                        float(roll[k]), float(s[k]), float(speed[k]), float(yaw_rate[k]))
                for k in range(n)]

    # ------------------------------------------------------------ per frame
    def light_state(self, item: Furniture, index: int) -> int:
        """Return the lit lamp of a traffic light at a frame: 0 red, 1 amber, 2 green."""
        cycle = (index * self.dt + item.phase) % 20.0
        return 2 if cycle < 9.0 else (1 if cycle < 11.0 else 0)

    def visible(self, values: np.ndarray, ego_s: float, behind: float = 25.0) -> np.ndarray:
        """Return indices whose arc length lies in the ego's view window."""
        far = ego_s + self.config.view_distance + 20.0
        return np.nonzero((values > ego_s - behind) & (values < far))[0]

