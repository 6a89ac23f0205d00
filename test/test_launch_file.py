# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The launch file, read statically (launch and launch_ros need not be installed).

Where launch_ros is installed, the real description is built (silently) and its override
function is run on a real LaunchContext.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
import typing
import warnings

import pytest
import yaml

from patchdrivenet_ros.config import PerceptionConfig, field_types, load_yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_FILE = ROOT / 'launch' / 'perception.launch.py'
TREE = ast.parse(LAUNCH_FILE.read_text(encoding='utf-8'))
EXPECTED_ARGUMENTS = {
    'params_file', 'image', 'namespace', 'image_transport', 'device', 'weights',
    'patch_budget', 'motion_threshold', 'use_sim_time', 'rviz', 'lifecycle',
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


def _assignments() -> dict[str, str]:
    """Map each name assigned in the launch file to the source of its (last) value."""
    return {n.targets[0].id: ast.unparse(n.value) for n in ast.walk(TREE)
            if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}


def _source(call: ast.Call, name: str) -> str:
    """Return the source of a keyword argument of ``call`` ('' when it is not given)."""
    value = _keyword(call, name)
    return '' if value is None else ast.unparse(value)


def _overrides() -> list[tuple[str, str]]:
    """Return the (name, type name) pairs of the OVERRIDES table."""
    for node in TREE.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'OVERRIDES':
            assert isinstance(node.value, ast.Tuple)
            pairs = []
            for item in node.value.elts:
                assert isinstance(item, ast.Tuple) and isinstance(item.elts[1], ast.Name)
                pairs.append((str(_constant(item.elts[0])), item.elts[1].id))
            return pairs
    raise AssertionError('OVERRIDES not found')


def test_declares_every_argument() -> None:
    calls = _calls('DeclareLaunchArgument')
    literal = {_constant(c.args[0]) for c in calls if isinstance(c.args[0], ast.Constant)}
    assert any(isinstance(c.args[0], ast.Name) for c in calls)  # one per OVERRIDES entry
    assert literal | {name for name, _ in _overrides()} == EXPECTED_ARGUMENTS


def test_override_arguments_default_to_empty() -> None:
    override_decl = [c for c in _calls('DeclareLaunchArgument')
                     if isinstance(c.args[0], ast.Name)]
    assert override_decl and all(_constant(_keyword(c, 'default_value')) == ''
                                 for c in override_decl)


def test_no_deprecated_or_missing_launch_api() -> None:
    """Silent on Jazzy and Kilted, working on Humble.

    LaunchConfiguration(Not)Equals warn (deprecated) from Jazzy on; their replacements
    (Equals/NotEqualsSubstitution) do not exist in Humble's launch.
    """
    names = {n.id for n in ast.walk(TREE) if isinstance(n, ast.Name)}
    names |= {alias.name for n in ast.walk(TREE) if isinstance(n, ast.ImportFrom)
              for alias in n.names}
    assert not names & {'LaunchConfigurationEquals', 'LaunchConfigurationNotEquals',
                        'EqualsSubstitution', 'NotEqualsSubstitution'}
    assert _calls('OpaqueFunction'), 'the overrides are built from the given arguments'


def test_only_given_overrides_are_set_after_the_params_file() -> None:
    (group,) = _calls('GroupAction')
    actions = _keyword(group, 'actions')
    assert isinstance(actions, ast.List)
    kinds = [ast.unparse(e.func) for e in actions.elts if isinstance(e, ast.Call)]
    assert kinds == ['SetParametersFromFile', 'OpaqueFunction', 'Node',  # later wins
                     'LifecycleNode']
    assert _constant(_keyword(group, 'scoped')) is True
    (opaque,) = _calls('OpaqueFunction')
    function = _keyword(opaque, 'function')
    assert isinstance(function, ast.Name)
    source = LAUNCH_FILE.read_text(encoding='utf-8')
    body = next(n for n in ast.walk(ast.parse(source))
                if isinstance(n, ast.FunctionDef) and n.name == function.id)
    text = ast.unparse(body)
    assert "!= ''" in text and 'launch_configurations' in text  # only non-empty arguments


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
    remaps = _source(perception, 'remappings')
    assert 'image/compressed' in _assignments().get(remaps, remaps)


def test_lifecycle_argument_chooses_a_managed_node_of_the_same_executable() -> None:
    (plain,) = [c for c in _calls('Node')
                if _constant(_keyword(c, 'executable')) == 'perception_node']
    (managed,) = _calls('LifecycleNode')
    (declared,) = [c for c in _calls('DeclareLaunchArgument')
                   if _constant(c.args[0]) == 'lifecycle']
    assert _constant(_keyword(declared, 'default_value')) == 'false'  # the plain node
    assert _assignments()['lifecycle'] == "LaunchConfiguration('lifecycle')"
    assert _source(plain, 'condition') == 'UnlessCondition(lifecycle)'
    assert _source(managed, 'condition') == 'IfCondition(lifecycle)'
    # launch_ros's LifecycleNode requires name and namespace (Humble on).
    for keyword in ('package', 'executable', 'name', 'namespace', 'remappings', 'output'):
        assert _source(managed, keyword) == _source(plain, keyword) != '', keyword
    assert _source(plain, 'arguments') == ''
    assert _source(managed, 'arguments') == "['--lifecycle']"


def test_use_sim_time_through_set_parameter() -> None:
    names = [_constant(_keyword(c, 'name')) for c in _calls('SetParameter')]
    assert 'use_sim_time' in names


def test_rviz_only_when_asked_with_the_shipped_layout() -> None:
    rviz = next(c for c in _calls('Node') if _constant(_keyword(c, 'executable')) == 'rviz2')
    condition = _keyword(rviz, 'condition')
    assert isinstance(condition, ast.Call) and ast.unparse(condition.func) == 'IfCondition'
    assert "'rviz'" in ast.unparse(condition)
    arguments = _keyword(rviz, 'arguments')
    assert arguments is not None and "'perception.rviz'" in ast.unparse(arguments)


def test_no_shell_no_eval() -> None:
    source = LAUNCH_FILE.read_text(encoding='utf-8')
    for forbidden in ('PythonExpression', 'ExecuteProcess', 'subprocess', 'os.system',
                      'shell='):
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


def test_launch_description_builds_silently_where_launch_ros_is_installed() -> None:
    pytest.importorskip('launch_ros', reason='launch_ros is not installed here')
    from launch.actions import GroupAction, OpaqueFunction
    from launch.launch_context import LaunchContext
    from launch_ros.actions import Node, SetParameter

    spec = importlib.util.spec_from_file_location('perception_launch', LAUNCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # a deprecated launch API warns at construction
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
    arguments = {a.name for a in description.get_launch_arguments()}
    assert arguments == EXPECTED_ARGUMENTS
    assert any(isinstance(e, Node) for e in description.entities)
    group = next(e for e in description.entities if isinstance(e, GroupAction))
    opaque = next(e for e in group.get_sub_entities() if isinstance(e, OpaqueFunction))
    context = LaunchContext()
    context.launch_configurations.update({'patch_budget': '4', 'device': ''})
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        built = opaque.execute(context)
    assert built is not None and len(built) == 1 and isinstance(built[0], SetParameter)
