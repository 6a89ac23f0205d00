# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-benchmark on a tiny model: every row, its memory measurement and the plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig
from patchdrivenet_ros.data.drive_config import profile_config
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.tools.benchmark import driving_frame, main
from patchdrivenet_ros.tools.benchmark_memory import MemoryJob, peak_growth_mb


def test_memory_growth_follows_the_frame_size(tiny_config: ModelConfig) -> None:
    config = PerceptionConfig(device='cpu', threads=1, method='sf_full', patch_budget=0)
    small = peak_growth_mb(MemoryJob(tiny_config, None, False, config, 160, 96, 1))
    large = peak_growth_mb(MemoryJob(tiny_config, None, False, config, 1280, 768, 1))
    assert 0.0 <= small < large  # 64x the pixels: full-resolution activations grow with them
    assert large > 20.0


def test_rows_carry_memory_and_ratios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      tiny_config: ModelConfig) -> None:
    monkeypatch.setattr('patchdrivenet_ros.tools.benchmark.ModelConfig', lambda: tiny_config)
    out, plot = tmp_path / 'bench.json', tmp_path / 'bench.png'
    assert main(['--device', 'cpu', '--threads', '1', '--sizes', '320x96', '640x192',
                 '--budgets', '2', '--repeats', '1', '--warmup', '0', '--memory-frames', '1',
                 '--json', str(out), '--plot', str(plot)]) == 0
    rows = json.loads(out.read_text())['rows']
    assert [r['method'] for r in rows] == ['sf_full', 'sf_depth_0.5', 'patchdrivenet',
                                           'sf_low'] * 2
    assert {r['backend'] for r in rows} == {'torch'}
    for row in rows:
        assert row['peak_memory_mb'] >= 0.0 and not math.isnan(row['peak_memory_mb'])
        assert row['gflops'] > 0 and row['latency_ms'] > 0
    for full in (rows[0], rows[4]):
        assert full['memory_ratio'] == pytest.approx(1.0) or full['peak_memory_mb'] == 0.0
        assert full['flops_ratio'] == pytest.approx(1.0)
    assert plot.read_bytes()[:4] == b'\x89PNG'


def test_backends_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               tiny_config: ModelConfig) -> None:
    pytest.importorskip('onnxruntime')
    monkeypatch.setattr('patchdrivenet_ros.tools.benchmark.ModelConfig', lambda: tiny_config)
    out = tmp_path / 'bench.json'
    before = torch.get_num_threads()
    try:
        assert main(['--device', 'cpu', '--threads', '2', '--sizes', '320x96', '--budgets', '2',
                     '--repeats', '1', '--warmup', '0', '--memory-frames', '0',
                     '--backends', 'torch', 'onnxruntime', '--json', str(out)]) == 0
    finally:
        torch.set_num_threads(before)
    document = json.loads(out.read_text())
    assert document['threads'] == 2  # as asked, though ONNX Runtime engines leave torch one
    rows = document['rows']
    assert [r['backend'] for r in rows] == ['torch'] * 4 + ['onnxruntime'] * 4
    for eager, onnx in zip(rows[:4], rows[4:], strict=True):
        assert onnx['method'] == eager['method']
        assert onnx['gflops'] == pytest.approx(eager['gflops'])
        assert onnx['flops_ratio'] == pytest.approx(eager['flops_ratio'])


def test_global_max_pixels_lowers_the_global_stream_cost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_config: ModelConfig) -> None:
    monkeypatch.setattr('patchdrivenet_ros.tools.benchmark.ModelConfig', lambda: tiny_config)

    def patchdrivenet_gflops(limit: int) -> float:
        out = tmp_path / f'bench_{limit}.json'
        assert main(['--device', 'cpu', '--threads', '1', '--sizes', '640x192', '--budgets', '0',
                     '--repeats', '1', '--warmup', '0', '--memory-frames', '0',
                     '--global-max-pixels', str(limit), '--json', str(out)]) == 0
        document = json.loads(out.read_text())
        assert document['global_max_pixels'] == limit
        return next(r['gflops'] for r in document['rows'] if r['method'] == 'patchdrivenet')

    # 640x192 at scale 0.375 is 17280 pixels; 4320 halves each side: about a quarter the cost.
    assert patchdrivenet_gflops(4320) < 0.4 * patchdrivenet_gflops(0)


def test_the_benchmark_frame_is_a_street_scene_of_the_requested_size() -> None:
    small = driving_frame(320, 96)
    assert small.shape == (96, 320, 3) and small.dtype == np.uint8
    kitti = next(iter(generate_drive(profile_config('kitti', num_frames=1, seed=0,
                                                    conditions=()))))
    assert np.array_equal(driving_frame(1242, 375), kitti.image)  # the KITTI camera
