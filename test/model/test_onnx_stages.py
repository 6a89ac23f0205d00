# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""backend: onnxruntime gives the torch backend's masks, boxes and FLOPs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
from patchdrivenet_ros.engine import GLUE_THREADS, PerceptionEngine
from patchdrivenet_ros.model import build_model

pytest.importorskip('onnxruntime', reason='onnxruntime is in requirements-common.txt')

BOX_TOLERANCE_PX = 1e-2
"""Boxes from the two backends differ by float rounding only (measured below 1e-4 px)."""


@pytest.mark.parametrize('decoder_stride', [8, 4])
def test_onnxruntime_matches_torch(small_config: ModelConfig, decoder_stride: int) -> None:
    torch.manual_seed(0)
    model = build_model(dataclasses.replace(small_config, decoder_stride=decoder_stride))
    config = PerceptionConfig(device='cpu', threads=1, patch_budget=4, reuse_rule='compensated',
                              score_threshold=0.0)
    drive = [f.image for f in generate_drive(profile_config('kitti', num_frames=3, seed=3,
                                                            width=320, height=128))]
    engines = {backend: PerceptionEngine(model, dataclasses.replace(config, backend=backend))
               for backend in ('torch', 'onnxruntime')}
    for image in drive:
        eager, onnx = (engines[b].infer([image])[0] for b in ('torch', 'onnxruntime'))
        np.testing.assert_array_equal(onnx.mask, eager.mask)
        assert onnx.flops == pytest.approx(eager.flops, rel=1e-9)
        assert np.array_equal(onnx.class_ids, eager.class_ids)
        np.testing.assert_allclose(onnx.boxes, eager.boxes, atol=BOX_TOLERANCE_PX)
        np.testing.assert_allclose(onnx.scores, eager.scores, atol=1e-4)
        assert onnx.plan.reused == eager.plan.reused
    assert engines['onnxruntime'].model.global_runner is not None
    assert engines['torch'].model.global_runner is None


def test_patch_flops_scale_with_the_patches(small_config: ModelConfig) -> None:
    torch.manual_seed(0)
    model = build_model(small_config)
    image = np.random.default_rng(0).integers(0, 255, (128, 320, 3), dtype=np.uint8)
    flops = {}
    for budget in (2, 5):
        for backend in ('torch', 'onnxruntime'):
            config = PerceptionConfig(device='cpu', threads=1, patch_budget=budget,
                                      reuse_rule='off', backend=backend)
            flops[budget, backend] = PerceptionEngine(model, config).infer([image])[0].flops
    assert flops[2, 'onnxruntime'] == pytest.approx(flops[2, 'torch'])
    assert flops[5, 'onnxruntime'] == pytest.approx(flops[5, 'torch'])
    assert flops[5, 'torch'] > flops[2, 'torch']


def test_onnxruntime_takes_the_threads_and_torch_keeps_one(small_config: ModelConfig) -> None:
    model = build_model(small_config)
    image = np.random.default_rng(0).integers(0, 255, (128, 320, 3), dtype=np.uint8)
    before = torch.get_num_threads()
    try:
        onnx = PerceptionEngine(model, PerceptionConfig(device='cpu', threads=3,
                                                        backend='onnxruntime'))
        assert onnx.model.global_runner is not None
        assert onnx.model.global_runner.threads == 3
        onnx.infer([image])
        assert torch.get_num_threads() == GLUE_THREADS
        eager = PerceptionEngine(model, PerceptionConfig(device='cpu', threads=2,
                                                         backend='torch'))
        eager.infer([image])  # fusion runs on GLUE_THREADS, then torch gets its 2 back
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
