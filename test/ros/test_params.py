# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Parameters declared from PerceptionConfig: descriptors, overrides, runtime validation.

Marked ``ros`` (needs rclpy): rclpy is imported inside the fixture and tests, so the file
imports anywhere and test/conftest.py skips or fails it with the reason.
"""

from collections.abc import Callable, Iterator
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from patchdrivenet_ros.config import PerceptionConfig, load_yaml

pytestmark = pytest.mark.ros

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'config'
MakeNode = Callable[..., Any]


@pytest.fixture
def make_node() -> Iterator[MakeNode]:
    """Create nodes in a fresh context with the given --ros-args; destroy them afterwards."""
    import rclpy
    from rclpy.node import Node

    context = rclpy.Context()
    nodes: list[Any] = []

    def create(*ros_args: str) -> Any:
        if not context.ok():
            rclpy.init(context=context)
        node = Node('patchdrivenet', context=context,
                    cli_args=['--ros-args', *ros_args] if ros_args else None)
        nodes.append(node)
        return node

    yield create
    for node in nodes:
        node.destroy_node()
    rclpy.try_shutdown(context=context)


def test_every_field_is_declared_with_its_descriptor(make_node: MakeNode) -> None:
    from patchdrivenet_ros.ros.params import ConfigParameters

    node = make_node()
    params = ConfigParameters(node)
    assert params.config == PerceptionConfig()
    for field in dataclasses.fields(PerceptionConfig):
        assert node.has_parameter(field.name), field.name
    budget = node.describe_parameter('patch_budget')
    assert budget.integer_range[0].from_value == 0 and not budget.read_only
    assert 'Patches refined' in budget.description
    threshold = node.describe_parameter('motion_threshold')
    assert threshold.floating_point_range[0].to_value == pytest.approx(1000.0)
    assert node.describe_parameter('device').read_only
    assert 'one of: raw, compressed' in node.describe_parameter(
        'image_transport').additional_constraints
    assert node.get_parameter('patch_sizes').value == [64, 128, 256]


def test_overrides_reach_the_config(make_node: MakeNode) -> None:
    from patchdrivenet_ros.ros.params import ConfigParameters

    node = make_node('-p', 'patch_budget:=5', '-p', 'cameras:=[front, left]',
                     '-p', 'patch_sizes:=[32, 96]', '-p', 'motion_threshold:=1.5')
    config = ConfigParameters(node).config
    assert config.patch_budget == 5 and config.motion_threshold == 1.5
    assert config.cameras == ('front', 'left') and config.patch_sizes == (32, 96)


def test_shipped_params_file_loads_the_same_as_the_config_loader(make_node: MakeNode) -> None:
    from patchdrivenet_ros.ros.params import ConfigParameters

    path = CONFIG_DIR / 'perception.yaml'
    node = make_node('--params-file', str(path))
    assert ConfigParameters(node).config == load_yaml(PerceptionConfig, path)


def test_runtime_change_is_applied_and_reported(make_node: MakeNode) -> None:
    from rclpy.parameter import Parameter

    from patchdrivenet_ros.ros.params import ConfigParameters

    node = make_node()
    changes = []
    params = ConfigParameters(node, on_change=lambda old, new: changes.append((old, new)))
    result = node.set_parameters([Parameter('patch_budget', value=0),
                                  Parameter('reuse_rule', value='displacement')])
    assert all(r.successful for r in result)
    assert params.config.patch_budget == 0 and params.config.reuse_rule == 'displacement'
    assert changes[-1][1].patch_budget == 0


def test_invalid_values_are_refused_with_a_reason_and_the_old_value_kept(
        make_node: MakeNode) -> None:
    from rclpy.parameter import Parameter

    from patchdrivenet_ros.ros.params import ConfigParameters

    node = make_node()
    params = ConfigParameters(node)
    for parameter, reason in (
        (Parameter('reuse_rule', value='sometimes'), 'reuse_rule'),
        (Parameter('patch_budget', value=-1), 'out of range'),
        (Parameter('score_threshold', value=1.5), 'out of range'),
        (Parameter('device', value='cuda'), 'read-only'),
    ):
        result = node.set_parameters([parameter])[0]
        assert not result.successful
        assert reason in result.reason
    assert params.config == PerceptionConfig()
    assert node.get_parameter('reuse_rule').value == 'compensated'


def test_non_config_parameters_pass_through(make_node: MakeNode) -> None:
    from rclpy.parameter import Parameter

    from patchdrivenet_ros.ros.params import ConfigParameters

    node = make_node()
    ConfigParameters(node)
    assert node.set_parameters([Parameter('use_sim_time', value=True)])[0].successful
