# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import WeightsError, build_model, load_weights, save_weights


def test_save_load_round_trip(tmp_path: Path, small_config: ModelConfig) -> None:
    torch.manual_seed(2)
    model = build_model(small_config).eval()
    path = tmp_path / 'weights' / 'model.safetensors'
    save_weights(model, path, metadata={'steps': '10'})
    document = json.loads(path.with_suffix('.json').read_text())
    assert document['model_config']['width'] == small_config.width
    assert document['metadata'] == {'steps': '10'}
    loaded = load_weights(path, expected=small_config)
    assert loaded.config == small_config and not loaded.training
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)
    images = torch.rand(1, 3, 96, 160)
    with torch.inference_mode():
        first = model(images, patch_budget=3, patch_sizes=(32,), global_scale=0.5)
        second = loaded(images, patch_budget=3, patch_sizes=(32,), global_scale=0.5)
    torch.testing.assert_close(first.logits, second.logits, rtol=0, atol=0)


def test_mismatched_config_is_refused_naming_the_field(tmp_path: Path,
                                                       small_config: ModelConfig) -> None:
    path = tmp_path / 'model.safetensors'
    save_weights(build_model(small_config), path)
    other = dataclasses.replace(small_config, refine_width=16)
    with pytest.raises(WeightsError, match='refine_width'):
        load_weights(path, expected=other)


def test_missing_files_are_refused(tmp_path: Path, small_config: ModelConfig) -> None:
    with pytest.raises(WeightsError, match='no such weights file'):
        load_weights(tmp_path / 'absent.safetensors')
    path = tmp_path / 'model.safetensors'
    save_weights(build_model(small_config), path)
    path.with_suffix('.json').unlink()
    with pytest.raises(WeightsError, match='model config'):
        load_weights(path)
