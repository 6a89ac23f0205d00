# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of KITTI 2D AP|R40 on hand-worked cases where the official devkit's answer is known.

The devkit samples one score threshold per 1/40 of recall among the true positives' scores and
averages the precisions at thresholds 1 .. 40: with few ground-truth objects that list is short
(one object found: AP 0; two of three: the second precision over 40). Cases about matching
rules therefore repeat one image COPIES times, which gives the full list of 41 thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

import numpy as np
import pytest

from patchdrivenet_ros.metrics.kitti import (
    DIFFICULTIES,
    KittiEvaluator,
    ap_r40,
    box_iou_over_first,
)

COPIES = 80
"""Copies of an image in matching-rule cases: 80 found objects give 41 recall thresholds."""


def _add(evaluator: KittiEvaluator, dets: Sequence[tuple[str, float, Sequence[float]]],
         gts: Sequence[tuple[str, Sequence[float], float, int]], copies: int = 1) -> None:
    for _ in range(copies):
        _add_once(evaluator, dets, gts)


def _add_once(evaluator: KittiEvaluator, dets: Sequence[tuple[str, float, Sequence[float]]],
              gts: Sequence[tuple[str, Sequence[float], float, int]]) -> None:
    evaluator.add(
        np.array([d[2] for d in dets], np.float64).reshape(-1, 4),
        np.array([d[1] for d in dets]),
        [d[0] for d in dets],
        np.array([g[1] for g in gts], np.float64).reshape(-1, 4),
        [g[0] for g in gts],
        np.array([g[2] for g in gts]),
        np.array([g[3] for g in gts]),
    )


def _three_cars(evaluator: KittiEvaluator) -> None:
    """Add three easy cars, two found (0.9, 0.8) and one false positive between (0.85)."""
    _add(evaluator,
         [('Car', 0.9, [100, 100, 200, 160]), ('Car', 0.85, [700, 100, 800, 160]),
          ('Car', 0.8, [300, 100, 400, 160])],
         [('Car', [100, 100, 200, 160], 0.0, 0), ('Car', [300, 100, 400, 160], 0.0, 0),
          ('Car', [500, 100, 600, 160], 0.0, 0)])


def test_ap_r40_of_a_known_curve_with_few_objects() -> None:
    evaluator = KittiEvaluator()
    _three_cars(evaluator)
    summary = evaluator.summary()
    # Two true positives of three: thresholds 0.9 and 0.8, precisions 1 and 2/3. The devkit
    # sums precisions 1 .. 40 of that list: 2/3 / 40.
    for level in ('easy', 'moderate', 'hard'):
        assert summary[f'car_{level}'] == pytest.approx(2 / 3 / 40)
        assert math.isnan(summary[f'pedestrian_{level}'])
        assert summary[f'map_{level}'] == pytest.approx(summary[f'car_{level}'])


def test_one_object_found_gives_zero_as_in_the_devkit() -> None:
    assert _car_ap([('Car', 0.9, CAR)], [('Car', CAR, 0.0, 0)], copies=1) == 0.0


def test_forty_objects_fill_forty_thresholds_only() -> None:
    # 40 cars found with falling scores after one false positive of score 1.5: 40 thresholds,
    # precision (t + 1) / (t + 2) at threshold t, made non-increasing: 40/41 for t < 40, and
    # the 41st sample is empty: AP = 39 * (40/41) / 40 = 39/41.
    evaluator = KittiEvaluator()
    _add(evaluator, [('Car', 1.5, [300.0, 0.0, 400.0, 60.0])], [])
    for i in range(40):
        _add(evaluator, [('Car', 1.0 - i / 100, CAR)], [('Car', CAR, 0.0, 0)])
    assert evaluator.summary()['car_easy'] == pytest.approx(39 / 41)


def test_many_objects_found_give_one() -> None:
    assert _car_ap([('Car', 0.9, CAR)], [('Car', CAR, 0.0, 0)]) == pytest.approx(1.0)


def test_ignored_ground_truth_and_detections() -> None:
    evaluator = KittiEvaluator()
    _three_cars(evaluator)
    _add(evaluator,
         [('Car', 0.95, [100, 100, 200, 130]),  # a 30 px car: ignored when easy
          ('Car', 0.7, [300, 100, 400, 160]),  # on a van: ignored
          ('Car', 0.75, [650, 100, 750, 160]),  # inside a dontcare region
          ('Car', 0.99, [50, 300, 80, 320]),  # 20 px high, matches nothing: ignored
          ('Pedestrian', 0.6, [1000, 116, 1030, 196])],  # IoU 2/3 with the pedestrian
         [('Car', [100, 100, 200, 130], 0.0, 0), ('Van', [300, 100, 400, 160], 0.0, 0),
          ('DontCare', [600, 50, 900, 200], -1.0, -1),
          ('Pedestrian', [1000, 100, 1030, 180], 0.0, 0)])
    summary = evaluator.summary()
    # Easy: the 30 px car and the van are ignored (the 0.95 and 0.7 detections on them are no
    # false positives), the 0.75 one is excused by the dontcare region, the 20 px one is too
    # small: the same two thresholds as three cars alone.
    assert summary['car_easy'] == pytest.approx(2 / 3 / 40)
    # Moderate counts the 30 px car (found at 0.95): thresholds 0.95, 0.9, 0.8 with precisions
    # 1, 1, 3/4; the devkit sums the second and third.
    assert summary['car_moderate'] == pytest.approx((1 + 0.75) / 40)
    # One pedestrian found: a single threshold, so AP|R40 0, as the devkit reports.
    assert summary['pedestrian_easy'] == 0.0
    assert math.isnan(summary['cyclist_hard'])
    assert summary['map_moderate'] == pytest.approx(summary['car_moderate'] / 2)


def test_class_thresholds_occlusion_and_truncation() -> None:
    evaluator = KittiEvaluator()
    shifted = [100, 116, 200, 196]  # IoU 2/3 with the ground truth below
    _add(evaluator, [('car', 0.5, shifted), ('cyclist', 0.5, shifted)],
         [('car', [100, 100, 200, 180], 0.0, 0), ('cyclist', [100, 100, 200, 180], 0.0, 0)],
         COPIES)
    _add(evaluator, [('Pedestrian', 0.4, [10, 10, 40, 80])],
         [('Pedestrian', [10, 10, 40, 80], 0.0, 2)], COPIES)  # heavily occluded: hard only
    _add(evaluator, [('Pedestrian', 0.3, [50, 10, 80, 80])],
         [('Pedestrian', [50, 10, 80, 80], 0.4, 0)], COPIES)  # truncated 0.4: hard only
    summary = evaluator.summary()
    assert summary['car_easy'] == 0.0  # 2/3 < 0.7: a false positive and a miss
    assert summary['cyclist_easy'] == pytest.approx(1.0)
    assert math.isnan(summary['pedestrian_easy'])
    assert math.isnan(summary['pedestrian_moderate'])
    assert summary['pedestrian_hard'] == pytest.approx(1.0)


def test_no_detections_and_mismatched_inputs() -> None:
    evaluator = KittiEvaluator()
    _add(evaluator, [], [('Car', [0, 0, 100, 100], 0.0, 0)])
    assert evaluator.summary()['car_easy'] == 0.0
    with pytest.raises(ValueError):
        evaluator.add(np.zeros((2, 4)), np.zeros(1), ['car'], np.zeros((0, 4)), [],
                      np.zeros(0), np.zeros(0))


def _car_ap(dets: Sequence[tuple[str, float, Sequence[float]]],
            gts: Sequence[tuple[str, Sequence[float], float, int]], level: str = 'easy',
            copies: int = COPIES) -> float:
    evaluator = KittiEvaluator()
    _add(evaluator, dets, gts, copies)
    return evaluator.summary()[f'car_{level}']


CAR = [0.0, 0.0, 100.0, 60.0]


def test_box_iou_over_first() -> None:
    first = np.array([[10.0, 20.0, 20.0, 40.0]])  # 10 x 20
    others = np.array([[15, 30, 50, 60], [22, 20, 30, 40], [10, 45, 20, 50], [10, 20, 20, 40],
                       [19.5, 20, 30, 40], [10, 39.5, 20, 50]], np.float64)
    np.testing.assert_allclose(box_iou_over_first(first, others),
                               [[0.25, 0.0, 0.0, 1.0, 0.05, 0.025]])
    np.testing.assert_allclose(box_iou_over_first(others[:1], first), [[50 / 1050]])
    empty = box_iou_over_first(np.array([[5.0, 5.0, 5.0, 9.0]]), np.array([[0.0, 0, 10, 10]]))
    assert empty.dtype == np.float64
    np.testing.assert_array_equal(empty, [[0.0]])
    tiny = box_iou_over_first(np.array([[0, 0, 0.5, 0.5]]), np.array([[0.0, 0, 1, 1]]))
    np.testing.assert_allclose(tiny, [[1.0]])
    assert box_iou_over_first(np.zeros((0, 4)), others).shape == (0, 6)


def test_ground_truth_height_is_measured_top_to_bottom() -> None:
    low_car = [('Car', [0.0, 200.0, 100.0, 230.0], 0.0, 0)]  # 30 px high, far down the image
    assert math.isnan(_car_ap([], low_car, 'easy'))
    assert _car_ap([], low_car, 'moderate') == 0.0


def test_difficulty_limits_are_inclusive() -> None:
    forty = [0.0, 0.0, 100.0, 40.0]  # exactly the easy minimum height: too low for easy
    assert math.isnan(_car_ap([('Car', 0.9, forty)], [('Car', forty, 0.0, 0)], 'easy'))
    assert _car_ap([('Car', 0.9, forty)], [('Car', forty, 0.0, 0)], 'moderate') == 1.0
    # Truncation exactly at the easy limit still counts there.
    assert _car_ap([('Car', 0.9, CAR)], [('Car', CAR, 0.15, 0)], 'easy') == 1.0


def test_a_detection_exactly_at_the_minimum_height_takes_part() -> None:
    gt = [('Car', [0.0, 0.0, 100.0, 50.0], 0.0, 0)]
    assert _car_ap([('Car', 0.9, [0.0, 5.0, 100.0, 45.0])], gt) == 1.0  # 40 px, IoU 0.8


def test_a_detection_on_a_van_is_no_false_positive_for_cars() -> None:
    van = [200.0, 0.0, 300.0, 60.0]
    ap = _car_ap([('Car', 0.9, van), ('Car', 0.8, CAR)],
                 [('Car', CAR, 0.0, 0), ('Van', van, 0.0, 0)])
    assert ap == 1.0


def test_images_without_ground_truth_count_their_false_positives() -> None:
    evaluator = KittiEvaluator()
    _add(evaluator, [('Car', 0.9, [300.0, 0.0, 400.0, 60.0])], [], COPIES)
    _add(evaluator, [('Car', 0.8, CAR)], [('Car', CAR, 0.0, 0)], COPIES)
    assert evaluator.summary()['car_easy'] == pytest.approx(0.5)


def test_a_false_positive_ranked_first_halves_the_precision() -> None:
    ap = _car_ap([('Car', 0.9, [300.0, 0.0, 400.0, 60.0]), ('Car', 0.8, CAR)],
                 [('Car', CAR, 0.0, 0)])
    assert ap == pytest.approx(0.5)


def test_an_iou_equal_to_the_class_threshold_is_no_match() -> None:
    evaluator = KittiEvaluator()
    _add(evaluator, [('Pedestrian', 0.9, [0.0, 0.0, 20.0, 50.0])],
         [('Pedestrian', [0.0, 0.0, 20.0, 100.0], 0.0, 0)])  # IoU exactly 0.5
    assert evaluator.summary()['pedestrian_easy'] == 0.0


def test_a_too_small_detection_scored_higher_hides_the_object() -> None:
    # The devkit's first pass gives each object its best-scored match: here the too-small one,
    # so the object adds no recall threshold and AP is 0, although at a threshold the valid
    # detection would be the match (the second pass prefers detections that are not too small).
    gt = [('Car', [0.0, 0.0, 100.0, 30.0], 0.0, 0)]  # counted when moderate (above 25 px)
    small = ('Car', 0.9, [0.0, 3.0, 100.0, 27.0])  # 24 px: too small, IoU 0.8
    valid = ('Car', 0.8, [0.0, 0.0, 100.0, 29.0])
    assert _car_ap([small, valid], gt, 'moderate') == 0.0
    assert _car_ap([('Car', 0.7, small[2]), valid], gt, 'moderate') == pytest.approx(1.0)


def test_a_detection_just_below_the_minimum_height_is_too_small() -> None:
    gt = [('Car', [0.0, 0.0, 100.0, 44.0], 0.0, 0)]
    assert _car_ap([('Car', 0.9, [0.0, 0.5, 100.0, 40.4])], gt) == 0.0  # 39.9 px
    assert _car_ap([('Car', 0.9, [0.0, 0.5, 100.0, 40.5])], gt) == pytest.approx(1.0)


def test_ground_truth_matched_only_by_a_too_small_detection_is_ignored() -> None:
    gt = [('Car', [0.0, 0.0, 100.0, 30.0], 0.0, 0)]
    small = ('Car', 0.5, [0.0, 3.0, 100.0, 27.0])
    elsewhere = ('Car', 0.9, [300.0, 0.0, 400.0, 40.0])
    # Neither a hit nor a miss: no recall is ever reached.
    assert _car_ap([small, elsewhere], gt, 'moderate') == 0.0


def test_dontcare_regions_excuse_free_detections_only() -> None:
    gts = [('Car', CAR, 0.0, 0), ('DontCare', [1000.0, 0.0, 1100.0, 100.0], -1.0, -1),
           ('DontCare', [400.0, 0.0, 700.0, 100.0], -1.0, -1)]
    dets = [('Car', 0.8, CAR), ('Car', 0.9, [450.0, 0.0, 550.0, 60.0]),
            ('Car', 0.95, [600.0, 0.0, 650.0, 20.0])]  # excused; too small to count at all
    assert _car_ap(dets, gts) == 1.0


def test_dontcare_cover_must_exceed_the_class_threshold() -> None:
    gts = [('Car', CAR, 0.0, 0), ('DontCare', [530.0, 0.0, 700.0, 100.0], -1.0, -1)]
    dets = [('Car', 0.8, CAR), ('Car', 0.9, [500.0, 0.0, 600.0, 60.0])]  # 70 % covered
    assert _car_ap(dets, gts) == pytest.approx(0.5)


def test_unknown_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="^'van' is not one of car, pedestrian, cyclist$"):
        ap_r40([], 'van', DIFFICULTIES[0])


def test_inputs_are_flattened() -> None:
    flat, columns = KittiEvaluator(), KittiEvaluator()
    flat.add(np.array([CAR]), np.array([0.9]), ['Car'], np.array([CAR]), ['Car'],
             np.array([0.2]), np.array([1]))
    columns.add(np.array([CAR]), np.array([[0.9]]), ['Car'], np.array([CAR]), ['Car'],
                np.array([[0.2]]), np.array([[1]]))
    assert flat.summary() == columns.summary()


@pytest.mark.parametrize(('sizes', 'message'), [
    ((2, 1, 1, 0, 0, 0, 0), 'boxes, scores and labels differ in length'),
    ((1, 2, 1, 0, 0, 0, 0), 'boxes, scores and labels differ in length'),
    ((0, 0, 0, 1, 2, 1, 1), 'gt_boxes, gt_labels, gt_truncation and gt_occlusion differ'),
    ((0, 0, 0, 1, 1, 2, 1), 'gt_boxes, gt_labels, gt_truncation and gt_occlusion differ'),
    ((0, 0, 0, 1, 1, 1, 2), 'gt_boxes, gt_labels, gt_truncation and gt_occlusion differ'),
])
def test_inputs_of_different_lengths_are_refused(sizes: tuple[int, ...], message: str) -> None:
    boxes, scores, labels, gt_boxes, gt_labels, truncation, occlusion = sizes
    with pytest.raises(ValueError, match=f'^{message}$'):
        KittiEvaluator().add(np.zeros((boxes, 4)), np.zeros(scores), ['car'] * labels,
                             np.zeros((gt_boxes, 4)), ['car'] * gt_labels,
                             np.zeros(truncation), np.zeros(occlusion))


def test_summary_of_nothing_is_nan() -> None:
    summary = KittiEvaluator().summary()
    assert len(summary) == 12 and all(math.isnan(value) for value in summary.values())


def test_a_too_small_detection_of_another_class_can_take_the_match() -> None:
    # The devkit marks every detection under the minimum height as too small, whatever its
    # class, and too-small detections take part in matching.
    gt = [('Car', [0.0, 0.0, 100.0, 30.0], 0.0, 0)]
    pedestrian = ('Pedestrian', 0.9, [0.0, 3.0, 100.0, 27.0])  # 24 px, IoU 0.8
    car = ('Car', 0.8, [0.0, 0.0, 100.0, 29.0])
    assert _car_ap([pedestrian, car], gt, 'moderate') == 0.0
    assert _car_ap([car], gt, 'moderate') == pytest.approx(1.0)


def test_person_sitting_is_the_pedestrians_neighbour() -> None:
    evaluator = KittiEvaluator()
    seated = [200.0, 0.0, 240.0, 60.0]
    _add(evaluator, [('Pedestrian', 0.9, seated), ('Pedestrian', 0.8, [0.0, 0.0, 40.0, 60.0])],
         [('Person_sitting', seated, 0.0, 0), ('Pedestrian', [0.0, 0.0, 40.0, 60.0], 0.0, 0)],
         COPIES)
    assert evaluator.summary()['pedestrian_easy'] == pytest.approx(1.0)
