# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI 2D detection AP|R40, computed exactly as the official devkit (evaluate_object.cpp).

Per class and difficulty (easy / moderate / hard: minimum height 40 / 25 / 25 px, maximum
occlusion 0 / 1 / 2, maximum truncation 0.15 / 0.30 / 0.50):

- Ground truth of the class within the difficulty counts. Ground truth of the class outside it
  (height <= minimum, occlusion or truncation above the maximum) and of the neighbouring class
  ('van' for car, 'person_sitting' for pedestrian) is ignored: a detection matched to it is
  neither TP nor FP. Other ground truth does not take part; 'dontcare' boxes are regions.
- Detections lower than the minimum height, of any class, are "too small": never FP, and a
  ground truth they match is neither TP nor FN (the devkit truncates their height to whole
  pixels, which leaves a comparison with a whole-pixel minimum unchanged).
- A first pass over all images matches each ground truth, in file order, to the unassigned
  detection of highest score with IoU above the class threshold (car 0.7, pedestrian and
  cyclist 0.5); the scores of its true positives give at most 41 score thresholds, one per
  1/40 step of recall (the devkit's getThresholds).
- At each threshold every ground truth, in order, takes the unassigned detection of highest
  IoU (a too-small one only when no valid one matches); unmatched valid detections are false
  positives unless their intersection over their own area with a 'dontcare' region exceeds the
  class threshold. Precision per threshold, made non-increasing (the maximum to its right).
- AP|R40 is the sum of precisions 1 .. 40 of that list (zeros past its end) over 40.

With few ground-truth objects that list is short and AP|R40 is small by construction (two of
two found: 1/40); that is the devkit's number, and the one this module reports. Classes
without counted ground truth give NaN (the devkit prints nothing for them).
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

SAMPLE_POINTS = 41
"""Score thresholds sampled along recall, 0/40 .. 40/40 (the devkit's N_SAMPLE_PTS)."""


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


@dataclass(frozen=True)
class _Cleaned:
    """One image seen for one class and difficulty (the devkit's cleanData)."""

    gt_state: np.ndarray  # (M,) 0 counted, 1 ignored, -1 not taking part
    det_state: np.ndarray  # (N,) 0 valid, 1 too small, -1 another class
    scores: np.ndarray  # (N,)
    ious: np.ndarray  # (M, N) intersection over union
    dontcare_cover: np.ndarray  # (N, Z) intersection over the detection's area


def _clean(image: KittiImage, cls: str, level: Difficulty) -> _Cleaned:
    heights = image.gt_boxes[:, 3] - image.gt_boxes[:, 1]  # (M,)
    outside = ((image.occlusion > level.max_occlusion)
               | (image.truncation > level.max_truncation) | (heights <= level.min_height))
    same = np.array([label == cls for label in image.gt_labels], bool)
    neighbour = np.array([label == NEIGHBOURS.get(cls) for label in image.gt_labels], bool)
    gt_state = np.where(same & ~outside, 0, np.where(same | neighbour, 1, -1))
    det_heights = np.abs(image.boxes[:, 1] - image.boxes[:, 3])  # (N,)
    mine = np.array([label == cls for label in image.labels], bool)
    det_state = np.where(det_heights < level.min_height, 1, np.where(mine, 0, -1))
    dontcare = image.gt_boxes[[label == DONTCARE for label in image.gt_labels]]
    return _Cleaned(gt_state, det_state, image.scores, box_iou(image.gt_boxes, image.boxes),
                    box_iou_over_first(image.boxes, dontcare))


def _statistics(image: _Cleaned, min_iou: float, threshold: float | None
                ) -> tuple[int, int, int, list[float]]:
    """Return TP, FP, FN and the TP scores (the devkit's computeStatistics).

    threshold None is the first pass: candidates by score, no false positives counted.
    """
    count = image.scores.shape[0]
    assigned = np.zeros(count, bool)
    below = image.scores < threshold if threshold is not None else np.zeros(count, bool)
    usable = (image.det_state != -1) & ~below  # (N,)
    tp = fn = 0
    scores: list[float] = []
    for g in np.flatnonzero(image.gt_state != -1):
        candidate = usable & ~assigned & (image.ious[g] > min_iou)  # (N,)
        chosen = -1
        if threshold is None:
            if candidate.any():
                chosen = int(np.flatnonzero(candidate)[np.argmax(image.scores[candidate])])
        else:
            valid = candidate & (image.det_state == 0)
            if valid.any():  # the highest IoU, the first of equals
                chosen = int(np.argmax(np.where(valid, image.ious[g], -1.0)))
            elif candidate.any():  # only too-small detections match: the first of them
                chosen = int(np.argmax(candidate))
        if chosen < 0:
            fn += int(image.gt_state[g] == 0)
            continue
        assigned[chosen] = True
        if image.gt_state[g] == 0 and image.det_state[chosen] == 0:
            tp += 1
            scores.append(float(image.scores[chosen]))
    fp = 0
    if threshold is not None:
        free = ~assigned & (image.det_state == 0) & ~below  # (N,)
        fp = int(np.count_nonzero(free))
        for z in range(image.dontcare_cover.shape[1]):
            stuff = free & (image.dontcare_cover[:, z] > min_iou)
            free &= ~stuff
            fp -= int(np.count_nonzero(stuff))
    return tp, fp, fn, scores


def recall_thresholds(scores: Sequence[float], counted: int) -> list[float]:
    """Return the score thresholds sampled along recall (the devkit's getThresholds)."""
    ordered = sorted(scores, reverse=True)
    thresholds: list[float] = []
    current = 0.0
    for i, score in enumerate(ordered):
        left = (i + 1) / counted
        right = (i + 2) / counted if i < len(ordered) - 1 else left
        if right - current < current - left and i < len(ordered) - 1:
            continue
        thresholds.append(score)
        current += 1.0 / (SAMPLE_POINTS - 1.0)
    return thresholds


def ap_r40(images: Sequence[KittiImage], cls: str, level: Difficulty) -> float:
    """Return the devkit's AP|R40 of ``cls`` at ``level`` over images, in [0, 1].

    NaN when no ground truth counts.
    """
    if cls not in CLASS_IOU:
        raise ValueError(f'{cls!r} is not one of {", ".join(CLASS_IOU)}')
    min_iou = CLASS_IOU[cls]
    cleaned = [_clean(image, cls, level) for image in images]
    counted = sum(int(np.count_nonzero(c.gt_state == 0)) for c in cleaned)
    if counted == 0:
        return math.nan
    scores = [s for c in cleaned for s in _statistics(c, min_iou, None)[3]]
    precision = np.zeros(SAMPLE_POINTS)
    for t, threshold in enumerate(recall_thresholds(scores, counted)[:SAMPLE_POINTS]):
        tp = fp = 0
        for image in cleaned:
            tp_i, fp_i, _, _ = _statistics(image, min_iou, threshold)
            tp, fp = tp + tp_i, fp + fp_i
        precision[t] = tp / (tp + fp) if tp + fp else 0.0
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # max over i..end
    return float(precision[1:].sum() / (SAMPLE_POINTS - 1))


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
