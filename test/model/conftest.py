# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Small model configs shared by the model tests."""

from __future__ import annotations

import pytest
import torch

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import PatchDriveNet, build_model

SMALL = ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16, attention_heads=2)


@pytest.fixture(scope='session')
def small_config() -> ModelConfig:
    return SMALL


@pytest.fixture(scope='module')
def small_model() -> PatchDriveNet:
    torch.manual_seed(0)
    return build_model(SMALL).eval()
