# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Peak memory growth of one engine configuration, measured in a fresh process.

A fresh (spawned) process per configuration: the allocator of a long-lived one keeps memory
freed by earlier rows, which would hide the later rows' growth. On CPU the growth is the peak
resident set (``ru_maxrss``) minus the resident set after the model and the frame are ready; on
CUDA it is ``torch.cuda.max_memory_allocated`` minus what was allocated then.
"""

from __future__ import annotations

from dataclasses import dataclass
import multiprocessing
import os
from pathlib import Path
import resource

import torch

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.model import build_model, load_weights
from patchdrivenet_ros.model.baselines import depth_half


@dataclass(frozen=True)
class MemoryJob:
    """What the child process builds and runs."""

    model: ModelConfig
    weights: Path | None  # None: untrained (memory does not depend on the weights)
    half_depth: bool  # SF-depth-0.5: the model with half the blocks
    config: PerceptionConfig
    width: int
    height: int
    frames: int


def _resident_bytes() -> int:
    """Return the current resident set size of this process."""
    with open('/proc/self/statm', encoding='ascii') as statm:
        return int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def run_job(job: MemoryJob) -> float:
    """Build the engine, run job.frames frames and return the peak growth in MB (child)."""
    from patchdrivenet_ros.tools.benchmark import synthetic_frame  # noqa: PLC0415 (cycle)

    torch.manual_seed(0)
    model = load_weights(job.weights) if job.weights else build_model(job.model)
    if job.half_depth:
        model = build_model(depth_half(model.config))
    engine = PerceptionEngine(model, job.config)
    frame = synthetic_frame(job.width, job.height)
    cuda = engine.device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize(engine.device)
        torch.cuda.reset_peak_memory_stats(engine.device)
        before = torch.cuda.memory_allocated(engine.device)
    else:
        before = _resident_bytes()
    for _ in range(job.frames):
        engine.infer([frame])
    if cuda:
        torch.cuda.synchronize(engine.device)
        peak = torch.cuda.max_memory_allocated(engine.device)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return max(0.0, (peak - before) / 2**20)


def peak_growth_mb(job: MemoryJob) -> float:
    """Measure job in a spawned process; NaN where /proc is missing (not Linux)."""
    if not os.path.exists('/proc/self/statm') and not job.config.device.startswith('cuda'):
        return float('nan')
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        return float(pool.apply(run_job, (job,)))
