# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
import numpy as np
import torch

from patchdrivenet_ros.classes import IGNORE_INDEX
from patchdrivenet_ros.training.losses import (
    boundary_weights,
    heatmap_focal_loss,
    pixel_weights,
    segmentation_loss,
)
from patchdrivenet_ros.training.oracle import (
    oracle_candidate_scores,
    oracle_pixel_map,
    resolution_errors,
)
from patchdrivenet_ros.training.targets import detection_targets


def test_targets_encode_centre_cell_size_and_offset():
    boxes = np.array([[10.0, 20.0, 50.0, 40.0]], np.float32)  # centre (30, 30), 40 x 20
    t = detection_targets(boxes, np.array([1]), 2, (10, 10), (0.0, 0.0), (8.0, 8.0))
    cell_y, cell_x = 3, 3  # 30 / 8 = 3.75
    assert t.heat[1, cell_y, cell_x] == 1.0
    assert t.heat[0].max() == 0.0
    assert t.mask.sum() == 1.0
    np.testing.assert_allclose(np.exp(t.size[:, cell_y, cell_x]), [5.0, 2.5], rtol=1e-5)
    np.testing.assert_allclose(t.offset[:, cell_y, cell_x], [0.75, 0.75], rtol=1e-5)


def test_targets_respect_grid_origin_and_skip_centres_off_grid():
    boxes = np.array([[100.0, 100.0, 120.0, 120.0], [0.0, 0.0, 8.0, 8.0]], np.float32)
    t = detection_targets(boxes, np.array([0, 0]), 1, (4, 4), (96.0, 96.0), (8.0, 8.0))
    assert t.mask.sum() == 1.0  # the second box's centre lies outside this grid
    assert t.heat[0, 1, 1] == 1.0  # (110 - 96) / 8 = 1.75


def test_focal_loss_prefers_correct_heatmaps():
    target = torch.zeros(1, 1, 8, 8)
    target[0, 0, 4, 4] = 1.0
    good = torch.full_like(target, -6.0)
    good[0, 0, 4, 4] = 6.0
    bad = -good
    assert heatmap_focal_loss(good, target) < 0.01 < heatmap_focal_loss(bad, target)


def test_segmentation_loss_ignores_unlabeled_and_weights_boundaries():
    labels = torch.zeros(1, 8, 8, dtype=torch.long)
    labels[:, :, 4:] = 1
    weights = boundary_weights(labels, 2.0)
    assert weights[0, 0, 0] == 1.0 and weights[0, 0, 4] == 3.0
    logits = torch.zeros(1, 3, 8, 8)
    logits[:, 0] = 5.0
    unlabeled = labels.clone()
    unlabeled[:, :, 4:] = IGNORE_INDEX
    assert segmentation_loss(logits, unlabeled, pixel_weights(unlabeled, 1.0)) < 0.02
    assert segmentation_loss(logits, labels, pixel_weights(labels, 1.0)) > 1.0


def test_resolution_oracle_marks_thin_structures_and_ranks_candidates():
    labels = torch.zeros(1, 64, 64, dtype=torch.long)
    labels[:, :, 40] = 6  # a one-pixel pole
    errors = resolution_errors(labels, 0.25)
    assert errors[0, :, 40:44].all() and not errors[0, :, :40].any()
    pixel_map = oracle_pixel_map(errors, labels, (6,))
    boxes = torch.tensor([[0, 0, 32, 32], [32, 0, 64, 32]])
    scores = oracle_candidate_scores(pixel_map, boxes)
    assert scores.shape == (1, 2)
    assert scores[0, 1] == 1.0 and scores[0, 0] == 0.0
