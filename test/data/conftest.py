# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the data tests."""

from __future__ import annotations

import pytest

from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config


@pytest.fixture(scope='package')
def frames() -> list[LabeledFrame]:
    """Three small frames of one synthetic KITTI-profile drive."""
    config = profile_config('kitti', num_frames=3, seed=9, width=320, height=96)
    return list(generate_drive(config))
