# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Shared test setup: ROS isolation on loopback, one CPU thread, and the ``ros`` marker.

Tests marked ``ros`` are skipped (with the reason) where rclpy or a message package the node
uses (vision_msgs among them) cannot be imported; with PATCHDRIVENET_REQUIRE_ROS=1 (as ``make
test`` sets) that is an error instead. So ROS tests import ROS inside the tests, never at module
level (a module-level import or importorskip would skip silently; test/ros/test_ros_markers.py
checks this).
"""

from __future__ import annotations

from collections.abc import Iterator
import functools
import importlib
import os
from pathlib import Path
import random
import socket
import sys
from typing import Any

import pytest

# Fast DDS ports of a domain (RTPS port mapping): the first participant's unicast metatraffic.
_DDS_PORT_BASE = 7400
_DDS_DOMAIN_GAIN = 250
_DDS_UNICAST_OFFSET = 10
_MAX_DOMAIN_ID = 101  # highest id whose ports stay below the Linux ephemeral range


def _domain_is_free(domain_id: int) -> bool:
    """Return whether no DDS participant on this machine holds the domain's first port."""
    port = _DDS_PORT_BASE + _DDS_DOMAIN_GAIN * domain_id + _DDS_UNICAST_OFFSET
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(('', port))
        except OSError:
            return False
    return True


def _pick_domain_id() -> int:
    """Pick a random ROS domain id not in use on this machine (best effort)."""
    candidates = random.sample(range(1, _MAX_DOMAIN_ID + 1), _MAX_DOMAIN_ID)
    return next((d for d in candidates if _domain_is_free(d)), candidates[0])


def _isolate_ros() -> None:
    """Keep DDS traffic of this test session on loopback and in a domain of its own."""
    os.environ['ROS_DOMAIN_ID'] = str(_pick_domain_id())
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'  # Jazzy and later
    if os.environ.get('ROS_DISTRO') in ('humble', 'iron'):
        os.environ['ROS_LOCALHOST_ONLY'] = '1'  # deprecated (and warned about) from Jazzy on
    else:
        os.environ.pop('ROS_LOCALHOST_ONLY', None)


# Before any test module imports torch: one intra-op thread (subprocesses inherit it).
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')
_isolate_ros()


@pytest.fixture(autouse=True, scope='session')
def _one_torch_thread() -> Iterator[None]:
    """Run torch on one thread: the machines running the suite have few cores."""
    torch = sys.modules.get('torch')
    if torch is not None:
        torch.set_num_threads(1)
    yield


ROS_MODULES = ('rclpy', 'rcl_interfaces.srv', 'builtin_interfaces.msg', 'std_msgs.msg',
               'sensor_msgs.msg', 'diagnostic_msgs.msg', 'vision_msgs.msg')
"""What ``ros`` tests need: rclpy and every message package the node imports."""


@functools.cache
def ros_unavailable_reason() -> str | None:
    """Return why a module of ROS_MODULES cannot be imported, or None when all can."""
    for module in ROS_MODULES:
        try:
            importlib.import_module(module)
        except Exception as error:
            return f'{module} is not importable ({error}); run `make setup` and source .ws/env.sh'
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``ros`` tests without ROS_MODULES, unless ROS is required."""
    ros_items = [item for item in items if item.get_closest_marker('ros')]
    if not ros_items:
        return
    reason = ros_unavailable_reason()
    if reason is None:
        return
    if os.environ.get('PATCHDRIVENET_REQUIRE_ROS') == '1':
        raise pytest.UsageError(f'ROS tests are required here but {reason}')
    for item in ros_items:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope='session')
def tiny_config() -> Any:
    """Return the smallest ModelConfig: fast to build and run on one CPU thread."""
    from patchdrivenet_ros.config import ModelConfig

    return ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16,
                       attention_heads=2)


@pytest.fixture(scope='session')
def tiny_weights(tmp_path_factory: pytest.TempPathFactory, tiny_config: Any) -> Path:
    """Save a randomly initialised tiny model (seed 0) as a weights file."""
    import torch

    from patchdrivenet_ros.model.factory import build_model
    from patchdrivenet_ros.model.weights import save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('weights') / 'tiny.safetensors'
    save_weights(build_model(tiny_config), path)
    return path
