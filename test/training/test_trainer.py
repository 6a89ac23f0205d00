# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file
import torch

from patchdrivenet_ros.config import ConfigError, ModelConfig, TrainConfig
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.model.candidates import candidate_grid
from patchdrivenet_ros.model.weights import load_weights
from patchdrivenet_ros.tools.train import load_train_config, main
from patchdrivenet_ros.training import objective
from patchdrivenet_ros.training.data import TrainingStream, drive_config
from patchdrivenet_ros.training.oracle import label_oracle_scores
from patchdrivenet_ros.training.trainer import Trainer, learning_rate

TINY = ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16, attention_heads=2)


def tiny_config(**changes: object) -> TrainConfig:
    values: dict[str, object] = {
        'model': TINY, 'frame_width': 256, 'frame_height': 128, 'crop_width': 192,
        'crop_height': 96, 'patch_sizes': (32, 64), 'patch_budget': 3, 'steps': 4,
        'warmup_steps': 1, 'batch_size': 2, 'drive_length': 4, 'frame_stride': 2,
        'data_seeds': (5, 6), 'checkpoint_every': 2,
    }
    values.update(changes)
    return TrainConfig(**values)  # type: ignore[arg-type]


def test_schedule_warms_up_then_anneals_to_zero():
    config = tiny_config(steps=100, warmup_steps=10, learning_rate=1e-3)
    assert learning_rate(config, 0) == pytest.approx(1e-4)
    assert learning_rate(config, 9) == pytest.approx(1e-3)
    assert learning_rate(config, 55) == pytest.approx(5e-4, rel=1e-2)
    assert learning_rate(config, 100) == pytest.approx(0.0, abs=1e-12)


def test_stream_resumes_with_the_same_batches():
    config = tiny_config()
    uninterrupted = TrainingStream(config)
    batches = [next(uninterrupted) for _ in range(4)]
    resumed = next(TrainingStream(config, start=3))
    assert torch.equal(batches[3].images, resumed.images)
    assert torch.equal(batches[3].labels, resumed.labels)
    assert not torch.equal(batches[2].images, batches[3].images)


@pytest.mark.parametrize(('drive_length', 'stride', 'used'), [(4, 2, [1, 3]), (2, 3, [1])])
def test_stream_uses_the_last_frame_of_each_stride(drive_length: int, stride: int,
                                                   used: list[int]):
    config = tiny_config(drive_length=drive_length, frame_stride=stride, batch_size=1,
                         crop_width=256, crop_height=128)
    frames = list(generate_drive(drive_config(config, 0, 0)))
    stream = TrainingStream(config)
    for index in used:
        batch = next(stream)
        expected = torch.from_numpy(frames[index].mask).long()
        assert torch.equal(batch.labels[0], expected)


def test_training_is_deterministic_and_resumable(tmp_path: Path):
    config = tiny_config()
    first = Trainer(config, tmp_path / 'a').fit()
    second = Trainer(config, tmp_path / 'b').fit()
    interrupted = Trainer(tiny_config(steps=4), tmp_path / 'c')
    stream = TrainingStream(config)
    for _ in range(2):
        interrupted.train_step(next(stream))
    from patchdrivenet_ros.training.checkpoint import save_checkpoint
    save_checkpoint(interrupted.checkpoint_path, interrupted.model, interrupted.optimizer, 2,
                    config)
    resumed = Trainer(config, tmp_path / 'c')
    assert resumed.resume() and resumed.step == 2
    third = resumed.fit()
    a, b, c = load_file(first), load_file(second), load_file(third)
    for name in a:
        assert torch.equal(a[name], b[name]), name
        torch.testing.assert_close(a[name], c[name], rtol=1e-5, atol=1e-6)
    assert load_weights(first).config == TINY


def test_training_changes_every_trainable_tensor(tmp_path: Path):
    trainer = Trainer(tiny_config(steps=2, oracle_choice_fraction=1.0), tmp_path)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    after = trainer.model.state_dict()
    frozen = [name for name, p in trainer.model.named_parameters()
              if torch.equal(before[name], after[name])]
    assert not frozen


def test_cli_overrides_reach_nested_fields_and_reject_bad_values(tmp_path: Path):
    yaml_file = tmp_path / 'train.yaml'
    yaml_file.write_text('steps: 10\nwarmup_steps: 2\nmodel:\n  width: 16\n', encoding='utf-8')
    config = load_train_config(yaml_file, ['model.refine_width=12', 'seed=3'])
    assert (config.steps, config.model.width, config.model.refine_width, config.seed) == (
        10, 16, 12, 3)
    with pytest.raises(ConfigError, match='model.width'):
        load_train_config(None, ['model.width=2'])
    assert main(['--set', 'steps=-1', '--out', str(tmp_path)]) == 2


def test_the_global_stream_stays_frozen_for_its_warm_up_steps(tmp_path: Path):
    trainer = Trainer(tiny_config(steps=3, freeze_global_steps=2), tmp_path)
    start = {k: v.clone() for k, v in trainer.model.named_parameters()}
    stream = TrainingStream(trainer.config)
    for _ in range(2):
        trainer.train_step(next(stream))

    def changed(prefix: str) -> bool:
        return any(not torch.equal(start[name], p) for name, p in
                   trainer.model.named_parameters() if name.startswith(prefix))

    assert not changed('backbone.') and not changed('segment_head.')
    assert changed('refine.')
    trainer.train_step(next(stream))
    assert changed('backbone.') and changed('segment_head.')


@pytest.mark.parametrize('target', ['prediction', 'resolution'])
def test_the_priority_learns_the_configured_target(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path, target: str):
    targets: list[torch.Tensor] = []
    real = objective.priority_loss

    def recording(logits: torch.Tensor, oracle: torch.Tensor) -> torch.Tensor:
        targets.append(oracle.detach().clone())
        return real(logits, oracle)

    monkeypatch.setattr(objective, 'priority_loss', recording)
    config = tiny_config(priority_target=target, global_scale=0.25, oracle_choice_fraction=0.0)
    trainer = Trainer(config, tmp_path)
    batch = next(TrainingStream(config))
    trainer.train_step(batch)
    grid = candidate_grid(config.crop_width, config.crop_height, config.patch_sizes)
    label_oracle = torch.from_numpy(np.stack([
        label_oracle_scores(mask.numpy().astype(np.uint8), grid.boxes, 0.25, trainer.thin_ids)
        for mask in batch.labels]))
    assert len(targets) == 1 and targets[0].shape == label_oracle.shape
    matches = torch.allclose(targets[0], label_oracle.float(), atol=1e-6)
    assert matches == (target == 'resolution')
