# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: a synthetic drive as a bag, replayed over DDS through the perception node.

  patchdrivenet-demo [--frames 80] [--profile kitti] [--out out/demo] [--lockstep] [--forecast]

1. Render a short synthetic drive (exact labels) and write it as a rosbag2 MCAP bag with the
   topic layout of the profile's converter (KITTI: raw Image; nuScenes: JPEG CompressedImage).
2. Replay it with ``patchdrivenet-replay`` (replay.py): the perception node in its own process
   with config/perception.yaml and the shipped weights (random, with a warning, where none are
   installed), the bag played over DDS at the pace of its stamps (``--lockstep``: each frame
   once the node answered the previous one), every output recorded into ``outputs/`` (MCAP).
3. Score the masks and boxes the node published against the drive's labels: each answered
   frame's own outputs, and in streaming form every sent frame against the output on hand
   when it was sent (with ``--forecast`` also against the node's forecast on hand, asked for
   one frame period ahead: ``forecast_s``).
4. Write ``summary.json``, ``preview.png`` (input, colour mask, patch attention with boxes) and
   ``preview.mp4`` under ``--out``, and print a summary table.
Needs rclpy and vision_msgs (source .ws/env.sh; ``make demo`` does).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX, colorize
from patchdrivenet_ros.config import PerceptionConfig, load_yaml
from patchdrivenet_ros.data.bags import BAG_PROFILES, load_label_sidecar, write_bag
from patchdrivenet_ros.data.frame import FrameLabels, LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
from patchdrivenet_ros.metrics import DetectionEvaluator, SegmentationEvaluator
from patchdrivenet_ros.outputs_bag import (
    FORECASTS,
    MASK,
    NO_DETECTIONS,
    detection_arrays,
    image_pixels,
    stamp_ns,
    streaming_sources,
)
from patchdrivenet_ros.tools.params_file import default_params_file
from patchdrivenet_ros.tools.replay import Pace, Session, run
from patchdrivenet_ros.tools.replay_bag import BagFrame, ReplayError
from patchdrivenet_ros.visualize import mosaic

if TYPE_CHECKING:
    from patchdrivenet_ros.tools.replay_player import OutputCallback

LOGGER = logging.getLogger('patchdrivenet_demo')
NAMESPACE = '/demo'
KEPT = ('segmentation/mask', 'segmentation/color', 'patch_attention', 'detections')
"""The outputs of a frame the demo keeps (scores and previews)."""
VIDEO_FPS = 10.0


@dataclass
class FrameRecord:
    """What was sent for one stamp and what came back."""

    sent_s: float
    image_rgb: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray | None = None  # (H, W) uint8
    color: np.ndarray | None = None  # (H, W, 3) uint8 BGR
    attention: np.ndarray | None = None  # (H, W, 3) uint8 BGR
    detections: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # boxes, scores, ids
    answered_s: float | None = None  # when the mask arrived


@dataclass
class ForecastRecord:
    """A forecast the node published, by its stamp, and when its mask arrived."""

    arrived_s: float
    mask: np.ndarray | None = None  # (H, W) uint8
    detections: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # boxes, scores, ids


def output_recorder(records: dict[int, FrameRecord],
                    forecasts: dict[int, ForecastRecord]) -> OutputCallback:
    """Return the replay callback that keeps each frame's outputs in its record (by stamp).

    Forecasts go to ``forecasts`` by their own stamps (a frame's stamp plus the horizon).
    """

    def keep(camera: str, name: str, message: Any) -> None:
        if name in FORECASTS:
            ahead = forecasts.setdefault(stamp_ns(message), ForecastRecord(time.time()))
            if FORECASTS[name] == MASK:
                ahead.mask, ahead.arrived_s = image_pixels(message), time.time()
            else:
                ahead.detections = detection_arrays(message)
            return
        record = records.get(stamp_ns(message)) if name in KEPT else None
        if record is None:
            return
        if name == 'segmentation/mask':
            record.mask = image_pixels(message)
        elif name == 'segmentation/color':
            record.color = image_pixels(message)
        elif name == 'patch_attention':
            record.attention = image_pixels(message)
        else:
            record.detections = detection_arrays(message)
    return keep


def generate_bag(out: Path, profile: str, frames: int, seed: int,
                 images: dict[int, np.ndarray]) -> Path:
    """Render the drive and write it as a bag (with its label sidecar) under ``out``.

    Each frame's RGB image is kept in ``images`` by stamp (the previews show them).
    """
    from tqdm import tqdm

    bag = out / 'drive'
    for old in (bag, bag.with_name('drive.labels')):
        if old.exists():
            shutil.rmtree(old)
    config = profile_config(profile, num_frames=frames, seed=seed)
    drive = tqdm(generate_drive(config), total=frames, desc='render drive', unit='frame')

    def kept(frame: LabeledFrame) -> LabeledFrame:
        images[frame.stamp_ns] = frame.image
        return frame

    return write_bag(map(kept, drive), bag, profile=profile)


def _score(pairs: list[tuple[FrameRecord | ForecastRecord | None, FrameLabels]]
           ) -> dict[str, float]:
    """Scores of (answered record, truth) pairs; a None record predicts nothing."""
    segmentation, detection = SegmentationEvaluator(CLASS_NAMES), DetectionEvaluator(CLASS_NAMES)
    for record, truth in pairs:
        mask = record.mask if record is not None else None
        found = record.detections if record is not None else None
        segmentation.add(mask if mask is not None else np.full_like(truth.mask, IGNORE_INDEX),
                         truth.mask)
        boxes, scores, ids = found if found is not None else NO_DETECTIONS
        detection.add(boxes, scores, ids, truth.boxes, truth.class_ids)
    seg, det = segmentation.summary(), detection.summary()
    return {'miou': seg['miou'], 'thin_iou': seg['thin_iou'], 'map50': det['map50']}


def summarize(records: dict[int, FrameRecord], replayed: dict[str, Any],
              diagnostics: dict[str, str], bag: Path,
              forecasts: dict[int, ForecastRecord] | None = None) -> dict[str, Any]:
    """Score the drive's labels against the node's outputs and collect the numbers.

    ``miou``, ``thin_iou`` and ``map50`` score each answered frame's own output; the
    ``streaming_`` ones score every sent frame against the output on hand when it was sent,
    and the ``streaming_forecast_`` ones (when the node published forecasts) against the
    forecast on hand. ``replayed`` is the replay's summary, ``diagnostics`` the node's last
    status.
    """
    labels = load_label_sidecar(bag)
    answered = {s: r for s, r in sorted(records.items()) if r.mask is not None}
    own = _score([(record, labels[stamp]) for stamp, record in answered.items()])
    sources = streaming_sources({s: r.sent_s for s, r in records.items()},
                                {s: r.answered_s for s, r in answered.items()
                                 if r.answered_s is not None})
    streaming = _score([(None if source is None else records[source], labels[stamp])
                        for stamp, source in sorted(sources.items())])
    ahead = {s: f for s, f in (forecasts or {}).items() if f.mask is not None}
    forecast_sources = streaming_sources({s: r.sent_s for s, r in records.items()},
                                         {s: f.arrived_s for s, f in ahead.items()})
    forecast = _score([(None if source is None else ahead[source], labels[stamp])
                       for stamp, source in sorted(forecast_sources.items())]) if ahead else {}
    span = (max((r.answered_s or 0.0) for r in answered.values())
            - min(r.sent_s for r in records.values())) if answered else 0.0
    chosen = int(diagnostics.get('patches_chosen_total', '0'))
    return {
        'frames_in': replayed['frames_in'],
        'frames_out': len(answered),
        'detections_total': int(sum(len(r.detections[1]) for r in answered.values()
                                    if r.detections is not None)),
        'latency_ms_p50': replayed['latency_ms_p50'],
        'latency_ms_p95': replayed['latency_ms_p95'],
        'node_latency_ms_p50': float(diagnostics.get('latency_ms_p50', 'nan')),
        'node_latency_ms_p95': float(diagnostics.get('latency_ms_p95', 'nan')),
        'fps': len(answered) / span if span > 0 else 0.0,
        'reuse_ratio': int(diagnostics.get('patches_reused_total', '0')) / chosen
        if chosen else 0.0,
        'global_reuse_ratio': int(diagnostics.get('global_reused_total', '0')) / len(answered)
        if answered else 0.0,
        **own,
        **{f'streaming_{key}': value for key, value in streaming.items()},
        **{f'streaming_forecast_{key}': value for key, value in forecast.items()},
        'dropped_frames': int(diagnostics.get('dropped_frames', '0')),
        'weights_loaded': diagnostics.get('weights_loaded') == 'true',
    }


def _tiles(record: FrameRecord) -> tuple[list[np.ndarray], list[str]]:
    """Tiles of an answered frame: input, colour mask and, when published, patch attention.

    The colour tile is the node's ``segmentation/color`` when it was published, else the
    mask coloured here, so a preview exists whatever ``publish_debug`` says.
    """
    assert record.mask is not None
    tiles = [cv2.cvtColor(record.image_rgb, cv2.COLOR_RGB2BGR),
             record.color if record.color is not None else colorize(record.mask)]
    titles = ['input', 'segmentation (colour)']
    if record.attention is not None:
        tiles.append(record.attention)
        titles.append('patch attention + boxes')
    return tiles, titles


def write_previews(records: dict[int, FrameRecord], out: Path) -> int:
    """Write preview.png (the middle answered frame) and preview.mp4; return video frames."""
    answered = [r for _, r in sorted(records.items()) if r.mask is not None]
    if not answered:
        return 0
    cv2.imwrite(str(out / 'preview.png'), mosaic(*_tiles(answered[len(answered) // 2])))
    first = mosaic(*_tiles(answered[0]))
    size = (first.shape[1], first.shape[0])
    writer = cv2.VideoWriter(str(out / 'preview.mp4'), cv2.VideoWriter.fourcc(*'mp4v'),
                             VIDEO_FPS, size)
    try:
        for record in answered:
            writer.write(cv2.resize(mosaic(*_tiles(record)), size))
    finally:
        writer.release()
    return len(answered)


def print_summary(summary: dict[str, Any], out: Path) -> None:
    """Print the summary as a table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f'patchdrivenet demo: {out}')
    table.add_column('metric')
    table.add_column('value', justify='right')
    for key, value in summary.items():
        table.add_row(key, f'{value:.3f}' if isinstance(value, float) else str(value))
    Console().print(table)


def forecast_override(params_file: Path | None, profile: str) -> tuple[str, ...]:
    """Ask the node for forecasts one frame period ahead, unless its params file sets its own."""
    if load_yaml(PerceptionConfig, params_file or default_params_file()).forecast_s > 0:
        return ()
    return (f'forecast_s:={1.0 / profile_config(profile).fps:.6g}',)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=80, help='frames of the drive')
    parser.add_argument('--profile', choices=sorted(BAG_PROFILES), default='kitti')
    parser.add_argument('--out', type=Path, default=Path('out/demo'))
    parser.add_argument('--seed', type=int, default=11, help='seed of the drive')
    parser.add_argument('--weights', default='', help='.safetensors (default: the shipped one)')
    parser.add_argument('--params-file', type=Path, default=None,
                        help='node parameters (default: config/perception.yaml)')
    parser.add_argument('--lockstep', action='store_true',
                        help='send each frame once the previous one was answered')
    parser.add_argument('--forecast', action='store_true',
                        help='ask the node for forecasts one frame period ahead (forecast_s) '
                        'and score them in streaming form too')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    started = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    drive: dict[int, np.ndarray] = {}
    bag = generate_bag(out, args.profile, args.frames, args.seed, drive)
    records: dict[int, FrameRecord] = {}
    outputs = out / 'outputs'
    if outputs.exists():
        shutil.rmtree(outputs)
    overrides = (f'weights:={args.weights}',) if args.weights else ()
    session = Session(
        bag=bag, pace=Pace(lockstep=args.lockstep), namespace=NAMESPACE,
        params_file=args.params_file,
        overrides=overrides + (forecast_override(args.params_file, args.profile)
                               if args.forecast else ()),
        record=outputs, log_path=out / 'node.log')
    forecasts: dict[int, ForecastRecord] = {}

    def sent(frame: BagFrame) -> None:
        records[frame.stamp_ns] = FrameRecord(0.0, drive[frame.stamp_ns])

    try:
        replayed, state = run(session, output_recorder(records, forecasts), sent)
    except (ReplayError, RuntimeError) as error:
        LOGGER.error('%s', error)
        return 1
    for (_, stamp), frame in state.frames.items():
        records[stamp].sent_s, records[stamp].answered_s = frame.sent_s, frame.answered_s
    summary = summarize(records, replayed, state.diagnostics, bag, forecasts)
    video_frames = write_previews(records, out)
    summary['elapsed_s'] = time.perf_counter() - started
    (out / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n', encoding='utf-8')
    print_summary(summary, out)
    LOGGER.info('wrote %s, %s, %s (%d frames) and the outputs bag %s', out / 'summary.json',
                out / 'preview.png', out / 'preview.mp4', video_frames, out / 'outputs')
    if not summary['weights_loaded']:
        LOGGER.warning('the node ran UNTRAINED random weights: the scores mean nothing yet')
    return 0 if summary['frames_out'] > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
