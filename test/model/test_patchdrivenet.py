# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import PatchDriveNet, build_model

SIZES = (64, 128, 256)


@pytest.mark.parametrize(('width', 'height'), [(1242, 375), (1600, 900), (333, 217)])
def test_output_shapes(small_model: PatchDriveNet, width: int, height: int) -> None:
    config = small_model.config
    images = torch.rand(1, 3, height, width)
    with torch.inference_mode():
        out = small_model(images, patch_budget=5, patch_sizes=SIZES, global_scale=0.25,
                          keep_coarse=True)
    classes, detections = len(config.classes), len(config.detection_classes)
    rows, cols = out.global_logits.shape[-2:]
    assert out.logits.shape == (1, classes, height, width)
    assert out.global_logits.shape == out.coarse_logits.shape == (1, classes, rows, cols)
    assert abs(rows * 8 - height * 0.25) <= 4 and abs(cols * 8 - width * 0.25) <= 4
    assert out.priority_map.shape == (1, 1, rows, cols)
    count = out.candidates.shape[0]
    assert out.priority_logits.shape == (1, count) and out.candidate_sizes.shape == (count,)
    assert out.chosen.shape == (5, 2) and out.patch_boxes.shape == (5, 4)
    boxes = out.patch_boxes
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= width).all()
    assert (boxes[:, 3] <= height).all()
    assert out.patches.logits.shape == (5, classes, 16, 16)
    assert out.patch_weights.shape == (5,)
    assert out.global_detection.heat.shape == (1, detections, rows, cols)
    assert out.patch_detection.heat.shape == (5, detections, 8, 8)
    assert out.patch_detection.size.shape == out.patch_detection.offset.shape == (5, 2, 8, 8)
    assert torch.isfinite(out.logits).all()
    assert out.flops.shape == (1,) and out.flops.item() > 0


def test_budget_zero_is_the_global_stream_alone(small_model: PatchDriveNet) -> None:
    images = torch.rand(2, 3, 96, 160)
    with torch.inference_mode():
        out = small_model(images, patch_budget=0, patch_sizes=(32, 64), global_scale=0.5)
    assert out.chosen.shape == (0, 2) and len(out.patches) == 0
    expected = F.interpolate(out.global_logits, size=(96, 160), mode='bilinear',
                             align_corners=False)
    torch.testing.assert_close(out.logits, expected, atol=1e-5, rtol=1e-5)
    assert small_model.flop_counter.totals.get('patch', 0.0) == 0.0


def test_budget_at_or_above_candidates_covers_the_frame(small_model: PatchDriveNet) -> None:
    images = torch.rand(1, 3, 96, 160)
    with torch.inference_mode():
        out = small_model(images, patch_budget=1000, patch_sizes=(32, 64), global_scale=0.5)
    count = out.candidates.shape[0]
    assert out.chosen.shape == (count, 2)
    assert sorted(out.chosen[:, 1].tolist()) == list(range(count))
    cover = torch.zeros(96, 160, dtype=torch.bool)
    for x1, y1, x2, y2 in out.patch_boxes.tolist():
        cover[y1:y2, x1:x2] = True
    assert cover.all()


def test_chosen_override_is_used(small_model: PatchDriveNet) -> None:
    images = torch.rand(2, 3, 96, 160)
    override = torch.tensor([[1, 3], [0, 0]])
    with torch.inference_mode():
        out = small_model(images, patch_budget=0, patch_sizes=(32, 64), global_scale=0.5,
                          chosen_override=override)
    torch.testing.assert_close(out.chosen, override)
    torch.testing.assert_close(out.patch_boxes, out.candidates[override[:, 1]])


def test_backward_reaches_every_trainable_module(small_config: ModelConfig) -> None:
    torch.manual_seed(1)
    model = build_model(small_config).train()
    images = torch.rand(2, 3, 96, 160)
    out = model(images, patch_budget=4, patch_sizes=(32, 64), global_scale=0.5,
                keep_coarse=True)
    assert out.coarse_logits is not None
    terms = [out.logits, out.global_logits, out.coarse_logits, out.priority_logits,
             out.patch_weights]
    for maps in (out.global_detection, out.patch_detection):
        terms += [maps.heat, maps.size, maps.offset]
    loss = sum((term.float() ** 2).mean() for term in terms)
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f'{name} got no gradient'
        assert torch.isfinite(parameter.grad).all(), f'{name} has a non-finite gradient'
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if own:
            assert any(p.grad.abs().sum() > 0 for p in own), f'{name} got a zero gradient'
