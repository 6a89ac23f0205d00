# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``patchdrivenet-evaluate reuse``: temporal reuse on five kinds of drive (reuse_evaluation.py).

patchdrivenet-evaluate reuse [--profiles stopped,slow,urban,highway,turning] [--drives 3]
[--frames 12] [--thresholds 1.5,3,6] [--budgets 4,8] [--intervals 2,3,4]
[--params-file config/perception.yaml] [--json PATH] [--plot PATH.png]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from patchdrivenet_ros.config import PerceptionConfig, load_yaml
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import EvaluationError, score_drives
from patchdrivenet_ros.model.weights import default_weights_path, load_weights
from patchdrivenet_ros.reuse_evaluation import DRIVE_PROFILES, drive_config, reuse_methods
from patchdrivenet_ros.tools.params_file import default_params_file

ROW_KEYS = ('gflops_per_frame', 'miou', 'thin_iou', 'boundary_iou', 'map50', 'map_small',
            'reuse_ratio', 'global_reuse_ratio', 'latency_ms_p50')
COLUMNS = ('gflops_per_frame', 'miou', 'thin_iou', 'map50', 'reuse_ratio', 'global_reuse_ratio')


def add_parser(sub: Any, numbers: Any, names: Any) -> None:
    """Add the ``reuse`` command; ``numbers``/``names`` parse comma-separated lists."""
    reuse = sub.add_parser('reuse', help='temporal reuse on kinds of drive (stopped, slow, '
                           'urban, highway, turning) against smaller budgets and SF-interval-k')
    reuse.add_argument('--weights', type=Path, help="weights (default: the params file's, "
                       'else the shipped ones)')
    reuse.add_argument('--params-file', type=Path, default=default_params_file(),
                       help='the default row runs these node parameters')
    reuse.add_argument('--profiles', type=names, default=list(DRIVE_PROFILES),
                       help=f'kinds of drive, from {",".join(DRIVE_PROFILES)}')
    reuse.add_argument('--drives', type=int, default=3, help='held-out drives per profile')
    reuse.add_argument('--frames', type=int, default=12, help='frames per drive')
    reuse.add_argument('--thresholds', type=numbers, default=[1.5, 3.0, 6.0],
                       help='motion thresholds (px) of each reuse rule')
    reuse.add_argument('--global-limits', type=numbers, default=[0.0, 16.0, 64.0],
                       help='global_reuse_motion values (px; 0 = never) of the shipped rule')
    reuse.add_argument('--budgets', type=lambda s: [int(v) for v in numbers(s)],
                       default=[4, 8], help='smaller budgets without reuse')
    reuse.add_argument('--intervals', type=lambda s: [int(v) for v in numbers(s)],
                       default=[2, 3, 4], help='k of the SF-interval-k rows')
    reuse.add_argument('--device', default='auto')
    reuse.add_argument('--threads', type=int, default=0)
    reuse.add_argument('--json', type=Path, help='write the rows here')
    reuse.add_argument('--plot', type=Path, help='draw accuracy against GFLOPs here (.png)')


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score every row on every profile's held-out drives."""
    unknown = [p for p in args.profiles if p not in DRIVE_PROFILES]
    if unknown:
        raise EvaluationError(f'unknown profile {", ".join(unknown)}; choose from '
                              f'{", ".join(DRIVE_PROFILES)}')
    if args.drives < 1 or args.frames < 2:
        raise EvaluationError('--drives must be at least 1 and --frames at least 2')
    shipped = load_yaml(PerceptionConfig, args.params_file, device=args.device,
                        threads=args.threads)
    weights = args.weights or (Path(shipped.weights) if shipped.weights
                               else default_weights_path())
    drives = {profile: [list(generate_drive(drive_config(profile, index, args.frames)))
                        for index in range(args.drives)] for profile in args.profiles}
    rows = []
    for method in reuse_methods(shipped, args.thresholds, args.budgets, args.intervals,
                                args.global_limits):
        engine = PerceptionEngine(load_weights(weights), method.config)
        for profile, profile_drives in drives.items():
            pooled, each = score_drives(engine, profile_drives)
            summary = pooled.summary()
            config = method.config
            rows.append({
                'profile': profile, 'method': method.name, 'family': method.family,
                'default': method.default, 'reuse_rule': config.reuse_rule,
                'motion_threshold': config.motion_threshold,
                'global_reuse_motion': (config.global_reuse_motion
                                        if config.reuse_rule != 'off' else 0.0),
                'patch_budget': config.patch_budget,
                'interval_k': config.interval_k if config.method == 'sf_interval' else None,
                **_pick(summary),
                'drives': [_pick(score.summary()) for score in each],
            })
    order = list(args.profiles)
    return sorted(rows, key=lambda row: order.index(row['profile']))  # stable: method order


def _pick(summary: dict[str, Any]) -> dict[str, Any]:
    return {key: summary[key] for key in ROW_KEYS}


def format_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Render the rows as a Markdown table, profile by profile."""
    lines = ['| profile | method | ' + ' | '.join(COLUMNS) + ' |',
             '|' + '---|' * (len(COLUMNS) + 2)]
    for row in rows:
        name = f"**{row['method']}** (default)" if row['default'] else row['method']
        cells = [f'{row[c]:.3f}' for c in COLUMNS]
        lines.append(f"| {row['profile']} | {name} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


__all__ = ['add_parser', 'format_rows', 'run']
