# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI label files: the object benchmark (``label_2``) and tracking (``label_02``).

Object lines have 15 columns (16 with a score): type truncated occluded alpha left top right
bottom h w l x y z ry. Tracking lines put ``frame track_id`` first, and their truncation is an
integer level 0/1/2 instead of a fraction; it is read back as 0.0 / 0.3 / 0.6 and written from a
fraction with the thresholds 0.15 and 0.5, so KITTI's difficulty rules (truncation <= 0.15,
0.30, 0.50) still separate the levels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import math
from pathlib import Path

import cv2
import numpy as np

from patchdrivenet_ros.data.class_map import KITTI_TYPES, map_name
from patchdrivenet_ros.data.frame import LabeledFrame, box_arrays, unlabeled_mask

KITTI_PERIOD_NS = 100_000_000
"""KITTI sequences run at 10 Hz; frames without timestamps get index x 100 ms."""

_TRACKING_TRUNCATION = (0.0, 0.3, 0.6)


@dataclass(frozen=True)
class KittiObject:
    """One label line."""

    type: str
    truncated: float
    occluded: int
    alpha: float
    bbox: tuple[float, float, float, float]  # left top right bottom, pixels
    dimensions: tuple[float, float, float]  # h w l, metres
    location: tuple[float, float, float]  # x y z, camera coordinates
    rotation_y: float
    frame: int = -1  # tracking only
    track_id: int = -1  # tracking only
    score: float | None = None


def parse_object_line(line: str) -> KittiObject:
    """Parse one ``label_2`` line (15 or 16 columns)."""
    f = line.split()
    if len(f) not in (15, 16):
        raise ValueError(f'KITTI object line needs 15 or 16 columns, got {len(f)}: {line!r}')
    v = [float(x) for x in f[1:]]
    return KittiObject(
        type=f[0], truncated=v[0], occluded=int(v[1]), alpha=v[2],
        bbox=(v[3], v[4], v[5], v[6]), dimensions=(v[7], v[8], v[9]),
        location=(v[10], v[11], v[12]), rotation_y=v[13],
        score=v[14] if len(v) == 15 else None,
    )


def parse_tracking_line(line: str) -> KittiObject:
    """Parse one ``label_02`` line (17 or 18 columns, frame and track id first)."""
    f = line.split()
    if len(f) not in (17, 18):
        raise ValueError(f'KITTI tracking line needs 17 or 18 columns, got {len(f)}: {line!r}')
    obj = parse_object_line(' '.join(f[2:]))
    level = int(float(f[3]))
    truncated = _TRACKING_TRUNCATION[min(max(level, 0), 2)]
    return KittiObject(obj.type, truncated, obj.occluded, obj.alpha, obj.bbox, obj.dimensions,
                       obj.location, obj.rotation_y, int(f[0]), int(f[1]), obj.score)


def read_object_labels(path: str | Path) -> list[KittiObject]:
    """Read a ``label_2/NNNNNN.txt`` file."""
    return [parse_object_line(x) for x in Path(path).read_text().splitlines() if x.strip()]


def read_tracking_labels(path: str | Path) -> dict[int, list[KittiObject]]:
    """Read a ``label_02/NNNN.txt`` file, grouped by frame."""
    frames: dict[int, list[KittiObject]] = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            obj = parse_tracking_line(line)
            frames.setdefault(obj.frame, []).append(obj)
    return frames


def tracking_truncation_level(truncation: float) -> int:
    """Return the tracking benchmark's integer truncation level for a fraction."""
    return 0 if truncation < 0.15 else (1 if truncation < 0.5 else 2)


def format_object(obj: KittiObject) -> str:
    """Format an object as a ``label_2`` line (15 columns, 16 with a score)."""
    values = [obj.type, f'{obj.truncated:.2f}', str(obj.occluded), f'{obj.alpha:.2f}',
              *(f'{x:.2f}' for x in obj.bbox), *(f'{x:.2f}' for x in obj.dimensions),
              *(f'{x:.2f}' for x in obj.location), f'{obj.rotation_y:.2f}']
    if obj.score is not None:
        values.append(f'{obj.score:.4f}')
    return ' '.join(values)


def format_tracking(obj: KittiObject) -> str:
    """Format an object as a ``label_02`` line (frame, track id, integer truncation)."""
    rest = format_object(obj).split(' ')
    rest[1] = str(tracking_truncation_level(obj.truncated))
    return ' '.join([str(obj.frame), str(obj.track_id), *rest])


def observation_angle(rotation_y: float, x: float, z: float) -> float:
    """Return KITTI's alpha = ry - atan2(x, z), wrapped to [-pi, pi)."""
    alpha = rotation_y - math.atan2(x, z)
    return (alpha + math.pi) % (2 * math.pi) - math.pi


def difficulty(height: float, occluded: int, truncated: float) -> int:
    """Return KITTI's difficulty: 0 easy, 1 moderate, 2 hard, -1 none of them.

    Easy: box height >= 40 px, fully visible, truncation <= 0.15. Moderate: >= 25 px, at most
    partly occluded, <= 0.30. Hard: >= 25 px, at most largely occluded, <= 0.50.
    """
    for level, (min_h, max_occ, max_trunc) in enumerate(((40, 0, 0.15), (25, 1, 0.30),
                                                          (25, 2, 0.50))):
        if height >= min_h and occluded <= max_occ and truncated <= max_trunc:
            return level
    return -1


def objects_to_frame(image: np.ndarray, objects: list[KittiObject], index: int,
                     stamp_ns: int) -> LabeledFrame:
    """Build a LabeledFrame (no mask: all 255) from an image and its KITTI objects."""
    boxes, classes, tracks, trunc, occ, boxes_3d, ignore = [], [], [], [], [], [], []
    for obj in objects:
        cls = map_name(KITTI_TYPES, obj.type)
        if cls is None:
            continue
        if cls < 0:
            ignore.append(obj.bbox)
            continue
        boxes.append(obj.bbox)
        classes.append(cls)
        tracks.append(obj.track_id)
        trunc.append(obj.truncated)
        occ.append(obj.occluded)
        boxes_3d.append((*obj.dimensions, *obj.location, obj.rotation_y))
    b, c, t, tr, oc = box_arrays(boxes, classes, tracks, trunc, occ)
    return LabeledFrame(
        image=image, mask=unlabeled_mask(image.shape[0], image.shape[1]), boxes=b, class_ids=c,
        track_ids=t, truncation=tr, occlusion=oc, stamp_ns=stamp_ns, index=index,
        ignore_boxes=np.asarray(ignore, np.float32).reshape(-1, 4),
        boxes_3d=np.asarray(boxes_3d, np.float32).reshape(-1, 7),
    )


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'cannot read image {path}')
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load_kitti_object(root: str | Path) -> Iterator[LabeledFrame]:
    """Yield the frames of a KITTI object split (``root/image_2/*.png``, ``root/label_2``)."""
    root = Path(root)
    for index, image_path in enumerate(sorted((root / 'image_2').glob('*.png'))):
        label_path = root / 'label_2' / f'{image_path.stem}.txt'
        objects = read_object_labels(label_path) if label_path.exists() else []
        yield objects_to_frame(read_rgb(image_path), objects, index, index * KITTI_PERIOD_NS)


def load_kitti_tracking(root: str | Path, sequence: int) -> Iterator[LabeledFrame]:
    """Yield the frames of a KITTI tracking sequence (``image_02/NNNN``, ``label_02/NNNN.txt``)."""
    root = Path(root)
    label_path = root / 'label_02' / f'{sequence:04d}.txt'
    labels = read_tracking_labels(label_path) if label_path.exists() else {}
    for image_path in sorted((root / 'image_02' / f'{sequence:04d}').glob('*.png')):
        index = int(image_path.stem)
        yield objects_to_frame(read_rgb(image_path), labels.get(index, []), index,
                               index * KITTI_PERIOD_NS)
