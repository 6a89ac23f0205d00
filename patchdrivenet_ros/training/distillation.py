# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Distillation: a trained full-resolution network's per-pixel class distribution as a target."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model.weights import WeightsError, load_weights


class Teacher:
    """A frozen network run without patches at a fixed global scale (1.0: SF-full)."""

    def __init__(self, path: Path, student: ModelConfig, device: torch.device,
                 scale: float = 1.0) -> None:
        self.model = load_weights(path).to(device).eval()
        if self.model.config.classes != student.classes:
            raise WeightsError(f'{path}: the teacher segments other classes than the student')
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.scale = scale

    @torch.no_grad()
    def log_probs(self, images: torch.Tensor) -> torch.Tensor:
        """Return the teacher's per-pixel class log-probabilities (B, C, H, W) of images."""
        output = self.model(images, patch_budget=0, patch_sizes=(64,), global_scale=self.scale)
        return F.log_softmax(output.logits.float(), dim=1)


def distillation_loss(student_logits: torch.Tensor, teacher_log_probs: torch.Tensor,
                      weights: torch.Tensor) -> torch.Tensor:
    """Per-pixel KL(teacher || student), weighted by weights (B, H, W), over every pixel.

    Student logits are resized to the teacher's size when they differ. Unlike the cross-entropy
    it does not need labels, so pixels a source leaves unlabelled are taught too: weights are
    the boundary weights without the label mask.
    """
    if student_logits.shape[-2:] != teacher_log_probs.shape[-2:]:
        student_logits = F.interpolate(student_logits, size=teacher_log_probs.shape[-2:],
                                       mode='bilinear', align_corners=False)
    student = F.log_softmax(student_logits.float(), dim=1)
    per_pixel = F.kl_div(student, teacher_log_probs, reduction='none', log_target=True).sum(1)
    return (per_pixel * weights).sum() / weights.sum().clamp(min=1.0)
