# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The validated config tree: defaults, every kind of invalid value, YAML layouts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from patchdrivenet_ros.config import (
    DEFAULT_NODE_NAME,
    ConfigError,
    ModelConfig,
    PerceptionConfig,
    TrainConfig,
    Validated,
    config_from_mapping,
    config_to_mapping,
    field_types,
    load_yaml,
    ros_parameters_section,
    runtime_fields,
    spec_of,
    with_changes,
)

CONFIG_CLASSES: tuple[type[Validated], ...] = (ModelConfig, PerceptionConfig, TrainConfig)


def field_of_error(cls: type[Validated], **values: Any) -> str:
    """Build ``cls`` from ``values`` and return the field the ConfigError names."""
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(cls, values)
    assert str(caught.value).startswith(f'{caught.value.field}: ')
    return caught.value.field


@pytest.mark.parametrize('cls', CONFIG_CLASSES)
def test_defaults_are_valid_and_round_trip(cls: type[Validated]) -> None:
    config = cls()
    plain = config_to_mapping(config)
    assert config_from_mapping(cls, plain) == config
    assert all(not isinstance(v, tuple) for v in plain.values())  # YAML/JSON friendly


@pytest.mark.parametrize('cls', CONFIG_CLASSES)
def test_every_setting_has_a_description(cls: type[Validated]) -> None:
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if dataclasses.is_dataclass(field.type) or field.name == 'model':
            continue
        assert spec_of(field).description.strip(), field.name


def test_configs_are_frozen() -> None:
    config = PerceptionConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.patch_budget = 3  # type: ignore[misc]


def test_values_are_coerced_to_the_annotated_types() -> None:
    config = config_from_mapping(
        PerceptionConfig, {'global_scale': 1, 'patch_sizes': [32, 64], 'cameras': ['a', 'b']}
    )
    assert isinstance(config.global_scale, float) and config.global_scale == 1.0
    assert config.patch_sizes == (32, 64)
    assert config.cameras == ('a', 'b')


@pytest.mark.parametrize(
    ('values', 'field'),
    [
        # wrong type
        ({'patch_budget': '12'}, 'patch_budget'),
        ({'patch_budget': 12.0}, 'patch_budget'),
        ({'patch_budget': True}, 'patch_budget'),
        ({'global_scale': 'half'}, 'global_scale'),
        ({'motion_threshold': False}, 'motion_threshold'),
        ({'publish_debug': 1}, 'publish_debug'),
        ({'device': 0}, 'device'),
        ({'patch_sizes': '64'}, 'patch_sizes'),
        ({'patch_sizes': 64}, 'patch_sizes'),
        ({'patch_sizes': [64, 'big']}, 'patch_sizes[1]'),
        # out of range
        ({'patch_budget': -1}, 'patch_budget'),
        ({'global_scale': 1.5}, 'global_scale'),
        ({'global_scale': 0.0}, 'global_scale'),
        ({'motion_threshold': -0.5}, 'motion_threshold'),
        ({'motion_threshold': float('nan')}, 'motion_threshold'),
        ({'score_threshold': 1.01}, 'score_threshold'),
        ({'patch_sizes': [8, 64]}, 'patch_sizes'),
        # not one of the choices
        ({'method': 'fast'}, 'method'),
        ({'reuse_rule': 'always'}, 'reuse_rule'),
        ({'image_transport': 'jpeg'}, 'image_transport'),
        ({'qos_reliability': 'sometimes'}, 'qos_reliability'),
        # cross-field rules
        ({'patch_sizes': []}, 'patch_sizes'),
        ({'patch_sizes': [128, 64]}, 'patch_sizes'),
        ({'patch_sizes': [64, 64]}, 'patch_sizes'),
        ({'device': 'gpu'}, 'device'),
        ({'device': 'cuda:x'}, 'device'),
        ({'weights': 'model.pt'}, 'weights'),
        ({'cameras': ['front', 'front']}, 'cameras'),
        ({'cameras': ['']}, 'cameras'),
        ({'forecast_s': 1.5}, 'forecast_s'),
    ],
)
def test_invalid_perception_values_name_the_field(values: dict[str, Any], field: str) -> None:
    assert field_of_error(PerceptionConfig, **values) == field


@pytest.mark.parametrize('device', ['auto', 'cpu', 'cuda', 'cuda:1'])
def test_device_forms(device: str) -> None:
    assert PerceptionConfig(device=device).device == device


@pytest.mark.parametrize(
    ('values', 'field'),
    [
        ({'detection_classes': ['car', 'plane']}, 'detection_classes'),
        ({'classes': ['road', 'road'], 'detection_classes': []}, 'classes'),
        ({'classes': [], 'detection_classes': []}, 'classes'),
        ({'attention_heads': 5}, 'attention_heads'),
        ({'width': 4}, 'width'),
        ({'depth_multiplier': 3.0}, 'depth_multiplier'),
    ],
)
def test_invalid_model_values_name_the_field(values: dict[str, Any], field: str) -> None:
    assert field_of_error(ModelConfig, **values) == field


@pytest.mark.parametrize(
    ('values', 'field'),
    [
        ({'warmup_steps': 2000, 'steps': 2000}, 'warmup_steps'),
        ({'patch_sizes': [64, 32]}, 'patch_sizes'),
        ({'device': 'tpu'}, 'device'),
        ({'adverse_fraction': 2.0}, 'adverse_fraction'),
        ({'data_seeds': [1, -1]}, 'data_seeds'),
        ({'amp': 'yes'}, 'amp'),
    ],
)
def test_invalid_train_values_name_the_field(values: dict[str, Any], field: str) -> None:
    assert field_of_error(TrainConfig, **values) == field


def test_unknown_key_is_rejected_with_the_known_names() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(PerceptionConfig, {'patch_budget': 4, 'patch_budgett': 5})
    assert caught.value.field == 'patch_budgett'
    assert 'patch_budget' in caught.value.reason


def test_train_config_nests_a_model_config() -> None:
    config = config_from_mapping(TrainConfig, {'model': {'width': 16}, 'steps': 10,
                                               'warmup_steps': 2})
    assert isinstance(config.model, ModelConfig)
    assert config.model.width == 16
    assert config_from_mapping(TrainConfig, config_to_mapping(config)) == config
    assert TrainConfig(model=ModelConfig(width=32)).model.width == 32


@pytest.mark.parametrize(
    ('model', 'field'),
    [
        ({'width': 4}, 'model.width'),
        ({'attention_heads': 3}, 'model.attention_heads'),
        ({'depth': 2}, 'model.depth'),
        ('small', 'model'),
    ],
)
def test_nested_model_errors_carry_the_path(model: Any, field: str) -> None:
    assert field_of_error(TrainConfig, model=model) == field


def test_with_changes_validates() -> None:
    config = PerceptionConfig()
    changed = with_changes(config, patch_budget=3)
    assert changed.patch_budget == 3 and config.patch_budget != 3
    with pytest.raises(ConfigError) as caught:
        with_changes(config, motion_threshold=-1.0)
    assert caught.value.field == 'motion_threshold'


def test_runtime_fields() -> None:
    names = runtime_fields(PerceptionConfig)
    assert {'patch_budget', 'motion_threshold', 'score_threshold'} <= set(names)
    assert not {'device', 'patch_sizes', 'weights', 'image_transport'} & set(names)


def test_field_types_are_resolved() -> None:
    types = field_types(PerceptionConfig)
    assert types['patch_budget'] is int
    assert types['patch_sizes'] == tuple[int, ...]
    assert types['publish_debug'] is bool


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'params.yaml'
    path.write_text(text, encoding='utf-8')
    return path


def test_yaml_wildcard_layout(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, '/**:\n  ros__parameters:\n    patch_budget: 5\n')
    assert load_yaml(PerceptionConfig, path).patch_budget == 5


@pytest.mark.parametrize('key', [DEFAULT_NODE_NAME, f'/{DEFAULT_NODE_NAME}',
                                 f'/cam_front/{DEFAULT_NODE_NAME}'])
def test_yaml_node_name_layout(tmp_path: Path, key: str) -> None:
    path = write_yaml(tmp_path, f'{key}:\n  ros__parameters:\n    motion_threshold: 1.5\n')
    assert load_yaml(PerceptionConfig, path).motion_threshold == 1.5


def test_yaml_node_section_wins_over_wildcard(tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        f'{DEFAULT_NODE_NAME}:\n  ros__parameters:\n    patch_budget: 7\n'
        '/**:\n  ros__parameters:\n    patch_budget: 5\n    nms_iou: 0.4\n',
    )
    config = load_yaml(PerceptionConfig, path)
    assert (config.patch_budget, config.nms_iou) == (7, 0.4)


def test_yaml_sections_of_other_nodes_are_ignored(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, 'other_node:\n  ros__parameters:\n    patch_budget: 9\n')
    assert load_yaml(PerceptionConfig, path) == PerceptionConfig()
    custom = write_yaml(tmp_path, 'seg:\n  ros__parameters:\n    patch_budget: 9\n')
    assert load_yaml(PerceptionConfig, custom, node_name='seg').patch_budget == 9


def test_yaml_plain_layout_empty_file_and_overrides(tmp_path: Path) -> None:
    plain = write_yaml(tmp_path, 'patch_budget: 2\nreuse_rule: displacement\n')
    assert load_yaml(PerceptionConfig, plain).reuse_rule == 'displacement'
    empty = write_yaml(tmp_path, '')
    assert load_yaml(PerceptionConfig, empty) == PerceptionConfig()
    assert load_yaml(PerceptionConfig, plain, patch_budget=0).patch_budget == 0


def test_yaml_errors_name_the_field(tmp_path: Path) -> None:
    path = write_yaml(tmp_path, '/**:\n  ros__parameters:\n    patch_budget: -3\n')
    with pytest.raises(ConfigError) as caught:
        load_yaml(PerceptionConfig, path)
    assert caught.value.field == 'patch_budget'
    unknown = write_yaml(tmp_path, '/**:\n  ros__parameters:\n    budget: 3\n')
    with pytest.raises(ConfigError) as caught:
        load_yaml(PerceptionConfig, unknown)
    assert caught.value.field == 'budget'


def test_yaml_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError) as caught:
        ros_parameters_section(['patch_budget', 3])
    assert caught.value.field == '<file>'
