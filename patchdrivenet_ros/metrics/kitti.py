# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI 2D detection AP|R40 with the easy / moderate / hard rules of the official devkit.

Per class and difficulty, as the devkit does: ground truth of the class outside the difficulty
(height <= min, occlusion or truncation above max) and of the neighbouring class ('van' for car,
'person_sitting' for pedestrian) is ignored: a detection matched to it is neither TP nor FP.
Detections lower than the minimum height are ignored unless they are the only match of a valid
ground truth (which is then ignored too); unmatched detections mostly inside a 'dontcare' box
(intersection over detection area above the class IoU) are not false positives. At each score
cutoff every ground truth, in order, takes the unassigned detection of highest IoU above the
class threshold (car 0.7, pedestrian and cyclist 0.5).

AP|R40 is the mean, over recall points 1/40 .. 40/40, of the highest precision among score
cutoffs reaching that recall. Unlike the devkit, which samples about 41 cutoffs and indexes
them by position, every distinct detection score is a cutoff and the recall axis is the recall
reached, so the result stays exact with fewer than 40 ground-truth objects; with many it agrees
with the devkit up to sampling. Small detections of other classes do not take part (the devkit
lets them absorb a match).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

import numpy as np

from patchdrivenet_ros.metrics.detection import box_area, box_iou

CLASS_IOU: dict[str, float] = {'car': 0.7, 'pedestrian': 0.5, 'cyclist': 0.5}
"""Evaluated classes and their IoU thresholds."""

NEIGHBOURS: dict[str, str] = {'car': 'van', 'pedestrian': 'person_sitting'}
"""Ground truth of these classes is ignored when evaluating the key class."""

DONTCARE = 'dontcare'
"""Ground-truth label of regions where unmatched detections are not counted."""


@dataclass(frozen=True)
class Difficulty:
    """Which ground truth counts at one difficulty level."""

    name: str
    min_height: float  # px; ground truth at or below it is ignored, detections below it too
    max_occlusion: int  # KITTI occlusion level 0 (visible) .. 3 (unknown)
    max_truncation: float  # fraction of the object outside the image


DIFFICULTIES = (
    Difficulty('easy', 40.0, 0, 0.15),
    Difficulty('moderate', 25.0, 1, 0.30),
    Difficulty('hard', 25.0, 2, 0.50),
)
"""The three KITTI difficulty levels."""

RECALL_POINTS_R40 = np.arange(1, 41) / 40.0
"""The 40 recall points of AP|R40."""


@dataclass(frozen=True)
class KittiImage:
    """One image's detections and ground truth, labels lower-case KITTI type names."""

    boxes: np.ndarray  # (N, 4) float64 xyxy
    scores: np.ndarray  # (N,) float64
    labels: tuple[str, ...]  # (N,)
    gt_boxes: np.ndarray  # (M, 4) float64 xyxy
    gt_labels: tuple[str, ...]  # (M,), 'dontcare' for dontcare regions
    truncation: np.ndarray  # (M,) float64
    occlusion: np.ndarray  # (M,) int64


def box_iou_over_first(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the (N, M) intersection of xyxy boxes over the area of the first, 0 if empty."""
    a = a.reshape(-1, 4)  # (N, 4)
    b = b.reshape(-1, 4)  # (M, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)  # (N, M)
    area = box_area(a)[:, None]  # (N, 1)
    return np.where(area > 0, inter / np.where(area > 0, area, 1.0), 0.0)


def _gt_states(image: KittiImage, cls: str, level: Difficulty) -> np.ndarray:
    """Return (M,) int: 0 counted, 1 ignored, -1 not taking part."""
    heights = image.gt_boxes[:, 3] - image.gt_boxes[:, 1]  # (M,)
    outside = (
        (image.occlusion > level.max_occlusion)
        | (image.truncation > level.max_truncation)
        | (heights <= level.min_height)
    )
    same = np.array([label == cls for label in image.gt_labels], bool)
    neighbour = np.array([label == NEIGHBOURS.get(cls) for label in image.gt_labels], bool)
    return np.where(same & ~outside, 0, np.where(same | neighbour, 1, -1))


def _prefix_counts(
    image: KittiImage, cls: str, level: Difficulty
) -> tuple[np.ndarray, np.ndarray]:
    """Return the image's detection scores, descending (D,), and TP/FP/FN counts (D + 1, 3).

    Row p of the counts holds the result when only the best p detections take part.
    """
    threshold = CLASS_IOU[cls]
    gt_state = _gt_states(image, cls, level)  # (M,)
    mine = np.array([label == cls for label in image.labels], bool)  # (N,)
    order = np.argsort(-image.scores[mine], kind='mergesort')
    boxes = image.boxes[mine][order]  # (D, 4)
    scores = image.scores[mine][order]  # (D,)
    small = (boxes[:, 3] - boxes[:, 1]) < level.min_height  # (D,)
    ious = box_iou(image.gt_boxes, boxes)  # (M, D)
    dontcare = image.gt_boxes[[label == DONTCARE for label in image.gt_labels]]  # (Z, 4)
    cover = box_iou_over_first(boxes, dontcare)  # (D, Z)
    counts = np.zeros((scores.shape[0] + 1, 3), np.int64)
    for p in range(scores.shape[0] + 1):
        taking_part = np.arange(scores.shape[0]) < p  # (D,)
        assigned = np.zeros(scores.shape[0], bool)  # (D,)
        tp = fn = 0
        for g in np.flatnonzero(gt_state >= 0):
            candidate = taking_part & ~assigned & (ious[g] > threshold)  # (D,)
            valid = candidate & ~small
            if valid.any():
                j = int(np.argmax(np.where(valid, ious[g], -1.0)))
            elif candidate.any():
                j = int(np.argmax(candidate))
            else:
                fn += int(gt_state[g] == 0)
                continue
            assigned[j] = True
            tp += int(gt_state[g] == 0 and not small[j])
        free = taking_part & ~assigned & ~small  # (D,)
        fp = int(np.count_nonzero(free))
        for z in range(cover.shape[1]):
            stuff = free & (cover[:, z] > threshold)
            free &= ~stuff
            fp -= int(np.count_nonzero(stuff))
        counts[p] = (tp, fp, fn)
    return scores, counts


def ap_r40(images: Sequence[KittiImage], cls: str, level: Difficulty) -> float:
    """Return AP|R40 of ``cls`` at ``level`` over images, in [0, 1]; NaN without ground truth."""
    if cls not in CLASS_IOU:
        raise ValueError(f'{cls!r} is not one of {", ".join(CLASS_IOU)}')
    tables = [_prefix_counts(image, cls, level) for image in images]
    counted = sum(int(np.count_nonzero(_gt_states(i, cls, level) == 0)) for i in images)
    if counted == 0:
        return math.nan
    cutoffs = np.unique(np.concatenate([scores for scores, _ in tables] + [np.zeros(0)]))[::-1]
    totals = np.zeros((cutoffs.shape[0], 3), np.int64)  # (S, 3) TP, FP, FN per cutoff
    for scores, counts in tables:
        taking_part = np.searchsorted(-scores, -cutoffs, side='right')  # (S,)
        totals += counts[taking_part]
    tp, fp, fn = (totals[:, k].astype(np.float64) for k in range(3))
    precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)  # (S,)
    recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)  # (S,)
    reached = recall[None, :] >= RECALL_POINTS_R40[:, None] - 1e-12  # (40, S)
    return float(np.where(reached, precision[None, :], 0.0).max(axis=1, initial=0.0).mean())


class KittiEvaluator:
    """Accumulate images and report KITTI 2D AP|R40 per class and difficulty."""

    def __init__(self) -> None:
        self._images: list[KittiImage] = []

    def add(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        labels: Sequence[str],
        gt_boxes: np.ndarray,
        gt_labels: Sequence[str],
        gt_truncation: np.ndarray,
        gt_occlusion: np.ndarray,
    ) -> None:
        """Add one image's detections and ground truth.

        Detections: (N, 4) xyxy boxes, (N,) scores, N type names. Ground truth: (M, 4) xyxy
        boxes, M type names (KITTI types in any case, 'DontCare' regions included), (M,)
        truncation in [0, 1] and (M,) occlusion levels.
        """
        image = KittiImage(
            boxes=np.asarray(boxes, np.float64).reshape(-1, 4),
            scores=np.asarray(scores, np.float64).reshape(-1),
            labels=tuple(str(label).lower() for label in labels),
            gt_boxes=np.asarray(gt_boxes, np.float64).reshape(-1, 4),
            gt_labels=tuple(str(label).lower() for label in gt_labels),
            truncation=np.asarray(gt_truncation, np.float64).reshape(-1),
            occlusion=np.asarray(gt_occlusion, np.int64).reshape(-1),
        )
        count = image.boxes.shape[0]
        if not count == image.scores.shape[0] == len(image.labels):
            raise ValueError('boxes, scores and labels differ in length')
        gts = image.gt_boxes.shape[0]
        if not gts == len(image.gt_labels) == image.truncation.shape[0] == image.occlusion.size:
            raise ValueError('gt_boxes, gt_labels, gt_truncation and gt_occlusion differ')
        self._images.append(image)

    def summary(self) -> dict[str, float]:
        """Return '<class>_<difficulty>' AP|R40 and 'map_<difficulty>' (mean over classes).

        NaN where a class has no counted ground truth; the means skip those.
        """
        result: dict[str, float] = {}
        for level in DIFFICULTIES:
            values = []
            for cls in CLASS_IOU:
                ap = ap_r40(self._images, cls, level)
                result[f'{cls}_{level.name}'] = ap
                values.append(ap)
            finite = [v for v in values if not math.isnan(v)]
            result[f'map_{level.name}'] = sum(finite) / len(finite) if finite else math.nan
        return result
