# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Packaging sanity: setup.py entry points and data files, setup.cfg, package.xml."""

from __future__ import annotations

import ast
import configparser
import os
from pathlib import Path
import runpy
from typing import Any
from unittest import mock
import xml.etree.ElementTree as ElementTree

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = 'patchdrivenet_ros'
CONSOLE_SCRIPTS = {
    'perception_node': 'patchdrivenet_ros.ros.node:main',
    'patchdrivenet-train': 'patchdrivenet_ros.tools.train:main',
    'patchdrivenet-evaluate': 'patchdrivenet_ros.tools.evaluate:main',
    'patchdrivenet-benchmark': 'patchdrivenet_ros.tools.benchmark:main',
    'patchdrivenet-synth': 'patchdrivenet_ros.tools.synth:main',
    'patchdrivenet-demo': 'patchdrivenet_ros.tools.demo:main',
    'patchdrivenet-soak': 'patchdrivenet_ros.tools.soak:main',
    'patchdrivenet-replay': 'patchdrivenet_ros.tools.replay:main',
}
RUN_DEPENDS = {
    'rclpy', 'sensor_msgs', 'std_msgs', 'vision_msgs', 'builtin_interfaces', 'cv_bridge',
    'diagnostic_msgs', 'python3-numpy', 'python3-opencv', 'python3-pil',
}
SYSTEM_KEYS = {'python3-numpy': 'numpy', 'python3-opencv': 'cv2', 'python3-yaml': 'yaml',
               'python3-pil': 'PIL'}
"""rosdep keys of system Python packages and the module each provides."""
TEST_DEPENDS = {
    'ament_copyright', 'ament_flake8', 'ament_pep257', 'ament_xmllint', 'python3-pytest',
    'launch_testing', 'launch_testing_ros',
}


def setup_arguments() -> dict[str, Any]:
    """Run setup.py with setup() replaced, returning the arguments it would build with."""
    captured: dict[str, Any] = {}
    cwd = os.getcwd()
    os.chdir(ROOT)  # setup.py globs relative to its folder, as colcon runs it
    try:
        with mock.patch('setuptools.setup', lambda **kwargs: captured.update(kwargs)):
            runpy.run_path(str(ROOT / 'setup.py'), run_name='__main__')
    finally:
        os.chdir(cwd)
    return captured


def manifest() -> ElementTree.Element:
    return ElementTree.parse(ROOT / 'package.xml').getroot()


def test_console_scripts() -> None:
    lines = setup_arguments()['entry_points']['console_scripts']
    declared = {n.strip(): t.strip() for n, t in (line.split('=') for line in lines)}
    assert declared == CONSOLE_SCRIPTS


@pytest.mark.parametrize('script', sorted(CONSOLE_SCRIPTS))
def test_console_script_targets_define_main(script: str) -> None:
    module, function = CONSOLE_SCRIPTS[script].split(':')
    path = ROOT / (module.replace('.', '/') + '.py')
    if not path.is_file():
        pytest.skip(f'{module} is not written yet')
    tree = ast.parse(path.read_text(encoding='utf-8'))
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert function in functions, f'{path.relative_to(ROOT)} has no top-level {function}()'


def test_setup_names_match_the_manifest() -> None:
    root = manifest()
    arguments = setup_arguments()
    assert arguments['name'] == root.findtext('name') == PACKAGE
    assert arguments['version'] == root.findtext('version')
    assert arguments['license'] == root.findtext('license') == 'Apache-2.0'


def test_packages_are_found_and_complete() -> None:
    packages = set(find_packages(where=str(ROOT), exclude=['test', 'test.*']))
    assert PACKAGE in packages
    assert not any(name.startswith('test') for name in packages)
    for folder in (ROOT / PACKAGE).rglob('*.py'):
        package = '.'.join(folder.parent.relative_to(ROOT).parts)
        assert package in packages, f'{folder.parent} has modules but no __init__.py'


def test_data_files() -> None:
    arguments = setup_arguments()
    installed = {source: folder for folder, sources in arguments['data_files']
                 for source in sources}
    for source, folder in installed.items():
        assert (ROOT / source).is_file(), source
        assert folder.startswith('share/'), folder
    assert installed[f'resource/{PACKAGE}'] == 'share/ament_index/resource_index/packages'
    assert (ROOT / 'resource' / PACKAGE).read_text(encoding='utf-8') == ''
    assert installed['package.xml'] == f'share/{PACKAGE}'
    # Nothing shipped in launch/, config/ or weights/ is left out of the install.
    for folder in ('launch', 'config', 'weights'):
        for path in (ROOT / folder).rglob('*'):
            if path.is_file() and path.name != '.gitkeep':
                source = path.relative_to(ROOT)
                expected = f'share/{PACKAGE}/{source.parent.as_posix()}'
                assert installed.get(source.as_posix()) == expected, source
    assert arguments['package_data'] == {PACKAGE: ['weights/*.safetensors', 'weights/*.json']}


def test_setup_cfg_puts_scripts_where_ros2_run_looks() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / 'setup.cfg')
    assert parser['develop']['script_dir'] == f'$base/lib/{PACKAGE}'
    assert parser['install']['install_scripts'] == f'$base/lib/{PACKAGE}'


def test_manifest_is_ament_python_with_the_dependencies() -> None:
    root = manifest()
    assert root.get('format') == '3'
    assert root.findtext('export/build_type') == 'ament_python'
    assert {e.text for e in root.iter('exec_depend')} | {e.text for e in root.iter('depend')} \
        >= RUN_DEPENDS
    assert {e.text for e in root.iter('test_depend')} >= TEST_DEPENDS
    assert '@' in (root.find('maintainer').get('email') or '')  # type: ignore[union-attr]


def _ros_like(module: str) -> bool:
    """Whether a top-level module comes from a ROS 2 package rather than from pip."""
    return module in {'rclpy', 'cv_bridge', 'message_filters'} or module.startswith(
        ('launch', 'ament_', 'rosidl_')) or module.endswith(('_msgs', '_interfaces', '_srvs'))


def imported_modules() -> dict[str, set[str]]:
    """Map each top-level module the package and launch files import to the files doing so.

    ``importlib.import_module('name')`` with a literal name counts too (lazy imports).
    """
    found: dict[str, set[str]] = {}
    for path in [*(ROOT / PACKAGE).rglob('*.py'), *(ROOT / 'launch').glob('*.py')]:
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'import_module'
                  and node.args and isinstance(node.args[0], ast.Constant)):
                names = [str(node.args[0].value)]
            for name in names:
                found.setdefault(name.split('.')[0], set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_run_dependencies_are_exactly_what_the_code_imports() -> None:
    """A declared run dependency is imported somewhere; an imported ROS package is declared."""
    root = manifest()
    declared = {e.text or '' for tag in ('exec_depend', 'depend') for e in root.iter(tag)}
    imported = imported_modules()
    modules = {SYSTEM_KEYS.get(key, key) for key in declared}
    assert not modules - set(imported), 'declared but never imported'
    ros_imported = {module for module in imported if _ros_like(module)}
    assert not ros_imported - modules, 'imported but not declared'
    assert 'message_filters' not in declared  # the node has its own stamp synchroniser
    assert imported['cv_bridge'] == {f'{PACKAGE}/ros/conversions.py'}  # rare encodings only


def test_interface_package_is_hidden_from_colcon() -> None:
    interfaces = ROOT / 'interfaces' / 'vision_msgs'
    assert (interfaces / 'COLCON_IGNORE').is_file()
    root = ElementTree.parse(interfaces / 'package.xml').getroot()
    assert root.findtext('name') == 'vision_msgs'
    assert root.findtext('version', '').startswith('4.')
    assert root.findtext('export/build_type') == 'ament_cmake'
    assert root.findtext('member_of_group') == 'rosidl_interface_packages'


def test_workspace_install_layout() -> None:
    index = pytest.importorskip('ament_index_python.packages')
    try:
        prefix = Path(index.get_package_prefix(PACKAGE))
    except index.PackageNotFoundError:
        pytest.skip(f'{PACKAGE} is not installed in the sourced workspace')
    for script in CONSOLE_SCRIPTS:
        assert (prefix / 'lib' / PACKAGE / script).is_file(), script
    share = prefix / 'share' / PACKAGE
    assert (share / 'package.xml').is_file()
    installed = {p.name for p in (share / 'launch').glob('*.launch.py')} if (
        share / 'launch').is_dir() else set()
    assert installed == {p.name for p in (ROOT / 'launch').glob('*.launch.py')}


def _requirement_names(path: Path) -> dict[str, str]:
    """Map each requirement's lower-case name to its line, following ``-r`` includes."""
    names = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('-r '):
            names.update(_requirement_names(path.parent / line[3:].strip()))
        elif line:
            names[line.split('[')[0].split('=')[0].split('<')[0].split('>')[0].lower()] = line
    return names


def test_ros_requirements_keep_the_distributions_numpy_and_opencv() -> None:
    # ROS 2's compiled Python modules are built against numpy 1.x: a sourced ROS must not get
    # numpy 2 (or an OpenCV wheel requiring it) from us.
    ros = _requirement_names(ROOT / 'requirements-ros.txt')
    assert ros['numpy'] == 'numpy<2'
    assert not any(name.startswith(('opencv', 'ros-', 'pytest')) for name in ros)
    standalone = _requirement_names(ROOT / 'requirements.txt')
    runtime = {name for name in standalone if not name.startswith(('ros-', 'colcon'))}
    tools = set(_requirement_names(ROOT / 'requirements-dev.txt'))
    assert runtime - set(ros) - tools == {'opencv-python-headless', 'pyyaml'}  # distribution's
    assert {'pytest', 'torch'} <= set(standalone)


def test_jazzy_requirements_differ_only_in_the_ros_wheels() -> None:
    kilted = _requirement_names(ROOT / 'requirements.txt')
    jazzy = _requirement_names(ROOT / 'requirements-jazzy.txt')
    shared = {name: line for name, line in kilted.items() if not name.startswith('ros-')}
    assert {name: line for name, line in jazzy.items() if not name.startswith('ros-')} == shared
    assert all(name.startswith('ros-jazzy-') for name in jazzy if name.startswith('ros-'))
    assert {'ros-jazzy-rclpy', 'ros-jazzy-rmw-fastrtps-cpp',
            'ros-jazzy-lifecycle-msgs'} <= set(jazzy)
