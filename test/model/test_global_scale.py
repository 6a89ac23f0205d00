# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The global stream's scale follows the frame size above global_max_pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from patchdrivenet_ros.config import PerceptionConfig
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.model import PatchDriveNet
from patchdrivenet_ros.model.baselines import global_scale_for, run_settings
from patchdrivenet_ros.result import FrameResult

DEFAULT = PerceptionConfig()


@pytest.mark.parametrize('size', [(1242, 375), (1600, 900), (640, 480)])
def test_frames_up_to_the_limit_keep_global_scale(size: tuple[int, int]) -> None:
    assert global_scale_for(DEFAULT, size) == DEFAULT.global_scale


@pytest.mark.parametrize('size', [(1920, 1080), (3840, 2160), (7680, 4320)])
def test_larger_frames_fit_the_limit(size: tuple[int, int]) -> None:
    scale = global_scale_for(DEFAULT, size)
    assert scale < DEFAULT.global_scale
    assert size[0] * size[1] * scale**2 == pytest.approx(DEFAULT.global_max_pixels)


def test_no_limit_and_unknown_size_keep_global_scale() -> None:
    unlimited = PerceptionConfig(global_max_pixels=0)
    assert global_scale_for(unlimited, (7680, 4320)) == unlimited.global_scale
    assert global_scale_for(DEFAULT, None) == DEFAULT.global_scale


def test_uniform_baselines_keep_their_scale() -> None:
    size = (3840, 2160)
    assert run_settings(PerceptionConfig(method='sf_full'), size).global_scale == 1.0
    assert run_settings(PerceptionConfig(method='sf_low', global_scale=0.25),
                        size).global_scale == 0.25
    interval = run_settings(PerceptionConfig(method='sf_interval'), size).global_scale
    assert interval == global_scale_for(DEFAULT, size)


def test_the_engine_encodes_large_frames_at_the_fitted_scale(small_model: PatchDriveNet) -> None:
    width, height = 1280, 800
    frame = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)

    def run(limit: int) -> FrameResult:
        config = PerceptionConfig(device='cpu', global_max_pixels=limit, patch_budget=2)
        return PerceptionEngine(small_model, config).infer([frame])[0]

    fitted, unlimited = run(40_000), run(0)
    scale = math.sqrt(40_000 / (width * height))
    assert fitted.saliency.shape == (round(height * scale / 8), round(width * scale / 8))
    assert unlimited.saliency.shape == (round(height * 0.375 / 8), round(width * 0.375 / 8))
    assert fitted.mask.shape == unlimited.mask.shape == (height, width)
    assert fitted.flops < 0.5 * unlimited.flops
