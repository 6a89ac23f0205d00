# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Weights as safetensors plus a JSON of the ModelConfig beside them (no pickle)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from patchdrivenet_ros.config import (
    ConfigError,
    ModelConfig,
    config_from_mapping,
    config_to_mapping,
)
from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet

CONFIG_KEY = 'model_config'


class WeightsError(RuntimeError):
    """Weights that are missing, unreadable or made for another model config."""


def default_weights_path() -> Path:
    """Return the path of the shipped default weights."""
    return Path(__file__).resolve().parents[1] / 'weights' / 'patchdrivenet_default.safetensors'


def config_path(path: Path) -> Path:
    """Return the JSON file holding the ModelConfig of weights at ``path``."""
    return Path(path).with_suffix('.json')


def save_weights(model: PatchDriveNet, path: Path,
                 metadata: dict[str, str] | None = None) -> None:
    """Write the model's state to path (.safetensors) and its config to path.json."""
    if model.folded:
        raise WeightsError('this model has batch norm folded (an inference copy); save the '
                           'model it was made from')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mapping = config_to_mapping(model.config)
    tensors = {name: value.detach().cpu().contiguous()
               for name, value in model.state_dict().items()}
    extra = dict(metadata or {})
    save_file(tensors, path, metadata={**extra, CONFIG_KEY: json.dumps(mapping, sort_keys=True)})
    document: dict[str, Any] = {CONFIG_KEY: mapping, 'metadata': extra}
    config_path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + '\n',
                                 encoding='utf-8')


LEGACY_FIELDS = {'global_attention': True}
"""Fields added to ModelConfig after weights were first saved, with the value such weights
were built with (their default then), where it differs from today's default."""


def read_config(path: Path) -> ModelConfig:
    """Read the ModelConfig saved beside weights at ``path``."""
    source = config_path(path)
    try:
        document = json.loads(source.read_text(encoding='utf-8'))
        return config_from_mapping(ModelConfig, {**LEGACY_FIELDS, **document[CONFIG_KEY]})
    except FileNotFoundError:
        raise WeightsError(f'{source}: the model config of {path} is missing') from None
    except (json.JSONDecodeError, KeyError, TypeError, ConfigError) as error:
        raise WeightsError(f'{source}: unreadable model config ({error})') from None


def config_differences(expected: ModelConfig, found: ModelConfig) -> list[str]:
    """Describe each field where ``found`` differs from ``expected``."""
    return [
        f'{field.name} (weights: {getattr(found, field.name)!r}, '
        f'expected: {getattr(expected, field.name)!r})'
        for field in dataclasses.fields(ModelConfig)
        if getattr(found, field.name) != getattr(expected, field.name)
    ]


def load_weights(path: Path, expected: ModelConfig | None = None) -> PatchDriveNet:
    """Build the model saved at ``path`` (on the CPU, in eval mode).

    Raises WeightsError when the file or its config is missing, when the config differs from
    ``expected`` (naming the fields), or when the tensors do not fit the model.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f'{path}: no such weights file')
    config = read_config(path)
    if expected is not None:
        differences = config_differences(expected, config)
        if differences:
            raise WeightsError(f'{path} was saved for another model config: '
                               + '; '.join(differences))
    model = build_model(config)
    try:
        tensors = load_file(path)
    except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
        raise WeightsError(f'{path}: unreadable weights ({error})') from None
    own = model.state_dict()
    missing = sorted(set(own) - set(tensors))
    unexpected = sorted(set(tensors) - set(own))
    misshapen = sorted(name for name in set(own) & set(tensors)
                       if own[name].shape != tensors[name].shape)
    if missing or unexpected or misshapen:
        raise WeightsError(f'{path}: tensors do not fit the model (missing: {missing[:5]}, '
                           f'unexpected: {unexpected[:5]}, wrong shape: {misshapen[:5]})')
    model.load_state_dict(tensors)
    return model.eval()
