# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Cityscapes-style folders and the unified class map."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX, class_id
from patchdrivenet_ros.data.cityscapes import load_cityscapes
from patchdrivenet_ros.data.class_map import (
    KITTI_EXPORT_TYPES,
    KITTI_TYPES,
    NUSCENES_DETECTION,
    cityscapes_lut,
    map_name,
)


def _fixture(root: Path, with_instances: bool) -> np.ndarray:
    image_dir = root / 'leftImg8bit' / 'val' / 'bonn'
    gt_dir = root / 'gtFine' / 'val' / 'bonn'
    image_dir.mkdir(parents=True)
    gt_dir.mkdir(parents=True)
    cv2.imwrite(str(image_dir / 'bonn_000000_000019_leftImg8bit.png'),
                np.full((8, 12, 3), 128, np.uint8))
    labels = np.full((8, 12), 7, np.uint8)  # road
    labels[0:2] = 23  # sky
    labels[2, :4] = 11  # building
    labels[2, 4:8] = 6  # ground: not ours
    labels[3, 0:3] = 26  # car
    labels[3, 5:7] = 25  # rider
    labels[4, 0] = 17  # pole
    labels[4, 1] = 20  # traffic sign
    labels[4, 2] = 28  # bus
    labels[4, 3] = 33  # bicycle
    labels[4, 4] = 24  # person
    cv2.imwrite(str(gt_dir / 'bonn_000000_000019_gtFine_labelIds.png'), labels)
    if with_instances:
        instances = labels.astype(np.uint16)
        instances[3, 0:3] = 26000
        instances[3, 5:7] = 25000
        cv2.imwrite(str(gt_dir / 'bonn_000000_000019_gtFine_instanceIds.png'), instances)
    return labels


def test_label_ids_map_to_our_classes(tmp_path: Path) -> None:
    _fixture(tmp_path, with_instances=False)
    frames = list(load_cityscapes(tmp_path, 'val'))
    assert len(frames) == 1
    mask = frames[0].mask
    assert mask[0, 0] == class_id('sky') and mask[7, 0] == class_id('road')
    assert mask[2, 0] == class_id('building') and mask[2, 5] == IGNORE_INDEX
    assert mask[3, 0] == class_id('car') and mask[3, 5] == class_id('cyclist')
    assert mask[4, 0] == class_id('pole') and mask[4, 1] == class_id('traffic_sign')
    assert mask[4, 2] == class_id('truck') and mask[4, 3] == class_id('cyclist')
    assert mask[4, 4] == class_id('pedestrian')
    assert frames[0].boxes.shape == (0, 4)


def test_instance_ids_give_boxes(tmp_path: Path) -> None:
    _fixture(tmp_path, with_instances=True)
    frame = next(iter(load_cityscapes(tmp_path, 'val')))
    by_class = dict(zip(frame.class_ids.tolist(), frame.boxes.tolist(), strict=True))
    assert by_class[class_id('car')] == [0.0, 3.0, 3.0, 4.0]
    assert by_class[class_id('cyclist')] == [5.0, 3.0, 7.0, 4.0]


def test_class_map_tables() -> None:
    lut = cityscapes_lut()
    assert lut[7] == class_id('road') and lut[0] == IGNORE_INDEX and lut[30] == IGNORE_INDEX
    assert map_name(KITTI_TYPES, 'Van') == class_id('car')
    assert map_name(KITTI_TYPES, 'DontCare') == -1
    assert map_name(KITTI_TYPES, 'Spaceship') is None
    assert map_name(NUSCENES_DETECTION, 'bus') == class_id('truck')
    assert map_name(NUSCENES_DETECTION, 'traffic_cone') == -1
    assert set(KITTI_EXPORT_TYPES) <= set(CLASS_NAMES)
    for kitti_type in KITTI_EXPORT_TYPES.values():
        assert map_name(KITTI_TYPES, kitti_type) == class_id(
            next(k for k, v in KITTI_EXPORT_TYPES.items() if v == kitti_type))
