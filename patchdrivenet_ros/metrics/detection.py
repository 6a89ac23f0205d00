# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""COCO-style 2D detection metrics: mAP over IoU .50:.95, mAP50, mAP75 and AP by object size.

Computed as the COCO evaluation does for boxes: per image and class the detections are sorted
by score (stable) and kept up to 100; each, in turn, takes the unmatched ground truth of highest
IoU at or above the threshold, preferring ground truth inside the area range; detections matched
to out-of-range ground truth, and unmatched ones outside the range, are ignored. Precision is
made monotone and read at 101 recall points; AP averages over classes with ground truth.
Ground-truth and detection areas are box areas. Boxes are xyxy in pixels (x2/y2 exclusive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
"""The ten IoU thresholds .50:.05:.95."""

RECALL_POINTS = np.linspace(0.0, 1.0, 101)
"""The 101 recall points at which precision is read."""

AREA_RANGES: dict[str, tuple[float, float]] = {
    'all': (0.0, 1e10),
    'small': (0.0, 32.0**2),
    'medium': (32.0**2, 96.0**2),
    'large': (96.0**2, 1e10),
}
"""Object area ranges in square pixels, bounds inclusive as in COCO."""

MAX_DETECTIONS = 100
"""Detections kept per image and class."""


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Return the (N,) float64 areas of (N, 4) xyxy boxes (0 for empty boxes)."""
    b = boxes.astype(np.float64).reshape(-1, 4)  # (N, 4)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the (N, M) float64 IoU of (N, 4) and (M, 4) xyxy boxes."""
    a = a.astype(np.float64).reshape(-1, 4)  # (N, 4)
    b = b.astype(np.float64).reshape(-1, 4)  # (M, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)  # (N, M)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter  # (N, M)
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


@dataclass(frozen=True)
class ImageMatches:
    """Matching of one image and class at every IoU threshold, detections sorted by score."""

    scores: np.ndarray  # (D,) float64 descending
    matched: np.ndarray  # (T, D) bool: detection matched a ground truth
    ignored: np.ndarray  # (T, D) bool: detection ignored (out-of-range match or area)
    valid_gt: int  # ground truth inside the area range


def match_image(
    ious: np.ndarray,
    scores: np.ndarray,
    gt_ignore: np.ndarray,
    det_out_of_range: np.ndarray,
    thresholds: np.ndarray = IOU_THRESHOLDS,
) -> ImageMatches:
    """Greedily match detections (by descending score) to ground truth at each threshold.

    ``ious`` (D, G) in the detections' given order, ``scores`` (D,), ``gt_ignore`` (G,) bool
    (ground truth outside the area range), ``det_out_of_range`` (D,) bool.
    """
    order = np.argsort(-scores, kind='mergesort')[:MAX_DETECTIONS]  # (D',)
    gt_order = np.argsort(gt_ignore, kind='mergesort')  # in-range ground truth first
    ious = ious[order][:, gt_order]  # (D', G)
    gt_ignore = gt_ignore[gt_order]  # (G,)
    count, gts = ious.shape
    steps = thresholds.shape[0]
    gt_taken = np.zeros((steps, gts), bool)  # (T, G)
    matched = np.zeros((steps, count), bool)  # (T, D')
    ignored = np.zeros((steps, count), bool)  # (T, D')
    limit = np.minimum(thresholds, 1 - 1e-10)[:, None]  # (T, 1)
    rows = np.arange(steps)
    for d in range(count if gts else 0):
        ok = ~gt_taken & (ious[d][None, :] >= limit)  # (T, G)
        in_range = ok & ~gt_ignore[None, :]  # (T, G)
        ok = np.where(in_range.any(axis=1, keepdims=True), in_range, ok)  # (T, G)
        values = np.where(ok, ious[d][None, :], -1.0)  # (T, G)
        best = gts - 1 - values[:, ::-1].argmax(axis=1)  # (T,) last of the ties
        hit = ok[rows, best]  # (T,)
        gt_taken[rows[hit], best[hit]] = True
        matched[hit, d] = True
        ignored[hit, d] = gt_ignore[best[hit]]
    ignored |= ~matched & det_out_of_range[order][None, :]
    return ImageMatches(
        scores=scores[order].astype(np.float64),
        matched=matched,
        ignored=ignored,
        valid_gt=int(np.count_nonzero(~gt_ignore)),
    )


def average_precision(images: Sequence[ImageMatches]) -> np.ndarray:
    """Return the (T,) AP of one class over images at each IoU threshold; NaN without valid gt."""
    valid_gt = sum(m.valid_gt for m in images)
    steps = IOU_THRESHOLDS.shape[0]
    if valid_gt == 0:
        return np.full(steps, np.nan)
    scores = np.concatenate([m.scores for m in images])  # (N,)
    order = np.argsort(-scores, kind='mergesort')  # (N,)
    matched = np.concatenate([m.matched for m in images], axis=1)[:, order]  # (T, N)
    ignored = np.concatenate([m.ignored for m in images], axis=1)[:, order]  # (T, N)
    tp = np.cumsum(matched & ~ignored, axis=1).astype(np.float64)  # (T, N)
    fp = np.cumsum(~matched & ~ignored, axis=1).astype(np.float64)  # (T, N)
    recall = tp / valid_gt  # (T, N)
    precision = tp / (tp + fp + np.spacing(1))  # (T, N)
    precision = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]  # monotone
    ap = np.zeros(steps)
    for t in range(steps):
        at = np.searchsorted(recall[t], RECALL_POINTS, side='left')  # (R,)
        read = np.zeros(RECALL_POINTS.shape[0])  # (R,)
        inside = at < recall.shape[1]
        read[inside] = precision[t, at[inside]]
        ap[t] = read.mean()
    return ap


class DetectionEvaluator:
    """Accumulate COCO-style detection metrics over images."""

    def __init__(self, class_names: Sequence[str] = CLASS_NAMES) -> None:
        self.class_names = tuple(class_names)
        self._images: list[tuple[np.ndarray, ...]] = []

    def add(
        self,
        boxes: np.ndarray,
        scores: np.ndarray,
        labels: np.ndarray,
        gt_boxes: np.ndarray,
        gt_labels: np.ndarray,
    ) -> None:
        """Add one image: detections (N, 4) xyxy, (N,) scores, (N,) class ids; gt (M, 4), (M,)."""
        image = (
            np.asarray(boxes, np.float64).reshape(-1, 4),
            np.asarray(scores, np.float64).reshape(-1),
            np.asarray(labels, np.int64).reshape(-1),
            np.asarray(gt_boxes, np.float64).reshape(-1, 4),
            np.asarray(gt_labels, np.int64).reshape(-1),
        )
        if not image[0].shape[0] == image[1].shape[0] == image[2].shape[0]:
            raise ValueError('boxes, scores and labels differ in length')
        if image[3].shape[0] != image[4].shape[0]:
            raise ValueError('gt_boxes and gt_labels differ in length')
        self._images.append(image)

    def average_precisions(self, area: str = 'all') -> dict[int, np.ndarray]:
        """Return class id -> (T,) AP at each IoU threshold, for classes seen in gt or pred."""
        low, high = AREA_RANGES[area]
        per_class: dict[int, list[ImageMatches]] = {}
        for boxes, scores, labels, gt_boxes, gt_labels in self._images:
            for c in np.union1d(labels, gt_labels):
                det, gt = labels == c, gt_labels == c
                gt_area, det_area = box_area(gt_boxes[gt]), box_area(boxes[det])
                per_class.setdefault(int(c), []).append(
                    match_image(
                        box_iou(boxes[det], gt_boxes[gt]),
                        scores[det],
                        (gt_area < low) | (gt_area > high),
                        (det_area < low) | (det_area > high),
                    )
                )
        return {c: average_precision(m) for c, m in sorted(per_class.items())}

    def summary(self) -> dict[str, Any]:
        """Return map, map50, map75, map_small, map_medium, map_large (NaN when undefined).

        Also per_class_ap: class name -> AP over IoU .50:.95 for classes with ground truth.
        """
        result: dict[str, Any] = {}
        for area in AREA_RANGES:
            aps = self.average_precisions(area)
            table = np.array(list(aps.values())).reshape(-1, IOU_THRESHOLDS.shape[0])  # (K, T)
            table = table[~np.isnan(table[:, 0])]
            suffix = '' if area == 'all' else f'_{area}'
            result[f'map{suffix}'] = float(table.mean()) if table.size else float('nan')
            if area == 'all':
                result['map50'] = float(table[:, 0].mean()) if table.size else float('nan')
                result['map75'] = float(table[:, 5].mean()) if table.size else float('nan')
                result['per_class_ap'] = {
                    self._name(c): float(ap.mean()) for c, ap in aps.items() if not np.isnan(ap[0])
                }
        return result

    def _name(self, class_id: int) -> str:
        """Return the name of ``class_id``, or its number when unnamed."""
        if 0 <= class_id < len(self.class_names):
            return self.class_names[class_id]
        return str(class_id)
