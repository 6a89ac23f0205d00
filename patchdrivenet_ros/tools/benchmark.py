# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Cost of PatchDriveNet against its single-forward baselines, side by side, in one run.

For each frame size: SF-full, SF-depth-0.5 (full resolution), PatchDriveNet at several patch
budgets, and SF-low, each through the PerceptionEngine (temporal reuse off: every frame pays
in full). Reports median end-to-end latency, per-stage medians, the FLOPs actually spent and
the peak memory growth of inference (each configuration in a fresh process; see
benchmark_memory), with ratios to SF-full. Untrained weights unless --weights is given (cost
does not depend on them).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
import json
import math
from pathlib import Path
import platform
import statistics
import time

import numpy as np
import torch

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig, with_changes
from patchdrivenet_ros.data.drive_config import PROFILES, profile_config
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine, resolve_device
from patchdrivenet_ros.model import PatchDriveNet, build_model, load_weights
from patchdrivenet_ros.model.baselines import depth_half
from patchdrivenet_ros.tools.benchmark_memory import MemoryJob, peak_growth_mb
from patchdrivenet_ros.tools.benchmark_plot import plot_benchmark


@dataclass(frozen=True)
class Row:
    """One measured configuration."""

    size: str
    method: str
    backend: str  # torch or onnxruntime
    patch_budget: int
    gflops: float
    flops_ratio: float  # to SF-full at the same size
    latency_ms: float  # median end-to-end engine latency
    latency_ratio: float  # to SF-full at the same size
    stages_ms: dict[str, float]  # median per stage
    peak_memory_mb: float  # growth during inference: RSS on CPU, max allocated on CUDA
    memory_ratio: float  # to SF-full at the same size


def parse_size(text: str) -> tuple[int, int]:
    """Parse WIDTHxHEIGHT."""
    try:
        width, height = (int(part) for part in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected WIDTHxHEIGHT, got {text!r}') from None
    return width, height


def driving_frame(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Return a clear-weather frame (H, W, 3) uint8 of the synthetic driving world at this size.

    Seen by the camera profile of that size, else the one nearest in aspect ratio and then
    width. Fusion's cost follows the content (the global prediction's class boundaries), so
    the frame is a street scene: on smoothed noise 1-4% of the global cells held a boundary,
    on driving frames a quarter to a third.
    """
    def distance(name: str) -> tuple[float, int]:
        camera = PROFILES[name]
        aspect = math.log(camera['width'] / camera['height'] * height / width)
        return abs(aspect), abs(camera['width'] - width)

    config = profile_config(min(PROFILES, key=distance), width=width, height=height,
                            num_frames=1, seed=seed, conditions=())
    return next(iter(generate_drive(config))).image


def measure(engine: PerceptionEngine, frame: np.ndarray, repeats: int,
            warmup: int) -> tuple[float, float, dict[str, float]]:
    """Return (median latency ms, FLOPs per frame, median ms per stage) of engine.infer."""
    for _ in range(warmup):
        engine.infer([frame])
    latencies, stages, flops = [], [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        result = engine.infer([frame])[0]
        latencies.append((time.perf_counter() - start) * 1e3)
        stages.append(result.timings_ms)
        flops = result.flops
    names = stages[0].keys()
    return (statistics.median(latencies), flops,
            {name: round(statistics.median(s[name] for s in stages), 2) for name in names})


def runs(budgets: Sequence[int], backends: Sequence[str]) -> list[tuple[str, str, int, str]]:
    """(label, method, budget, backend) of each configuration, SF-full on torch first."""
    return [(label, method, budget, backend) for backend in backends
            for label, method, budget in
            [('sf_full', 'sf_full', 0), ('sf_depth_0.5', 'sf_full', 0)]
            + [('patchdrivenet', 'patchdrivenet', budget) for budget in budgets]
            + [('sf_low', 'sf_low', 0)]]


def benchmark(model: PatchDriveNet, half: PatchDriveNet, sizes: Sequence[tuple[int, int]],
              budgets: Sequence[int], base: PerceptionConfig, repeats: int, warmup: int,
              weights: Path | None = None, memory_frames: int = 0,
              backends: Sequence[str] = ('torch',)) -> list[Row]:
    """Measure every configuration at every size (memory too when memory_frames > 0).

    Ratios are to SF-full on the first backend.
    """
    rows: list[Row] = []
    for width, height in sizes:
        frame = driving_frame(width, height)
        measured = []
        for label, method, budget, backend in runs(budgets, backends):
            config = with_changes(base, method=method, patch_budget=budget, reuse_rule='off',
                                  backend=backend)
            half_depth = label == 'sf_depth_0.5'
            engine = PerceptionEngine(half if half_depth else model, config)
            memory = (peak_growth_mb(MemoryJob(model.config, weights, half_depth, config, width,
                                               height, memory_frames))
                      if memory_frames > 0 else float('nan'))
            measured.append((label, backend, budget, *measure(engine, frame, repeats, warmup),
                             memory))
        reference_ms, reference_flops, reference_mb = (measured[0][3], measured[0][4],
                                                       measured[0][6])
        rows += [Row(f'{width}x{height}', label, backend, budget, flops / 1e9,
                     flops / reference_flops, latency, latency / reference_ms, stages, memory,
                     memory / reference_mb if reference_mb > 0 else float('nan'))
                 for label, backend, budget, latency, flops, stages, memory in measured]
    return rows


def table(rows: Sequence[Row]) -> str:
    """Format rows as a fixed-width table."""
    lines = [f'{"size":<10} {"method":<14} {"backend":<11} {"budget":>6} {"GFLOPs":>8} '
             f'{"x full":>7} {"ms":>9} {"x full":>7} {"peak MB":>8} {"x full":>7}  stages (ms)']
    for row in rows:
        stages = ' '.join(f'{k}={v:g}' for k, v in row.stages_ms.items() if v >= 0.05)
        lines.append(f'{row.size:<10} {row.method:<14} {row.backend:<11} {row.patch_budget:>6} '
                     f'{row.gflops:>8.3f} {row.flops_ratio:>7.3f} {row.latency_ms:>9.1f} '
                     f'{row.latency_ratio:>7.3f} {row.peak_memory_mb:>8.0f} '
                     f'{row.memory_ratio:>7.3f}  {stages}')
    return '\n'.join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog='patchdrivenet-benchmark', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--device', default='auto', help='auto, cpu, cuda or cuda:N')
    parser.add_argument('--repeats', type=int, default=3, help='timed frames per row')
    parser.add_argument('--warmup', type=int, default=1, help='untimed frames per row')
    parser.add_argument('--sizes', type=parse_size, nargs='+',
                        default=[(1242, 375), (1600, 900), (3840, 2160), (7680, 4320)],
                        help='frame sizes, WIDTHxHEIGHT')
    parser.add_argument('--budgets', type=int, nargs='+', default=[4, 12, 32],
                        help='PatchDriveNet patch budgets')
    parser.add_argument('--global-scale', type=float, default=PerceptionConfig().global_scale,
                        help="global stream scale of PatchDriveNet and SF-low (default: the "
                        "node's)")
    parser.add_argument('--global-max-pixels', type=int,
                        default=PerceptionConfig().global_max_pixels,
                        help="most pixels of PatchDriveNet's global stream input (default: the "
                        "node's; 0: always --global-scale)")
    parser.add_argument('--threads', type=int, default=0, help='torch CPU threads (0: default)')
    parser.add_argument('--weights', type=Path, help='weights file (default: untrained)')
    parser.add_argument('--backends', nargs='+', default=['torch'],
                        choices=('torch', 'onnxruntime'),
                        help='backends compared side by side (ratios to the first)')
    parser.add_argument('--memory-frames', type=int, default=2,
                        help='frames per peak-memory measurement, each in a fresh process '
                        '(0: skip memory)')
    parser.add_argument('--json', type=Path, help='also write the results as JSON here')
    parser.add_argument('--plot', type=Path, help='draw latency and memory per size here (.png)')
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0 or args.memory_frames < 0:
        parser.error('--repeats must be >= 1, --warmup and --memory-frames >= 0')
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table (and write JSON when asked)."""
    args = parse_args(argv)
    device = resolve_device(args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()  # engines on ONNX Runtime leave torch one thread
    torch.manual_seed(0)
    model = load_weights(args.weights) if args.weights else build_model(ModelConfig())
    half = build_model(depth_half(model.config))
    base = PerceptionConfig(device=str(device), global_scale=args.global_scale,
                            global_max_pixels=args.global_max_pixels, threads=args.threads)
    rows = benchmark(model, half, args.sizes, args.budgets, base, args.repeats, args.warmup,
                     args.weights, args.memory_frames, args.backends)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor()
    print(f'device {device} ({name or platform.machine()}), torch {torch.__version__}, '
          f'{threads} threads, median of {args.repeats}')
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {'device': str(device), 'device_name': name, 'torch': torch.__version__,
                    'threads': threads, 'repeats': args.repeats,
                    'global_scale': args.global_scale,
                    'global_max_pixels': args.global_max_pixels,
                    'rows': [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(document, indent=2) + '\n', encoding='utf-8')
    if args.plot:
        print(f'plot: {plot_benchmark(rows, args.plot)}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
