# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""How the labels of real datasets map onto the project's classes (patchdrivenet_ros.classes).

Every loader goes through this one module, so synthetic and real data share the same ids.

================  =========================================  ===================================
our class         KITTI (``label_2`` / ``label_02`` types)   nuScenes detection name / Cityscapes
================  =========================================  ===================================
road              --                                         Cityscapes road
lane_marking      --                                         -- (Cityscapes paints it as road)
sidewalk          --                                         Cityscapes sidewalk
building          --                                         Cityscapes building
vegetation        --                                         Cityscapes vegetation
sky               --                                         Cityscapes sky
pole              --                                         Cityscapes pole, polegroup
traffic_sign      TrafficSign (our synthetic export)         Cityscapes traffic sign
traffic_light     TrafficLight (our synthetic export)        Cityscapes traffic light
car               Car, Van                                   nuScenes car; Cityscapes car
truck             Truck                                      nuScenes truck, bus, trailer,
                                                             construction_vehicle; Cityscapes
                                                             truck, bus
pedestrian        Pedestrian, Person_sitting                 nuScenes pedestrian; Cityscapes
                                                             person
cyclist           Cyclist                                    nuScenes bicycle, motorcycle;
                                                             Cityscapes rider, bicycle, motorcycle
================  =========================================  ===================================

Ignored: KITTI ``Tram`` and ``Misc`` (not our classes) and ``DontCare`` become ignore regions;
nuScenes ``barrier`` and ``traffic_cone`` become ignore regions; every other Cityscapes label
(ground, parking, terrain, wall, fence, caravan, trailer, train, license plate, ...) is 255.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from patchdrivenet_ros.classes import IGNORE_INDEX, class_id

IGNORE_REGION: Final = 'ignore'
"""Marker for source labels whose boxes become ignore regions."""

KITTI_TYPES: Final[dict[str, str]] = {
    'Car': 'car',
    'Van': 'car',
    'Truck': 'truck',
    'Pedestrian': 'pedestrian',
    'Person_sitting': 'pedestrian',
    'Cyclist': 'cyclist',
    'TrafficSign': 'traffic_sign',
    'TrafficLight': 'traffic_light',
    'Tram': IGNORE_REGION,
    'Misc': IGNORE_REGION,
    'DontCare': IGNORE_REGION,
}
"""KITTI object type -> our class name, or IGNORE_REGION."""

KITTI_EXPORT_TYPES: Final[dict[str, str]] = {
    'car': 'Car',
    'truck': 'Truck',
    'pedestrian': 'Pedestrian',
    'cyclist': 'Cyclist',
    'traffic_sign': 'TrafficSign',
    'traffic_light': 'TrafficLight',
}
"""Our detection class -> the KITTI type written by the exporters (signs and lights are not
KITTI types; tools that whitelist KITTI's eight types skip them)."""

NUSCENES_DETECTION: Final[dict[str, str]] = {
    'car': 'car',
    'truck': 'truck',
    'bus': 'truck',
    'trailer': 'truck',
    'construction_vehicle': 'truck',
    'pedestrian': 'pedestrian',
    'motorcycle': 'cyclist',
    'bicycle': 'cyclist',
    'barrier': IGNORE_REGION,
    'traffic_cone': IGNORE_REGION,
}
"""nuScenes detection name (devkit ``category_to_detection_name``) -> our class name."""

CITYSCAPES_LABEL_IDS: Final[dict[int, str]] = {
    7: 'road',
    8: 'sidewalk',
    11: 'building',
    17: 'pole',
    18: 'pole',
    19: 'traffic_light',
    20: 'traffic_sign',
    21: 'vegetation',
    23: 'sky',
    24: 'pedestrian',
    25: 'cyclist',
    26: 'car',
    27: 'truck',
    28: 'truck',
    32: 'cyclist',
    33: 'cyclist',
}
"""Cityscapes ``labelIds`` value -> our class name; all other ids map to 255."""


def cityscapes_lut() -> np.ndarray:
    """Return a (256,) uint8 lookup table from Cityscapes labelIds to our class ids."""
    lut = np.full(256, IGNORE_INDEX, np.uint8)
    for label, name in CITYSCAPES_LABEL_IDS.items():
        lut[label] = class_id(name)
    return lut


def map_name(table: dict[str, str], name: str) -> int | None:
    """Return our class id for a source label, -1 for an ignore region, None if unknown."""
    target = table.get(name)
    if target is None:
        return None
    return -1 if target == IGNORE_REGION else class_id(target)
