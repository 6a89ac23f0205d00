# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one class map: segmentation ids, detection classes, thin classes and display colours."""

from __future__ import annotations

from typing import Final

import numpy as np

IGNORE_INDEX: Final[int] = 255
"""Mask value for unlabeled pixels, in labels and in the published mask."""

CLASS_NAMES: Final[tuple[str, ...]] = (
    'road',
    'lane_marking',
    'sidewalk',
    'building',
    'vegetation',
    'sky',
    'pole',
    'traffic_sign',
    'traffic_light',
    'car',
    'truck',
    'pedestrian',
    'cyclist',
)
"""Segmentation classes; a pixel's class id is its index here."""

DETECTION_CLASSES: Final[tuple[str, ...]] = (
    'traffic_sign',
    'traffic_light',
    'car',
    'truck',
    'pedestrian',
    'cyclist',
)
"""Classes that also get 2D boxes. Published class ids are indices into CLASS_NAMES."""

THIN_CLASSES: Final[tuple[str, ...]] = ('lane_marking', 'pole', 'traffic_sign')
"""Thin or small classes whose IoU the thin-class metric averages."""

CLASS_COLORS_BGR: Final[np.ndarray] = np.array(
    [
        (128, 64, 128),  # road
        (255, 255, 255),  # lane_marking
        (232, 35, 244),  # sidewalk
        (70, 70, 70),  # building
        (35, 142, 107),  # vegetation
        (180, 130, 70),  # sky
        (153, 153, 153),  # pole
        (0, 220, 220),  # traffic_sign
        (30, 170, 250),  # traffic_light
        (142, 0, 0),  # car
        (70, 0, 0),  # truck
        (60, 20, 220),  # pedestrian
        (32, 11, 119),  # cyclist
    ],
    dtype=np.uint8,
)
"""Display colour per class id (BGR, Cityscapes-like)."""


def class_id(name: str) -> int:
    """Return the segmentation class id of ``name``."""
    return CLASS_NAMES.index(name)


def thin_class_ids() -> tuple[int, ...]:
    """Return the class ids of THIN_CLASSES."""
    return tuple(CLASS_NAMES.index(n) for n in THIN_CLASSES)


def colorize(mask: np.ndarray) -> np.ndarray:
    """Colour a class-id mask (H, W) into a BGR image (H, W, 3); unlabeled pixels are black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[: len(CLASS_NAMES)] = CLASS_COLORS_BGR
    return lut[mask]
