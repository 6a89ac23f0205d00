# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``patchdrivenet-soak``: reliability figures of the perception node, measured over DDS.

  patchdrivenet-soak [--malformed 10000] [--minutes 30] [--param-sets 100] [--json out.json]

Starts two perception nodes as processes of their own (``/soak_raw`` reads ``image``,
``/soak_jpeg`` reads ``image/compressed``; config/perception.yaml plus ``--weights`` and
``--node-param``), then measures, section by section:

1. malformed: malformed messages of every kind (soak_inputs.py) interleaved with good frames
   (soak_malformed.py): every good frame answered, the node alive;
2. replay: a synthetic drive replayed at ``--rate`` Hz for ``--minutes`` into ``/soak_raw``
   (soak_replay.py): memory growth, latency drift, frames in flight;
3. weights: broken weights files through load_weights and the node (soak_weights.py);
4. parameters: random parameter sets into ``/soak_jpeg`` (soak_params.py).

Finally both nodes are stopped as Ctrl-C does: they must still run and exit 0, and their logs
must hold at most one line of each kind of complaint per ``--throttle-s`` (soak_log.py).
Prints a table of the figures, writes them with ``--json``, and returns 1 when a target is
missed. Needs rclpy and vision_msgs (source .ws/env.sh).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import ExitStack
import json
import logging
from pathlib import Path
import sys
import time
from typing import Any, cast

import numpy as np

from patchdrivenet_ros.tools.soak_figures import (
    Figure,
    all_met,
    check,
    note,
    print_table,
    write_json,
)
from patchdrivenet_ros.tools.soak_inputs import (
    Spec,
    Stamper,
    Transport,
    good_compressed,
    good_image,
)
from patchdrivenet_ros.tools.soak_log import LogLine, throttle_report

LOGGER = logging.getLogger('patchdrivenet_soak')
NODE_START_TIMEOUT_S = 180.0
ANSWER_TIMEOUT_S = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog='patchdrivenet-soak',
                                     description=__doc__.split('\n')[0] if __doc__ else None)
    add = parser.add_argument
    add('--malformed', type=int, default=10_000, help='malformed messages (0: skip)')
    add('--burst', type=int, default=20, help='malformed messages between good frames')
    add('--gap-ms', type=float, default=5.0, help='pause after each malformed message')
    add('--minutes', type=float, default=30.0, help='replay soak length (0: skip)')
    add('--rate', type=float, default=10.0, help='replay rate, Hz')
    add('--rss-period', type=float, default=1.0, help='seconds between memory samples')
    add('--param-sets', type=int, default=100, help='random parameter sets (0: skip)')
    add('--no-weights-check', action='store_true', help='skip the broken weights section')
    add('--weights', default='', help='weights of the nodes (default: the shipped ones)')
    add('--params-file', type=Path, default=None,
        help='node parameters (default: config/perception.yaml)')
    add('--node-param', action='append', default=[], metavar='NAME:=VALUE',
        help='one more node parameter (repeatable)')
    add('--profile', default='kitti', help='synthetic drive profile (kitti, nuscenes, 4k)')
    add('--width', type=int, default=0, help="frame width (default: the profile's)")
    add('--height', type=int, default=0, help="frame height (default: the profile's)")
    add('--drive-frames', type=int, default=100, help='frames rendered, replayed in a loop')
    add('--seed', type=int, default=0, help='seed of the drive and the random choices')
    add('--throttle-s', type=float, default=5.0,
        help="the node's log throttle period (pipeline.py _THROTTLE_S)")
    add('--max-rss-growth', type=float, default=0.05, help='target: RSS growth, fraction')
    add('--max-latency-drift', type=float, default=0.10, help='target: p95 drift, fraction')
    add('--out', type=Path, default=Path('out/soak'), help='logs and weights cases')
    add('--json', type=Path, default=None, help='write the figures here')
    return parser.parse_args(argv)


def render_frames(args: argparse.Namespace) -> list[np.ndarray]:
    """Render the synthetic drive: (H, W, 3) uint8 RGB frames."""
    from patchdrivenet_ros.data.synthetic import generate_drive, profile_config

    size = {key: value for key, value in (('width', args.width), ('height', args.height))
            if value}
    config = profile_config(args.profile, num_frames=args.drive_frames, seed=args.seed, **size)
    return [frame.image for frame in generate_drive(config)]


def node_params(args: argparse.Namespace) -> list[str]:
    """Return the ``-p`` arguments of the nodes under soak."""
    return ([f'weights:={args.weights}'] if args.weights else []) + list(args.node_param)


def _progress(label: str, total: float, unit: str) -> Any:
    """Return a callback logging ``label`` about every tenth of ``total``."""
    state = {'next': total / 10.0}

    def report(done: float) -> None:
        if done >= state['next']:
            LOGGER.info('%s: %.0f / %.0f %s', label, done, total, unit)
            state['next'] += total / 10.0
    return report


def process_figures(name: str, running: bool, code: int, lines: list[LogLine],
                    throttle_s: float) -> list[Figure]:
    """Figures of one node at the end: still running, clean exit, throttled log."""
    _, repeated = throttle_report(lines, throttle_s)
    node = [r for r in repeated if r.source == 'node']
    library = [r for r in repeated if r.source == 'library']
    traceback = sum('Traceback' in line.text for line in lines)

    def worst(reports: list[Any]) -> str:
        return '; '.join(f'{r.lines}x {r.example[:90]!r} (gap {r.min_gap_s:.2f} s)'
                         for r in sorted(reports, key=lambda r: -r.lines)[:2])

    return [
        check('node', f'{name}: crashed', not running, 'still running at the end',
              lambda v: not v),
        check('node', f'{name}: exit status on SIGINT', code, '0', lambda v: v == 0),
        check('node', f'{name}: Python tracebacks in the log', traceback, '0',
              lambda v: v == 0),
        check('log', f'{name}: node complaints repeated within {throttle_s:g} s', len(node),
              '0 kinds', lambda v: v == 0, worst(node)),
        check('log', f'{name}: library output repeated within {throttle_s:g} s', len(library),
              '0 kinds', lambda v: v == 0, worst(library)),
        note('log', f'{name}: log lines', len(lines), 'all lines, INFO included'),
    ]


def start_nodes(args: argparse.Namespace, stack: ExitStack) -> dict[str, Any]:
    """Start the nodes under soak: 'raw' always, 'compressed' when a section needs it."""
    from patchdrivenet_ros.tools.node_process import NodeProcess
    from patchdrivenet_ros.tools.params_file import default_params_file

    params_file = args.params_file or default_params_file()
    params = node_params(args)
    nodes = {'raw': NodeProcess('/soak_raw', params, args.out / 'node_raw.log', params_file)}
    if args.malformed > 0 or args.param_sets > 0:
        nodes['compressed'] = NodeProcess('/soak_jpeg', [*params, 'image_transport:=compressed'],
                                          args.out / 'node_jpeg.log', params_file)
    for node in nodes.values():
        stack.callback(node.close)
    return nodes


def run_sections(args: argparse.Namespace, client: Any, targets: dict[str, Any],
                 save: Callable[[list[Figure]], None]) -> list[Figure]:
    """Run the malformed, replay and parameter sections on ready nodes; return their figures."""
    from patchdrivenet_ros.tools import soak_malformed, soak_params, soak_replay

    figures: list[Figure] = []
    rng, stamper = np.random.default_rng(args.seed), Stamper()
    for name, target in targets.items():  # the first answer also proves discovery is done
        figures.append(check('node', f'{name}: first frame answered',
                             _prime(client, target, stamper), 'yes', bool))
    if args.malformed > 0:
        LOGGER.info('malformed: %d messages in bursts of %d', args.malformed, args.burst)
        result = soak_malformed.run_malformed(
            client, targets, args.malformed, args.burst, args.gap_ms / 1000.0, rng, stamper,
            ANSWER_TIMEOUT_S, _progress('malformed', args.malformed, 'messages'))
        figures += soak_malformed.malformed_figures(result)
        save(figures)
    if args.minutes > 0:
        LOGGER.info('replay: %.1f min at %.0f Hz', args.minutes, args.rate)
        raw = targets['raw']
        replay = soak_replay.run_replay(
            client, raw.node, raw.view, raw.good, args.minutes, args.rate, args.rss_period,
            stamper, _progress('replay', args.minutes * 60.0, 's'))
        figures += soak_replay.replay_figures(replay, args.max_rss_growth,
                                              args.max_latency_drift)
        (args.out / 'replay_series.json').write_text(json.dumps(soak_replay.series(replay)),
                                                     encoding='utf-8')
        save(figures)
    if args.param_sets > 0:
        LOGGER.info('parameters: %d random sets', args.param_sets)
        jpeg = targets['compressed']
        fuzz = soak_params.run_params(client, jpeg.node, jpeg.view, list(jpeg.good),
                                      args.param_sets, rng, stamper, ANSWER_TIMEOUT_S)
        figures += soak_params.params_figures(fuzz)
        save(figures)
    return figures


def run(args: argparse.Namespace, stack: ExitStack,
        save: Callable[[list[Figure]], None]) -> list[Figure]:
    """Run every section; return the figures (``save`` them after each; ``stack`` stops nodes)."""
    from patchdrivenet_ros.tools import soak_weights
    from patchdrivenet_ros.tools.soak_malformed import Target
    from patchdrivenet_ros.tools.soak_node import SoakClient

    args.out.mkdir(parents=True, exist_ok=True)
    nodes = start_nodes(args, stack)
    marker = args.out / 'weights' / 'UNPICKLED_MARKER'
    marker.unlink(missing_ok=True)
    cases = [] if args.no_weights_check else soak_weights.make_cases(args.out / 'weights', marker)
    case_nodes = soak_weights.start_nodes(cases, args.out / 'weights')
    for case_node in case_nodes.values():
        stack.callback(case_node.close)
    LOGGER.info('rendering %d frames of a %s drive', args.drive_frames, args.profile)
    frames = render_frames(args)
    good: dict[str, list[Spec]] = {'raw': [good_image(f) for f in frames],
                                   'compressed': [good_compressed(f) for f in frames]}
    client = SoakClient()
    stack.callback(client.close)
    views = {name: client.watch(node, name == 'compressed') for name, node in nodes.items()}
    loads = {case.name: soak_weights.load_outcome(case) for case in cases}
    ready = {name: client.ready(node, NODE_START_TIMEOUT_S) for name, node in nodes.items()}
    figures = [check('node', f'{name}: started and subscribed', ok, 'yes', bool,
                     nodes[name].log_path.as_posix()) for name, ok in ready.items()]
    if all(ready.values()):
        targets = {name: Target(nodes[name], views[name], cast(Transport, name), good[name],
                                frames) for name in nodes}
        figures += run_sections(args, client, targets, lambda more: save(figures + more))
    if cases:
        outcomes = {name: soak_weights.node_outcome(node, NODE_START_TIMEOUT_S)
                    for name, node in case_nodes.items()}
        figures += soak_weights.weights_figures(cases, loads, outcomes, marker)
    for name, node in nodes.items():
        running = node.alive()
        lines = node.close()
        figures += process_figures(name, running, -1 if node.exit_code is None
                                   else node.exit_code, lines, args.throttle_s)
    return figures


def _prime(client: Any, target: Any, stamper: Stamper) -> bool:
    """Send good frames until one is answered (discovery may still be settling)."""
    from dataclasses import replace

    end = time.monotonic() + ANSWER_TIMEOUT_S
    while time.monotonic() < end and target.node.alive():
        spec = replace(target.good[0], stamp=stamper.next())
        client.send(target.view, spec)
        if client.wait_answer(target.view, spec.stamp, 5.0) is not None:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print and optionally write the figures; 0 when every target is met."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    started = time.perf_counter()
    command = ['patchdrivenet-soak', *(sys.argv[1:] if argv is None else argv)]

    def save(figures: list[Figure], complete: bool = False) -> None:
        if args.json is not None:
            write_json(args.json, figures, command=command, complete=complete,
                       seconds=round(time.perf_counter() - started, 1))

    with ExitStack() as stack:
        figures = run(args, stack, save)
    save(figures, complete=True)
    print_table(figures, f'patchdrivenet soak ({(time.perf_counter() - started) / 60:.1f} min)')
    met = all_met(figures)
    LOGGER.info('%s', 'every target met' if met else 'TARGETS MISSED')
    return 0 if met else 1


if __name__ == '__main__':
    sys.exit(main())
