# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The launch file, read statically (launch and launch_ros need not be installed).

Where launch_ros is installed, the description is also built and its actions checked.
"""

from __future__ import annotations

import ast
from pathlib import Path
import typing

import pytest
import yaml

from patchdrivenet_ros.config import PerceptionConfig, field_types, load_yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / 'launch' / 'perception.launch.py'
TREE = ast.parse(LAUNCH_FILE.read_text(encoding='utf-8'))
EXPECTED_ARGUMENTS = {
    'params_file', 'image', 'namespace', 'image_transport', 'device', 'weights',
    'patch_budget', 'motion_threshold', 'use_sim_time', 'rviz',
}


def _calls(name: str) -> list[ast.Call]:
    """Return every call of ``name`` (a plain or attribute name) in the launch file."""
    found = []
    for node in ast.walk(TREE):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, 'attr', None)
            if called == name:
                found.append(node)
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _constant(node: ast.expr | None) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def _overrides() -> list[tuple[str, str]]:
    """Return the (name, type name) pairs of the OVERRIDES table."""
    for node in TREE.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'OVERRIDES':
            assert isinstance(node.value, ast.Tuple)
            return [(_constant(item.elts[0]), item.elts[1].id)  # type: ignore[attr-defined]
                    for item in node.value.elts]
    raise AssertionError('OVERRIDES not found')


def test_declares_every_argument() -> None:
    calls = _calls('DeclareLaunchArgument')
    literal = {_constant(c.args[0]) for c in calls if isinstance(c.args[0], ast.Constant)}
    assert any(isinstance(c.args[0], ast.Name) for c in calls)  # one per OVERRIDES entry
    assert literal | {name for name, _ in _overrides()} == EXPECTED_ARGUMENTS


def test_override_arguments_default_to_empty_and_are_conditional() -> None:
    override_decl = [c for c in _calls('DeclareLaunchArgument')
                     if isinstance(c.args[0], ast.Name)]
    assert override_decl and all(_constant(_keyword(c, 'default_value')) == ''
                                 for c in override_decl)
    conditions = [_keyword(c, 'condition') for c in _calls('SetParameter')]
    assert any(isinstance(cond, ast.Call) and cond.func.id == 'LaunchConfigurationNotEquals'
               for cond in conditions if cond is not None)


def test_override_types_match_the_config() -> None:
    hints = field_types(PerceptionConfig)
    for name, type_name in _overrides():
        assert hints[name].__name__ == type_name, name
        assert not typing.get_args(hints[name])


def test_perception_node_and_params_file() -> None:
    nodes = {_constant(_keyword(c, 'executable')): c for c in _calls('Node')}
    perception = nodes['perception_node']
    assert _constant(_keyword(perception, 'name')) == 'patchdrivenet'
    assert isinstance(_keyword(perception, 'package'), ast.Name)  # PACKAGE
    assert _calls('SetParametersFromFile'), 'the params file must be applied'
    source = LAUNCH_FILE.read_text(encoding='utf-8')
    assert "PACKAGE = 'patchdrivenet_ros'" in source
    assert "'perception.yaml'" in source and 'get_package_share_directory' in source
    remaps = _keyword(perception, 'remappings')
    assert remaps is not None and 'image/compressed' in ast.unparse(remaps)


def test_use_sim_time_through_set_parameter() -> None:
    names = [_constant(_keyword(c, 'name')) for c in _calls('SetParameter')]
    assert 'use_sim_time' in names


def test_rviz_only_when_asked_with_the_shipped_layout() -> None:
    rviz = next(c for c in _calls('Node') if _constant(_keyword(c, 'executable')) == 'rviz2')
    condition = _keyword(rviz, 'condition')
    assert isinstance(condition, ast.Call) and condition.func.id == 'IfCondition'
    assert "'rviz'" in ast.unparse(condition)
    assert "'perception.rviz'" in ast.unparse(_keyword(rviz, 'arguments'))


def test_no_shell_no_eval() -> None:
    source = LAUNCH_FILE.read_text(encoding='utf-8')
    for forbidden in ('PythonExpression', 'ExecuteProcess', 'OpaqueFunction', 'subprocess',
                      'os.system', 'shell='):
        assert forbidden not in source
    called = {getattr(c.func, 'id', None) for c in ast.walk(TREE) if isinstance(c, ast.Call)}
    assert not called & {'eval', 'exec', 'compile', '__import__'}


def test_shipped_configs_load_and_rviz_shows_the_outputs() -> None:
    for path in [ROOT / 'config' / 'perception.yaml', *sorted(
            (ROOT / 'config' / 'presets').glob('*.yaml'))]:
        load_yaml(PerceptionConfig, path)
    names = {p.stem for p in (ROOT / 'config' / 'presets').glob('*.yaml')}
    assert names == {'kitti', 'nuscenes', 'cpu', 'gpu'}
    layout = yaml.safe_load((ROOT / 'config' / 'perception.rviz').read_text(encoding='utf-8'))
    topics = [d['Topic']['Value'] for d in layout['Visualization Manager']['Displays']]
    assert topics == ['image', 'segmentation/color', 'patch_attention']


def test_perception_yaml_sets_every_field_with_a_comment() -> None:
    text = (ROOT / 'config' / 'perception.yaml').read_text(encoding='utf-8')
    document = yaml.safe_load(text)
    values = document['/**']['ros__parameters']
    assert set(values) == set(field_types(PerceptionConfig))
    for line in text.splitlines():
        key = line.strip().split(':')[0]
        if key in values:
            assert '#' in line, f'{key} has no comment'


def test_every_preset_value_has_a_reason() -> None:
    for path in sorted((ROOT / 'config' / 'presets').glob('*.yaml')):
        keys = set(yaml.safe_load(path.read_text(encoding='utf-8'))['/**']['ros__parameters'])
        lines = path.read_text(encoding='utf-8').splitlines()
        for above, line in zip(lines, lines[1:], strict=False):
            if line.strip().split(':')[0] in keys:
                assert above.strip().startswith('#') or '#' in line, (
                    f'{path.name}: {line.strip()} has no reason')


def test_launch_description_builds_where_launch_ros_is_installed() -> None:
    pytest.importorskip('launch_ros', reason='launch_ros is not installed here')
    import importlib.util

    from launch_ros.actions import Node

    spec = importlib.util.spec_from_file_location('perception_launch', LAUNCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    arguments = {a.name for a in description.get_launch_arguments()}
    assert arguments == EXPECTED_ARGUMENTS
    assert any(isinstance(e, Node) for e in description.entities)
