# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Rasterising with exact labels: image and label buffer get the same integer polygons.

Every primitive is filled into the image and a label buffer with the same fixed-point vertices,
so pixels and labels agree exactly.

The label buffer is int32: class id in bits 0-3, a ground flag in bit 4 (world-anchored
texture), and the instance number from bit 5 (0 for stuff). Objects are painted far to near
in an order that respects occlusion (see ``paint_order``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import heapq

import cv2
import numpy as np

from patchdrivenet_ros.data.appearance import Color
from patchdrivenet_ros.data.camera import NEAR, Camera, clip_near

SHIFT = 4
_SCALE = float(1 << SHIFT)
GROUND_BIT = 16
INSTANCE_SHIFT = 5


def label_code(cls: int, instance: int = 0, ground: bool = False) -> int:
    """Pack a class id, ground flag and instance number into one label value."""
    return cls | (GROUND_BIT if ground else 0) | (instance << INSTANCE_SHIFT)


@dataclass
class Primitive:
    """Filled polygons (or thick closed polylines) of one colour and label, in pixels."""

    points: list[np.ndarray]  # each (K, 2) float64 pixels
    color: Color
    code: int
    depth: float
    thickness: int = 0  # 0 filled, > 0 closed polyline of that width
    image_only: bool = False  # shading only (shadows): labels keep what lies beneath
    label_only: bool = False  # labels only (sky): the image keeps what lies beneath


@dataclass(frozen=True)
class Target:
    """What a detectable drawing stands for: its track, class and 3D box (world)."""

    track_id: int
    cls: int
    length: float
    width: float
    height: float
    x: float
    z: float
    base: float  # height of the box bottom above the ground
    yaw: float  # world heading of the object's length axis


@dataclass
class Drawing:
    """The primitives of one object, in the order they are painted, and how to sort it."""

    distance: float
    backdrop: bool = False
    instance: int = 0
    footprint: np.ndarray | None = None  # (4, 2) world X, Z corners of a backdrop box
    anchor: np.ndarray | None = None  # (2,) world X, Z reference point
    primitives: list[Primitive] = field(default_factory=list)
    lights: list[tuple[np.ndarray, float, Color]] = field(default_factory=list)
    target: Target | None = None

    def bbox(self) -> np.ndarray | None:
        """Return the (4,) xyxy pixel extent of the drawable primitives, or None."""
        pts = [q for p in self.primitives if not p.image_only for q in p.points]
        if not pts:
            return None
        allp = np.concatenate(pts)
        low = allp.min(axis=0)
        high = allp.max(axis=0)
        return np.array([low[0], low[1], high[0], high[1]])


_BOX_CORNERS = np.array([[0.5, -0.5, 0], [0.5, 0.5, 0], [0.5, 0.5, 1], [0.5, -0.5, 1],
                         [-0.5, -0.5, 0], [-0.5, 0.5, 0], [-0.5, 0.5, 1], [-0.5, -0.5, 1]],
                        np.float64)
_BOX_FACES = np.array([[0, 1, 2, 3], [5, 4, 7, 6], [1, 5, 6, 2], [4, 0, 3, 7], [3, 2, 6, 7]])
BOX_FACE_NAMES = ('front', 'back', 'right', 'left', 'top')
"""Face order of ``Painter.box`` colours: +length, -length, +width, -width, top."""


class Painter:
    """Builds primitives for one camera: 3D polygons, boxes, billboards, discs."""

    def __init__(self, camera: Camera) -> None:
        self.cam = camera
        self.min_width = 0.6  # px, thinner structures still cover a pixel line

    def pixels(self, size: float, distance: float) -> float:
        """Return the approximate pixel extent of ``size`` metres seen at ``distance``."""
        return self.cam.focal * size / max(distance, 0.5)

    def polygon(self, drawing: Drawing, world: np.ndarray, color: Color, code: int,
                image_only: bool = False) -> None:
        """Add a planar 3D polygon (K, 3) in world coordinates."""
        cam_pts = self.cam.to_camera(world)
        if cam_pts[:, 2].min() < NEAR:
            cam_pts = clip_near(cam_pts)
            if cam_pts.shape[0] < 3:
                return
        drawing.primitives.append(Primitive([self.cam.project(cam_pts)], color, code,
                                            float(cam_pts[:, 2].sum()) / cam_pts.shape[0], 0,
                                            image_only))

    def polygons(self, drawing: Drawing, world: np.ndarray, color: Color, code: int) -> None:
        """Add many small polygons (P, K, 3) of one colour; ones crossing the near plane drop."""
        if world.shape[0] == 0:
            return
        p, k, _ = world.shape
        cam_pts = self.cam.to_camera(world.reshape(-1, 3)).reshape(p, k, 3)
        keep = (cam_pts[:, :, 2] > 0.5).all(axis=1)
        if not keep.any():
            return
        cam_pts = cam_pts[keep]
        pix = self.cam.project(cam_pts.reshape(-1, 3)).reshape(-1, k, 2)
        drawing.primitives.append(Primitive(list(pix), color, code,
                                            float(cam_pts[0, :, 2].sum()) / k))

    def capsules(self, drawing: Drawing, a: np.ndarray, b: np.ndarray, radius: np.ndarray,
                 colors: list[Color], code: int) -> None:
        """Add segments a-b (world, (K, 3)) of radii (K,) as camera-facing quads, in order."""
        ca = self.cam.to_camera(a)
        cb = self.cam.to_camera(b)
        za, zb = ca[:, 2], cb[:, 2]
        keep = (za >= NEAR) | (zb >= NEAR)
        cut = keep & ((za < NEAR) | (zb < NEAR))
        if cut.any():
            t = ((NEAR - za) / np.where(cut, zb - za, 1.0))[:, None]
            hit = ca + (cb - ca) * t
            ca = np.where((cut & (za < NEAR))[:, None], hit, ca)
            cb = np.where((cut & (zb < NEAR))[:, None], hit, cb)
        pa = self.cam.project(np.maximum(ca, [-np.inf, -np.inf, NEAR]))
        pb = self.cam.project(np.maximum(cb, [-np.inf, -np.inf, NEAR]))
        wa = np.maximum(self.min_width, self.cam.focal * radius / np.maximum(ca[:, 2], NEAR))
        wb = np.maximum(self.min_width, self.cam.focal * radius / np.maximum(cb[:, 2], NEAR))
        axis = pb - pa
        norm = np.hypot(axis[:, 0], axis[:, 1])
        axis = np.where(norm[:, None] > 1e-6, axis / np.maximum(norm, 1e-6)[:, None], [0.0, 1.0])
        perp = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
        wa2, wb2 = wa[:, None], wb[:, None]
        quads = np.stack([pa + perp * wa2 - axis * wa2 * 0.5, pb + perp * wb2 + axis * wb2 * 0.5,
                          pb - perp * wb2 + axis * wb2 * 0.5, pa - perp * wa2 - axis * wa2 * 0.5],
                         axis=1)  # (K, 4, 2)
        depth = (ca[:, 2] + cb[:, 2]) / 2
        for i in np.nonzero(keep)[0]:
            drawing.primitives.append(Primitive([quads[i]], colors[i], code, float(depth[i])))

    def capsule(self, drawing: Drawing, a: np.ndarray, b: np.ndarray, radius: float,
                color: Color, code: int) -> None:
        """Add one segment a-b (world, (3,)) of given radius as a camera-facing quad."""
        self.capsules(drawing, a[None], b[None], np.array([radius]), [color], code)

    def disc(self, drawing: Drawing, centre: np.ndarray, radius: float, color: Color,
             code: int, sides: int = 10) -> None:
        """Add a camera-facing disc at a world point."""
        c = self.cam.to_camera(centre[None])[0]
        if c[2] < 0.5:
            return
        p = self.cam.project(c[None])[0]
        r = max(self.min_width, self.cam.focal * radius / c[2])
        drawing.primitives.append(Primitive([p + r * _UNIT_CIRCLES[sides]], color, code,
                                            float(c[2])))

    def ring(self, drawing: Drawing, centre: np.ndarray, axis_u: np.ndarray,
             axis_v: np.ndarray, radius: float, width: float, color: Color, code: int) -> None:
        """Add a circle in the 3D plane spanned by axis_u, axis_v as a thick polyline."""
        circle = _UNIT_CIRCLES[12]
        world = centre + radius * (circle[:, :1] * axis_u + circle[:, 1:] * axis_v)
        cam_pts = self.cam.to_camera(world)
        if (cam_pts[:, 2] < 0.5).any():
            return
        z = float(cam_pts[:, 2].sum()) / cam_pts.shape[0]
        thickness = max(1, int(round(self.cam.focal * width / z)))
        drawing.primitives.append(Primitive([self.cam.project(cam_pts)], color, code, z,
                                            thickness))

    def box(self, drawing: Drawing, centre: np.ndarray, yaw: float, length: float,
            width: float, height: float, colors: tuple[Color, ...], code: int,
            shade: Callable[[Color, np.ndarray], Color]) -> tuple[str, ...]:
        """Add the camera-facing faces of an oriented box; return the names of those faces.

        centre is the bottom centre (world, (3,)); colors are the base colours of the faces in
        BOX_FACE_NAMES order, ``shade(color, normal)`` lights them.
        """
        fwd = np.array([np.sin(yaw), 0.0, np.cos(yaw)])
        right = np.array([np.cos(yaw), 0.0, -np.sin(yaw)])
        up = np.array([0.0, 1.0, 0.0])
        local = _BOX_CORNERS * (length, width, height)
        world = centre + local[:, :1] * fwd + local[:, 1:2] * right + local[:, 2:3] * up
        rel = self.cam.position - centre
        along, across = float(fwd @ rel), float(right @ rel)
        visible = (along > length / 2, along < -length / 2, across > width / 2,
                   across < -width / 2, rel[1] > height)
        normals = (fwd, -fwd, right, -right, up)
        cam_pts = self.cam.to_camera(world)
        in_front = bool(cam_pts[:, 2].min() >= NEAR)
        pix = self.cam.project(cam_pts) if in_front else None
        shown = []
        for k in range(5):
            if not visible[k]:
                continue
            idx = _BOX_FACES[k]
            color = shade(colors[k], normals[k])
            if pix is not None:
                drawing.primitives.append(Primitive([pix[idx]], color, code,
                                                    float(cam_pts[idx, 2].sum()) / 4))
            else:
                face = clip_near(cam_pts[idx])
                if face.shape[0] < 3:
                    continue
                drawing.primitives.append(Primitive([self.cam.project(face)], color, code,
                                                    float(face[:, 2].sum()) / face.shape[0]))
            shown.append(BOX_FACE_NAMES[k])
        return tuple(shown)


_UNIT_CIRCLES = {
    n: np.stack([np.cos(np.linspace(0, 2 * np.pi, n, endpoint=False)),
                 np.sin(np.linspace(0, 2 * np.pi, n, endpoint=False))], axis=1)
    for n in (8, 10, 12, 14)
}


def paint_order(drawings: list[Drawing], camera_xz: np.ndarray) -> list[int]:
    """Return indices of drawings in painting order (far first) that respect occlusion.

    Only pairs whose pixel extents overlap are constrained. A backdrop box (building, hedge)
    is painted after an object exactly when the sight line from the camera to the object's
    anchor crosses the box's footprint; objects among themselves go far to near.
    """
    n = len(drawings)
    extents = [d.bbox() for d in drawings]
    boxes = np.array([e if e is not None else (0, 0, -1, -1) for e in extents],
                     np.float64).reshape(n, 4)
    overlap = ((boxes[:, None, 0] < boxes[None, :, 2]) & (boxes[None, :, 0] < boxes[:, None, 2])
               & (boxes[:, None, 1] < boxes[None, :, 3]) & (boxes[None, :, 1] < boxes[:, None, 3]))
    np.fill_diagonal(overlap, False)
    dist = np.array([d.distance for d in drawings])
    edges: list[list[int]] = [[] for _ in range(n)]
    indegree = np.zeros(n, np.int64)
    ii, jj = np.nonzero(np.triu(overlap))
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        first, second = _pair_order(drawings[i], drawings[j], i, j, dist, camera_xz)
        edges[first].append(second)
        indegree[second] += 1
    heap = [(-dist[i], i) for i in range(n) if indegree[i] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    done = np.zeros(n, bool)
    while len(order) < n:
        if not heap:  # a cycle: release the farthest remaining drawing
            rest = np.nonzero(~done)[0]
            pick = int(rest[np.argmax(dist[rest])])
            indegree[pick] = 0
            heap.append((-dist[pick], pick))
        _, i = heapq.heappop(heap)
        if done[i]:
            continue
        done[i] = True
        order.append(i)
        for j in edges[i]:
            indegree[j] -= 1
            if indegree[j] == 0 and not done[j]:
                heapq.heappush(heap, (-dist[j], j))
    return order


def _hides(box: Drawing, point: np.ndarray, camera_xz: np.ndarray) -> bool:
    """Return whether the sight line camera->point crosses the box's footprint (top view)."""
    assert box.footprint is not None
    corners = box.footprint
    centre = corners.mean(axis=0)
    u = corners[1] - corners[0]
    v = corners[3] - corners[0]
    lu, lv = float(np.hypot(*u)), float(np.hypot(*v))
    u, v = u / lu, v / lv
    a = np.array([(camera_xz - centre) @ u, (camera_xz - centre) @ v])
    b = np.array([(point - centre) @ u, (point - centre) @ v])
    half = np.array([lu / 2, lv / 2])
    t0, t1 = 0.0, 1.0
    delta = b - a
    for k in range(2):
        if abs(delta[k]) < 1e-9:
            if abs(a[k]) > half[k]:
                return False
            continue
        ta = (-half[k] - a[k]) / delta[k]
        tb = (half[k] - a[k]) / delta[k]
        t0, t1 = max(t0, min(ta, tb)), min(t1, max(ta, tb))
        if t0 > t1:
            return False
    return True


def _pair_order(a: Drawing, b: Drawing, i: int, j: int, dist: np.ndarray,
                camera_xz: np.ndarray) -> tuple[int, int]:
    """Return (painted first, painted second) for an overlapping pair."""
    if a.backdrop and not b.backdrop and b.anchor is not None:
        return (j, i) if _hides(a, b.anchor, camera_xz) else (i, j)
    if b.backdrop and not a.backdrop and a.anchor is not None:
        return (i, j) if _hides(b, a.anchor, camera_xz) else (j, i)
    if a.backdrop and b.backdrop and a.anchor is not None and b.anchor is not None:
        if _hides(a, b.anchor, camera_xz):
            return j, i
        if _hides(b, a.anchor, camera_xz):
            return i, j
    return (i, j) if dist[i] >= dist[j] else (j, i)


def to_fixed(points: np.ndarray) -> np.ndarray:
    """Round pixel coordinates to OpenCV's fixed point (SHIFT fractional bits), int32."""
    return np.rint(points * _SCALE).astype(np.int32)


class Canvas:
    """Image, label buffer and optional depth buffer of one frame."""

    def __init__(self, image: np.ndarray, with_depth: bool) -> None:
        h, w = image.shape[:2]
        self.image = image
        self.label = np.zeros((h, w), np.int32)
        self.depth = np.full((h, w), np.inf, np.float32) if with_depth else None

    def fill(self, prim: Primitive) -> None:
        """Paint one primitive into the image, labels and depth with identical coverage."""
        pts = [to_fixed(p) for p in prim.points]
        if prim.thickness > 0:
            if not prim.label_only:
                cv2.polylines(self.image, pts, True, prim.color, prim.thickness, cv2.LINE_8,
                              SHIFT)
            if not prim.image_only:
                cv2.polylines(self.label, pts, True, prim.code, prim.thickness, cv2.LINE_8,
                              SHIFT)
                if self.depth is not None:
                    cv2.polylines(self.depth, pts, True, prim.depth, prim.thickness,
                                  cv2.LINE_8, SHIFT)
            return
        if not prim.label_only:
            cv2.fillPoly(self.image, pts, prim.color, cv2.LINE_8, SHIFT)
        if not prim.image_only:
            cv2.fillPoly(self.label, pts, prim.code, cv2.LINE_8, SHIFT)
            if self.depth is not None:
                cv2.fillPoly(self.depth, pts, prim.depth, cv2.LINE_8, SHIFT)

    def paint(self, drawing: Drawing) -> None:
        """Paint all primitives of a drawing in order."""
        for prim in drawing.primitives:
            self.fill(prim)


def unoccluded_pixels(drawing: Drawing, region: tuple[int, int, int, int]) -> int:
    """Count the pixels a drawing covers inside region (x0, y0, x1, y1) when painted alone."""
    x0, y0, x1, y1 = region
    scratch = np.zeros((y1 - y0, x1 - x0), np.uint8)
    offset = np.array([x0, y0], np.float64)
    for prim in drawing.primitives:
        if prim.image_only:
            continue
        pts = [to_fixed(p - offset) for p in prim.points]
        if prim.thickness > 0:
            cv2.polylines(scratch, pts, True, 1, prim.thickness, cv2.LINE_8, SHIFT)
        else:
            cv2.fillPoly(scratch, pts, 1, cv2.LINE_8, SHIFT)
    return int(np.count_nonzero(scratch))
