# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-evaluate: score PatchDriveNet and the baselines side by side.

``synthetic`` scores held-out synthetic drives (seeds never used in training), clear and
adverse; every method runs on the same frames in one process. ``bag`` scores a recorded bag
(ROS 1, rosbag2 sqlite3 or MCAP) against its label sidecar; ``kitti`` scores a KITTI object
folder (``image_2/``, ``label_2/``) with the KITTI 2D AP|R40 rules and COCO mAP;
``nuscenes`` a nuScenes camera's keyframes; ``outputs`` what a node published (an outputs bag
of ``patchdrivenet-replay --record``), per frame and streaming; ``reuse`` temporal reuse on
five kinds of drive (tools/evaluate_reuse.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import sys
from typing import Any

from patchdrivenet_ros.accuracy_targets import check_targets, format_checks
from patchdrivenet_ros.config import ConfigError, PerceptionConfig, load_yaml, with_changes
from patchdrivenet_ros.data.drive_config import PROFILES, profile_config
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.splits import FOLDER_SPLITS, HELD_OUT_SEED, VALIDATION_SEED
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import (
    EvaluationError,
    SequenceScore,
    score_bag,
    score_drives,
    score_sequences,
)
from patchdrivenet_ros.frontier import FRONTIER_METRICS, add_margins
from patchdrivenet_ros.frontier_plot import plot_frontier
from patchdrivenet_ros.kitti_benchmark import score_engine, score_results
from patchdrivenet_ros.model.baselines import run_settings
from patchdrivenet_ros.model.shipped import UNIFORM_FAMILY, shipped_weights_dir, uniform_baseline
from patchdrivenet_ros.model.weights import WeightsError, default_weights_path, load_weights
from patchdrivenet_ros.reuse_evaluation import reuse_checks
from patchdrivenet_ros.reuse_plot import plot_reuse
from patchdrivenet_ros.tools import evaluate_reuse
from patchdrivenet_ros.tools.params_file import default_params_file
from patchdrivenet_ros.tools.synth import parse_conditions

SPLIT_SEEDS = {'held-out': HELD_OUT_SEED, 'validation': VALIDATION_SEED}

ADVERSE = (('rain',), ('fog',), ('night',), ('snow', 'motion_blur'), ('noise', 'rain'))
"""Conditions of the adverse drives, taken in turn."""

COLUMNS = ('miou', 'thin_iou', 'boundary_iou', 'map50', 'map_small', 'kitti_map_moderate',
           'gflops_per_frame', 'latency_ms_p50', 'patches_per_frame', 'reuse_ratio')
DRIVE_KEYS = ('miou', 'thin_iou', 'boundary_iou', 'map50', 'map_small', 'kitti_map_moderate',
              'gflops_per_frame', 'reuse_ratio')
"""Numbers kept per drive (for the spread over drives)."""
KITTI_COLUMNS = ('kitti_car_easy', 'kitti_car_moderate', 'kitti_car_hard',
                 'kitti_pedestrian_moderate', 'kitti_cyclist_moderate', 'kitti_map_moderate',
                 'map50', 'map')


@dataclass(frozen=True)
class Method:
    """One row of the comparison: a name, its weights, its runtime config and its family.

    Families: ``uniform`` (SF-* at one scale), ``patchdrivenet`` (patches, no temporal reuse),
    ``reuse`` (patches with a reuse rule), ``interval`` (SF-interval-k), ``depth``, ``oracle``
    (patches chosen from the labels: the learned choice's upper bound).
    """

    name: str
    weights: Path
    config: PerceptionConfig
    family: str
    default: bool = False

    @property
    def oracle_choice(self) -> bool:
        """Whether its patches are chosen from the labels."""
        return self.family == 'oracle'


def default_method(args: argparse.Namespace, base: PerceptionConfig) -> Method:
    """Return the row running the shipped node parameters (device, threads from the CLI)."""
    config = load_yaml(PerceptionConfig, args.params_file, device=base.device,
                       threads=base.threads)
    family = 'patchdrivenet' if config.reuse_rule == 'off' else 'reuse'
    name = f'PatchDriveNet default (K={config.patch_budget}, reuse={config.reuse_rule})'
    return Method(name, Path(config.weights) if config.weights else args.weights, config,
                  family, default=True)


def methods(args: argparse.Namespace) -> list[Method]:
    """Build the compared methods from the command line."""
    base = PerceptionConfig(device=args.device, threads=args.threads,
                            global_scale=args.global_scale)
    rows = [Method(member.name, member.weights(args.baselines), member.config(base), 'uniform')
            for member in map(uniform_baseline, args.scales)]
    if args.sf_depth_half_weights:
        rows.append(Method('SF-depth-0.5', args.sf_depth_half_weights,
                           with_changes(base, method='sf_full'), 'depth'))
    for budget in args.budgets:
        rows.append(Method(f'PatchDriveNet K={budget}', args.weights,
                           with_changes(base, patch_budget=budget, reuse_rule='off'),
                           'patchdrivenet'))
    for budget in args.oracle_budgets:
        rows.append(Method(f'PatchDriveNet K={budget} oracle choice', args.weights,
                           with_changes(base, patch_budget=budget, reuse_rule='off'), 'oracle'))
    default = default_method(args, base) if args.params_file else None
    budget = args.reuse_budget
    for rule in args.reuse_rules:
        config = with_changes(base, patch_budget=budget, reuse_rule=rule)
        if default is None or config != with_changes(default.config, weights=''):
            rows.append(Method(f'PatchDriveNet K={budget} reuse={rule}', args.weights, config,
                               'reuse'))
    if default is not None:
        rows.append(default)
    if args.interval:
        rows.append(Method(f'SF-interval-{args.interval} K={budget}', args.weights, with_changes(
            base, method='sf_interval', interval_k=args.interval, patch_budget=budget),
            'interval'))
    return rows


def drive_conditions(index: int, adverse: bool, only: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Conditions of drive ``index`` of a split: ``only`` on every adverse drive when given."""
    if not adverse:
        return ()
    return only or ADVERSE[index % len(ADVERSE)]


def split_drives(args: argparse.Namespace, adverse: bool) -> Iterator[list[LabeledFrame]]:
    """Yield the drives of the chosen seeds (materialised: every method sees the same frames)."""
    for index in range(args.drives):
        config = profile_config(args.profile, num_frames=args.frames,
                                conditions=drive_conditions(index, adverse, args.adverse),
                                seed=SPLIT_SEEDS[args.seeds] + index + (10_000 if adverse else 0))
        yield list(generate_drive(config))


def format_table(rows: list[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """Render result rows as a Markdown table."""
    header = '| method | split | ' + ' | '.join(columns) + ' |'
    lines = [header, '|' + '---|' * (len(columns) + 2)]
    for row in rows:
        cells = [f'{row[c]:.3f}' if isinstance(row.get(c), float) else str(row.get(c, '-'))
                 for c in columns]
        lines.append(f"| {row['method']} | {row['split']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_margins(rows: list[dict[str, Any]]) -> str:
    """Render each row's margin above the uniform curve (mean over drives +- 2 SE)."""
    lines = ['| method | split | ' + ' | '.join(FRONTIER_METRICS) + ' |',
             '|' + '---|' * (len(FRONTIER_METRICS) + 2)]
    for row in rows:
        if 'above_uniform' in row:
            cells = [f"{m['mean']:+.3f} +- {2 * m['se']:.3f}"
                     for m in (row['above_uniform'][k] for k in FRONTIER_METRICS)]
            lines.append(f"| {row['method']} | {row['split']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def drive_row(score: SequenceScore, conditions: tuple[str, ...]) -> dict[str, Any]:
    """Return the per-drive numbers a row keeps for the noise of comparisons."""
    summary = score.summary()
    return {**{key: summary[key] for key in DRIVE_KEYS}, 'conditions': list(conditions)}


def run_synthetic(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score every method on clear and adverse held-out drives; add frontier margins."""
    splits = {'clear': list(split_drives(args, False)),
              'adverse': list(split_drives(args, True))}
    size = PROFILES[args.profile]
    rows = []
    for method in methods(args):
        engine = PerceptionEngine(load_weights(method.weights), method.config)
        settings = run_settings(method.config, (size['width'], size['height']))
        for split, drives in splits.items():
            pooled, each = score_drives(engine, drives, method.oracle_choice)
            summary = pooled.summary()
            summary.pop('per_class_iou')
            rows.append({
                'method': method.name, 'split': split, 'family': method.family,
                'default': method.default, 'patch_budget': settings.patch_budget,
                'global_scale': settings.global_scale, 'reuse_rule': settings.reuse_rule,
                **summary,
                'drives': [drive_row(score, drive_conditions(i, split == 'adverse',
                                                              args.adverse))
                           for i, score in enumerate(each)],
            })
            print(format_table(rows[-1:]).splitlines()[-1], flush=True)
    add_margins(rows)
    return rows


def single_engine(args: argparse.Namespace) -> PerceptionEngine:
    """Build the engine of the bag and kitti commands: one method, as configured."""
    config = PerceptionConfig(device=args.device, threads=args.threads,
                              patch_budget=args.budget, reuse_rule=args.reuse_rule)
    return PerceptionEngine(load_weights(args.weights), config)


def run_bag(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score the weights on a bag with a label sidecar."""
    summary = score_bag(single_engine(args), args.bag, args.topic, args.labels,
                        timestamps=args.timestamps).summary()
    return [{'method': f'PatchDriveNet K={args.budget}', 'split': args.bag.name, **summary}]


def run_outputs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score what a node published (an outputs bag) against the drive's labels."""
    from patchdrivenet_ros.outputs_scoring import score_outputs

    scored = score_outputs(args.bag, args.labels, args.timestamps, args.camera)
    rows = [('published', scored.own), ('published, streaming', scored.streaming),
            ('published forecasts, streaming', scored.streaming_forecast)]
    return [{'method': f'{name} ({scored.camera})', 'split': args.bag.name, **score.summary()}
            for name, score in rows if score is not None]


def run_nuscenes(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score the weights on a nuScenes camera's keyframes, scene by scene.

    Temporal reuse runs across the keyframes (2 Hz), or with ``--sweeps`` across every frame
    of the camera (12 Hz) while only the keyframes are scored.
    """
    from patchdrivenet_ros.data.nuscenes import (
        keyframe_stamps,
        load_nuscenes_scenes,
        open_nuscenes,
        split_scene_names,
    )

    if not (args.dataroot / args.version).is_dir():
        raise EvaluationError(f'{args.dataroot}: no {args.version}/ table folder (a nuScenes '
                              'dataroot holds v1.0-mini/, samples/, sweeps/ and maps/)')
    try:
        nusc = open_nuscenes(args.dataroot, args.version)
        names = (None if args.scenes == 'all'
                 else split_scene_names(args.version, args.scenes))
        scenes = list(load_nuscenes_scenes(args.dataroot, args.version, args.camera,
                                           keyframes_only=not args.sweeps, nusc=nusc,
                                           scenes=names))
        keyframes = keyframe_stamps(nusc, args.camera)
    except (KeyError, ValueError, OSError, AssertionError) as error:
        raise EvaluationError(f'cannot read nuScenes {args.version} in {args.dataroot} '
                              f'(camera {args.camera}): {error}') from None
    if not keyframes or not any(scenes):
        raise EvaluationError(f'{args.dataroot}: no keyframes of {args.camera} in the '
                              f'{args.scenes} scenes of {args.version}')
    summary = score_sequences(single_engine(args), scenes,
                              scored=lambda frame: frame.stamp_ns in keyframes).summary()
    return [{'method': f'PatchDriveNet K={args.budget}',
             'split': f'nuscenes {args.version} {args.camera}'
             + ('' if args.scenes == 'all' else f' {args.scenes}'), **summary}]


def run_kitti(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Score a KITTI object folder: results files (--results) or the weights on image_2."""
    if args.results is not None:
        numbers, count = score_results(args.root, args.results)
        return [{'method': f'results {args.results.name}', 'split': args.root.name,
                 'frames': count, **numbers}]
    summary = score_engine(single_engine(args), args.root, args.save_results, args.split)
    split = args.root.name if args.split == 'all' else f'{args.root.name} {args.split}'
    return [{'method': f'PatchDriveNet K={args.budget}', 'split': split, **summary}]


def add_single_method(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that score one method."""
    parser.add_argument('--weights', type=Path, default=default_weights_path())
    parser.add_argument('--budget', type=int, default=PerceptionConfig().patch_budget)
    parser.add_argument('--reuse-rule', default=PerceptionConfig().reuse_rule,
                        choices=('off', 'displacement', 'compensated'))
    parser.add_argument('--device', default='auto')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--json', type=Path, help='write the rows here')


def int_list(text: str) -> list[int]:
    """Parse '0,4,12' (empty: no values)."""
    return [int(v) for v in text.split(',') if v.strip()]


def float_list(text: str) -> list[float]:
    """Parse '0.25,0.5' (empty: no values)."""
    return [float(v) for v in text.split(',') if v.strip()]


def optional_path(text: str) -> Path | None:
    """Parse a path; the empty string means none."""
    return Path(text) if text else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    synthetic = sub.add_parser('synthetic', help='held-out synthetic drives, clear and adverse')
    synthetic.add_argument('--weights', type=Path, default=default_weights_path(),
                           help='PatchDriveNet weights (default: the shipped ones)')
    synthetic.add_argument('--baselines', type=Path, default=shipped_weights_dir(),
                           help='folder with the uniform family (sf_full.safetensors, '
                                'sf_0.5.safetensors, ...; default: the shipped ones)')
    synthetic.add_argument('--scales', type=float_list,
                           default=[m.scale for m in UNIFORM_FAMILY],
                           help='scales of the uniform family to score ("" = none)')
    synthetic.add_argument('--sf-depth-half-weights', type=Path,
                           help='weights of the depth-0.5 model trained as sf_full')
    synthetic.add_argument('--params-file', type=optional_path, default=default_params_file(),
                           help='the default row runs these node parameters '
                                '(default: config/perception.yaml; "" = no default row)')
    synthetic.add_argument('--global-scale', type=float,
                           default=PerceptionConfig().global_scale,
                           help="global stream scale of the PatchDriveNet rows (default: the "
                           "node's; use the scale the weights were trained at)")
    synthetic.add_argument('--budgets', type=int_list, default=[0, 4, 8, 12, 16, 24],
                           help='PatchDriveNet budgets without reuse, e.g. 0,4,12,24')
    synthetic.add_argument('--oracle-budgets', type=int_list, default=[12],
                           help='budgets whose patches are also chosen by the label oracle')
    synthetic.add_argument('--reuse-rules', type=lambda s: [v for v in s.split(',') if v],
                           default=['displacement', 'compensated'],
                           help='reuse rules scored at --reuse-budget')
    synthetic.add_argument('--reuse-budget', type=int, default=PerceptionConfig().patch_budget,
                           help='budget of the reuse and SF-interval rows (default: 12)')
    synthetic.add_argument('--interval', type=int, default=3, help='k of SF-interval-k (0: skip)')
    synthetic.add_argument('--profile', default='kitti', choices=tuple(PROFILES))
    synthetic.add_argument('--drives', type=int, default=8, help='drives per split')
    synthetic.add_argument('--adverse', type=parse_conditions, default=(),
                           help='conditions of every adverse drive, e.g. night or '
                           'snow,motion_blur (default: rain, fog, night, snow + motion blur, '
                           'noise + rain in turn)')
    synthetic.add_argument('--seeds', default='held-out', choices=tuple(SPLIT_SEEDS),
                           help='held-out drives (reported) or validation drives (tuning)')
    synthetic.add_argument('--frames', type=int, default=10, help='frames per drive')
    synthetic.add_argument('--device', default='auto')
    synthetic.add_argument('--threads', type=int, default=0)
    synthetic.add_argument('--json', type=Path, help='write the rows here')
    synthetic.add_argument('--plot', type=Path,
                           help='draw accuracy against GFLOPs per frame here (.png)')
    bag = sub.add_parser('bag', help='a recorded bag with a label sidecar (<bag>.labels)')
    bag.add_argument('bag', type=Path, help='ROS 1 .bag, or rosbag2 folder / .mcap / .db3')
    bag.add_argument('--topic', help='image topic (default: every image topic)')
    bag.add_argument('--labels', type=Path,
                     help='label sidecar folder (default: <bag>.labels), a KITTI tracking '
                     'label file label_02/NNNN.txt (boxes only, matched in order), a KITTI '
                     'object folder with label_2/ (in order) or a nuScenes dataroot (boxes of '
                     'the camera keyframes, matched by stamp)')
    bag.add_argument('--timestamps', type=Path,
                     help="with a KITTI tracking file: the drive's timestamps.txt, to match "
                     'frames by stamp instead of by order')
    add_single_method(bag)
    outputs = sub.add_parser('outputs', help='what a node published (patchdrivenet-replay '
                             "--record), scored against the drive's labels, also streaming")
    outputs.add_argument('bag', type=Path, help='the outputs bag')
    outputs.add_argument('--labels', type=Path, required=True,
                         help='the input bag (its <bag>.labels sidecar), a sidecar folder, a '
                         'KITTI tracking label file label_02/NNNN.txt or a nuScenes dataroot')
    outputs.add_argument('--timestamps', type=Path,
                         help="with a KITTI tracking file: the drive's timestamps.txt")
    outputs.add_argument('--camera', help='topic prefix of the camera to score (e.g. '
                         '/replay/camera_0) when the bag holds several')
    outputs.add_argument('--json', type=Path, help='write the rows here')
    evaluate_reuse.add_parser(sub, float_list,
                              lambda text: [v.strip() for v in text.split(',') if v.strip()])
    kitti = sub.add_parser('kitti', help='a KITTI object folder: image_2/ and label_2/, scored '
                           'with the official devkit rules (2D AP|R40)')
    kitti.add_argument('root', type=Path)
    kitti.add_argument('--results', type=Path,
                       help='score KITTI results files (DIR/*.txt or DIR/data/*.txt) instead '
                       'of running the weights; image_2/ is not needed then')
    kitti.add_argument('--save-results', type=Path,
                       help="write the weights' detections here as KITTI results files")
    kitti.add_argument('--split', default='all', choices=('all', *FOLDER_SPLITS),
                       help='the images to run the weights on: all, or those a kitti-object '
                       'training source trains on (train) or holds out (validation: every '
                       '10th in name order)')
    add_single_method(kitti)
    nuscenes = sub.add_parser('nuscenes', help="a nuScenes dataroot: one camera's keyframes, "
                              'scene by scene (2D boxes projected from the 3D boxes)')
    nuscenes.add_argument('dataroot', type=Path)
    nuscenes.add_argument('--version', default='v1.0-mini')
    nuscenes.add_argument('--camera', default='CAM_FRONT')
    nuscenes.add_argument('--scenes', default='all', choices=('all', 'train', 'val'),
                          help="the version's scenes, or those of its official train or val "
                          'split (val after training on nuScenes)')
    nuscenes.add_argument('--sweeps', action='store_true',
                          help='run every frame of the camera (12 Hz; sweeps/ needed), score '
                          'the keyframes: temporal reuse as on the car')
    add_single_method(nuscenes)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen evaluation and print a Markdown table."""
    args = parse_args(argv)
    logging.basicConfig(format='patchdrivenet-evaluate: %(levelname)s: %(message)s',
                        level=logging.INFO)
    run = {'synthetic': run_synthetic, 'bag': run_bag, 'kitti': run_kitti,
           'nuscenes': run_nuscenes, 'outputs': run_outputs,
           'reuse': evaluate_reuse.run}[args.command]
    try:
        rows = run(args)
    except (WeightsError, ConfigError, EvaluationError) as error:
        print(f'patchdrivenet-evaluate: error: {error}', file=sys.stderr)
        return 2
    if args.command == 'reuse':
        print(evaluate_reuse.format_rows(rows))
        print(format_checks(reuse_checks(rows)))
        if args.plot:
            print(f'plot: {plot_reuse(rows, args.plot)}')
    else:
        print(format_table(rows, KITTI_COLUMNS if args.command == 'kitti' else COLUMNS))
    if args.command == 'synthetic':
        print(format_margins(rows))
        print(format_checks(check_targets(rows)))
        if args.plot:
            print(f'plot: {plot_frontier(rows, args.plot)}')
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + '\n', encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
