# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Cityscapes-style segmentation folders.

Layout: ``ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png`` with
``ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png``. Label ids map to our classes with
class_map.cityscapes_lut (everything we do not model is 255). When
``<name>_gtFine_instanceIds.png`` exists, boxes of the detection classes come from it
(instance ids are label id x 1000 + k); otherwise frames have no boxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from patchdrivenet_ros.classes import DETECTION_CLASSES, class_id
from patchdrivenet_ros.data.class_map import cityscapes_lut
from patchdrivenet_ros.data.frame import LabeledFrame, box_arrays
from patchdrivenet_ros.data.kitti import read_rgb

_SUFFIX = '_leftImg8bit.png'
CITYSCAPES_PERIOD_NS = 58_823_529
"""Cityscapes was recorded at 17 Hz; frames get index x 1/17 s."""


def read_label(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Read a single-channel label image for an image of ``shape`` (H, W[, 3]).

    FileNotFoundError when it cannot be read, ValueError when its size is not the image's.
    """
    label = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise FileNotFoundError(f'cannot read label image {path}')
    if label.ndim != 2 or label.shape != tuple(shape[:2]):
        raise ValueError(f'{path}: label of shape {label.shape}, the image is {shape[:2]}')
    return label


def instance_boxes(instances: np.ndarray, lut: np.ndarray) -> tuple[list[list[float]],
                                                                     list[int], list[int]]:
    """Return boxes, class ids and instance ids of detection-class instances (ids >= 1000)."""
    detection = {class_id(n) for n in DETECTION_CLASSES}
    boxes, classes, ids = [], [], []
    for value in np.unique(instances):
        if value < 1000:
            continue
        cls = int(lut[int(value) // 1000])
        if cls not in detection:
            continue
        ys, xs = np.nonzero(instances == value)
        boxes.append([float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)])
        classes.append(cls)
        ids.append(int(value))
    return boxes, classes, ids


def read_cityscapes_frame(image_path: Path, labels: Path, index: int,
                          lut: np.ndarray) -> tuple[LabeledFrame, bool]:
    """Read one image with its labelIds (through ``lut``) from the gtFine folder ``labels``.

    Boxes come from ``*_gtFine_instanceIds.png`` when it exists; the flag says whether it did.
    """
    stem = image_path.name[: -len(_SUFFIX)]
    image = read_rgb(image_path)
    mask = lut[read_label(labels / f'{stem}_gtFine_labelIds.png', image.shape)]
    instance_path = labels / f'{stem}_gtFine_instanceIds.png'
    has_instances = instance_path.exists()
    found: tuple[list[list[float]], list[int], list[int]] = ([], [], [])
    if has_instances:
        found = instance_boxes(read_label(instance_path, image.shape), lut)
    boxes, classes, tracks, trunc, occ = box_arrays(found[0], found[1], found[2])
    frame = LabeledFrame(
        image=image, mask=mask, boxes=boxes, class_ids=classes, track_ids=tracks,
        truncation=trunc, occlusion=occ, stamp_ns=index * CITYSCAPES_PERIOD_NS, index=index,
    )
    return frame, has_instances


def load_cityscapes(root: str | Path, split: str = 'val') -> Iterator[LabeledFrame]:
    """Yield the frames of one split, sorted by city and name."""
    root = Path(root)
    lut = cityscapes_lut()
    images = sorted((root / 'leftImg8bit' / split).glob(f'*/*{_SUFFIX}'))
    for index, image_path in enumerate(images):
        labels = root / 'gtFine' / split / image_path.parent.name
        yield read_cityscapes_frame(image_path, labels, index, lut)[0]
