# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""One labeled camera frame: the record that generators, exporters and loaders exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from patchdrivenet_ros.classes import IGNORE_INDEX

OCCLUSION_UNKNOWN = 3
"""KITTI occlusion level for objects whose visibility is not known."""


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


@dataclass(frozen=True)
class FrameLabels:
    """The labels of one frame without its image (what a bag's label sidecar stores)."""

    mask: np.ndarray  # (H, W) uint8 class ids, 255 = unlabeled
    boxes: np.ndarray  # (N, 4) float32 xyxy input pixels (visible extent)
    class_ids: np.ndarray  # (N,) int64 segmentation class ids
    track_ids: np.ndarray  # (N,) int64, stable across the frames of a drive, -1 if unknown
    truncation: np.ndarray  # (N,) float32 in [0, 1]
    occlusion: np.ndarray  # (N,) int64 KITTI levels 0..3
    stamp_ns: int
    index: int
    ignore_boxes: np.ndarray = field(default_factory=_empty_boxes)  # (M, 4) float32 xyxy


@dataclass(frozen=True)
class LabeledFrame:
    """An RGB frame with exact per-pixel classes and 2D boxes.

    ``boxes_3d`` (KITTI conventions: h, w, l, x, y, z, ry in camera coordinates, location at
    the bottom centre), ``camera_matrix`` and ``camera_pose`` (camera axes x right, y down,
    z forward, to a world frame with Y up) are present when the source knows them.
    ``ignore_boxes`` are regions a detector is neither rewarded nor punished for (KITTI
    DontCare, objects too small to label).
    """

    image: np.ndarray  # (H, W, 3) uint8 RGB
    mask: np.ndarray  # (H, W) uint8 segmentation class ids, 255 = unlabeled
    boxes: np.ndarray  # (N, 4) float32 xyxy input pixels (visible extent of each object)
    class_ids: np.ndarray  # (N,) int64 segmentation class ids (only DETECTION_CLASSES)
    track_ids: np.ndarray  # (N,) int64 stable across frames of a drive
    truncation: np.ndarray  # (N,) float32 in [0, 1]
    occlusion: np.ndarray  # (N,) int64 KITTI 0 fully visible, 1 partly, 2 largely, 3 unknown
    stamp_ns: int  # frame time, nanoseconds
    index: int
    ignore_boxes: np.ndarray = field(default_factory=_empty_boxes)  # (M, 4) float32 xyxy
    boxes_3d: np.ndarray | None = None  # (N, 7) float32 h w l x y z ry, camera coordinates
    camera_matrix: np.ndarray | None = None  # (3, 3) float64 intrinsics
    camera_pose: np.ndarray | None = None  # (4, 4) float64 camera -> world (Y up, ground Y=0)

    @property
    def height(self) -> int:
        """Image height in pixels."""
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        """Image width in pixels."""
        return int(self.image.shape[1])

    def labels(self) -> FrameLabels:
        """Return the labels of this frame without the image."""
        return FrameLabels(
            mask=self.mask,
            boxes=self.boxes,
            class_ids=self.class_ids,
            track_ids=self.track_ids,
            truncation=self.truncation,
            occlusion=self.occlusion,
            stamp_ns=self.stamp_ns,
            index=self.index,
            ignore_boxes=self.ignore_boxes,
        )


def unlabeled_mask(height: int, width: int) -> np.ndarray:
    """Return an (H, W) uint8 mask where every pixel is unlabeled."""
    return np.full((height, width), IGNORE_INDEX, np.uint8)


def box_arrays(
    boxes: Sequence[Sequence[float]] | np.ndarray,
    class_ids: Sequence[int] | np.ndarray,
    track_ids: Sequence[int] | np.ndarray | None = None,
    truncation: Sequence[float] | np.ndarray | None = None,
    occlusion: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return box, class, track, truncation and occlusion arrays with the frame's dtypes."""
    boxes_a = np.asarray(boxes, np.float32).reshape(-1, 4)
    n = boxes_a.shape[0]
    classes_a = np.asarray(class_ids, np.int64).reshape(n)
    tracks_a = (
        np.full(n, -1, np.int64) if track_ids is None else np.asarray(track_ids, np.int64)
    ).reshape(n)
    trunc_a = (
        np.zeros(n, np.float32) if truncation is None else np.asarray(truncation, np.float32)
    ).reshape(n)
    occ_a = (
        np.full(n, OCCLUSION_UNKNOWN, np.int64)
        if occlusion is None
        else np.asarray(occlusion, np.int64)
    ).reshape(n)
    return boxes_a, classes_a, tracks_a, trunc_a, occ_a
