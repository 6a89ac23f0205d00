# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ModelConfig.global_attention: whether the global heads depend on the chosen patches."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import PatchDriveNet, build_model
from patchdrivenet_ros.model.outputs import PatchDriveNetOutput
from patchdrivenet_ros.model.weights import config_path, load_weights, save_weights

SIZES = (64, 128, 256)


def _model(config: ModelConfig, attention: bool) -> PatchDriveNet:
    torch.manual_seed(0)
    return build_model(dataclasses.replace(config, global_attention=attention)).eval()


def _run(model: PatchDriveNet, images: torch.Tensor, budget: int) -> PatchDriveNetOutput:
    with torch.inference_mode():
        return model(images, patch_budget=budget, patch_sizes=SIZES, global_scale=0.25,
                     keep_coarse=True)


def test_without_attention_global_logits_ignore_the_patches(small_config: ModelConfig) -> None:
    model = _model(small_config, attention=False)
    assert model.global_attention is None
    images = torch.rand(1, 3, 200, 320)
    alone, refined = _run(model, images, 0), _run(model, images, 4)
    assert len(refined.patch_boxes) == 4
    assert refined.coarse_logits is not None
    torch.testing.assert_close(refined.global_logits, refined.coarse_logits)
    torch.testing.assert_close(refined.global_logits, alone.global_logits)
    torch.testing.assert_close(refined.global_detection.heat, alone.global_detection.heat)
    # The patches still change the fused output inside their boxes.
    assert not torch.equal(refined.logits, alone.logits)


def test_with_attention_the_patches_change_the_global_logits(small_config: ModelConfig) -> None:
    model = _model(small_config, attention=True)
    assert model.global_attention is not None
    images = torch.rand(1, 3, 200, 320)
    alone, refined = _run(model, images, 0), _run(model, images, 4)
    assert not torch.allclose(refined.global_logits, alone.global_logits)


def test_weights_without_attention_hold_no_attention_parameters(
        small_config: ModelConfig) -> None:
    with_attention = _model(small_config, attention=True).state_dict()
    without = _model(small_config, attention=False).state_dict()
    dropped = set(with_attention) - set(without)
    assert dropped and all(name.startswith('global_attention.') for name in dropped)
    assert set(without) <= set(with_attention)


def test_attention_costs_flops_only_when_present(small_config: ModelConfig) -> None:
    images = torch.rand(1, 3, 200, 320)
    with_attention = _run(_model(small_config, attention=True), images, 4).flops.item()
    without = _run(_model(small_config, attention=False), images, 4).flops.item()
    assert without < with_attention


def test_weights_saved_before_the_field_existed_load_with_attention(
        small_config: ModelConfig, tmp_path: Path) -> None:
    path = tmp_path / 'old.safetensors'
    save_weights(_model(small_config, attention=True), path)
    document = json.loads(config_path(path).read_text(encoding='utf-8'))
    del document['model_config']['global_attention']  # as weights written before it existed
    config_path(path).write_text(json.dumps(document), encoding='utf-8')
    loaded = load_weights(path)
    assert loaded.config.global_attention and loaded.global_attention is not None
