# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Patch-attention rendering, mask overlay and mosaics on synthetic results."""

from dataclasses import replace

import numpy as np
import pytest

from patchdrivenet_ros.classes import CLASS_NAMES, class_id
from patchdrivenet_ros.result import FrameResult, PatchPlan, PatchState
from patchdrivenet_ros.visualize import (
    RECOMPUTED_BGR,
    REUSED_BGR,
    draw_detections,
    heat_overlay,
    mask_overlay,
    mosaic,
    render_patch_attention,
)


def _plan() -> PatchPlan:
    return PatchPlan(
        boxes=np.array([[10, 10, 42, 42], [60, 20, 92, 52]], np.int32),
        sizes=np.array([32, 32], np.int32),
        priorities=np.array([0.9, 0.5], np.float32),
        states=np.array([PatchState.RECOMPUTED, PatchState.REUSED], np.uint8),
        cell_ids=np.array([1, 2], np.int64),
    )


def _result(plan: PatchPlan) -> FrameResult:
    saliency = np.zeros((6, 10), np.float32)
    saliency[:, 5:] = 1.0
    return FrameResult(
        mask=np.full((60, 100), class_id('road'), np.uint8),
        boxes=np.array([[50, 5, 90, 40]], np.float32),
        scores=np.array([0.87], np.float32),
        class_ids=np.array([class_id('car')], np.int64),
        plan=plan,
        saliency=saliency,
        flops=1.0,
    )


def test_patch_attention_marks_states_heat_and_keeps_the_input() -> None:
    image = np.full((60, 100, 3), 128, np.uint8)
    before = image.copy()
    picture = render_patch_attention(image, _result(_plan()), CLASS_NAMES)
    assert picture.shape == image.shape and picture.dtype == np.uint8
    np.testing.assert_array_equal(image, before)
    assert tuple(picture[25, 10]) == RECOMPUTED_BGR  # left edge of the recomputed patch
    assert tuple(picture[45, 60]) == REUSED_BGR  # left edge of the reused patch
    # Hot saliency on the right half, cold on the left: the JET map is red vs blue there.
    assert picture[55, 98, 2] > picture[55, 98, 0]
    assert picture[55, 2, 0] > picture[55, 2, 2]


def test_patch_attention_says_whether_the_global_stream_was_reused() -> None:
    image = np.full((60, 400, 3), 128, np.uint8)
    encoded = render_patch_attention(image, _result(_plan()), CLASS_NAMES)
    reused = render_patch_attention(image, replace(_result(_plan()), global_reused=True),
                                    CLASS_NAMES)
    label = (slice(0, 20), slice(0, 400))  # the top line of text
    assert not np.array_equal(encoded[label], reused[label])
    np.testing.assert_array_equal(encoded[30:], reused[30:])  # nothing else differs


def test_patch_attention_with_no_patches_and_no_saliency() -> None:
    result = _result(PatchPlan.empty())
    empty = FrameResult(result.mask, result.boxes[:0], result.scores[:0], result.class_ids[:0],
                        PatchPlan.empty(), np.zeros((0, 0), np.float32), 0.0)
    image = np.zeros((60, 100, 3), np.uint8)
    picture = render_patch_attention(image, empty, CLASS_NAMES)
    assert picture.shape == image.shape
    assert heat_overlay(image, np.zeros((0, 0), np.float32)).shape == image.shape


def test_detection_labels_stay_inside_the_image() -> None:
    canvas = np.zeros((30, 40, 3), np.uint8)
    draw_detections(canvas, np.array([[0, 0, 39, 29]], np.float32), np.array([0.5]),
                    np.array([class_id('pedestrian')]), CLASS_NAMES)
    assert canvas.any()
    draw_detections(canvas, np.array([[1, 1, 5, 5]], np.float32), np.array([0.5]),
                    np.array([99]), CLASS_NAMES)  # unknown id: labelled by number


def test_mask_overlay_blends_class_colours() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    mask = np.full((4, 4), 255, np.uint8)
    np.testing.assert_array_equal(mask_overlay(image, mask), image)  # unlabeled is black
    mask[:] = class_id('lane_marking')
    assert mask_overlay(image, mask, alpha=1.0).min() == 255


def test_mosaic_stacks_tiles_of_any_size() -> None:
    tiles = [np.zeros((40, 80, 3), np.uint8), np.zeros((20, 160, 3), np.uint8),
             np.zeros((10, 10, 3), np.uint8)]
    grid = mosaic(tiles, ['a', 'b', 'c'], columns=2, width=100)
    assert grid.shape == (2 * 100, 2 * 100, 3)
    column = mosaic(tiles[:2], ['a', 'b'])
    assert column.shape[1] == 80
    with pytest.raises(ValueError):
        mosaic(tiles, ['a'])
