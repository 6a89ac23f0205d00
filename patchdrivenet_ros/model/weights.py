# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Weights as safetensors plus a JSON of the ModelConfig beside them (no pickle).

The JSON also records the SHA-256 of the weights file, so that bytes changed inside the tensor
data (which the safetensors format cannot notice) are refused at load. A JSON without it (files
saved before it was recorded) is loaded without the check.
"""

from __future__ import annotations

import dataclasses
import hashlib
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
CHECKSUM_KEY = 'sha256'


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
    document: dict[str, Any] = {CONFIG_KEY: mapping, 'metadata': extra,
                                CHECKSUM_KEY: file_checksum(path)}
    config_path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + '\n',
                                 encoding='utf-8')


LEGACY_FIELDS = {'global_attention': True}
"""Fields added to ModelConfig after weights were first saved, with the value such weights
were built with (their default then), where it differs from today's default."""


def file_checksum(path: Path) -> str:
    """Return the SHA-256 of the file at ``path`` (hex)."""
    digest = hashlib.sha256()
    with Path(path).open('rb') as stream:
        for block in iter(lambda: stream.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _read_document(path: Path) -> tuple[ModelConfig, str | None]:
    """Read the ModelConfig and the recorded checksum (None: not recorded) beside ``path``."""
    source = config_path(path)
    try:
        document = json.loads(source.read_text(encoding='utf-8'))
        config = config_from_mapping(ModelConfig, {**LEGACY_FIELDS, **document[CONFIG_KEY]})
        checksum = document.get(CHECKSUM_KEY)
        if checksum is not None and not isinstance(checksum, str):
            raise TypeError(f'{CHECKSUM_KEY} is {checksum!r}, not a string')
        return config, checksum
    except FileNotFoundError:
        raise WeightsError(f'{source}: the model config of {path} is missing') from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ConfigError) as error:
        raise WeightsError(f'{source}: unreadable model config ({error})') from None


def read_config(path: Path) -> ModelConfig:
    """Read the ModelConfig saved beside weights at ``path``."""
    return _read_document(path)[0]


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
    ``expected`` (naming the fields), when the tensors do not fit the model, or when the file's
    SHA-256 differs from the one recorded beside it.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f'{path}: no such weights file')
    config, checksum = _read_document(path)
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
    if checksum is not None and file_checksum(path) != checksum:
        raise WeightsError(f'{path}: the file changed after it was saved (its SHA-256 differs '
                           f'from the one recorded in {config_path(path).name})')
    model.load_state_dict(tensors)
    return model.eval()
