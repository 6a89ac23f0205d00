# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-evaluate: score PatchDriveNet and the baselines side by side.

``synthetic`` scores held-out synthetic drives (seeds never used in training), clear and
adverse; every method runs on the same frames in one process. ``bag`` scores a recorded bag
(ROS 1, rosbag2 sqlite3 or MCAP) against its label sidecar; ``kitti`` scores a KITTI object
folder (``image_2/``, ``label_2/``) with the KITTI 2D AP|R40 rules and COCO mAP.
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
from patchdrivenet_ros.data.kitti import load_kitti_object
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import score_bag, score_sequences
from patchdrivenet_ros.model.weights import default_weights_path, load_weights

HELD_OUT_SEED = 900_000
"""First scene seed of the held-out drives; training seeds lie far below it."""

ADVERSE = (('rain',), ('fog',), ('night',), ('snow', 'motion_blur'), ('noise', 'rain'))
"""Conditions of the adverse drives, taken in turn."""

COLUMNS = ('miou', 'thin_iou', 'boundary_iou', 'map50', 'gflops_per_frame', 'latency_ms_p50',
           'patches_per_frame', 'reuse_ratio')
KITTI_COLUMNS = ('kitti_car_easy', 'kitti_car_moderate', 'kitti_car_hard',
                 'kitti_pedestrian_moderate', 'kitti_cyclist_moderate', 'kitti_map_moderate',
                 'map50', 'map')


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
    budget = args.reuse_budget
    for rule in args.reuse_rules:
        rows.append(Method(f'PatchDriveNet K={budget} reuse={rule}', args.weights,
                           with_changes(base, patch_budget=budget, reuse_rule=rule)))
    if args.interval:
        rows.append(Method(f'SF-interval-{args.interval} K={budget}', args.weights, with_changes(
            base, method='sf_interval', interval_k=args.interval, patch_budget=budget)))
    return rows


def held_out_drives(args: argparse.Namespace, adverse: bool) -> Iterator[list[LabeledFrame]]:
    """Yield the held-out drives (materialised, so every method sees the same frames)."""
    for index in range(args.drives):
        conditions = ADVERSE[index % len(ADVERSE)] if adverse else ()
        config = profile_config(args.profile, num_frames=args.frames, conditions=conditions,
                                seed=HELD_OUT_SEED + index + (10_000 if adverse else 0))
        yield list(generate_drive(config))


def format_table(rows: list[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """Render result rows as a Markdown table."""
    header = '| method | split | ' + ' | '.join(columns) + ' |'
    lines = [header, '|' + '---|' * (len(columns) + 2)]
    for row in rows:
        cells = [f'{row[c]:.3f}' if isinstance(row[c], float) else str(row[c]) for c in columns]
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


def single_engine(args: argparse.Namespace) -> PerceptionEngine:
    """Build the engine of the bag and kitti commands: one method, as configured."""
    config = PerceptionConfig(device=args.device, threads=args.threads,
                              patch_budget=args.budget, reuse_rule=args.reuse_rule)
    return PerceptionEngine(load_weights(args.weights), config)


def run_bag(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score the weights on a bag with a label sidecar."""
    summary = score_bag(single_engine(args), args.bag, args.topic, args.labels).summary()
    return [{'method': f'PatchDriveNet K={args.budget}', 'split': args.bag.name, **summary}]


def run_kitti(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score the weights on a KITTI object folder (frames are independent: no reuse)."""
    engine = single_engine(args)
    frames = ([frame] for frame in load_kitti_object(args.root))
    summary = score_sequences(engine, frames).summary()
    return [{'method': f'PatchDriveNet K={args.budget}', 'split': args.root.name, **summary}]


def add_single_method(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that score one method."""
    parser.add_argument('--weights', type=Path, default=default_weights_path())
    parser.add_argument('--budget', type=int, default=PerceptionConfig().patch_budget)
    parser.add_argument('--reuse-rule', default=PerceptionConfig().reuse_rule,
                        choices=('off', 'displacement', 'compensated'))
    parser.add_argument('--device', default='auto')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--json', type=Path, help='write the rows here')


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
                           help='reuse rules scored at --reuse-budget')
    synthetic.add_argument('--reuse-budget', type=int, default=PerceptionConfig().patch_budget,
                           help='budget of the reuse and SF-interval rows (default: 12)')
    synthetic.add_argument('--interval', type=int, default=3, help='k of SF-interval-k (0: skip)')
    synthetic.add_argument('--profile', default='kitti', choices=('kitti', 'nuscenes'))
    synthetic.add_argument('--drives', type=int, default=4, help='drives per split')
    synthetic.add_argument('--frames', type=int, default=10, help='frames per drive')
    synthetic.add_argument('--device', default='auto')
    synthetic.add_argument('--threads', type=int, default=0)
    synthetic.add_argument('--json', type=Path, help='write the rows here')
    bag = sub.add_parser('bag', help='a recorded bag with a label sidecar (<bag>.labels)')
    bag.add_argument('bag', type=Path, help='ROS 1 .bag, or rosbag2 folder / .mcap / .db3')
    bag.add_argument('--topic', help='image topic (default: every image topic)')
    bag.add_argument('--labels', type=Path, help='label sidecar (default: <bag>.labels)')
    add_single_method(bag)
    kitti = sub.add_parser('kitti', help='a KITTI object folder: image_2/ and label_2/')
    kitti.add_argument('root', type=Path)
    add_single_method(kitti)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen evaluation and print a Markdown table."""
    args = parse_args(argv)
    run = {'synthetic': run_synthetic, 'bag': run_bag, 'kitti': run_kitti}[args.command]
    rows = run(args)
    print(format_table(rows, KITTI_COLUMNS if args.command == 'kitti' else COLUMNS))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + '\n', encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
