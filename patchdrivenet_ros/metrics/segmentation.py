# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Segmentation metrics: confusion-matrix IoU, thin-class IoU and boundary IoU.

Boundary IoU follows Cheng et al. (2021): per class, the IoU of the predicted and ground-truth
masks restricted to the band of pixels inside each mask within ``d`` pixels (chessboard distance)
of its contour, the frame edge counting as contour; ``d`` is 2% of the image diagonal.
Intersections and unions are summed over frames, like the confusion matrix. Unlabeled
ground-truth pixels are counted nowhere and draw no ground-truth boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Any

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX, thin_class_ids


def confusion_matrix(
    pred: np.ndarray, gt: np.ndarray, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> np.ndarray:
    """Return the (C, C + 1) int64 confusion matrix, rows ground truth, columns prediction.

    Pixels whose ground truth is ``ignore_index`` (or any value outside [0, C)) are skipped.
    The last column counts pixels predicted as no class (a value outside [0, C), e.g.
    unlabeled): a miss for the ground-truth class, no class's false positive.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} differ in shape')
    g = gt.reshape(-1).astype(np.int64)  # (P,)
    p = pred.reshape(-1).astype(np.int64)  # (P,)
    valid = (g >= 0) & (g < num_classes) & (g != ignore_index)
    g, p = g[valid], p[valid]
    p = np.where((p >= 0) & (p < num_classes), p, num_classes)
    counts = np.bincount(g * (num_classes + 1) + p, minlength=num_classes * (num_classes + 1))
    return counts.reshape(num_classes, num_classes + 1)


def iou_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """Return the (C,) float64 per-class IoU of a (C, C + 1) confusion matrix.

    NaN where a class is absent in both prediction and ground truth.
    """
    classes = confusion.shape[0]
    tp = np.diag(confusion[:, :classes]).astype(np.float64)  # (C,)
    union = confusion.sum(axis=1) + confusion[:, :classes].sum(axis=0) - tp  # (C,)
    return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def band_width(height: int, width: int, ratio: float = 0.02) -> int:
    """Return the boundary band width in pixels: ``ratio`` of the image diagonal, at least 1."""
    return max(1, int(round(ratio * math.hypot(height, width))))


def inner_band(mask: np.ndarray, width: int) -> np.ndarray:
    """Return the (H, W) bool pixels of ``mask`` within ``width`` px of its contour or the edge."""
    binary = mask.astype(np.uint8)  # (H, W)
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    eroded = cv2.erode(binary, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return (binary > 0) & (eroded == 0)


def boundary_counts(
    pred: np.ndarray,
    gt: np.ndarray,
    num_classes: int,
    ignore_index: int = IGNORE_INDEX,
    ratio: float = 0.02,
) -> tuple[np.ndarray, np.ndarray]:
    """Return per-class boundary (intersection, union) pixel counts, each (C,) int64.

    Pixels whose ground truth is ``ignore_index`` count in neither, and take the predicted
    class when the ground-truth bands are drawn, so the edge of an unlabeled region is no
    ground-truth boundary.
    """
    if pred.shape != gt.shape:
        raise ValueError(f'pred {pred.shape} and gt {gt.shape} differ in shape')
    width = band_width(gt.shape[0], gt.shape[1], ratio)
    valid = gt != ignore_index  # (H, W)
    gt = np.where(valid, gt, pred)  # (H, W)
    intersection = np.zeros(num_classes, np.int64)
    union = np.zeros(num_classes, np.int64)
    present = np.union1d(np.unique(pred), np.unique(gt))
    for c in present[(present >= 0) & (present < num_classes)]:
        gt_band = inner_band(gt == c, width) & valid  # (H, W)
        pred_band = inner_band(pred == c, width) & valid  # (H, W)
        intersection[c] = np.count_nonzero(gt_band & pred_band)
        union[c] = np.count_nonzero(gt_band | pred_band)
    return intersection, union


def _nanmean(values: np.ndarray) -> float:
    """Return the mean of the non-NaN values, NaN when there are none."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float('nan')


class SegmentationEvaluator:
    """Accumulate segmentation metrics over frames: mIoU, thin-class IoU and boundary IoU."""

    def __init__(
        self,
        class_names: Sequence[str] = CLASS_NAMES,
        thin_ids: Sequence[int] | None = None,
        ignore_index: int = IGNORE_INDEX,
        boundary_ratio: float = 0.02,
    ) -> None:
        self.class_names = tuple(class_names)
        self.thin_ids = tuple(thin_class_ids() if thin_ids is None else thin_ids)
        self.ignore_index = ignore_index
        self.boundary_ratio = boundary_ratio
        count = len(self.class_names)
        self.confusion = np.zeros((count, count + 1), np.int64)
        self.boundary_intersection = np.zeros(count, np.int64)
        self.boundary_union = np.zeros(count, np.int64)

    def add(self, pred_mask: np.ndarray, gt_mask: np.ndarray) -> None:
        """Add one frame: (H, W) predicted and ground-truth class-id masks."""
        count = len(self.class_names)
        self.confusion += confusion_matrix(pred_mask, gt_mask, count, self.ignore_index)
        inter, union = boundary_counts(
            pred_mask, gt_mask, count, self.ignore_index, self.boundary_ratio
        )
        self.boundary_intersection += inter
        self.boundary_union += union

    def per_class_iou(self) -> np.ndarray:
        """Return the (C,) IoU per class so far, NaN for classes absent in pred and gt."""
        return iou_from_confusion(self.confusion)

    def per_class_boundary_iou(self) -> np.ndarray:
        """Return the (C,) boundary IoU per class so far, NaN for classes absent in both."""
        inter = self.boundary_intersection.astype(np.float64)
        union = self.boundary_union
        return np.where(union > 0, inter / np.maximum(union, 1), np.nan)

    def summary(self) -> dict[str, Any]:
        """Return miou, thin_iou, boundary_iou, pixel_accuracy (floats, NaN when undefined).

        Also per_class_iou and per_class_boundary_iou: dicts class name -> float.
        """
        iou = self.per_class_iou()
        boundary = self.per_class_boundary_iou()
        thin = np.array([iou[i] for i in self.thin_ids if i < len(iou)], np.float64)
        labelled = self.confusion.sum()
        return {
            'miou': _nanmean(iou),
            'thin_iou': _nanmean(thin),
            'boundary_iou': _nanmean(boundary),
            'pixel_accuracy': (
                float(np.trace(self.confusion[:, :-1]) / labelled) if labelled else float('nan')
            ),
            'per_class_iou': dict(zip(self.class_names, map(float, iou), strict=True)),
            'per_class_boundary_iou': dict(
                zip(self.class_names, map(float, boundary), strict=True)
            ),
        }
