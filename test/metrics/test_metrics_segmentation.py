# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the segmentation metrics: confusion-matrix IoU, thin-class and boundary IoU."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX, class_id, thin_class_ids
from patchdrivenet_ros.metrics.segmentation import (
    SegmentationEvaluator,
    band_width,
    boundary_counts,
    confusion_matrix,
    inner_band,
    iou_from_confusion,
)


def test_confusion_matrix_counts_pixels_and_skips_ignored() -> None:
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, (20, 30)).astype(np.uint8)
    pred = rng.integers(0, 4, (20, 30)).astype(np.uint8)
    gt[:3] = IGNORE_INDEX
    pred[5, :] = IGNORE_INDEX  # predicted as no class
    confusion = confusion_matrix(pred, gt, 4)
    assert confusion.shape == (4, 5)
    for g in range(4):
        for p in range(4):
            assert confusion[g, p] == np.count_nonzero((gt == g) & (pred == p))
        assert confusion[g, 4] == np.count_nonzero((gt == g) & (pred == IGNORE_INDEX))
    assert confusion.sum() == np.count_nonzero(gt != IGNORE_INDEX)


def test_iou_is_nan_for_absent_classes_and_counts_misses() -> None:
    gt = np.array([[0, 0, 1, 1]], np.uint8)
    pred = np.array([[0, 255, 1, 0]], np.uint8)
    iou = iou_from_confusion(confusion_matrix(pred, gt, 3))
    # class 0: tp 1, gt 2, pred 2 -> 1/3; class 1: tp 1, gt 2, pred 1 -> 1/2; class 2 absent.
    np.testing.assert_allclose(iou[:2], [1 / 3, 1 / 2])
    assert math.isnan(iou[2])


def test_evaluator_summary_miou_and_thin_iou() -> None:
    evaluator = SegmentationEvaluator()
    road, pole, sky = class_id('road'), class_id('pole'), class_id('sky')
    gt = np.full((40, 60), road, np.uint8)
    gt[:10] = sky
    gt[10:30, 20:23] = pole
    pred = gt.copy()
    pred[10:30, 22] = road  # a third of the pole missed
    evaluator.add(pred, gt)
    summary = evaluator.summary()
    per_class = summary['per_class_iou']
    assert set(per_class) == set(CLASS_NAMES)
    assert per_class['pole'] == pytest.approx(2 / 3)
    assert per_class['sky'] == pytest.approx(1.0)
    assert per_class['road'] == pytest.approx(1 - 20 / (30 * 60 - 40))
    assert math.isnan(per_class['car'])
    assert summary['miou'] == pytest.approx((per_class['road'] + 1.0 + 2 / 3) / 3)
    assert pole in thin_class_ids()
    assert summary['thin_iou'] == pytest.approx(2 / 3)  # other thin classes are absent
    assert summary['pixel_accuracy'] == pytest.approx(1 - 20 / 2400)
    assert 0.0 <= summary['boundary_iou'] <= summary['miou']


def test_accumulation_equals_one_big_frame() -> None:
    rng = np.random.default_rng(1)
    frames = [(rng.integers(0, 5, (16, 24)).astype(np.uint8),
               rng.integers(0, 5, (16, 24)).astype(np.uint8)) for _ in range(3)]
    several = SegmentationEvaluator()
    for pred, gt in frames:
        several.add(pred, gt)
    whole = confusion_matrix(np.concatenate([p for p, _ in frames]),
                             np.concatenate([g for _, g in frames]), len(CLASS_NAMES))
    np.testing.assert_array_equal(several.confusion, whole)
    inter, union = zip(*(boundary_counts(p, g, len(CLASS_NAMES)) for p, g in frames),
                       strict=True)
    np.testing.assert_array_equal(several.boundary_intersection, np.sum(inter, 0))
    np.testing.assert_array_equal(several.boundary_union, np.sum(union, 0))
    for counts in (several.confusion, several.boundary_intersection, several.boundary_union):
        assert counts.dtype == np.int64  # exact pixel counts


def _brute_band(mask: np.ndarray, width: int) -> np.ndarray:
    """Mask pixels with a non-mask pixel (outside the frame counts) within chessboard width."""
    padded = np.pad(mask, width + 1, constant_values=False)
    band = np.zeros_like(mask)
    for y, x in zip(*np.nonzero(mask), strict=True):
        window = padded[y + 1:y + 2 * width + 2, x + 1:x + 2 * width + 2]
        band[y, x] = not window.all()
    return band


def test_inner_band_matches_the_definition() -> None:
    rng = np.random.default_rng(2)
    mask = rng.random((25, 33)) < 0.7
    for width in (1, 3):
        np.testing.assert_array_equal(inner_band(mask, width), _brute_band(mask, width))
    full = np.ones((10, 12), bool)
    band = inner_band(full, 2)
    assert band.sum() == 10 * 12 - 6 * 8  # only the frame edge ring


def test_boundary_iou_is_stricter_than_mask_iou() -> None:
    gt = np.zeros((100, 100), np.uint8)
    gt[20:80, 20:80] = 1
    assert band_width(100, 100) == 3  # 2% of a 141 px diagonal
    inter, union = boundary_counts(gt, gt, 2)
    np.testing.assert_array_equal(inter, union)
    pred = np.roll(gt, 2, axis=1)
    evaluator = SegmentationEvaluator(class_names=('background', 'square'), thin_ids=())
    evaluator.add(pred, gt)
    summary = evaluator.summary()
    mask_iou = summary['per_class_iou']['square']
    boundary_iou = summary['per_class_boundary_iou']['square']
    assert mask_iou == pytest.approx(58 / 62)
    assert boundary_iou < mask_iou - 0.1
    assert math.isnan(summary['thin_iou'])


def test_boundary_ignores_unlabeled_pixels() -> None:
    gt = np.zeros((50, 50), np.uint8)
    gt[:, 25:] = IGNORE_INDEX
    pred = np.zeros((50, 50), np.uint8)  # class 0 everywhere, also under the ignored half
    inter, union = boundary_counts(pred, gt, 1)
    # The edge of the unlabeled half is no boundary, and pixels under it are not counted.
    assert inter[0] == union[0] == np.count_nonzero(inner_band(gt != 1, 1) & (gt == 0))
    pred[:, 10] = IGNORE_INDEX  # a predicted line of no class splits the labelled half
    inter, union = boundary_counts(pred, gt, 1)
    assert inter[0] < union[0]


def test_a_present_class_without_true_positives_has_iou_zero() -> None:
    gt = np.array([[0, 0, 1, 1, 2, 2]], np.uint8)
    pred = np.array([[0, 0, 0, 0, 2, 3]], np.uint8)
    iou = iou_from_confusion(confusion_matrix(pred, gt, 5))
    # Class 1 is in the ground truth but never found; class 3 only falsely predicted.
    np.testing.assert_allclose(iou[:4], [2 / 4, 0.0, 1 / 2, 0.0])
    assert math.isnan(iou[4])
    evaluator = SegmentationEvaluator(class_names=('a', 'b', 'c', 'd', 'e'), thin_ids=(1,))
    evaluator.add(pred, gt)
    summary = evaluator.summary()
    assert summary['miou'] == pytest.approx((0.5 + 0.0 + 0.5 + 0.0) / 4)
    assert summary['thin_iou'] == 0.0
    assert summary['per_class_iou']['b'] == 0.0


def test_shapes_must_match() -> None:
    pred, gt = np.zeros((2, 3), np.uint8), np.zeros((3, 2), np.uint8)
    with pytest.raises(ValueError, match=r'^pred \(2, 3\) and gt \(3, 2\) differ in shape$'):
        confusion_matrix(pred, gt, 2)
    with pytest.raises(ValueError, match=r'^pred \(2, 3\) and gt \(3, 2\) differ in shape$'):
        boundary_counts(pred, gt, 2)


def test_ground_truth_outside_the_classes_is_skipped() -> None:
    gt = np.array([[0, 1, 2, 7, IGNORE_INDEX]], np.uint8)  # 2 and 7 are no class of 2
    pred = np.array([[0, 1, 1, 1, 1]], np.uint8)
    np.testing.assert_array_equal(confusion_matrix(pred, gt, 2), [[1, 0, 0], [0, 1, 0]])


def test_a_single_pixel_class_found_has_iou_one() -> None:
    iou = iou_from_confusion(confusion_matrix(np.array([[1, 0]]), np.array([[1, 0]]), 2))
    np.testing.assert_allclose(iou, [1.0, 1.0])


def test_band_width_is_a_share_of_the_diagonal() -> None:
    assert band_width(30, 80, 0.1) == 9  # 0.1 x 85.4
    assert band_width(300, 400) == 10
    assert band_width(3, 4) == 1  # at least one pixel


def test_boundary_counts_use_the_band_of_the_frame_diagonal() -> None:
    gt = np.zeros((30, 80), np.uint8)
    gt[4:27, 10:70] = 1
    inter, union = boundary_counts(gt, gt, 2, ratio=0.1)  # a band of 9 px
    for c in (0, 1):
        assert inter[c] == union[c] == np.count_nonzero(inner_band(gt == c, 9))
    assert inter[1] < np.count_nonzero(gt == 1)


def test_boundary_counts_skip_predictions_of_no_class() -> None:
    gt = np.zeros((20, 20), np.uint8)
    pred = gt.copy()
    pred[5:10, 5:10] = 2  # == num_classes: no class, like IGNORE_INDEX
    inter, union = boundary_counts(pred, gt, 2)
    assert inter.shape == union.shape == (2,)
    assert union[1] == 0 and inter[0] < union[0]


def test_summary_of_nothing_is_nan_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        summary = SegmentationEvaluator(class_names=('a', 'b'), thin_ids=(1,)).summary()
    for key in ('miou', 'thin_iou', 'boundary_iou', 'pixel_accuracy'):
        assert math.isnan(summary[key]), key


def test_evaluator_uses_its_ignore_index_and_boundary_ratio() -> None:
    rng = np.random.default_rng(3)
    blocks = np.ones((10, 10), np.uint8)  # regions wider than the bands
    gt = np.kron(rng.integers(0, 3, (4, 5)), blocks).astype(np.uint8)
    gt[:10] = 0
    pred = np.kron(rng.integers(0, 3, (4, 5)), blocks).astype(np.uint8)
    evaluator = SegmentationEvaluator(class_names=('void', 'a', 'b'), thin_ids=(),
                                      ignore_index=0, boundary_ratio=0.1)
    evaluator.add(pred, gt)
    np.testing.assert_array_equal(evaluator.confusion, confusion_matrix(pred, gt, 3, 0))
    inter, union = boundary_counts(pred, gt, 3, 0, 0.1)
    np.testing.assert_array_equal(evaluator.boundary_intersection, inter)
    np.testing.assert_array_equal(evaluator.boundary_union, union)


def test_boundary_iou_of_a_one_pixel_class_and_nan_when_absent() -> None:
    evaluator = SegmentationEvaluator(class_names=('a', 'b', 'c'), thin_ids=())
    gt = np.zeros((9, 9), np.uint8)
    gt[4, 4] = 1
    evaluator.add(gt, gt)
    boundary = evaluator.per_class_boundary_iou()
    assert evaluator.boundary_union[1] == 1
    np.testing.assert_allclose(boundary[:2], [1.0, 1.0])
    assert math.isnan(boundary[2])


def test_thin_ids_beyond_the_classes_are_skipped() -> None:
    evaluator = SegmentationEvaluator(class_names=('a', 'b'), thin_ids=(1, 2))
    evaluator.add(np.array([[0, 1]], np.uint8), np.array([[0, 1]], np.uint8))
    assert evaluator.summary()['thin_iou'] == 1.0


def test_pixel_accuracy_counts_every_class() -> None:
    evaluator = SegmentationEvaluator(class_names=('a', 'b', 'c'), thin_ids=())
    evaluator.add(np.array([[0, 1, 2, 2]], np.uint8), np.array([[0, 0, 2, 2]], np.uint8))
    assert evaluator.summary()['pixel_accuracy'] == pytest.approx(3 / 4)
