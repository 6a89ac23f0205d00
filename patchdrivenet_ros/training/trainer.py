# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The training loop: AdamW with warm-up and cosine annealing, oracle exploration, checkpoints.

Each step splits the batch into ``micro_batches`` parts, each with its own patch budget,
batch-norm statistics and loss; gradients and the batch-norm running statistics are averaged
over the parts. In a torchrun launch each process takes its own parts
(DistributedDataParallel averages the gradients over the processes), so N processes give what
one process with the same ``micro_batches`` gives, up to the order of float sums.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
import math
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from patchdrivenet_ros.classes import thin_class_ids
from patchdrivenet_ros.config import ConfigError, PerceptionConfig, TrainConfig
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
from patchdrivenet_ros.training.distributed import ALONE, ProcessGroup
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
    ), (config.crop_width, config.crop_height))
    return settings.global_scale, settings.patch_budget


class Trainer:
    """Trains one model of a TrainConfig; resumable from its checkpoint.

    In a distributed run (``group``) every process builds a Trainer; only the main one writes
    the checkpoint, metrics and weights, and validates.
    """

    def __init__(self, config: TrainConfig, out_dir: Path,
                 group: ProcessGroup = ALONE) -> None:
        if config.micro_batches % group.world_size:
            raise ConfigError('micro_batches', f'{config.micro_batches} parts cannot be shared '
                              f'by {group.world_size} processes; give a multiple of it')
        self.config = config
        self.out_dir = out_dir
        self.group = group
        self.device = group.device(resolve_device(config.device))
        torch.manual_seed(config.seed)
        model = (load_weights(Path(config.init_weights), expected=config.model).train()
                 if config.init_weights else build_model(config.model))
        self.model: PatchDriveNet = model.to(self.device)
        self.sources = open_sources(config)
        self.metrics = MetricsLog(out_dir / 'metrics.jsonl')
        self.validation = (validation_samples(config, self.sources)
                           if config.validate_every and group.main else [])
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate,
                                           weight_decay=config.weight_decay)
        self.step = 0
        self.scale, budget_per_frame = forward_settings(config)
        self.part_size = config.batch_size // config.micro_batches
        self.budget = budget_per_frame * self.part_size  # the frames of a part share one budget
        parts = config.micro_batches // group.world_size
        self.slots = range(group.rank * parts * self.part_size,
                           (group.rank + 1) * parts * self.part_size)  # this process's frames
        self.network: torch.nn.Module = self.model
        if group.distributed:
            # Buffers are averaged by the step itself; a baseline leaves the patch modules unused.
            self.network = DistributedDataParallel(
                self.model, device_ids=[self.device] if self.device.type == 'cuda' else None,
                broadcast_buffers=False, find_unused_parameters=self.budget == 0)
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
        if self.group.main:
            self.metrics.truncate(self.step)  # steps after the checkpoint run again
        return True

    def _drop_global_gradients(self) -> None:
        """Leave the global stream out of this step (its warm-up freeze): no gradient, no update.

        Done on the gradients rather than with requires_grad, which DistributedDataParallel
        does not allow to change.
        """
        for name in GLOBAL_STREAM:
            module = getattr(self.model, name)
            for parameter in (module.parameters() if module is not None else ()):
                parameter.grad = None

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

    def _part_losses(self, part: Batch, scale: float, synchronise: bool
                     ) -> dict[str, torch.Tensor]:
        """Forward and backward one part (gradients scaled by ``scale``); return its losses."""
        images = part.images.to(self.device, non_blocking=True)
        hold = (nullcontext() if synchronise or not self.group.distributed
                else self.network.no_sync())  # type: ignore[operator]
        with hold:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_amp):
                taught = None if self.teacher is None else self.teacher.log_probs(images)
                output = self.network(
                    images, patch_budget=self.budget, patch_sizes=self.config.patch_sizes,
                    global_scale=self.scale, chosen_override=self._oracle_choice(part),
                    keep_coarse=True)
                losses = training_loss(output, part, self.config, self.thin_ids, taught)
            (losses['total'] * scale).backward()
        return {name: value.detach().float() for name, value in losses.items()}

    def train_step(self, batch: Batch, skipped: int = 0) -> StepReport:
        """Run one optimizer step on ``batch``: this process's frames of the step.

        ``skipped`` counts the unreadable samples this process passed over; the report gives the
        losses and the count over all processes.
        """
        self.model.train()
        rate = learning_rate(self.config, self.step)
        for group in self.optimizer.param_groups:
            group['lr'] = rate
        self.optimizer.zero_grad(set_to_none=True)
        parts = [batch.part(start, start + self.part_size)
                 for start in range(0, len(batch), self.part_size)]
        # The processes' gradients are averaged, so each part counts world_size / micro_batches.
        scale = self.group.world_size / self.config.micro_batches
        statistics = _RunningStatistics(self.model)
        sums: dict[str, torch.Tensor] = {}
        for index, part in enumerate(parts):
            statistics.restore()
            losses = self._part_losses(part, scale, synchronise=index == len(parts) - 1)
            statistics.add()
            for name, value in losses.items():
                sums[name] = sums[name] + value if name in sums else value
        names = sorted(sums)
        shared = self.group.sum_(torch.stack(  # on the device: NCCL reduces CUDA tensors only
            [sums[name] for name in names]
            + [torch.tensor(float(skipped), device=self.device)])).cpu()
        statistics.average(self.group, self.config.micro_batches)
        if self.step < self.config.freeze_global_steps:
            self._drop_global_gradients()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        self.step += 1
        means = {name: float(value) / self.config.micro_batches
                 for name, value in zip(names, shared[:-1], strict=True)}
        return StepReport(self.step, rate, means, skipped=int(shared[-1]))

    def fit(self, on_step: Callable[[StepReport], None] | None = None) -> Path:
        """Train to config.steps (checkpointing on the way); return the final weights path."""
        main = self.group.main
        if self.step == 0 and main:
            self.metrics.truncate(0)  # a fresh run: no records of an earlier one
        stream = TrainingStream(self.config, start=self.step, sources=self.sources,
                                slots=self.slots)
        while self.step < self.config.steps:
            report = self.train_step(next(stream), stream.skipped)
            if main:
                self.metrics.append(report.step, {'learning_rate': report.learning_rate,
                                                  **report.losses, 'skipped': report.skipped})
            if self.validation and (self.step % self.config.validate_every == 0
                                    or self.step == self.config.steps):
                scores = validation_scores(self.model, self.config, self.scale,
                                           self.validation)
                self.metrics.append(report.step, scores)
                report = replace(report, validation=scores)
            if on_step is not None:
                on_step(report)
            due = self.step % self.config.checkpoint_every == 0 or self.step == self.config.steps
            if due and main:
                save_checkpoint(self.checkpoint_path, self.model, self.optimizer, self.step,
                                self.config)
        weights = self.out_dir / f'{self.config.method}.safetensors'
        if main:
            save_weights(self.model.cpu(), weights, metadata={
                'method': self.config.method, 'steps': str(self.step),
                'seed': str(self.config.seed), 'global_scale': str(self.scale),
                'data': ' '.join(self.config.data), 'init_weights': self.config.init_weights,
                'processes': str(self.group.world_size),
            })
            self.model.to(self.device)
        self.group.barrier()  # the weights exist before any process returns their path
        return weights


class _RunningStatistics:
    """Batch-norm running statistics over a step's parts.

    Each part starts from the step's statistics; the step ends with their mean over the parts
    (of every process).
    """

    def __init__(self, model: torch.nn.Module) -> None:
        self._buffers = list(model.buffers())
        self._start = [b.detach().clone() for b in self._buffers]
        self._sums = [torch.zeros_like(b) for b in self._buffers]

    def restore(self) -> None:
        """Set the statistics back to the step's start."""
        for buffer, start in zip(self._buffers, self._start, strict=True):
            buffer.copy_(start)

    def add(self) -> None:
        """Add the statistics a part left to the sums."""
        for total, buffer in zip(self._sums, self._buffers, strict=True):
            total.add_(buffer)

    def average(self, group: ProcessGroup, parts: int) -> None:
        """Set the statistics to their mean over all ``parts`` of all processes."""
        for buffer, total in zip(self._buffers, self._sums, strict=True):
            group.sum_(total)
            buffer.copy_(total / parts if total.is_floating_point()
                         else total.div(parts, rounding_mode='floor'))  # batches tracked
