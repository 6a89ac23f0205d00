# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``patchdrivenet-replay BAG``: play a recorded drive into the perception node over DDS.

  patchdrivenet-replay BAG [--topic T ...] [--rate R | --lockstep] [--record OUT]
                       [--params-file F] [--param NAME:=VALUE ...] [--json PATH]
                       [--no-node --namespace NS [--cameras A,B]]

BAG is a rosbag2 folder, a bare ``.mcap`` or ``.db3`` file or a ROS 1 ``.bag``. Every
``sensor_msgs/Image`` (or every ``CompressedImage``) topic is played, or those given with
``--topic``; several cameras share one node and its patch budget (``cameras`` parameter).
Frames are published unchanged on the bag's own topics with ``/clock`` beside them, at the
recorded pace times ``--rate`` or, with ``--lockstep``, each frame once the node answered the
camera's previous one or ANSWER_TIMEOUT_S passed (the clock then runs at wall speed from each
frame's bag time); in lockstep a frame still unanswered after RESEND_S is sent again (one sent
before the node's side of discovery matched the player is lost, even on a reliable topic).
By default the tool starts the node itself (``config/perception.yaml`` or ``--params-file``,
then ``--param`` overrides, ``use_sim_time`` on, inputs remapped to the
bag's topics) and stops it at the end; ``--no-node`` plays to a node already running in
``--namespace`` that subscribes the bag's topics. ``--record OUT`` writes everything the node
published (masks, colour and attention images, detections, label info, diagnostics) to an
MCAP bag (the node renders the images only once it sees a subscriber, so the first frames may
have none on a loaded machine). A summary (frames in and out, latency, drops) is printed and,
with ``--json``, written. Exit status: 0 when frames were answered, 1 when none was or the
node failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from functools import partial
import json
import logging
from pathlib import Path
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from patchdrivenet_ros.config import DEFAULT_NODE_NAME, PerceptionConfig, load_yaml
from patchdrivenet_ros.tools.params_file import default_params_file
from patchdrivenet_ros.tools.replay_bag import (
    BagFrame,
    CameraStream,
    ReplayError,
    bag_frames,
    camera_streams,
    read_bag,
)

if TYPE_CHECKING:
    from patchdrivenet_ros.tools.node_process import NodeProcess
    from patchdrivenet_ros.tools.replay_player import OutputCallback, Player, PlayState

LOGGER = logging.getLogger('patchdrivenet_replay')
NODE_START_TIMEOUT_S = 180.0
ANSWER_TIMEOUT_S = 20.0
"""Lockstep: the longest wait for a frame's answer before the next frame is sent anyway."""
RESEND_S = 5.0
"""Lockstep: an unanswered frame is sent again after this long (far above the node's latency)."""
QUIET_END_S = 3.0
"""The replay ends this long after the last output once frames are still unanswered."""
SETTLE_S = 10.0
"""Once every mask is in, the longest wait (after the last output) for the other outputs of the
last frames; the replay ends as soon as they are all in."""
STATUS_WAIT_S = 3.0
"""At the end, the longest wait for one more diagnostics status (the node's final counts)."""
NODE_PARAMETERS = frozenset(f.name for f in fields(PerceptionConfig)) | {'use_sim_time'}


@dataclass(frozen=True)
class Pace:
    """How frames are sent: at ``rate`` x the recorded pace, or in lockstep with the node."""

    rate: float = 1.0
    lockstep: bool = False


def node_arguments(streams: Sequence[CameraStream], overrides: Sequence[str]
                   ) -> tuple[list[str], list[str]]:
    """Return the node's (``-p`` parameters, ``-r`` remaps) that make it read ``streams``.

    One camera: its ``image`` (or ``image/compressed``) input is remapped to the bag's topic.
    Several: ``cameras`` names them camera_0, camera_1, ... and each camera's input is
    remapped. ``overrides`` (``name:=value``) come last, so they win.
    """
    compressed = streams[0].compressed
    suffix = 'image/compressed' if compressed else 'image'
    params = ['use_sim_time:=true', f'image_transport:={"compressed" if compressed else "raw"}']
    if len(streams) > 1:
        params.append(f'cameras:=[{",".join(s.camera for s in streams)}]')
    remaps = [f'{s.camera + "/" if s.camera else ""}{suffix}:={s.topic}' for s in streams]
    return params + list(overrides), remaps


def check_overrides(overrides: Sequence[str]) -> None:
    """Refuse overrides that are not ``name:=value`` of a node parameter."""
    for override in overrides:
        name, separator, _ = override.partition(':=')
        if not separator:
            raise ReplayError(f'--param {override!r}: expected NAME:=VALUE')
        if name not in NODE_PARAMETERS:
            raise ReplayError(f'--param {override!r}: the node has no parameter {name!r}')


def start_node(streams: Sequence[CameraStream], namespace: str, params_file: Path,
               overrides: Sequence[str], log_path: Path) -> NodeProcess:
    """Start the perception node reading ``streams`` in ``namespace``; log to ``log_path``."""
    from patchdrivenet_ros.tools.node_process import NodeProcess

    params, remaps = node_arguments(streams, overrides)
    return NodeProcess(namespace, params, log_path, params_file, remaps)


def play(player: Player, frames: Iterable[BagFrame], total: int, pace: Pace,
         progress: bool = True) -> None:
    """Send ``frames`` (bag time order) at ``pace``; then wait for the last answers."""
    from tqdm import tqdm

    start_wall, first_bag = time.monotonic(), None
    clock_rate = 1.0 if pace.lockstep else pace.rate
    with tqdm(total=total, desc='replay', unit='frame', disable=not progress) as bar:
        for frame in frames:
            first_bag = frame.bag_ns if first_bag is None else first_bag
            if pace.lockstep:
                _wait_for_answer(player, frame.stream.camera)
            else:
                due = start_wall + (frame.bag_ns - first_bag) * 1e-9 / pace.rate
                time.sleep(max(0.0, due - time.monotonic()))
            player.send(frame, clock_rate)
            bar.update()
            bar.set_postfix(answered=player.state.answered, refresh=False)
    _wait_for_last_answers(player)


def _answered(player: Player, camera: str) -> bool:
    return not player.pending(camera)


def _wait_for_answer(player: Player, camera: str) -> None:
    """Wait until the frame ``camera`` sent last is answered, sending it again every RESEND_S.

    Gives up after ANSWER_TIMEOUT_S. The frame is sent again as it was (same stamp); the
    answer's latency counts from the copy sent last.
    """
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    answered = partial(_answered, player, camera)
    while not player.wait_for(answered, min(RESEND_S, deadline - time.monotonic())):
        if time.monotonic() >= deadline:
            return
        player.send_again(camera)


def _wait_for_last_answers(player: Player) -> None:
    """Wait for the last answers, their other outputs and one more status (all bounded).

    Ends when every mask and every other per-frame output of the answered frames is in (or
    none came for SETTLE_S), or when frames are still unanswered and no output came for
    QUIET_END_S.
    """
    state = player.state

    def finished() -> bool:
        quiet = time.time() - max([state.last_output_s,
                                   *(f.sent_s for f in state.last_sent.values())])
        if state.answered == len(state.frames):
            return state.outputs_complete() or quiet > SETTLE_S
        return quiet > QUIET_END_S

    player.wait_for(finished, ANSWER_TIMEOUT_S + QUIET_END_S)
    seen = state.statuses
    player.wait_for(lambda: state.statuses > seen, STATUS_WAIT_S)


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float('nan')


def summarize(state: PlayState, elapsed_s: float) -> dict[str, Any]:
    """Return the replay's numbers: frames in / out per camera, latency, drops, recording."""
    frames = state.frames.values()
    answered = [f for f in frames if f.answered_s is not None]
    latencies = [(f.answered_s - f.sent_s) * 1000.0 for f in answered
                 if f.answered_s is not None]
    cameras = sorted({f.camera for f in frames})
    diag = state.diagnostics
    return {
        'frames_in': len(state.frames),
        'frames_out': len(answered),
        'frames_unanswered': len(state.frames) - len(answered),
        'per_camera': {camera or '(one)': {
            'in': sum(f.camera == camera for f in frames),
            'out': sum(f.camera == camera for f in answered)} for camera in cameras},
        'latency_ms_p50': _percentile(latencies, 50),
        'latency_ms_p95': _percentile(latencies, 95),
        'latency_ms_max': max(latencies, default=float('nan')),
        'node_dropped_frames': int(diag.get('dropped_frames', '0')),
        'node_latency_ms_p95': float(diag.get('latency_ms_p95', 'nan')),
        'outputs_recorded': state.recorded,
        'elapsed_s': elapsed_s,
    }


def print_summary(summary: dict[str, Any], title: str) -> None:
    """Print the summary as a table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column('metric')
    table.add_column('value', justify='right')
    for key, value in summary.items():
        if key == 'per_camera':
            for camera, counts in value.items():
                table.add_row(f'camera {camera}: in / out', f'{counts["in"]} / {counts["out"]}')
        else:
            table.add_row(key, f'{value:.1f}' if isinstance(value, float) else str(value))
    Console().print(table)


@dataclass(frozen=True)
class Session:
    """One replay: what to play, where, how, and what to start and record."""

    bag: Path
    topics: tuple[str, ...] = ()
    pace: Pace = Pace()
    namespace: str = ''
    cameras: tuple[str, ...] = ()  # names of the cameras of a running node (--no-node)
    start_node: bool = True
    params_file: Path | None = None
    overrides: tuple[str, ...] = ()
    record: Path | None = None
    log_path: Path = Path('out/replay/node.log')
    progress: bool = True


def run(session: Session, on_output: OutputCallback | None = None,
        on_frame: Callable[[BagFrame], None] | None = None
        ) -> tuple[dict[str, Any], PlayState]:
    """Replay ``session`` end to end; return the summary and what the player saw.

    Raises ReplayError on bad input, RuntimeError when no node answered.

    ``on_output`` sees every answer (camera, topic, message), ``on_frame`` every frame sent.
    """
    from patchdrivenet_ros.tools.replay_player import Player

    if session.record is not None and session.record.exists():
        raise ReplayError(f'--record {session.record}: exists; choose a new path')
    check_overrides(session.overrides)
    started = time.perf_counter()
    with read_bag(session.bag) as reader:
        streams = _named(camera_streams(reader, session.topics), session.cameras)
        node = (start_node(streams, session.namespace,
                           session.params_file or default_params_file(), session.overrides,
                           session.log_path) if session.start_node else None)
        try:
            player = Player(streams, session.namespace, DEFAULT_NODE_NAME, session.record,
                            on_output)
            try:
                _play_when_ready(player, streams, session, node, reader, on_frame)
            finally:
                player.close()
        finally:
            if node is not None:
                node.stop()
    return summarize(player.state, time.perf_counter() - started), player.state


def _play_when_ready(player: Player, streams: Sequence[CameraStream], session: Session,
                     node: NodeProcess | None, reader: Any,
                     on_frame: Callable[[BagFrame], None] | None) -> None:
    """Wait for the node to subscribe every camera topic, then play the bag."""
    alive = node.alive if node is not None else (lambda: True)
    reliable = node is not None and _node_reliability(session) != 'best_effort'
    if not player.wait_ready(alive, NODE_START_TIMEOUT_S, reliable):
        where = f'; see {session.log_path}' if node is not None else ''
        raise RuntimeError(f'no node answered on {", ".join(s.topic for s in streams)}'
                           f' in {session.namespace or "/"}{where}')
    frames: Iterable[BagFrame] = bag_frames(reader, streams)
    if on_frame is not None:
        frames = _observed(frames, on_frame)
    play(player, frames, sum(s.count for s in streams), session.pace, session.progress)


def _node_reliability(session: Session) -> str:
    """Return the started node's ``qos_reliability``: the last override, else its file's."""
    for override in reversed(session.overrides):
        name, _, value = override.partition(':=')
        if name == 'qos_reliability':
            return value.strip()
    return load_yaml(PerceptionConfig, session.params_file or default_params_file()
                     ).qos_reliability


def _named(streams: list[CameraStream], cameras: Sequence[str]) -> list[CameraStream]:
    """Give the streams the camera names of a running node (in topic order), if named."""
    if not cameras:
        return streams
    if len(cameras) != len(streams) or len(streams) == 1:
        raise ReplayError(f'--cameras names {len(cameras)} cameras for {len(streams)} topics; '
                          'name one per topic, and only for several')
    return [CameraStream(s.topic, s.msgtype, name, s.count)
            for s, name in zip(streams, cameras, strict=True)]


def _observed(frames: Iterable[BagFrame], on_frame: Callable[[BagFrame], None]
              ) -> Iterable[BagFrame]:
    for frame in frames:
        on_frame(frame)
        yield frame


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(prog='patchdrivenet-replay',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('bag', type=Path, help='rosbag2 folder, .mcap, .db3 or ROS 1 .bag')
    parser.add_argument('--topic', action='append', default=[],
                        help='camera topic to play (repeat for several; default: every one)')
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument('--rate', type=float, default=1.0, help='x the recorded pace')
    pace.add_argument('--lockstep', action='store_true',
                      help="send each camera's next frame once the node answered its last")
    parser.add_argument('--record', type=Path, help='write what the node published here (MCAP)')
    parser.add_argument('--params-file', type=Path,
                        help='node parameters (default: config/perception.yaml)')
    parser.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE',
                        help='node parameter override (repeatable)')
    parser.add_argument('--no-node', action='store_true',
                        help='play to a node already running (it subscribes the bag topics)')
    parser.add_argument('--namespace', default='/replay',
                        help="the node's namespace (its outputs are recorded from there)")
    parser.add_argument('--cameras', default='',
                        help="--no-node with several topics: the running node's camera names")
    parser.add_argument('--log', type=Path, default=Path('out/replay/node.log'),
                        help="the started node's log")
    parser.add_argument('--json', type=Path, help='write the summary here')
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    if args.rate <= 0:
        print('error: --rate must be above 0', file=sys.stderr)
        return 2
    session = Session(
        bag=args.bag, topics=tuple(args.topic), pace=Pace(args.rate, args.lockstep),
        namespace=args.namespace, cameras=tuple(c for c in args.cameras.split(',') if c),
        start_node=not args.no_node, params_file=args.params_file,
        overrides=tuple(args.param), record=args.record, log_path=args.log)
    try:
        summary, _ = run(session)
    except ReplayError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    except ImportError as error:
        print(f'error: the replay needs ROS 2 (rclpy) and vision_msgs: source your ROS setup '
              f'or .ws/env.sh ({error})', file=sys.stderr)
        return 1
    except RuntimeError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print_summary(summary, f'patchdrivenet-replay: {args.bag}')
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + '\n', encoding='utf-8')
    if args.record is not None:
        LOGGER.info('outputs recorded in %s (%d messages)', args.record,
                    summary['outputs_recorded'])
    return 0 if summary['frames_out'] > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
