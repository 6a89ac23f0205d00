# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Peak memory growth of one engine configuration, measured in a fresh process.

A fresh (spawned) process per configuration: the allocator of a long-lived one keeps memory
freed by earlier rows, which would hide the later rows' growth. On CPU the growth is the peak
resident set of the process (``VmHWM``, reset through ``/proc/self/clear_refs`` once the model
and the frame are ready) minus the resident set then; ``ru_maxrss`` would not do, as it keeps
the parent's resident set from before the child's exec. On CUDA it is
``torch.cuda.max_memory_allocated`` minus what was allocated then.
"""

from __future__ import annotations

from dataclasses import dataclass
import multiprocessing
import os
from pathlib import Path

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


def _status_bytes(field: str) -> int:
    """Return a size field of /proc/self/status (VmRSS, VmHWM) in bytes."""
    with open('/proc/self/status', encoding='ascii') as status:
        for line in status:
            if line.startswith(f'{field}:'):
                return int(line.split()[1]) * 1024  # kB
    raise OSError(f'no {field} in /proc/self/status')


def _reset_peak_resident() -> None:
    """Set this process's peak resident set (VmHWM) to its current one (Linux >= 4.0)."""
    with open('/proc/self/clear_refs', 'w', encoding='ascii') as clear_refs:
        clear_refs.write('5')


def run_job(job: MemoryJob) -> float:
    """Build the engine, run job.frames frames and return the peak growth in MB (child)."""
    from patchdrivenet_ros.tools.benchmark import driving_frame  # noqa: PLC0415 (cycle)

    torch.manual_seed(0)
    model = load_weights(job.weights) if job.weights else build_model(job.model)
    if job.half_depth:
        model = build_model(depth_half(model.config))
    engine = PerceptionEngine(model, job.config)
    frame = driving_frame(job.width, job.height)
    cuda = engine.device.type == 'cuda'
    if cuda:
        torch.cuda.synchronize(engine.device)
        torch.cuda.reset_peak_memory_stats(engine.device)
        before = torch.cuda.memory_allocated(engine.device)
    else:
        _reset_peak_resident()
        before = _status_bytes('VmRSS')
    for _ in range(job.frames):
        engine.infer([frame])
    if cuda:
        torch.cuda.synchronize(engine.device)
        peak = torch.cuda.max_memory_allocated(engine.device)
    else:
        peak = _status_bytes('VmHWM')
    return max(0.0, (peak - before) / 2**20)


def peak_growth_mb(job: MemoryJob) -> float:
    """Measure job in a spawned process; NaN where /proc is missing (not Linux)."""
    if not os.path.exists('/proc/self/clear_refs') and not job.config.device.startswith('cuda'):
        return float('nan')
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        return float(pool.apply(run_job, (job,)))
