# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""nuScenes camera frames with 2D boxes, through the official nuscenes-devkit.

2D ground truth is made as the devkit's ``export_2d_annotations_as_json.get_2d_boxes`` makes it:
each annotation's 3D box is moved into the camera frame (ego pose, then calibrated sensor), its
corners in front of the camera are projected with ``view_points``, and the box is the extent of
their convex hull clipped to the image. Sweeps (non-keyframes) use the devkit's interpolated
boxes (``NuScenes.get_boxes``). Classes come from ``category_to_detection_name`` mapped by
class_map.NUSCENES_DETECTION; ``barrier`` and ``traffic_cone`` become ignore regions.
Occlusion comes from the visibility token (4: 80-100 % visible -> 0, 3 and 2 -> 1, 1 -> 2),
truncation is the part of the projected hull outside the image, and stamps are
``sample_data.timestamp`` x 1000 ns. Masks are all 255 (nuScenes has no image segmentation).

Needs ``nuscenes-devkit`` (import ``nuscenes``); its pin ``numpy<2`` conflicts with this
project, so install it with ``pip install --no-deps nuscenes-devkit`` plus pyquaternion,
cachetools, matplotlib, pillow and scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from patchdrivenet_ros.data.class_map import NUSCENES_DETECTION, map_name
from patchdrivenet_ros.data.frame import (
    OCCLUSION_UNKNOWN,
    LabeledFrame,
    box_arrays,
    unlabeled_mask,
)
from patchdrivenet_ros.data.kitti import read_rgb

VISIBILITY_TO_OCCLUSION = {'4': 0, '3': 1, '2': 1, '1': 2}


@dataclass(frozen=True)
class CameraBox:
    """A 2D box of one annotation in one camera image."""

    annotation: str  # sample_annotation token
    instance: int  # index of the instance in the instance table (stable across frames)
    class_id: int  # our class id, -1 for an ignore region
    box: tuple[float, float, float, float]  # xyxy pixels
    truncation: float
    occlusion: int


def open_nuscenes(dataroot: str | Path, version: str = 'v1.0-mini') -> Any:
    """Open a nuScenes database with the devkit (quietly)."""
    from nuscenes.nuscenes import NuScenes  # noqa: PLC0415

    return NuScenes(version=version, dataroot=str(dataroot), verbose=False)


def _clip_hull(points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float] | None:
    """Return the convex hull (K, 2) of points clipped to the image and the unclipped area."""
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    area = float(cv2.contourArea(hull))
    canvas = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    if area <= 0.0:
        return None
    inter_area, inter = cv2.intersectConvexConvex(hull, canvas)
    if inter is None or inter_area <= 0.0:
        return None
    return inter.reshape(-1, 2), area


def camera_boxes(nusc: Any, sample_data_token: str) -> list[CameraBox]:
    """Return the 2D boxes of every annotated object seen by one camera sample_data."""
    from nuscenes.eval.detection.utils import category_to_detection_name  # noqa: PLC0415
    from nuscenes.utils.geometry_utils import view_points  # noqa: PLC0415
    from pyquaternion import Quaternion  # noqa: PLC0415

    sd = nusc.get('sample_data', sample_data_token)
    cs = nusc.get('calibrated_sensor', sd['calibrated_sensor_token'])
    pose = nusc.get('ego_pose', sd['ego_pose_token'])
    intrinsic = np.array(cs['camera_intrinsic'])
    width, height = int(sd['width']), int(sd['height'])
    out = []
    for box in nusc.get_boxes(sample_data_token):
        ann = nusc.get('sample_annotation', box.token)
        name = category_to_detection_name(ann['category_name'])
        cls = map_name(NUSCENES_DETECTION, name) if name is not None else None
        if cls is None:
            continue
        box.translate(-np.array(pose['translation']))
        box.rotate(Quaternion(pose['rotation']).inverse)
        box.translate(-np.array(cs['translation']))
        box.rotate(Quaternion(cs['rotation']).inverse)
        corners = box.corners()  # (3, 8) camera frame
        corners = corners[:, corners[2, :] > 0]
        if corners.shape[1] == 0:
            continue
        projected = view_points(corners, intrinsic, True)[:2].T  # (K, 2)
        clipped = _clip_hull(projected, width, height)
        if clipped is None:
            continue
        inter, area = clipped
        lo, hi = inter.min(axis=0), inter.max(axis=0)
        inside = float(cv2.contourArea(inter.astype(np.float32)))
        out.append(CameraBox(
            annotation=ann['token'],
            instance=int(nusc.getind('instance', ann['instance_token'])),
            class_id=cls,
            box=(float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])),
            truncation=float(np.clip(1.0 - inside / area, 0.0, 1.0)),
            occlusion=VISIBILITY_TO_OCCLUSION.get(ann.get('visibility_token', ''),
                                                  OCCLUSION_UNKNOWN),
        ))
    return out


def frame_from_sample_data(nusc: Any, sample_data_token: str, index: int,
                           image: np.ndarray | None = None) -> LabeledFrame:
    """Build the LabeledFrame of one camera sample_data (``image``: its pixels, when known)."""
    sd = nusc.get('sample_data', sample_data_token)
    cs = nusc.get('calibrated_sensor', sd['calibrated_sensor_token'])
    if image is None:
        image = read_rgb(Path(nusc.dataroot) / sd['filename'])
    found = camera_boxes(nusc, sample_data_token)
    keep = [b for b in found if b.class_id >= 0]
    ignore = [b.box for b in found if b.class_id < 0]
    boxes, classes, tracks, trunc, occ = box_arrays(
        [b.box for b in keep], [b.class_id for b in keep], [b.instance for b in keep],
        [b.truncation for b in keep], [b.occlusion for b in keep])
    return LabeledFrame(
        image=image, mask=unlabeled_mask(image.shape[0], image.shape[1]), boxes=boxes,
        class_ids=classes, track_ids=tracks, truncation=trunc, occlusion=occ,
        stamp_ns=int(sd['timestamp']) * 1000, index=index,
        ignore_boxes=np.asarray(ignore, np.float32).reshape(-1, 4),
        camera_matrix=np.array(cs['camera_intrinsic'], np.float64),
    )


NUSCENES_SPLITS = {'v1.0-trainval': ('train', 'val'), 'v1.0-mini': ('mini_train', 'mini_val')}
"""Official scene splits (devkit names) of each labelled version: (training, validation)."""


def split_scene_names(version: str, split: str) -> set[str]:
    """Return the scene names of ``split`` ('train' or 'val') of a labelled version."""
    from nuscenes.utils.splits import create_splits_scenes  # noqa: PLC0415

    if version not in NUSCENES_SPLITS:
        raise ValueError(f'nuScenes version {version!r} has no labelled split; use one of '
                         f'{", ".join(NUSCENES_SPLITS)}')
    return set(create_splits_scenes()[NUSCENES_SPLITS[version][split == 'val']])


def load_nuscenes_scenes(dataroot: str | Path, version: str = 'v1.0-mini',
                         camera: str = 'CAM_FRONT', keyframes_only: bool = True,
                         nusc: Any = None, scenes: set[str] | None = None
                         ) -> Iterator[list[LabeledFrame]]:
    """Yield the frames of one camera, one list per scene, in time order.

    ``scenes``: the names of the scenes to read (default: every scene).
    """
    nusc = nusc if nusc is not None else open_nuscenes(dataroot, version)
    index = 0
    for scene in nusc.scene:
        if scenes is not None and scene['name'] not in scenes:
            continue
        sample = nusc.get('sample', scene['first_sample_token'])
        token = sample['data'][camera]
        frames = []
        while token:
            sd = nusc.get('sample_data', token)
            if sd['is_key_frame'] or not keyframes_only:
                frames.append(frame_from_sample_data(nusc, token, index))
                index += 1
            token = sd['next']
        yield frames


def keyframe_stamps(nusc: Any, camera: str) -> set[int]:
    """Return the stamps (ns) of one camera's keyframes."""
    return {int(sd['timestamp']) * 1000 for sd in nusc.sample_data
            if sd['is_key_frame'] and str(sd['filename']).startswith(f'samples/{camera}/')}


def load_nuscenes(dataroot: str | Path, version: str = 'v1.0-mini', camera: str = 'CAM_FRONT',
                  keyframes_only: bool = True, nusc: Any = None) -> Iterator[LabeledFrame]:
    """Yield the frames of one camera over every scene, in time order per scene."""
    for scene in load_nuscenes_scenes(dataroot, version, camera, keyframes_only, nusc):
        yield from scene
