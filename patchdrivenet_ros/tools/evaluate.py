# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-evaluate: score PatchDriveNet and the baselines side by side.

``synthetic`` scores held-out synthetic drives (seeds never used in training), clear and
adverse; every method runs on the same frames in one process.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
import sys
from typing import Any

from patchdrivenet_ros.config import PerceptionConfig, with_changes
from patchdrivenet_ros.data.drive_config import profile_config
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import score_sequences
from patchdrivenet_ros.model.weights import default_weights_path, load_weights

HELD_OUT_SEED = 900_000
"""First scene seed of the held-out drives; training seeds lie far below it."""

ADVERSE = (('rain',), ('fog',), ('night',), ('snow', 'motion_blur'), ('noise', 'rain'))
"""Conditions of the adverse drives, taken in turn."""

COLUMNS = ('miou', 'thin_iou', 'boundary_iou', 'map50', 'gflops_per_frame', 'latency_ms_p50',
           'patches_per_frame', 'reuse_ratio')


@dataclass(frozen=True)
class Method:
    """One row of the comparison: a name, its weights and its runtime config."""

    name: str
    weights: Path
    config: PerceptionConfig


def methods(args: argparse.Namespace) -> list[Method]:
    """Build the compared methods from the command line."""
    base = PerceptionConfig(device=args.device, threads=args.threads)
    rows = []
    if args.sf_full_weights:
        rows.append(Method('SF-full', args.sf_full_weights, with_changes(base, method='sf_full')))
    if args.sf_low_weights:
        rows.append(Method('SF-low', args.sf_low_weights, with_changes(base, method='sf_low')))
    if args.sf_depth_half_weights:
        rows.append(Method('SF-depth-0.5', args.sf_depth_half_weights,
                           with_changes(base, method='sf_full')))
    for budget in args.budgets:
        rows.append(Method(f'PatchDriveNet K={budget}', args.weights,
                           with_changes(base, patch_budget=budget, reuse_rule='off')))
    for rule in args.reuse_rules:
        rows.append(Method(f'PatchDriveNet K={args.budgets[-1]} reuse={rule}', args.weights,
                           with_changes(base, patch_budget=args.budgets[-1], reuse_rule=rule)))
    if args.interval:
        rows.append(Method(f'SF-interval-{args.interval}', args.weights, with_changes(
            base, method='sf_interval', interval_k=args.interval, patch_budget=args.budgets[-1])))
    return rows


def held_out_drives(args: argparse.Namespace, adverse: bool) -> Iterator[list[LabeledFrame]]:
    """Yield the held-out drives (materialised, so every method sees the same frames)."""
    for index in range(args.drives):
        conditions = ADVERSE[index % len(ADVERSE)] if adverse else ()
        config = profile_config(args.profile, num_frames=args.frames, conditions=conditions,
                                seed=HELD_OUT_SEED + index + (10_000 if adverse else 0))
        yield list(generate_drive(config))


def format_table(rows: list[dict[str, Any]]) -> str:
    """Render result rows as a Markdown table."""
    header = '| method | split | ' + ' | '.join(COLUMNS) + ' |'
    lines = [header, '|' + '---|' * (len(COLUMNS) + 2)]
    for row in rows:
        cells = [f'{row[c]:.3f}' if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
        lines.append(f"| {row['method']} | {row['split']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def run_synthetic(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score every method on clear and adverse held-out drives."""
    splits = {'clear': list(held_out_drives(args, False)),
              'adverse': list(held_out_drives(args, True))}
    rows = []
    for method in methods(args):
        engine = PerceptionEngine(load_weights(method.weights), method.config)
        for split, drives in splits.items():
            summary = score_sequences(engine, drives).summary()
            summary.pop('per_class_iou')
            rows.append({'method': method.name, 'split': split, **summary})
            print(format_table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    synthetic = sub.add_parser('synthetic', help='held-out synthetic drives, clear and adverse')
    synthetic.add_argument('--weights', type=Path, default=default_weights_path(),
                           help='PatchDriveNet weights (default: the shipped ones)')
    synthetic.add_argument('--sf-full-weights', type=Path, help='weights trained as sf_full')
    synthetic.add_argument('--sf-low-weights', type=Path, help='weights trained as sf_low')
    synthetic.add_argument('--sf-depth-half-weights', type=Path,
                           help='weights of the depth-0.5 model trained as sf_full')
    synthetic.add_argument('--budgets', type=lambda s: [int(v) for v in s.split(',')],
                           default=[4, 12, 24], help='PatchDriveNet budgets, e.g. 4,12,24')
    synthetic.add_argument('--reuse-rules', type=lambda s: [v for v in s.split(',') if v],
                           default=['displacement', 'compensated'],
                           help='reuse rules scored at the largest budget')
    synthetic.add_argument('--interval', type=int, default=3, help='k of SF-interval-k (0: skip)')
    synthetic.add_argument('--profile', default='kitti', choices=('kitti', 'nuscenes'))
    synthetic.add_argument('--drives', type=int, default=4, help='drives per split')
    synthetic.add_argument('--frames', type=int, default=10, help='frames per drive')
    synthetic.add_argument('--device', default='auto')
    synthetic.add_argument('--threads', type=int, default=0)
    synthetic.add_argument('--json', type=Path, help='write the rows here')
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen evaluation and print a Markdown table."""
    args = parse_args(argv)
    rows = run_synthetic(args)
    print(format_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + '\n', encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
