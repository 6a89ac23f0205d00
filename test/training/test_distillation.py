# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from pathlib import Path

import pytest
from test_trainer import TINY, tiny_config
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.config import with_changes
from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.weights import WeightsError, save_weights
from patchdrivenet_ros.tools.train import main
from patchdrivenet_ros.training.distillation import Teacher, distillation_loss
from patchdrivenet_ros.training.trainer import Trainer


def saved_teacher(path: Path, config=TINY) -> Path:
    torch.manual_seed(1)
    weights = path / 'teacher.safetensors'
    save_weights(build_model(config), weights)
    return weights


def test_the_loss_is_zero_on_the_teachers_own_distribution_and_grows_away_from_it():
    torch.manual_seed(0)
    teacher_logits = torch.randn(2, 5, 16, 24)
    teacher = F.log_softmax(teacher_logits, 1)
    weights = torch.ones(2, 16, 24)
    assert float(distillation_loss(teacher_logits, teacher, weights)) == pytest.approx(0, abs=1e-6)
    assert float(distillation_loss(teacher_logits + torch.randn(2, 5, 16, 24), teacher,
                                   weights)) > 0.1
    coarse = distillation_loss(torch.randn(2, 5, 4, 6), teacher, weights)  # resized up
    assert coarse.shape == () and float(coarse) > 0.1


def test_the_loss_teaches_pixels_without_labels_only_through_its_weights():
    teacher = F.log_softmax(torch.randn(1, 3, 4, 4), 1)
    student = torch.zeros(1, 3, 4, 4)
    left = torch.zeros(1, 4, 4)
    left[..., :2] = 1.0
    right = 1.0 - left
    student_right = student.clone()
    student_right[..., 2:] = teacher[..., 2:] * 5  # wrong only where the weight is 0
    assert float(distillation_loss(student_right, teacher, left)) == pytest.approx(
        float(distillation_loss(student, teacher, left)))
    assert float(distillation_loss(student_right, teacher, right)) != pytest.approx(
        float(distillation_loss(student, teacher, right)))


def test_a_teacher_adds_a_distillation_term_and_is_not_trained(tmp_path: Path):
    weights = saved_teacher(tmp_path)
    trainer = Trainer(tiny_config(steps=2, teacher=str(weights)), tmp_path / 'run')
    assert trainer.teacher is not None
    before = {k: v.clone() for k, v in trainer.teacher.model.state_dict().items()}
    trainer.fit()
    records = trainer.metrics.records()
    assert all(record['distill'] > 0 for record in records)
    after = trainer.teacher.model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    plain = Trainer(tiny_config(steps=2), tmp_path / 'plain')
    plain.fit()
    assert 'distill' not in plain.metrics.records()[0]


def test_a_teacher_of_other_classes_or_a_missing_file_stops_the_command(tmp_path: Path):
    other = with_changes(TINY, classes=('street', *TINY.classes[1:]))
    with pytest.raises(WeightsError, match='other classes'):
        Teacher(saved_teacher(tmp_path, other), TINY, torch.device('cpu'))
    assert main(['--set', f'teacher={tmp_path / "none.safetensors"}', '--set', 'steps=2',
                 '--set', 'warmup_steps=1', '--out', str(tmp_path / 'out')]) == 2
