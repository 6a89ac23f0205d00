# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the COCO-style detection metrics, checked against pycocotools."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

from patchdrivenet_ros.metrics.detection import DetectionEvaluator, box_iou

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
        scores = rng.random(det.shape[0])
        images.append((det, scores, det_labels, gt, gt_labels))
    return images


def _pycocotools_stats(images: list[Image], classes: int) -> np.ndarray:
    """Return COCOeval's 12 bbox stats for the same images."""
    coco_mod = pytest.importorskip('pycocotools.coco')
    cocoeval_mod = pytest.importorskip('pycocotools.cocoeval')
    annotations, results = [], []
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


def _ours(images: list[Image]) -> dict[str, float]:
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
