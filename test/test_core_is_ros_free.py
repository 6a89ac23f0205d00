# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The core (everything outside patchdrivenet_ros.ros) imports with every ROS package blocked.

New modules are covered automatically: the check walks the package tree on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

PACKAGE_DIR = Path(__file__).resolve().parents[1] / 'patchdrivenet_ros'
ROS_LAYER = 'patchdrivenet_ros.ros'
BLOCKED = (
    'ament_index_python', 'builtin_interfaces', 'cv_bridge', 'diagnostic_msgs', 'geometry_msgs',
    'launch', 'launch_ros', 'message_filters', 'rcl_interfaces', 'rclpy', 'rosidl_runtime_py',
    'sensor_msgs', 'std_msgs', 'vision_msgs',
)

# Runs in a fresh interpreter: a meta path finder refuses the ROS packages, then every core
# module is imported; prints {module: error} for the modules that failed.
PROBE = r'''
import importlib
import importlib.abc
import json
import pkgutil
import sys

blocked, package_dir, ros_layer = json.loads(sys.argv[1])


class RosBlocked(ImportError):
    """Raised for an import of a blocked ROS package."""


class BlockRos(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in blocked:
            raise RosBlocked(f'imports ROS package {name!r}')
        return None


def core_modules(path, prefix):
    for info in pkgutil.iter_modules([path], prefix):
        if info.name == ros_layer:
            continue
        yield info.name
        if info.ispkg:
            yield from core_modules(f'{path}/{info.name.rsplit(".", 1)[-1]}', info.name + '.')


sys.meta_path.insert(0, BlockRos())
sys.path.insert(0, str(__import__('pathlib').Path(package_dir).parent))
failures = {}
for name in ['patchdrivenet_ros', *core_modules(package_dir, 'patchdrivenet_ros.')]:
    try:
        importlib.import_module(name)
    except Exception as error:
        failures[name] = f'{type(error).__name__}: {error}'
print(json.dumps(failures))
'''


def test_core_modules_import_without_ros() -> None:
    argument = json.dumps([BLOCKED, str(PACKAGE_DIR), ROS_LAYER])
    result = subprocess.run(
        [sys.executable, '-c', PROBE, argument],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    report = '\n'.join(f'  {module}: {error}' for module, error in sorted(failures.items()))
    assert not failures, f'core modules that need ROS or fail to import:\n{report}'


def test_probe_catches_a_module_that_imports_ros(tmp_path: Path) -> None:
    package = tmp_path / 'patchdrivenet_ros'
    (package / 'ros').mkdir(parents=True)
    (package / '__init__.py').write_text('')
    (package / 'ros' / '__init__.py').write_text('import rclpy\n')  # the ROS layer: skipped
    (package / 'leaky.py').write_text('import sensor_msgs.msg\n')
    (package / 'clean.py').write_text('import json\n')
    argument = json.dumps([BLOCKED, str(package), ROS_LAYER])
    result = subprocess.run(
        [sys.executable, '-c', PROBE, argument],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )
    failures = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(failures) == ['patchdrivenet_ros.leaky']
    assert 'sensor_msgs' in failures['patchdrivenet_ros.leaky']
