# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""``patchdrivenet-synth``: generate a synthetic drive and export it.

Examples::

    patchdrivenet-synth --format kitti-tracking --profile kitti --frames 100 --seed 3 --out out/
    patchdrivenet-synth --format bag --bag-storage mcap --profile nuscenes --conditions rain,fog \\
        --frames 60 --out out/
    patchdrivenet-synth --format kitti-raw --size 624x192 --frames 20 --out out/raw
    patchdrivenet-synth --format bag --profile nuscenes --cameras 6 --frames 36 --out out/rig
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import dataclasses
from datetime import datetime, timezone
from pathlib import Path
import sys
import time

from tqdm import tqdm

from patchdrivenet_ros.data.bags import BAG_PROFILES, write_bag
from patchdrivenet_ros.data.drive_config import CONDITIONS, PROFILES
from patchdrivenet_ros.data.exporters import export_kitti_raw, export_kitti_tracking
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config

FORMATS = ('kitti-tracking', 'kitti-raw', 'bag')


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected WxH like 1242x375, got {text!r}') from None
    return w, h


def parse_conditions(text: str) -> tuple[str, ...]:
    """Parse comma-separated condition names (argparse type)."""
    names = tuple(c.strip() for c in text.split(',') if c.strip())
    unknown = [c for c in names if c not in CONDITIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f'unknown condition(s) {", ".join(unknown)}; choose from {", ".join(CONDITIONS)}')
    return names


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(
        prog='patchdrivenet-synth',
        description='Generate a seeded synthetic drive with exact labels and export it.')
    parser.add_argument('--format', choices=FORMATS, default='kitti-tracking',
                        help='output layout (default: kitti-tracking)')
    parser.add_argument('--bag-storage', choices=('mcap', 'sqlite3'), default='mcap',
                        help='rosbag2 storage plugin for --format bag (default: mcap)')
    parser.add_argument('--encoding', choices=('rgb8', 'bgr8'), default=None,
                        help='Image encoding of kitti-layout bags (default: rgb8, as kitti2mcap)')
    parser.add_argument('--profile', choices=tuple(PROFILES), default='kitti',
                        help='camera, rate and topic layout (default: kitti)')
    parser.add_argument('--size', type=_size, default=None,
                        help='frame size WxH (default: kitti 1242x375, nuscenes 1600x900, '
                        '4k 3840x2160)')
    parser.add_argument('--frames', type=int, default=100, help='number of frames (default: 100)')
    parser.add_argument('--seed', type=int, default=0, help='world seed (default: 0)')
    parser.add_argument('--conditions', type=parse_conditions, default=(),
                        help=f'comma-separated subset of {",".join(CONDITIONS)}')
    parser.add_argument('--sequence', type=int, default=0,
                        help='KITTI tracking sequence / raw drive number (default: 0)')
    parser.add_argument('--cameras', type=int, default=1,
                        help="--format bag: cameras of the converter's rig (kitti up to 2, "
                        'nuscenes up to 6), each a drive of its own (seeds SEED, SEED+1, ...) '
                        'on the same clock; labels are written for the first')
    parser.add_argument('--out', type=Path, required=True, help='output folder')
    return parser


def _progress(frames: Iterator[LabeledFrame], total: int) -> Iterator[LabeledFrame]:
    yield from tqdm(frames, total=total, unit='frame', desc='synth', file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; return the exit status."""
    args = build_parser().parse_args(argv)
    overrides: dict[str, object] = {'num_frames': args.frames, 'seed': args.seed,
                                    'conditions': args.conditions}
    if args.size is not None:
        overrides['width'], overrides['height'] = args.size
    try:
        config = profile_config(args.profile, **overrides)
    except ValueError as err:
        print(f'patchdrivenet-synth: {err}', file=sys.stderr)
        return 2
    frames = _progress(generate_drive(config), config.num_frames)
    start = time.perf_counter()
    if args.format == 'kitti-tracking':
        target = export_kitti_tracking(frames, args.out, sequence=args.sequence)
    elif args.format == 'kitti-raw':
        date = datetime.fromtimestamp(config.start_ns // 1_000_000_000, tz=timezone.utc)
        target = export_kitti_raw(frames, args.out, date=f'{date:%Y_%m_%d}',
                                  drive=args.sequence)
    else:
        layout = 'nuscenes' if args.profile == 'nuscenes' else 'kitti'
        bag = args.out / f'synth_{args.profile}_seed{args.seed:04d}_{args.bag_storage}'
        if bag.exists():
            print(f'patchdrivenet-synth: {bag} exists; choose another --out or --seed',
                  file=sys.stderr)
            return 2
        rig = len(BAG_PROFILES[layout].rig)
        if not 1 <= args.cameras <= rig:
            print(f'patchdrivenet-synth: --cameras: the {layout} rig has 1 to {rig} cameras',
                  file=sys.stderr)
            return 2
        args.out.mkdir(parents=True, exist_ok=True)
        more = [generate_drive(dataclasses.replace(config, seed=args.seed + index))
                for index in range(1, args.cameras)]
        target = write_bag(frames, bag, profile=layout, storage=args.bag_storage,
                           encoding=args.encoding, more_cameras=more)
    elapsed = time.perf_counter() - start
    print(f'wrote {config.num_frames} frames of {config.width}x{config.height} to {target} '
          f'({config.num_frames / max(elapsed, 1e-9):.1f} frames/s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
