# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Boxes, truncation, occlusion and 3D boxes from the exact instance buffer of a frame.

A box is the visible extent of an instance's pixels (x1, y1 the first column/row, x2, y2 the
last plus one). Occlusion compares the visible pixels with those the object covers when painted
alone: occluded fraction < 0.1 gives KITTI level 0, < 0.5 level 1, otherwise 2. Truncation is
the fraction of the projected extent of the object that lies outside the image. Instances
smaller than ``min_pixels`` become ignore regions (like KITTI DontCare).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np

from patchdrivenet_ros.data.camera import Camera
from patchdrivenet_ros.data.render import INSTANCE_SHIFT, Drawing, unoccluded_pixels


@dataclass(frozen=True)
class Boxes:
    """The detection labels of one frame."""

    boxes: np.ndarray  # (N, 4) float32 xyxy
    class_ids: np.ndarray  # (N,) int64
    track_ids: np.ndarray  # (N,) int64
    truncation: np.ndarray  # (N,) float32
    occlusion: np.ndarray  # (N,) int64
    boxes_3d: np.ndarray  # (N, 7) float32 h w l x y z ry (camera frame)
    ignore: np.ndarray  # (M, 4) float32 xyxy


def occlusion_level(visible: int, unoccluded: int) -> int:
    """Return the KITTI occlusion level for a visible / unoccluded pixel count."""
    hidden = 1.0 - visible / max(unoccluded, 1)
    return 0 if hidden < 0.1 else (1 if hidden < 0.5 else 2)


def extract_boxes(label: np.ndarray, drawings: list[Drawing], cam: Camera,
                  min_pixels: int) -> Boxes:
    """Measure every detectable drawing in the painted label buffer (H, W) int32."""
    h, w = label.shape
    rows: list[tuple[list[float], int, int, float, int, list[float]]] = []
    ignore: list[list[float]] = []
    for drawing in drawings:
        target = drawing.target
        extent = drawing.bbox()
        if target is None or extent is None:
            continue
        x0 = max(0, int(math.floor(extent[0])) - 1)
        y0 = max(0, int(math.floor(extent[1])) - 1)
        x1 = min(w, int(math.ceil(extent[2])) + 2)
        y1 = min(h, int(math.ceil(extent[3])) + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        mine = (label[y0:y1, x0:x1] >> INSTANCE_SHIFT) == drawing.instance
        visible = int(np.count_nonzero(mine))
        if visible == 0:
            continue
        cols = np.nonzero(mine.any(axis=0))[0]
        rws = np.nonzero(mine.any(axis=1))[0]
        box = [float(x0 + cols[0]), float(y0 + rws[0]), float(x0 + cols[-1] + 1),
               float(y0 + rws[-1] + 1)]
        if visible < min_pixels or box[3] - box[1] < 2 or box[2] - box[0] < 2:
            ignore.append(box)
            continue
        full = unoccluded_pixels(drawing, (x0, y0, x1, y1))
        area = max((extent[2] - extent[0]) * (extent[3] - extent[1]), 1e-6)
        inside = (max(0.0, min(extent[2], w) - max(extent[0], 0.0))
                  * max(0.0, min(extent[3], h) - max(extent[1], 0.0)))
        truncation = float(np.clip(1.0 - inside / area, 0.0, 1.0))
        rows.append((box, target.cls, target.track_id, truncation,
                     occlusion_level(visible, full), _box_3d(cam, drawing)))
    n = len(rows)
    return Boxes(
        boxes=np.array([r[0] for r in rows], np.float32).reshape(n, 4),
        class_ids=np.array([r[1] for r in rows], np.int64),
        track_ids=np.array([r[2] for r in rows], np.int64),
        truncation=np.array([r[3] for r in rows], np.float32),
        occlusion=np.array([r[4] for r in rows], np.int64),
        boxes_3d=np.array([r[5] for r in rows], np.float32).reshape(n, 7),
        ignore=np.array(ignore, np.float32).reshape(-1, 4),
    )


def _box_3d(cam: Camera, drawing: Drawing) -> list[float]:
    """Return KITTI h, w, l, x, y, z, ry of the drawing's target in camera coordinates."""
    t = drawing.target
    assert t is not None
    bottom = cam.to_camera(np.array([[t.x, t.base, t.z]]))[0]
    heading = cam.rotation @ np.array([math.sin(t.yaw), 0.0, math.cos(t.yaw)])
    ry = math.atan2(-heading[2], heading[0])
    return [t.height, t.width, t.length, float(bottom[0]), float(bottom[1]), float(bottom[2]), ry]
