# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The training loop: AdamW with warm-up and cosine annealing, oracle exploration, checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
import math
from pathlib import Path

import numpy as np
import torch

from patchdrivenet_ros.classes import thin_class_ids
from patchdrivenet_ros.config import PerceptionConfig, TrainConfig
from patchdrivenet_ros.engine import resolve_device
from patchdrivenet_ros.model.baselines import run_settings
from patchdrivenet_ros.model.candidates import candidate_grid
from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet
from patchdrivenet_ros.model.weights import load_weights, save_weights
from patchdrivenet_ros.training.checkpoint import load_checkpoint, save_checkpoint
from patchdrivenet_ros.training.data import Batch, TrainingStream, WeightedSource
from patchdrivenet_ros.training.data_spec import SYNTHETIC, parse_spec
from patchdrivenet_ros.training.distillation import Teacher
from patchdrivenet_ros.training.metrics_log import MetricsLog
from patchdrivenet_ros.training.objective import training_loss
from patchdrivenet_ros.training.oracle import (
    oracle_candidate_scores,
    oracle_pixel_map,
    resolution_errors,
)
from patchdrivenet_ros.training.sources import open_source
from patchdrivenet_ros.training.validation import validation_samples, validation_scores

GLOBAL_STREAM = ('backbone', 'neck', 'segment_head', 'detect_head', 'detail_decoder')
"""Module names frozen during the global-stream warm-up."""


@dataclass(frozen=True)
class StepReport:
    """What one optimizer step did."""

    step: int
    learning_rate: float
    losses: dict[str, float]
    skipped: int = 0  # unreadable samples passed over since the run (or its resume) started
    validation: dict[str, float] | None = None  # scores when this step validated


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warm-up to the peak, then cosine annealing to zero at the last step."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.5 * config.learning_rate * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def open_sources(config: TrainConfig) -> list[WeightedSource]:
    """Open the config's data sources (DataError when one cannot be used)."""
    specs = [parse_spec(entry) for entry in config.data]
    return [WeightedSource(spec, None if spec.kind == SYNTHETIC else open_source(spec))
            for spec in specs]


def forward_settings(config: TrainConfig) -> tuple[float, int]:
    """Return (global_scale, patch_budget) of the method being trained."""
    settings = run_settings(PerceptionConfig(
        method=config.method, global_scale=config.global_scale,
        patch_budget=config.patch_budget, patch_sizes=config.patch_sizes,
    ))
    return settings.global_scale, settings.patch_budget


class Trainer:
    """Trains one model of a TrainConfig; resumable from its checkpoint."""

    def __init__(self, config: TrainConfig, out_dir: Path) -> None:
        self.config = config
        self.out_dir = out_dir
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        model = (load_weights(Path(config.init_weights), expected=config.model).train()
                 if config.init_weights else build_model(config.model))
        self.model: PatchDriveNet = model.to(self.device)
        self.sources = open_sources(config)
        self.metrics = MetricsLog(out_dir / 'metrics.jsonl')
        self.validation = (validation_samples(config, self.sources) if config.validate_every
                           else [])
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate,
                                           weight_decay=config.weight_decay)
        self.step = 0
        self.scale, budget_per_frame = forward_settings(config)
        self.budget = budget_per_frame * config.batch_size  # the batch shares one budget
        self.thin_ids = thin_class_ids()
        self.use_amp = config.amp and self.device.type == 'cuda'
        self.teacher = (Teacher(Path(config.teacher), config.model, self.device)
                        if config.teacher else None)

    @property
    def checkpoint_path(self) -> Path:
        """Where the resumable checkpoint lives."""
        return self.out_dir / 'checkpoint.safetensors'

    def resume(self) -> bool:
        """Load the checkpoint if one exists; return whether it did."""
        if not self.checkpoint_path.is_file():
            return False
        self.step, saved = load_checkpoint(self.checkpoint_path, self.model, self.optimizer)
        if saved != self.config:
            raise ValueError(f'{self.checkpoint_path} was written with another training config')
        self.metrics.truncate(self.step)  # steps after the checkpoint run again
        return True

    def _set_frozen(self, frozen: bool) -> None:
        for name in GLOBAL_STREAM:
            module = getattr(self.model, name)
            for parameter in (module.parameters() if module is not None else ()):
                parameter.requires_grad_(not frozen)

    def _oracle_choice(self, batch: Batch) -> torch.Tensor | None:
        """Patches chosen by the label oracle on a seeded share of steps, else None."""
        rng = np.random.default_rng((self.config.seed, self.step, 7))
        if self.budget == 0 or rng.random() >= self.config.oracle_choice_fraction:
            return None
        height, width = batch.labels.shape[-2:]
        grid = candidate_grid(width, height, self.config.patch_sizes)
        errors = resolution_errors(batch.labels, self.scale)
        scores = oracle_candidate_scores(oracle_pixel_map(errors, batch.labels, self.thin_ids),
                                         torch.from_numpy(grid.boxes))  # (B, N)
        chosen = PatchDriveNet.choose(scores, grid, self.budget)
        return torch.from_numpy(chosen)

    def train_step(self, batch: Batch) -> StepReport:
        """Run one optimizer step on ``batch``."""
        self.model.train()
        self._set_frozen(self.step < self.config.freeze_global_steps)
        rate = learning_rate(self.config, self.step)
        for group in self.optimizer.param_groups:
            group['lr'] = rate
        images = batch.images.to(self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_amp):
            taught = None if self.teacher is None else self.teacher.log_probs(images)
            output = self.model(images, patch_budget=self.budget,
                                patch_sizes=self.config.patch_sizes, global_scale=self.scale,
                                chosen_override=self._oracle_choice(batch), keep_coarse=True)
            losses = training_loss(output, batch, self.config, self.thin_ids, taught)
        self.optimizer.zero_grad(set_to_none=True)
        losses['total'].backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        self.step += 1
        return StepReport(self.step, rate, {k: float(v.detach()) for k, v in losses.items()})

    def fit(self, on_step: Callable[[StepReport], None] | None = None) -> Path:
        """Train to config.steps (checkpointing on the way); return the final weights path."""
        if self.step == 0:
            self.metrics.truncate(0)  # a fresh run: no records of an earlier one
        stream = TrainingStream(self.config, start=self.step, sources=self.sources)
        while self.step < self.config.steps:
            report = self.train_step(next(stream))
            report = replace(report, skipped=stream.skipped)
            self.metrics.append(report.step, {'learning_rate': report.learning_rate,
                                              **report.losses, 'skipped': stream.skipped})
            if self.validation and (self.step % self.config.validate_every == 0
                                    or self.step == self.config.steps):
                scores = validation_scores(self.model, self.config, self.scale,
                                           self.validation)
                self.metrics.append(report.step, scores)
                report = replace(report, validation=scores)
            if on_step is not None:
                on_step(report)
            if self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps:
                save_checkpoint(self.checkpoint_path, self.model, self.optimizer, self.step,
                                self.config)
        weights = self.out_dir / f'{self.config.method}.safetensors'
        save_weights(self.model.cpu(), weights, metadata={
            'method': self.config.method, 'steps': str(self.step), 'seed': str(self.config.seed),
            'global_scale': str(self.scale), 'data': ' '.join(self.config.data),
            'init_weights': self.config.init_weights,
        })
        self.model.to(self.device)
        return weights
