# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-train: train PatchDriveNet or a baseline on the synthetic world and your data.

Writes ``checkpoint.safetensors`` (resumable), ``metrics.jsonl`` (one line per step),
``training_curves.png`` and the final weights into ``--out``. Under
``torchrun --nproc_per_node=N -m patchdrivenet_ros.tools.train ...`` the N processes train one
model together (DistributedDataParallel: gloo on CPU, NCCL on CUDA); the first one writes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import logging
from pathlib import Path
import sys

from tqdm import tqdm
import yaml

from patchdrivenet_ros.config import ConfigError, TrainConfig, config_from_mapping
from patchdrivenet_ros.engine import resolve_device
from patchdrivenet_ros.model.weights import WeightsError
from patchdrivenet_ros.tools.overrides import apply_overrides
from patchdrivenet_ros.training.curves import plot_curves
from patchdrivenet_ros.training.data_spec import DataError
from patchdrivenet_ros.training.distributed import ProcessGroup, join, leave
from patchdrivenet_ros.training.trainer import StepReport, Trainer


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', type=Path, help='TrainConfig YAML (fields of TrainConfig)')
    parser.add_argument('--set', dest='overrides', action='append', default=[],
                        metavar='KEY=VALUE', help='override a field, e.g. model.width=16')
    parser.add_argument('--out', type=Path, default=Path('out/train'),
                        help='output folder: checkpoint and final weights')
    parser.add_argument('--data', action='append', metavar='KIND[:PATH][:WEIGHT]',
                        help='a data source (repeat for several): synthetic, cityscapes:ROOT, '
                        "kitti-object:ROOT, folder:ROOT; replaces the config's data")
    parser.add_argument('--init-weights', type=Path,
                        help='start from these weights (fine-tuning) instead of a random init')
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0 = default)')
    return parser.parse_args(argv)


def load_train_config(path: Path | None, overrides: Sequence[str],
                      data: Sequence[str] | None = None,
                      init_weights: Path | None = None) -> TrainConfig:
    """Read a TrainConfig from YAML (optional) plus overrides, data sources and init weights."""
    document = yaml.safe_load(path.read_text(encoding='utf-8')) if path else {}
    mapping = apply_overrides(document or {}, overrides)
    if data:
        mapping['data'] = tuple(data)
    if init_weights is not None:
        mapping['init_weights'] = str(init_weights)
    return config_from_mapping(TrainConfig, mapping)


def main(argv: Sequence[str] | None = None) -> int:
    """Train; resume from the output folder's checkpoint when there is one."""
    args = parse_args(argv)
    try:
        config = load_train_config(args.config, args.overrides, args.data, args.init_weights)
    except (ConfigError, ValueError) as error:
        print(f'patchdrivenet-train: {error}', file=sys.stderr)
        return 2
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    group = join(device=resolve_device(config.device))
    try:
        return train(config, args.out, group)
    finally:
        leave()


def train(config: TrainConfig, out: Path, group: ProcessGroup) -> int:
    """Train as one process of ``group``; return the exit status."""
    # Only the first process speaks; the others report through it (losses, skipped samples).
    logging.basicConfig(format='%(levelname)s %(name)s: %(message)s',
                        level=logging.WARNING if group.main else logging.ERROR)
    try:
        trainer = Trainer(config, out, group)
    except (ConfigError, DataError, WeightsError) as error:
        print(f'patchdrivenet-train: {error}', file=sys.stderr)
        return 2
    if trainer.resume() and group.main:
        print(f'resuming {out} at step {trainer.step}')
    bar = tqdm(total=config.steps, initial=trainer.step, desc=config.method, unit='step',
               disable=not group.main)

    def show(report: StepReport) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{report.losses['total']:.3f}", lr=f'{report.learning_rate:.2e}',
                        skipped=report.skipped)
        if report.validation is not None:
            bar.write(f'step {report.step} validation: ' + ', '.join(
                f'{key} {value:.3f}' for key, value in report.validation.items()))

    try:
        weights = trainer.fit(show)
    except DataError as error:
        bar.close()
        print(f'patchdrivenet-train: {error}', file=sys.stderr)
        return 2
    bar.close()
    if group.main:
        curves = plot_curves(trainer.metrics.records(), out / 'training_curves.png')
        print(f'weights: {weights}\ncurves: {curves} (from {trainer.metrics.path})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
