# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Resumable training checkpoints: model and AdamW state in safetensors, progress in JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
import torch

from patchdrivenet_ros.config import TrainConfig, config_from_mapping, config_to_mapping

MODEL_PREFIX = 'model.'
OPTIMIZER_PREFIX = 'adamw.'


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.AdamW,
                    step: int, config: TrainConfig) -> None:
    """Write model + optimizer tensors to path (.safetensors) and progress to path.json."""
    tensors = {MODEL_PREFIX + k: v.detach().cpu().contiguous()
               for k, v in model.state_dict().items()}
    state = optimizer.state_dict()
    for index, values in state['state'].items():
        for name, value in values.items():
            tensors[f'{OPTIMIZER_PREFIX}{index}.{name}'] = torch.as_tensor(value).cpu()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix('.partial')
    save_file(tensors, partial)
    partial.replace(path)
    progress = {'step': step, 'config': config_to_mapping(config)}
    path.with_suffix('.json').write_text(json.dumps(progress, indent=2) + '\n', encoding='utf-8')


def load_checkpoint(path: Path, model: torch.nn.Module,
                    optimizer: torch.optim.AdamW) -> tuple[int, TrainConfig]:
    """Restore model and optimizer from a checkpoint; return (step, its TrainConfig)."""
    progress: dict[str, Any] = json.loads(path.with_suffix('.json').read_text(encoding='utf-8'))
    tensors = load_file(path)
    model.load_state_dict({k[len(MODEL_PREFIX):]: v for k, v in tensors.items()
                           if k.startswith(MODEL_PREFIX)})
    state = optimizer.state_dict()
    restored: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith(OPTIMIZER_PREFIX):
            index, name = key[len(OPTIMIZER_PREFIX):].split('.', 1)
            restored.setdefault(int(index), {})[name] = value
    state['state'] = restored
    optimizer.load_state_dict(state)
    return int(progress['step']), config_from_mapping(TrainConfig, progress['config'])
