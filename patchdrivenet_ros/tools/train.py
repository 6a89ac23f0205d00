# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-train: train PatchDriveNet or a baseline on the synthetic world."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
import sys

from tqdm import tqdm
import yaml

from patchdrivenet_ros.config import ConfigError, TrainConfig, config_from_mapping
from patchdrivenet_ros.tools.overrides import apply_overrides
from patchdrivenet_ros.training.trainer import StepReport, Trainer


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', type=Path, help='TrainConfig YAML (fields of TrainConfig)')
    parser.add_argument('--set', dest='overrides', action='append', default=[],
                        metavar='KEY=VALUE', help='override a field, e.g. model.width=16')
    parser.add_argument('--out', type=Path, default=Path('out/train'),
                        help='output folder: checkpoint and final weights')
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0 = default)')
    return parser.parse_args(argv)


def load_train_config(path: Path | None, overrides: Sequence[str]) -> TrainConfig:
    """Read a TrainConfig from YAML (optional) plus overrides."""
    document = yaml.safe_load(path.read_text(encoding='utf-8')) if path else {}
    return config_from_mapping(TrainConfig, apply_overrides(document or {}, overrides))


def main(argv: Sequence[str] | None = None) -> int:
    """Train; resume from the output folder's checkpoint when there is one."""
    args = parse_args(argv)
    try:
        config = load_train_config(args.config, args.overrides)
    except (ConfigError, ValueError) as error:
        print(f'patchdrivenet-train: {error}', file=sys.stderr)
        return 2
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    trainer = Trainer(config, args.out)
    if trainer.resume():
        print(f'resuming {args.out} at step {trainer.step}')
    bar = tqdm(total=config.steps, initial=trainer.step, desc=config.method, unit='step')

    def show(report: StepReport) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{report.losses['total']:.3f}", lr=f'{report.learning_rate:.2e}')

    weights = trainer.fit(show)
    bar.close()
    print(f'weights: {weights}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
