# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of KITTI 2D AP|R40 on hand-made cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from patchdrivenet_ros.metrics.kitti import KittiEvaluator


def _add(evaluator: KittiEvaluator, dets: list[tuple[str, float, list[float]]],
         gts: list[tuple[str, list[float], float, int]]) -> None:
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


def test_ap_r40_of_a_known_curve() -> None:
    evaluator = KittiEvaluator()
    _three_cars(evaluator)
    summary = evaluator.summary()
    # Recall 1/3 at precision 1, recall 2/3 at precision 2/3: 13 points at 1, 13 at 2/3.
    for level in ('easy', 'moderate', 'hard'):
        assert summary[f'car_{level}'] == pytest.approx((13 + 13 * 2 / 3) / 40)
        assert math.isnan(summary[f'pedestrian_{level}'])
        assert summary[f'map_{level}'] == pytest.approx(summary[f'car_{level}'])


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
    assert summary['car_easy'] == pytest.approx((13 + 13 * 2 / 3) / 40)
    # Moderate counts the 30 px car (score 0.95): recall 1/2 at precision 1, 3/4 at 3/4.
    assert summary['car_moderate'] == pytest.approx((20 + 10 * 0.75) / 40)
    assert summary['pedestrian_easy'] == pytest.approx(1.0)
    assert math.isnan(summary['cyclist_hard'])
    assert summary['map_moderate'] == pytest.approx((summary['car_moderate'] + 1.0) / 2)


def test_class_thresholds_occlusion_and_truncation() -> None:
    evaluator = KittiEvaluator()
    shifted = [100, 116, 200, 196]  # IoU 2/3 with the ground truth below
    _add(evaluator, [('car', 0.5, shifted), ('cyclist', 0.5, shifted)],
         [('car', [100, 100, 200, 180], 0.0, 0), ('cyclist', [100, 100, 200, 180], 0.0, 0)])
    _add(evaluator, [('Pedestrian', 0.4, [10, 10, 40, 80])],
         [('Pedestrian', [10, 10, 40, 80], 0.0, 2)])  # heavily occluded: hard only
    _add(evaluator, [('Pedestrian', 0.3, [50, 10, 80, 80])],
         [('Pedestrian', [50, 10, 80, 80], 0.4, 0)])  # truncated 0.4: hard only
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
