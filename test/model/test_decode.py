# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Decoding detection maps (peaks, score threshold, boxes) and NMS on hand-made boxes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from patchdrivenet_ros.model.decode import (
    MAX_LOG_SIZE,
    PRE_NMS_FACTOR,
    Detections,
    class_nms,
    decode_maps,
    nms,
)
from patchdrivenet_ros.model.outputs import DetectionMaps

LOW = -20.0
"""A heat logit far below any threshold."""


def _maps(peaks: list[tuple[int, int, int, int, float]], count: int = 1, classes: int = 2,
          rows: int = 4, cols: int = 5) -> DetectionMaps:
    """Return maps with heat logits LOW except at peaks (map, class, row, col, logit).

    Offsets are 0 (centre mid-cell), sizes log 2 (two cells), map m has origin (10 m, 20),
    cells of 8 x 4 px and frame index 3 - m.
    """
    heat = torch.full((count, classes, rows, cols), LOW)
    for index, cls, row, col, logit in peaks:
        heat[index, cls, row, col] = logit
    return DetectionMaps(
        heat=heat,
        size=torch.full((count, 2, rows, cols), math.log(2.0)),
        offset=torch.zeros(count, 2, rows, cols),
        origin=torch.tensor([[10.0 * m, 20.0] for m in range(count)]),
        cell=torch.tensor([[8.0, 4.0]] * count),
        frame=torch.tensor([3 - m for m in range(count)]),
    )


def test_decode_places_the_box_of_a_peak() -> None:
    found = decode_maps(_maps([(0, 1, 2, 1, 2.0)]), top_k=10, threshold=0.3)
    # Centre (1.5 cells x 8 px, 20 + 2.5 cells x 4 px) = (12, 30); two cells wide and high.
    np.testing.assert_allclose(found.boxes, [[4.0, 26.0, 20.0, 34.0]], rtol=0, atol=1e-5)
    np.testing.assert_allclose(found.scores, [1 / (1 + math.exp(-2.0))], rtol=1e-6)
    np.testing.assert_array_equal(found.labels, [1])
    np.testing.assert_array_equal(found.frames, [3])
    assert found.boxes.dtype == found.scores.dtype == np.float32
    assert found.labels.dtype == found.frames.dtype == np.int64


def test_decode_uses_offset_size_and_each_maps_origin_and_frame() -> None:
    maps = _maps([(1, 0, 0, 3, 1.0)], count=2)
    maps.offset[1, :, 0, 3] = torch.tensor([math.log(3.0), -math.log(3.0)])  # 0.75, 0.25
    maps.size[1, :, 0, 3] = torch.tensor([0.0, math.log(4.0)])  # 1 x 4 cells
    found = decode_maps(maps, top_k=10, threshold=0.5)
    # Centre (10 + 3.75 x 8, 20 + 0.25 x 4) = (40, 21); 8 px wide, 16 px high.
    np.testing.assert_allclose(found.boxes, [[36.0, 13.0, 44.0, 29.0]], rtol=0, atol=1e-4)
    np.testing.assert_array_equal(found.frames, [2])


def test_score_threshold_keeps_scores_at_or_above_it() -> None:
    maps = _maps([(0, 0, 0, 0, 2.0), (0, 1, 3, 4, 0.0)])  # scores 0.88 and exactly 0.5
    assert decode_maps(maps, top_k=10, threshold=0.5).scores.shape == (2,)
    above = decode_maps(maps, top_k=10, threshold=0.6)
    np.testing.assert_array_equal(above.labels, [0])
    assert decode_maps(maps, top_k=10, threshold=0.9).scores.shape == (0,)


def test_only_local_maxima_are_peaks_and_top_k_bounds_them() -> None:
    maps = _maps([(0, 0, 1, 1, 3.0), (0, 0, 1, 2, 2.5), (0, 1, 1, 2, 1.0), (0, 0, 3, 4, 2.0)])
    found = decode_maps(maps, top_k=10, threshold=0.6)
    # (1, 2) of class 0 lies next to a higher cell; class 1 has its own map.
    np.testing.assert_allclose(found.scores, torch.sigmoid(torch.tensor([3.0, 2.0, 1.0])),
                               rtol=1e-6)
    np.testing.assert_array_equal(found.labels, [0, 0, 1])
    best = decode_maps(maps, top_k=2, threshold=0.0)
    np.testing.assert_array_equal(best.labels, [0, 0])
    np.testing.assert_allclose(best.scores, torch.sigmoid(torch.tensor([3.0, 2.0])), rtol=1e-6)


def test_decoded_size_is_clamped() -> None:
    maps = _maps([(0, 0, 0, 0, 2.0)], rows=1, cols=1)
    maps.size.fill_(100.0)
    box = decode_maps(maps, top_k=1, threshold=0.5).boxes[0]
    np.testing.assert_allclose(box[2:] - box[:2], np.exp(MAX_LOG_SIZE) * np.array([8.0, 4.0]),
                               rtol=1e-5)


def test_decode_of_no_maps_is_empty() -> None:
    found = decode_maps(_maps([], count=0), top_k=10, threshold=0.5)
    assert found.boxes.shape == (0, 4) and found.boxes.dtype == np.float32
    assert found.scores.shape == found.labels.shape == found.frames.shape == (0,)
    assert found.scores.dtype == np.float32
    assert found.labels.dtype == found.frames.dtype == np.int64


def test_detections_cat_keeps_the_columns_in_order() -> None:
    first = decode_maps(_maps([(0, 1, 2, 1, 2.0)]), top_k=10, threshold=0.5)
    second = decode_maps(_maps([(1, 0, 0, 0, 1.0)], count=2), top_k=10, threshold=0.5)
    both = Detections.cat([first, second])
    np.testing.assert_array_equal(both.boxes, np.concatenate([first.boxes, second.boxes]))
    np.testing.assert_array_equal(both.scores, np.concatenate([first.scores, second.scores]))
    np.testing.assert_array_equal(both.labels, [1, 0])
    np.testing.assert_array_equal(both.frames, [3, 2])


# Hand-made boxes: 1 overlaps 0 (IoU 9/11), 2 is apart, 3 has IoU exactly 1/2 with 2.
BOXES = np.array([[0, 5, 10, 15], [1, 5, 11, 15], [20, 40, 30, 50], [20, 40, 30, 60]],
                 np.float32)
SCORES = np.array([0.6, 0.9, 0.7, 0.8], np.float32)


def test_nms_suppresses_overlaps_of_a_better_box() -> None:
    kept = nms(BOXES[:3], SCORES[:3], iou=0.5, limit=10)
    np.testing.assert_array_equal(kept, [1, 2])  # indices into the input, by score


def test_nms_keeps_an_iou_equal_to_the_threshold_and_drops_one_above() -> None:
    np.testing.assert_array_equal(nms(BOXES[2:], SCORES[2:], iou=0.5, limit=10), [1, 0])
    np.testing.assert_array_equal(nms(BOXES[2:], SCORES[2:], iou=0.49, limit=10), [1])


def test_nms_stops_at_the_limit() -> None:
    kept = nms(BOXES, SCORES, iou=0.5, limit=2)
    np.testing.assert_array_equal(kept, [1, 3])
    assert nms(BOXES, SCORES, iou=0.99, limit=10).tolist() == [1, 3, 2, 0]


def test_nms_of_no_boxes_is_empty() -> None:
    kept = nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), iou=0.5, limit=5)
    assert kept.shape == (0,) and kept.dtype == np.int64


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _greedy(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float,
            limit: int) -> list[int]:
    """Return the kept indices of plain greedy NMS per class: best first, ties by index."""
    kept: list[int] = []
    for i in sorted(range(len(scores)), key=lambda i: -scores[i])[: PRE_NMS_FACTOR * limit]:
        if all(labels[k] != labels[i] or _iou(boxes[i], boxes[k]) <= iou for k in kept):
            kept.append(i)
        if len(kept) == limit:
            break
    return kept


def _random_boxes(seed: int, count: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Return random boxes (wide in x, tall in y, apart in x and y) and tied scores."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, [60, 200], (count, 2))
    wh = rng.uniform(2, [30, 60], (count, 2))
    boxes = (np.concatenate([xy, xy + wh], 1) * scale).astype(np.float64)
    return boxes, np.round(rng.random(count), 1)  # few distinct scores: many ties


@pytest.mark.parametrize('scale', [1.0, 0.01])
@pytest.mark.parametrize('iou', [0.0, 0.3, 0.7])
def test_nms_equals_plain_greedy_suppression(scale: float, iou: float) -> None:
    for seed in range(4):
        boxes, scores = _random_boxes(seed, 40, scale)
        expected = _greedy(boxes, scores, np.zeros(40, np.int64), iou, limit=40)
        assert nms(boxes, scores, iou, limit=40).tolist() == expected, seed


@pytest.mark.parametrize('limit', [3, 100])
def test_class_nms_equals_plain_greedy_suppression_per_class(limit: int) -> None:
    for seed in range(4):
        boxes, scores = _random_boxes(seed, 60, 1.0)
        labels = np.random.default_rng(seed).integers(0, 3, 60)
        expected = _greedy(boxes, scores, labels, 0.3, limit)
        assert class_nms(boxes, scores, labels, 0.3, limit).tolist() == expected, seed


def test_class_nms_stops_at_the_limit() -> None:
    boxes = np.array([[20.0 * i, 0, 20.0 * i + 10, 10] for i in range(5)], np.float32)
    kept = class_nms(boxes, np.linspace(0.9, 0.5, 5).astype(np.float32), np.zeros(5, np.int64),
                     iou=0.5, limit=2)
    np.testing.assert_array_equal(kept, [0, 1])


def test_class_nms_at_iou_zero_keeps_any_overlap_of_other_classes() -> None:
    # The classes are kept apart although the boxes span the whole coordinate range.
    boxes = np.array([[-100, -100, 100, 100], [-100, -100, 100, 100], [99, 99, 100, 100]],
                     np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    kept = class_nms(boxes, scores, np.array([0, 1, 0]), iou=0.0, limit=10)
    np.testing.assert_array_equal(kept, [0, 1])  # the third overlaps the first by 1 px^2


def test_class_nms_suppresses_within_a_class_only() -> None:
    labels = np.array([0, 1, 0, 0])
    kept = class_nms(BOXES, SCORES, labels, iou=0.45, limit=10)
    np.testing.assert_array_equal(kept, [1, 3, 0])  # 0 survives 1 (another class); 2 does not
    same = class_nms(BOXES, SCORES, np.zeros(4, np.int64), iou=0.45, limit=10)
    np.testing.assert_array_equal(same, [1, 3])


def test_class_nms_keeps_far_apart_classes_apart_with_large_coordinates() -> None:
    boxes = np.array([[900, 900, 1000, 1000], [0, 0, 100, 100], [0, 0, 100, 100]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    kept = class_nms(boxes, scores, np.array([0, 1, 2]), iou=0.5, limit=10)
    np.testing.assert_array_equal(kept, [0, 1, 2])


def test_class_nms_looks_at_the_best_candidates_only() -> None:
    limit = 2
    count = PRE_NMS_FACTOR * limit
    boxes = np.array([[0, 0, 10, 10]] * count + [[50, 50, 60, 60]], np.float32)
    scores = np.linspace(0.9, 0.5, count + 1).astype(np.float32)
    kept = class_nms(boxes, scores, np.zeros(count + 1, np.int64), iou=0.5, limit=limit)
    np.testing.assert_array_equal(kept, [0])  # the lone box ranks below the pre-NMS cut


@pytest.mark.parametrize('limit', [1, 5])
def test_class_nms_of_no_boxes_is_empty(limit: int) -> None:
    kept = class_nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                     np.zeros(0, np.int64), iou=0.5, limit=limit)
    assert kept.shape == (0,) and kept.dtype == np.int64
