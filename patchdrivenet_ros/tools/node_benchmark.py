# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark the perception node: its own overhead per frame, and end-to-end latency over DDS.

  python -m patchdrivenet_ros.tools.node_benchmark [--frames 30] [--weights W] [--json out.json]

1. Overhead beyond the model call, in process, at 1242x375 and 1600x900: decoding the Image,
   building the output messages (mask, detections; colour and patch attention when debug images
   are subscribed) and publishing them to a subscriber in another DDS participant.
2. End to end: the node in its own process, frames published at 10 Hz and 30 Hz; latency is
   the wall time from publishing a frame to receiving its mask, frames not answered count as
   dropped (the node always works on the newest frame).
Needs rclpy and vision_msgs (source .ws/env.sh).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

SIZES = ((1242, 375), (1600, 900))
RATES_HZ = (10.0, 30.0)
DRIVE_FRAMES = 20
WARMUP_FRAMES = 3


def _median_ms(run: Callable[[], Any], repeats: int) -> float:
    """Return the median wall time of ``run`` in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _percentiles(values: list[float]) -> tuple[float, float]:
    """Return (p50, p95) of ``values``; NaN when empty."""
    if not values:
        return float('nan'), float('nan')
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _engine(config: Any) -> Any:
    from patchdrivenet_ros.engine import PerceptionEngine

    return PerceptionEngine.from_config(config)


def _overhead_row(engine: Any, drive: list[np.ndarray], publishers: tuple[Any, Any],
                  repeats: int) -> dict[str, float]:
    """Time the stages at one frame size: model call (over a drive), decode, build, publish."""
    from std_msgs.msg import Header

    from patchdrivenet_ros.classes import colorize
    from patchdrivenet_ros.ros.conversions import (
        bgr_to_image,
        frame_to_image,
        image_to_frame,
        mask_to_image,
    )
    from patchdrivenet_ros.ros.detections import detections_to_msg
    from patchdrivenet_ros.visualize import render_patch_attention

    image_pub, detection_pub = publishers
    classes = tuple(engine.model_config.classes)
    pixels = drive[0]
    msg = frame_to_image(pixels, Header(frame_id='camera'))
    header = msg.header
    frame = image_to_frame(msg)
    engine.infer([frame.pixels])  # warm up
    result = engine.infer([frame.pixels])[0]
    sequence = iter(drive[1:])
    mask_msg = mask_to_image(result.mask, header)
    detections_msg = detections_to_msg(result, header)
    color_msg = bgr_to_image(colorize(result.mask), header)

    def model() -> None:
        engine.infer([next(sequence)])

    def decode() -> None:
        image_to_frame(msg)

    def build() -> None:
        mask_to_image(result.mask, header)
        detections_to_msg(result, header)

    def publish() -> None:
        image_pub.publish(mask_msg)
        detection_pub.publish(detections_msg)

    def build_debug() -> None:
        bgr_to_image(colorize(result.mask), header)
        bgr = np.ascontiguousarray(pixels[:, :, ::-1])
        bgr_to_image(render_patch_attention(bgr, result, classes), header)

    def publish_debug() -> None:
        image_pub.publish(color_msg)
        image_pub.publish(color_msg)

    row = {
        'width': float(pixels.shape[1]),
        'height': float(pixels.shape[0]),
        'model_ms': _median_ms(model, len(drive) - 1),
        'decode_ms': _median_ms(decode, repeats),
        'build_ms': _median_ms(build, repeats),
        'publish_ms': _median_ms(publish, repeats),
        'debug_build_ms': _median_ms(build_debug, repeats),
        'debug_publish_ms': _median_ms(publish_debug, repeats),
    }
    row['overhead_ms'] = row['decode_ms'] + row['build_ms'] + row['publish_ms']
    row['overhead_debug_ms'] = row['overhead_ms'] + row['debug_build_ms'] + row['debug_publish_ms']
    return row


def measure_overhead(config: Any, sizes: tuple[tuple[int, int], ...],
                     repeats: int) -> list[dict[str, float]]:
    """Time each stage of handling one frame in process; return one row per size.

    The outputs go to a subscriber in a second DDS participant, so publishing serializes and
    sends as it does in the node.
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image
    from vision_msgs.msg import Detection2DArray

    engine = _engine(config)
    contexts = [rclpy.Context(), rclpy.Context()]
    for context in contexts:
        rclpy.init(context=context)
    sender = rclpy.create_node('overhead_sender', context=contexts[0])
    receiver = rclpy.create_node('overhead_receiver', context=contexts[1])
    publishers = (sender.create_publisher(Image, 'bench/image_out', 5),
                  sender.create_publisher(Detection2DArray, 'bench/detections', 5))
    receiver.create_subscription(Image, 'bench/image_out', _ignore, 5)
    receiver.create_subscription(Detection2DArray, 'bench/detections', _ignore, 5)
    executor = SingleThreadedExecutor(context=contexts[1])
    executor.add_node(receiver)
    spinning = threading.Event()
    spinning.set()

    def spin() -> None:
        while spinning.is_set():
            executor.spin_once(timeout_sec=0.05)

    spinner = threading.Thread(target=spin, daemon=True)
    spinner.start()
    time.sleep(1.0)  # discovery
    try:
        return [_overhead_row(engine, drive_frames(size, max(4, repeats // 3) + 1), publishers,
                              repeats) for size in sizes]
    finally:
        spinning.clear()
        spinner.join(timeout=2.0)
        executor.shutdown()
        sender.destroy_node()
        receiver.destroy_node()
        for context in contexts:
            rclpy.try_shutdown(context=context)


def _ignore(_: Any) -> None:
    """Drop a received message."""


def measure_end_to_end(node_args: list[str], size: tuple[int, int], rates: tuple[float, ...],
                       seconds: float) -> list[dict[str, float]]:
    """Run the node in its own process and time frames published at each rate."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.conversions import frame_to_image

    command = [sys.executable, '-m', 'patchdrivenet_ros.ros.node', '--ros-args',
               '-r', '__ns:=/bench', *node_args]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               env=dict(os.environ))
    context = rclpy.Context()
    rclpy.init(context=context)
    client = rclpy.create_node('e2e_client', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(client)
    answered: dict[tuple[int, int], float] = {}

    def receive(msg: Image) -> None:
        answered.setdefault((msg.header.stamp.sec, msg.header.stamp.nanosec), time.perf_counter())

    client.create_subscription(Image, '/bench/segmentation/mask', receive, 50)
    publisher = client.create_publisher(
        Image, '/bench/image', QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    rows = []
    try:
        _spin_until(executor, lambda: _node_reliable(client) or process.poll() is not None,
                    120.0)
        if not _node_reliable(client):
            raise RuntimeError('the node did not start (run it by hand to see why)')
        messages = [frame_to_image(pixels, Header(frame_id='camera'))
                    for pixels in drive_frames(size, DRIVE_FRAMES)]
        for index in range(WARMUP_FRAMES):  # the first frames of a process are slow
            _send(publisher, messages[index % len(messages)])
            _spin_until(executor, partial(_more_than, answered, index), 30.0)
        for rate in rates:
            _spin_until(executor, lambda: False, 1.0)  # let the node drain
            sent: dict[tuple[int, int], float] = {}
            start = time.perf_counter()
            for index in range(int(seconds * rate)):
                _spin_until(executor, partial(_reached, start + index / rate), 5.0)
                sent[_send(publisher, messages[index % len(messages)])] = (
                    time.perf_counter())
            _spin_until(executor, lambda: False, 2.0)
            latencies = [(answered[k] - sent[k]) * 1000.0 for k in sent if k in answered]
            p50, p95 = _percentiles(latencies)
            rows.append({'rate_hz': rate, 'sent': float(len(sent)),
                         'answered': float(len(latencies)), 'latency_ms_p50': p50,
                         'latency_ms_p95': p95})
    finally:
        executor.shutdown()
        client.destroy_node()
        rclpy.try_shutdown(context=context)
        process.send_signal(2)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    return rows


def _send(publisher: Any, msg: Any) -> tuple[int, int]:
    """Stamp ``msg`` with the wall clock, publish it and return the stamp as (sec, nanosec)."""
    now_ns = time.time_ns()
    msg.header.stamp.sec, msg.header.stamp.nanosec = now_ns // 10**9, now_ns % 10**9
    publisher.publish(msg)
    return int(msg.header.stamp.sec), int(msg.header.stamp.nanosec)


def drive_frames(size: tuple[int, int], count: int) -> list[np.ndarray]:
    """Render ``count`` RGB frames of a synthetic drive at ``size`` (realistic content)."""
    from patchdrivenet_ros.data.synthetic import generate_drive, profile_config

    profile = 'nuscenes' if size == (1600, 900) else 'kitti'
    config = profile_config(profile, width=size[0], height=size[1], num_frames=count, seed=7)
    return [frame.image for frame in generate_drive(config)]


def _more_than(answered: dict[Any, float], count: int) -> bool:
    """Whether more than ``count`` frames were answered."""
    return len(answered) > count


def _reached(due: float) -> bool:
    """Whether the perf_counter clock reached ``due``."""
    return time.perf_counter() >= due


def _node_reliable(client: Any) -> bool:
    """Whether the node subscribed /bench/image reliably (it matched our publisher)."""
    from rclpy.qos import ReliabilityPolicy

    infos = client.get_subscriptions_info_by_topic('/bench/image')
    return bool(infos) and infos[0].qos_profile.reliability == ReliabilityPolicy.RELIABLE


def _spin_until(executor: Any, predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Spin ``executor`` until ``predicate`` holds or ``timeout_s`` passes."""
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.002)
    return predicate()


def _print_tables(overhead: list[dict[str, float]], end_to_end: list[dict[str, float]],
                  size: tuple[int, int]) -> None:
    """Print both tables side by side (rich)."""
    from rich.columns import Columns
    from rich.console import Console
    from rich.table import Table

    left = Table(title='Per frame, in process (median ms)')
    left.add_column('stage')
    for row in overhead:
        left.add_column(f'{int(row["width"])}x{int(row["height"])}', justify='right')
    stages = [('model call', 'model_ms'), ('decode Image', 'decode_ms'),
              ('build mask + detections', 'build_ms'), ('publish mask + detections', 'publish_ms'),
              ('overhead (no debug)', 'overhead_ms'), ('build colour + attention',
                                                       'debug_build_ms'),
              ('publish colour + attention', 'debug_publish_ms'),
              ('overhead (with debug)', 'overhead_debug_ms')]
    for label, key in stages:
        left.add_row(label, *[f'{row[key]:.2f}' for row in overhead])
    right = Table(title=f'End to end over DDS, {size[0]}x{size[1]}')
    for column in ('input Hz', 'sent', 'answered', 'p50 ms', 'p95 ms'):
        right.add_column(column, justify='right')
    for row in end_to_end:
        right.add_row(f'{row["rate_hz"]:.0f}', f'{row["sent"]:.0f}', f'{row["answered"]:.0f}',
                      f'{row["latency_ms_p50"]:.1f}', f'{row["latency_ms_p95"]:.1f}')
    Console().print(Columns([left, right]))


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--weights', default='', help='.safetensors file (default: shipped)')
    parser.add_argument('--device', default='auto')
    parser.add_argument('--patch-budget', type=int, default=12)
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0 = default)')
    parser.add_argument('--repeats', type=int, default=30, help='repeats per in-process stage')
    parser.add_argument('--seconds', type=float, default=6.0, help='seconds per input rate')
    parser.add_argument('--e2e-size', default='1242x375', help='frame size end to end')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)

    from patchdrivenet_ros.config import PerceptionConfig

    config = PerceptionConfig(weights=args.weights, device=args.device,
                              patch_budget=args.patch_budget, threads=args.threads)
    overhead = measure_overhead(config, SIZES, args.repeats)
    width, height = (int(v) for v in args.e2e_size.split('x'))
    node_args = ['-p', f'patch_budget:={args.patch_budget}', '-p', f'device:={args.device}',
                 '-p', f'threads:={args.threads}']
    if args.weights:
        node_args += ['-p', f'weights:={args.weights}']
    end_to_end = measure_end_to_end(node_args, (width, height), RATES_HZ, args.seconds)
    _print_tables(overhead, end_to_end, (width, height))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({'overhead': overhead, 'end_to_end': end_to_end},
                                        indent=2), encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
