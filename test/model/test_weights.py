# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file
import torch

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import WeightsError, build_model, load_weights, save_weights
from patchdrivenet_ros.model.factory import inference_model
from patchdrivenet_ros.model.weights import file_checksum


def test_save_load_round_trip(tmp_path: Path, small_config: ModelConfig) -> None:
    torch.manual_seed(2)
    model = build_model(small_config).eval()
    path = tmp_path / 'weights' / 'model.safetensors'
    save_weights(model, path, metadata={'steps': '10'})
    document = json.loads(path.with_suffix('.json').read_text())
    assert document['model_config']['width'] == small_config.width
    assert document['metadata'] == {'steps': '10'}
    assert document['sha256'] == file_checksum(path)
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


def _saved(tmp_path: Path, config: ModelConfig) -> Path:
    path = tmp_path / 'model.safetensors'
    save_weights(build_model(config), path)
    return path


def test_a_corrupt_weights_file_is_refused(tmp_path: Path, small_config: ModelConfig) -> None:
    path = _saved(tmp_path, small_config)
    path.write_bytes(b'\x08\x00\x00\x00\x00\x00\x00\x00{"a": 1}not safetensors')
    with pytest.raises(WeightsError, match='unreadable weights'):
        load_weights(path)


def test_tensors_that_do_not_fit_the_config_are_refused(tmp_path: Path,
                                                        small_config: ModelConfig) -> None:
    path = _saved(tmp_path, small_config)
    # The config beside the tensors claims a wider model: every width-dependent tensor misfits.
    document = json.loads(path.with_suffix('.json').read_text())
    document['model_config']['width'] = 2 * small_config.width
    path.with_suffix('.json').write_text(json.dumps(document))
    with pytest.raises(WeightsError, match='tensors do not fit the model') as caught:
        load_weights(path)
    assert 'wrong shape: [' in str(caught.value) and 'wrong shape: []' not in str(caught.value)


def test_missing_and_unexpected_tensors_are_named(tmp_path: Path,
                                                  small_config: ModelConfig) -> None:
    path = _saved(tmp_path, small_config)
    tensors = load_file(path)
    dropped = sorted(tensors)[0]
    del tensors[dropped]
    tensors['extra.weight'] = torch.zeros(2)
    save_file(tensors, path)
    with pytest.raises(WeightsError, match='tensors do not fit') as caught:
        load_weights(path)
    message = str(caught.value)
    assert f"missing: ['{dropped}']" in message
    assert "unexpected: ['extra.weight']" in message
    assert 'wrong shape: []' in message


def test_bytes_changed_inside_the_tensor_data_are_refused(tmp_path: Path,
                                                         small_config: ModelConfig) -> None:
    path = _saved(tmp_path, small_config)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x5A  # one byte of the last tensor; the header still parses
    path.write_bytes(bytes(data))
    assert sorted(load_file(path)) == sorted(build_model(small_config).state_dict())
    with pytest.raises(WeightsError, match='changed after it was saved') as caught:
        load_weights(path)
    assert str(path) in str(caught.value)


def test_weights_saved_without_a_checksum_still_load(tmp_path: Path,
                                                     small_config: ModelConfig) -> None:
    path = _saved(tmp_path, small_config)
    document = json.loads(path.with_suffix('.json').read_text())
    del document['sha256']  # as written before checksums were recorded
    path.with_suffix('.json').write_text(json.dumps(document))
    assert load_weights(path).config == small_config


def test_the_shipped_weights_match_their_recorded_checksums() -> None:
    folder = Path(__file__).resolve().parents[2] / 'patchdrivenet_ros' / 'weights'
    files = sorted(folder.glob('*.safetensors'))
    assert files
    for path in files:
        document = json.loads(path.with_suffix('.json').read_text())
        assert document['sha256'] == file_checksum(path), path.name


@pytest.mark.parametrize('text', ['{not json', '{"metadata": {}}', '[1, 2]',
                                  '{"model_config": {}, "sha256": 5}',
                                  '{"model_config": {"no_such_field": 1}}',
                                  '{"model_config": {"width": -3}}'])
def test_an_unreadable_config_is_refused(tmp_path: Path, small_config: ModelConfig,
                                         text: str) -> None:
    path = _saved(tmp_path, small_config)
    path.with_suffix('.json').write_text(text)
    with pytest.raises(WeightsError, match='unreadable model config'):
        load_weights(path)


def test_a_folded_inference_copy_is_not_saved(tmp_path: Path,
                                              small_config: ModelConfig) -> None:
    folded = inference_model(build_model(small_config))
    with pytest.raises(WeightsError, match='folded'):
        save_weights(folded, tmp_path / 'folded.safetensors')
    assert not (tmp_path / 'folded.safetensors').exists()
