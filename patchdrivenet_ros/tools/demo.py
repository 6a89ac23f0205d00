# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``make demo``: a synthetic drive as a bag, replayed over DDS through the perception node.

  patchdrivenet-demo [--frames 80] [--profile kitti] [--out out/demo] [--lockstep]

1. Render a short synthetic drive (exact labels) and write it as a rosbag2 MCAP bag with the
   topic layout of the profile's converter (KITTI: raw Image; nuScenes: JPEG CompressedImage).
2. Start the perception node in its own process with config/perception.yaml and the shipped
   weights (random, with a warning, where none are installed).
3. Replay the bag over DDS at the pace of its stamps (``--lockstep``: each frame once the node
   answered the previous one), record every output into ``outputs/`` (MCAP) and score the masks
   and boxes against the drive's labels.
4. Write ``summary.json``, ``preview.png`` (input, colour mask, patch attention with boxes) and
   ``preview.mp4`` under ``--out``, and print a summary table.
Needs rclpy and vision_msgs (source .ws/env.sh; ``make demo`` does).
"""

from __future__ import annotations

import argparse
import bisect
from dataclasses import dataclass, field
import json
import logging
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX, colorize
from patchdrivenet_ros.config import PerceptionConfig, load_yaml
from patchdrivenet_ros.data.bags import (
    BAG_PROFILES,
    COMPRESSED,
    decode_image,
    load_label_sidecar,
    vision_msgs_typestore,
    write_bag,
)
from patchdrivenet_ros.data.frame import FrameLabels
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
from patchdrivenet_ros.metrics import DetectionEvaluator, SegmentationEvaluator
from patchdrivenet_ros.tools.params_file import default_params_file
from patchdrivenet_ros.visualize import mosaic

LOGGER = logging.getLogger('patchdrivenet_demo')
NAMESPACE = '/demo'
OUTPUTS = {  # topic under NAMESPACE -> message type name
    'segmentation/mask': 'sensor_msgs/msg/Image',
    'segmentation/color': 'sensor_msgs/msg/Image',
    'patch_attention': 'sensor_msgs/msg/Image',
    'detections': 'vision_msgs/msg/Detection2DArray',
}
NODE_START_TIMEOUT_S = 180.0
ANSWER_TIMEOUT_S = 20.0
QUIET_END_S = 3.0
VIDEO_FPS = 10.0
_NO_DETECTIONS = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


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
class Replay:
    """The state of one replay: records by stamp, the last diagnostics, timing."""

    records: dict[int, FrameRecord] = field(default_factory=dict)
    diagnostics: dict[str, str] = field(default_factory=dict)
    last_output_s: float = 0.0


def _image_array(msg: Any) -> np.ndarray:
    """Return an Image message's pixels as (H, W) or (H, W, C) uint8 (a copy)."""
    channels = int(msg.step) // max(1, int(msg.width))
    data = np.frombuffer(msg.data, np.uint8).reshape(int(msg.height), int(msg.step))
    pixels = data[:, : int(msg.width) * channels]
    shape = (int(msg.height), int(msg.width)) + ((channels,) if channels > 1 else ())
    return pixels.reshape(shape).copy()


def _detection_arrays(msg: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return a Detection2DArray as xyxy boxes (N, 4), scores (N,) and class ids (N,)."""
    boxes, scores, ids = [], [], []
    for detection in msg.detections:
        cx, cy = detection.bbox.center.position.x, detection.bbox.center.position.y
        w, h = detection.bbox.size_x, detection.bbox.size_y
        boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        best = max(detection.results, key=lambda r: r.hypothesis.score)
        scores.append(best.hypothesis.score)
        ids.append(int(best.hypothesis.class_id))
    return (np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
            np.array(ids, np.int64))


class Recorder:
    """Subscribe to every output (raw), write each to an MCAP bag and keep what scoring needs."""

    def __init__(self, node: Any, replay: Replay, bag_path: Path) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.serialization import deserialize_message
        from rosbags.rosbag2 import StoragePlugin, Writer
        from sensor_msgs.msg import Image
        from vision_msgs.msg import Detection2DArray

        self._replay = replay
        self._deserialize = deserialize_message
        self._types = {'sensor_msgs/msg/Image': Image,
                       'vision_msgs/msg/Detection2DArray': Detection2DArray}
        store = vision_msgs_typestore()
        if bag_path.exists():
            shutil.rmtree(bag_path)
        self._writer = Writer(bag_path, version=8, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        for topic, type_name in OUTPUTS.items():
            full = f'{NAMESPACE}/{topic}'
            connection = self._writer.add_connection(full, type_name, typestore=store)
            node.create_subscription(self._types[type_name], full,
                                     self._callback(topic, type_name, connection), 20, raw=True)
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    def _callback(self, topic: str, type_name: str, connection: Any) -> Any:
        def receive(raw: bytes) -> None:
            now = time.perf_counter()
            self._writer.write(connection, time.time_ns(), raw)
            msg = self._deserialize(raw, self._types[type_name])
            stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
            record = self._replay.records.get(stamp)
            self._replay.last_output_s = now
            if record is None:
                return
            if topic == 'segmentation/mask':
                record.mask, record.answered_s = _image_array(msg), now
            elif topic == 'segmentation/color':
                record.color = _image_array(msg)
            elif topic == 'patch_attention':
                record.attention = _image_array(msg)
            else:
                record.detections = _detection_arrays(msg)
        return receive

    def _on_diagnostics(self, msg: Any) -> None:
        for status in msg.status:
            if status.name.startswith(f'{NAMESPACE}/'):
                self._replay.diagnostics = {kv.key: kv.value for kv in status.values}

    def close(self) -> None:
        """Finish the bag."""
        self._writer.close()


def generate_bag(out: Path, profile: str, frames: int, seed: int) -> Path:
    """Render the drive and write it as a bag (with its label sidecar) under ``out``."""
    from tqdm import tqdm

    bag = out / 'drive'
    for old in (bag, bag.with_name('drive.labels')):
        if old.exists():
            shutil.rmtree(old)
    config = profile_config(profile, num_frames=frames, seed=seed)
    drive = tqdm(generate_drive(config), total=frames, desc='render drive', unit='frame')
    return write_bag(drive, bag, profile=profile)


def start_node(out: Path, params_file: Path, profile: str, weights: str) -> subprocess.Popen:
    """Start the perception node in its own process; its log goes to ``out/node.log``."""
    layout = BAG_PROFILES[profile]
    args = ['--ros-args', '--params-file', str(params_file), '-r', f'__ns:={NAMESPACE}']
    if layout.msgtype == COMPRESSED:
        args += ['-p', 'image_transport:=compressed',
                 '-r', f'image/compressed:={layout.image_topic}']
    else:
        args += ['-r', f'image:={layout.image_topic}']
    if weights:
        args += ['-p', f'weights:={weights}']
    log = (out / 'node.log').open('w', encoding='utf-8')
    return subprocess.Popen([sys.executable, '-m', 'patchdrivenet_ros.ros.node', *args],
                            stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))


def _spin_until(executor: Any, predicate: Any, timeout_s: float) -> bool:
    """Spin until ``predicate()`` holds or ``timeout_s`` passes; return whether it held."""
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.005)
    return bool(predicate())


def replay_bag(bag: Path, profile: str, node_process: subprocess.Popen, out: Path,
               lockstep: bool, expect_debug: bool = True) -> Replay:
    """Publish the bag's images over DDS, record the node's outputs; return what happened."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore
    from sensor_msgs.msg import CompressedImage, Image
    from tqdm import tqdm

    layout = BAG_PROFILES[profile]
    replay = Replay()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('patchdrivenet_demo_player', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    recorder = Recorder(node, replay, out / 'outputs')
    msg_type = CompressedImage if layout.msgtype == COMPRESSED else Image
    publisher = node.create_publisher(msg_type, layout.image_topic,
                                      QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    try:
        ready = _spin_until(executor, lambda: _node_ready(node, layout.image_topic)
                            or node_process.poll() is not None, NODE_START_TIMEOUT_S)
        if not ready or node_process.poll() is not None:
            raise RuntimeError(f'the node did not start; see {out / "node.log"}')
        with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_KILTED)) as reader:
            connections = [c for c in reader.connections if c.topic == layout.image_topic]
            messages = list(reader.messages(connections=connections))
            start_wall, first_stamp = time.perf_counter(), None
            for connection, bag_ns, raw in tqdm(messages, desc='replay', unit='frame'):
                first_stamp = bag_ns if first_stamp is None else first_stamp
                if not lockstep:
                    due = start_wall + (bag_ns - first_stamp) * 1e-9
                    _spin_until(executor, lambda due=due: time.perf_counter() >= due, 60.0)
                msg: Any = reader.deserialize(raw, connection.msgtype)
                stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
                image, _ = decode_image(msg, connection.msgtype)
                replay.records[stamp] = FrameRecord(time.perf_counter(), image)
                publisher.publish(bytes(raw))
                if lockstep:
                    _spin_until(executor,
                                lambda s=stamp: _complete(replay.records[s], expect_debug),
                                ANSWER_TIMEOUT_S)
        _spin_until(executor, lambda: time.perf_counter() - max(
            replay.last_output_s, max(r.sent_s for r in replay.records.values())) > QUIET_END_S,
            ANSWER_TIMEOUT_S + QUIET_END_S)
        _spin_until(executor, lambda: False, 1.5)  # one more diagnostics period
    finally:
        recorder.close()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    return replay


def _node_ready(node: Any, topic: str) -> bool:
    """Whether the perception node subscribed ``topic`` reliably (matched our publisher)."""
    from rclpy.qos import ReliabilityPolicy

    infos = node.get_subscriptions_info_by_topic(topic)
    return any(i.qos_profile.reliability == ReliabilityPolicy.RELIABLE for i in infos)


def _complete(record: FrameRecord, expect_debug: bool) -> bool:
    """Whether every output of a frame arrived (the debug images only when published)."""
    outputs = [record.mask, record.detections]
    if expect_debug:
        outputs += [record.color, record.attention]
    return all(v is not None for v in outputs)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float('nan')


def streaming_sources(records: dict[int, FrameRecord]) -> dict[int, int | None]:
    """Map each sent frame's stamp to the stamp of the output on hand when it was sent.

    That is the frame whose mask arrived last at or before the moment the frame was sent
    (streaming perception: the world does not wait for the answer); None before any answer.
    """
    arrivals = sorted((r.answered_s, s) for s, r in records.items() if r.answered_s is not None)
    times = [answered_s for answered_s, _ in arrivals]
    sources: dict[int, int | None] = {}
    for stamp, record in records.items():
        on_hand = bisect.bisect_right(times, record.sent_s)
        sources[stamp] = arrivals[on_hand - 1][1] if on_hand else None
    return sources


def _score(pairs: list[tuple[FrameRecord | None, FrameLabels]]) -> dict[str, float]:
    """Scores of (answered record, truth) pairs; a None record predicts nothing."""
    segmentation, detection = SegmentationEvaluator(CLASS_NAMES), DetectionEvaluator(CLASS_NAMES)
    for record, truth in pairs:
        mask = record.mask if record is not None else None
        found = record.detections if record is not None else None
        segmentation.add(mask if mask is not None else np.full_like(truth.mask, IGNORE_INDEX),
                         truth.mask)
        boxes, scores, ids = found if found is not None else _NO_DETECTIONS
        detection.add(boxes, scores, ids, truth.boxes, truth.class_ids)
    seg, det = segmentation.summary(), detection.summary()
    return {'miou': seg['miou'], 'thin_iou': seg['thin_iou'], 'map50': det['map50']}


def summarize(replay: Replay, bag: Path) -> dict[str, Any]:
    """Score the drive's labels against the node's outputs and collect the numbers.

    ``miou``, ``thin_iou`` and ``map50`` score each answered frame's own output; the
    ``streaming_`` ones score every sent frame against the output on hand when it was sent.
    """
    labels = load_label_sidecar(bag)
    answered = {s: r for s, r in sorted(replay.records.items()) if r.mask is not None}
    own = _score([(record, labels[stamp]) for stamp, record in answered.items()])
    streaming = _score([(None if source is None else replay.records[source], labels[stamp])
                        for stamp, source in sorted(streaming_sources(replay.records).items())])
    latencies = [(r.answered_s - r.sent_s) * 1000.0 for r in answered.values()
                 if r.answered_s is not None]
    span = (max((r.answered_s or 0.0) for r in answered.values())
            - min(r.sent_s for r in replay.records.values())) if answered else 0.0
    diag = replay.diagnostics
    chosen = int(diag.get('patches_chosen_total', '0'))
    return {
        'frames_in': len(replay.records),
        'frames_out': len(answered),
        'detections_total': int(sum(len(r.detections[1]) for r in answered.values()
                                    if r.detections is not None)),
        'latency_ms_p50': _percentile(latencies, 50),
        'latency_ms_p95': _percentile(latencies, 95),
        'node_latency_ms_p50': float(diag.get('latency_ms_p50', 'nan')),
        'node_latency_ms_p95': float(diag.get('latency_ms_p95', 'nan')),
        'fps': len(answered) / span if span > 0 else 0.0,
        'reuse_ratio': int(diag.get('patches_reused_total', '0')) / chosen if chosen else 0.0,
        **own,
        **{f'streaming_{key}': value for key, value in streaming.items()},
        'dropped_frames': int(diag.get('dropped_frames', '0')),
        'weights_loaded': diag.get('weights_loaded') == 'true',
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


def write_previews(replay: Replay, out: Path) -> int:
    """Write preview.png (the middle answered frame) and preview.mp4; return video frames."""
    answered = [r for _, r in sorted(replay.records.items()) if r.mask is not None]
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


def stop_node(process: subprocess.Popen) -> None:
    """Interrupt the node as Ctrl-C does; kill it if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    started = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    bag = generate_bag(out, args.profile, args.frames, args.seed)
    params_file = args.params_file or default_params_file()
    expect_debug = load_yaml(PerceptionConfig, params_file).publish_debug
    process = start_node(out, params_file, args.profile,
                         args.weights)
    try:
        replay = replay_bag(bag, args.profile, process, out, args.lockstep, expect_debug)
    except RuntimeError as error:
        LOGGER.error('%s', error)
        return 1
    finally:
        stop_node(process)
    summary = summarize(replay, bag)
    video_frames = write_previews(replay, out)
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
