# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the COCO-style detection metrics, checked against pycocotools."""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any
import warnings

import numpy as np
import pytest

from patchdrivenet_ros.metrics.detection import DetectionEvaluator, box_area, box_iou

Image = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _random_images(seed: int, count: int = 12, classes: int = 3) -> list[Image]:
    """Return images of random gt and noisy, partly wrong detections of varied sizes."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        n_gt = int(rng.integers(0, 7))
        xy = rng.uniform(0, 300, (n_gt, 2))
        wh = np.exp(rng.uniform(np.log(6), np.log(150), (n_gt, 2)))
        gt = np.concatenate([xy, xy + wh], axis=1)
        gt_labels = rng.integers(0, classes, n_gt)
        keep = rng.random(n_gt) < 0.8
        jitter = rng.normal(0, 0.08, (int(keep.sum()), 4)) * np.tile(wh[keep], 2)
        det = gt[keep] + jitter
        det_labels = np.where(rng.random(det.shape[0]) < 0.9, gt_labels[keep],
                              rng.integers(0, classes, det.shape[0]))
        n_fp = int(rng.integers(0, 4))
        fxy = rng.uniform(0, 300, (n_fp, 2))
        fwh = np.exp(rng.uniform(np.log(6), np.log(150), (n_fp, 2)))
        det = np.concatenate([det, np.concatenate([fxy, fxy + fwh], axis=1)])
        det_labels = np.concatenate([det_labels, rng.integers(0, classes, n_fp)])
        scores = rng.random((det.shape[0],))
        images.append((det, scores, det_labels, gt, gt_labels))
    return images


def _pycocotools_stats(images: list[Image], classes: int) -> np.ndarray:
    """Return COCOeval's 12 bbox stats for the same images."""
    coco_mod = pytest.importorskip('pycocotools.coco')
    cocoeval_mod = pytest.importorskip('pycocotools.cocoeval')
    annotations: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for image_id, (det, scores, labels, gt, gt_labels) in enumerate(images, start=1):
        for box, label in zip(gt, gt_labels, strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({
                'id': len(annotations) + 1, 'image_id': image_id, 'category_id': int(label),
                'bbox': [float(box[0]), float(box[1]), w, h], 'area': w * h, 'iscrowd': 0,
            })
        for box, score, label in zip(det, scores, labels, strict=True):
            results.append({
                'image_id': image_id, 'category_id': int(label), 'score': float(score),
                'bbox': [float(box[0]), float(box[1]), float(box[2] - box[0]),
                         float(box[3] - box[1])],
            })
    gt_coco = coco_mod.COCO()
    gt_coco.dataset = {
        'images': [{'id': i} for i in range(1, len(images) + 1)],
        'annotations': annotations,
        'categories': [{'id': c} for c in range(classes)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt_coco.createIndex()
        dt_coco = gt_coco.loadRes(results) if results else coco_mod.COCO()
        evaluator = cocoeval_mod.COCOeval(gt_coco, dt_coco, 'bbox')
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.array(evaluator.stats)


def _ours(images: list[Image]) -> dict[str, Any]:
    evaluator = DetectionEvaluator()
    for image in images:
        evaluator.add(*image)
    return evaluator.summary()


def _same(ours: float, theirs: float) -> bool:
    return (math.isnan(ours) and theirs == -1) or abs(ours - theirs) < 1e-9


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_pycocotools(seed: int) -> None:
    images = _random_images(seed)
    stats = _pycocotools_stats(images, classes=3)
    ours = _ours(images)
    for key, index in [('map', 0), ('map50', 1), ('map75', 2), ('map_small', 3),
                       ('map_medium', 4), ('map_large', 5)]:
        assert _same(ours[key], stats[index]), (key, ours[key], stats[index])
    assert 0.0 < ours['map'] < 1.0


def test_perfect_and_empty_detections() -> None:
    gt = np.array([[0, 0, 20, 20], [50, 50, 150, 120]], np.float64)
    labels = np.array([0, 1])
    perfect = _ours([(gt, np.array([0.9, 0.8]), labels, gt, labels)])
    assert perfect['map'] == pytest.approx(1.0)
    assert perfect['map50'] == pytest.approx(1.0)
    assert perfect['map_small'] == pytest.approx(1.0)
    assert set(perfect['per_class_ap']) == {'road', 'lane_marking'}
    none = _ours([(np.zeros((0, 4)), np.zeros(0), np.zeros(0), gt, labels)])
    assert none['map'] == 0.0
    no_gt = _ours([(gt, np.array([0.9, 0.8]), labels, np.zeros((0, 4)), np.zeros(0))])
    assert math.isnan(no_gt['map'])
    assert math.isnan(_ours([])['map50'])


def test_empty_images_match_pycocotools() -> None:
    images = _random_images(5, count=4)
    images.append((np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64),
                   np.zeros((0, 4)), np.zeros(0, np.int64)))
    images.append((np.array([[0, 0, 10, 10.0]]), np.array([0.99]), np.array([1]),
                   np.zeros((0, 4)), np.zeros(0, np.int64)))
    stats = _pycocotools_stats(images, classes=3)
    ours = _ours(images)
    assert _same(ours['map'], stats[0])
    assert _same(ours['map_small'], stats[3])


def test_box_iou() -> None:
    iou = box_iou(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10], [20, 20, 30, 30]]))
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])
    assert box_iou(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 3)


def test_score_ties_and_over_100_detections_match_pycocotools() -> None:
    rng = np.random.default_rng(9)
    images = _random_images(7, count=3)
    xy = rng.uniform(0, 300, (130, 2))
    det = np.concatenate([xy, xy + rng.uniform(5, 60, (130, 2))], axis=1)
    gt = det[:40] + rng.normal(0, 2, (40, 4))
    scores = np.round(rng.random(130), 1)  # many ties; only the best 100 count
    images.append((det, scores, np.zeros(130, np.int64), gt, np.zeros(40, np.int64)))
    stats = _pycocotools_stats(images, classes=3)
    ours = _ours(images)
    for key, index in [('map', 0), ('map50', 1), ('map_small', 3), ('map_medium', 4)]:
        assert _same(ours[key], stats[index]), (key, ours[key], stats[index])


def test_box_area_of_empty_and_inverted_boxes_is_zero() -> None:
    boxes = np.array([[0, 0, 4, 5], [3, 0, 3, 5], [0, 2, 4, 2], [5, 0, 3, 4], [0, 6, 4, 1]])
    np.testing.assert_array_equal(box_area(boxes), [20, 0, 0, 0, 0])


def test_box_iou_edge_cases() -> None:
    a = np.array([[0, 0, 10, 10]])
    # Overlapping along one axis only, touching, sub-pixel overlaps of tiny boxes, empty boxes.
    assert box_iou(a, np.array([[2, 20, 8, 30]]))[0, 0] == 0.0
    assert box_iou(a, np.array([[10, 0, 20, 10]]))[0, 0] == 0.0
    tiny = box_iou(np.array([[0, 0, 0.5, 0.5]]), np.array([[0.25, 0, 0.75, 0.5]]))
    np.testing.assert_allclose(tiny, [[1 / 3]])
    sliver = box_iou(a, np.array([[9.5, 0.5, 20, 10.5]]))
    np.testing.assert_allclose(sliver, [[0.5 * 9.5 / (100 + 105 - 4.75)]])
    empty = np.array([[3, 3, 3, 3]])
    assert box_iou(empty, empty)[0, 0] == 0.0


def test_iou_exactly_at_a_threshold_matches() -> None:
    gt = np.array([[0, 0, 10, 20]], np.float64)
    det = np.array([[0, 0, 10, 10]], np.float64)  # IoU exactly 0.5
    ours = _ours([(det, np.array([0.9]), np.array([0]), gt, np.array([0]))])
    assert ours['map50'] == pytest.approx(1.0)
    assert ours['map75'] == 0.0
    assert ours['map'] == pytest.approx(0.1)


def test_a_detection_prefers_in_range_ground_truth_at_each_threshold() -> None:
    small = [0, 0, 30, 30]  # in range for 'small'
    large = [0, 0, 40, 40]  # out of range for 'small': ignored there
    det = np.array([[0, 0, 36, 36]], np.float64)  # IoU 0.69 with small, 0.81 with large
    images = [(det, np.array([0.9]), np.array([0]), np.array([small, large], np.float64),
               np.array([0, 0]))]
    stats = _pycocotools_stats(images, classes=1)
    ours = _ours(images)
    for key, index in [('map', 0), ('map50', 1), ('map75', 2), ('map_small', 3),
                       ('map_medium', 4), ('map_large', 5)]:
        assert _same(ours[key], stats[index]), (key, ours[key], stats[index])
    evaluator = DetectionEvaluator()
    evaluator.add(*images[0])
    small_ap = evaluator.average_precisions('small')[0]
    # Up to IoU 0.65 the detection takes the small box; above, only the ignored large one.
    np.testing.assert_allclose(small_ap, [1.0] * 4 + [0.0] * 6)


def test_a_detection_matched_to_ignored_ground_truth_is_no_false_positive() -> None:
    gt = np.array([[0, 0, 32, 20], [0, 0, 33, 33]], np.float64)  # in range, ignored (small)
    det = np.array([[0, 0, 32, 32], [0, 0, 32, 20]], np.float64)
    # The first detection has IoU 0.625 with the small box and 0.94 with the ignored one:
    # ignored from 0.65 to 0.9, a false positive (of area 32^2, in range) only at 0.95.
    images = [(det, np.array([0.9, 0.8]), np.zeros(2, np.int64), gt, np.zeros(2, np.int64))]
    stats = _pycocotools_stats(images, classes=1)
    assert _same(_ours(images)['map_small'], stats[3])
    assert stats[3] == pytest.approx((9 * 1.0 + 0.5) / 10)


def test_area_range_bounds_are_inclusive() -> None:
    square = np.array([[0, 0, 32, 32]], np.float64)  # area exactly 32^2
    ours = _ours([(square, np.array([0.9]), np.array([0]), square, np.array([0]))])
    assert ours['map_small'] == pytest.approx(1.0)
    assert ours['map_medium'] == pytest.approx(1.0)
    gt = np.array([[0, 0, 10, 10], [100, 100, 150, 150]], np.float64)
    det = np.concatenate([gt, [[300, 300, 332, 332]]])  # a false positive of area 32^2
    ours = _ours([(det, np.array([0.8, 0.7, 0.9]), np.zeros(3, np.int64), gt,
                   np.zeros(2, np.int64))])
    # The false positive ranks first in both ranges it belongs to: precision 1/2 throughout.
    assert ours['map_small'] == pytest.approx(0.5)
    assert ours['map_medium'] == pytest.approx(0.5)


def test_average_precisions_default_to_all_areas() -> None:
    evaluator = DetectionEvaluator()
    evaluator.add(*_random_images(3, count=1)[0])
    default, everything = evaluator.average_precisions(), evaluator.average_precisions('all')
    assert default.keys() == everything.keys()
    for c in default:
        np.testing.assert_array_equal(default[c], everything[c])


def test_inputs_are_flattened() -> None:
    det, scores, labels, gt, gt_labels = _random_images(4, count=1)[0]
    flat = _ours([(det, scores, labels, gt, gt_labels)])
    columns = _ours([(det.reshape(-1, 2, 2), scores[:, None], labels[:, None], gt,
                      gt_labels[:, None])])
    assert flat == columns


@pytest.mark.parametrize(('sizes', 'message'), [
    ((2, 1, 1, 0, 0), 'boxes, scores and labels differ in length'),
    ((1, 2, 1, 0, 0), 'boxes, scores and labels differ in length'),
    ((1, 1, 2, 0, 0), 'boxes, scores and labels differ in length'),
    ((1, 1, 1, 2, 1), 'gt_boxes and gt_labels differ in length'),
    ((1, 1, 1, 1, 2), 'gt_boxes and gt_labels differ in length'),
])
def test_inputs_of_different_lengths_are_refused(sizes: tuple[int, ...], message: str) -> None:
    boxes, scores, labels, gt_boxes, gt_labels = sizes
    with pytest.raises(ValueError, match=f'^{message}$'):
        DetectionEvaluator().add(np.zeros((boxes, 4)), np.zeros(scores), np.zeros(labels),
                                 np.zeros((gt_boxes, 4)), np.zeros(gt_labels))


def test_summary_of_no_ground_truth_is_nan_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        summary = _ours([])
    for key in ('map', 'map50', 'map75', 'map_small', 'map_medium', 'map_large'):
        assert math.isnan(summary[key]), key


def test_classes_without_a_name_are_named_by_their_id() -> None:
    box = np.array([[0, 0, 10, 10]], np.float64)
    evaluator = DetectionEvaluator(class_names=('a', 'b'))
    for label in (1, 2, 7):
        evaluator.add(box, np.array([0.9]), np.array([label]), box, np.array([label]))
    assert set(evaluator.summary()['per_class_ap']) == {'b', '2', '7'}
