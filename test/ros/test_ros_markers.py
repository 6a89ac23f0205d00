# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Static check: every test that needs ROS carries the ``ros`` marker and imports without ROS.

test/conftest.py skips ``ros`` tests with the reason where rclpy or vision_msgs are missing, and
fails them where ROS is required (``make test``). A test module that imports ROS, or calls
``pytest.importorskip`` on it, at module level skips itself silently instead, even under
``make test``. So ROS imports belong inside the tests and fixtures, and whatever imports ROS
(directly, through a ROS-using module of the package, or through the ROS fixtures of
test/ros/conftest.py) is marked. launch_testing files are the separate case: they need launch
at module level and skip with the reason where it is missing. Read with ast: runs without ROS.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 'patchdrivenet_ros'
ROS_FIXTURES = frozenset({'ros_client', 'start_node'})
PENDING: frozenset[str] = frozenset()
"""Known offenders owned by another change; each must still offend (then drop it from here)."""


def is_ros_module(name: str) -> bool:
    """Whether a module comes from ROS 2 itself (rclpy or an interface package)."""
    top = name.split('.')[0]
    return top in {'rclpy', 'rcl_interfaces', 'builtin_interfaces'} or top.endswith('_msgs')


def _imports(nodes: list[ast.stmt] | ast.AST) -> Iterator[tuple[str, ast.stmt]]:
    """Yield (module, node) for the imports in ``nodes`` (a statement list or a subtree)."""
    roots = nodes if isinstance(nodes, list) else [nodes]
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Import):
                yield from ((alias.name, node) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                yield node.module, node
                yield from ((f'{node.module}.{alias.name}', node) for alias in node.names)


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """Return the statements run on import (module body, into if/try, not into functions)."""
    found, todo = [], list(tree.body)
    while todo:
        statement = todo.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        found.append(statement)
        for field in ('body', 'orelse', 'finalbody', 'handlers'):
            todo.extend(getattr(statement, field, []))
    return found


def _package_modules() -> dict[str, ast.Module]:
    modules = {}
    for path in (ROOT / PACKAGE).rglob('*.py'):
        parts = path.relative_to(ROOT).with_suffix('').parts
        name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
        modules[name] = ast.parse(path.read_text(encoding='utf-8'))
    return modules


def ros_package_modules() -> tuple[set[str], set[str]]:
    """Return the package modules that need ROS to import, and those that use ROS anywhere."""
    modules = _package_modules()
    at_import = {name for name, tree in modules.items()
                 if any(is_ros_module(m) for m, _ in _imports(_module_level(tree)))}
    anywhere = {name for name, tree in modules.items()
                if any(is_ros_module(m) for m, _ in _imports(tree))}
    changed = True
    while changed:  # through the package's own imports
        changed = False
        for name, tree in modules.items():
            top = {m for m, _ in _imports(_module_level(tree))}
            every = {m for m, _ in _imports(tree)}
            if name not in at_import and top & at_import:
                at_import.add(name)
                changed = True
            if name not in anywhere and every & (anywhere | at_import):
                anywhere.add(name)
                changed = True
    return at_import, anywhere | at_import


def _marks_ros(decorators: list[ast.expr]) -> bool:
    return any(ast.unparse(d) in ('pytest.mark.ros', 'mark.ros') for d in decorators)


def _module_marked(tree: ast.Module) -> bool:
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
                getattr(t, 'id', '') == 'pytestmark' for t in statement.targets):
            return 'pytest.mark.ros' in ast.unparse(statement.value)
    return False


def _importorskips(statements: list[ast.stmt]) -> Iterator[ast.Call]:
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == 'pytest.importorskip':
                yield node


def marker_problems(source: str, at_import: set[str], anywhere: set[str],
                    where: str = '<test>') -> list[str]:
    """Return one line per ROS use in a test module that would skip silently or lacks ``ros``."""
    tree = ast.parse(source)
    top = _module_level(tree)
    skipped = [ast.literal_eval(call.args[0]) for call in _importorskips(top)
               if call.args and isinstance(call.args[0], ast.Constant)]
    launch_test = any(str(name).startswith('launch_testing') for name in skipped)
    problems = [f'{where}: module-level importorskip({name!r}) skips silently; import it in '
                'the tests and mark them ros' for name in skipped
                if is_ros_module(str(name)) or str(name) in at_import]
    if launch_test:  # launch_testing hands the entry point's marks to the test it makes
        entry = next((f for f in tree.body if isinstance(f, ast.FunctionDef)
                      and f.name == 'generate_test_description'), None)
        if entry is None or not _marks_ros(entry.decorator_list):
            problems.append(f'{where}: generate_test_description is not marked ros')
    else:
        lines = {node.lineno: name for name, node in reversed(list(_imports(top)))
                 if is_ros_module(name) or name in at_import}
        problems += [f'{where}:{line}: imports {name} at module level'
                     for line, name in sorted(lines.items())]
    if _module_marked(tree):
        return problems
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        uses = [name for name, _ in _imports(function)
                if is_ros_module(name) or name in anywhere]
        uses += [arg.arg for arg in function.args.args if arg.arg in ROS_FIXTURES]
        test_marked = function.name.startswith('test') and _marks_ros(function.decorator_list)
        if uses and not test_marked:
            problems.append(f'{where}:{function.lineno}: {function.name} uses {uses[0]} '
                            'but is not marked ros (mark the test, or the module)')
    return problems


def test_silent_skips_and_missing_markers_are_caught() -> None:
    at_import, anywhere = {'pkg.ros.node'}, {'pkg.ros.node', 'pkg.tools.demo'}
    silent = "import pytest\npytest.importorskip('rclpy')\nimport rclpy\n"
    assert len(marker_problems(silent, at_import, anywhere)) == 2
    assert marker_problems('from pkg.ros.node import main\n', at_import, anywhere)
    unmarked = 'def test_x():\n    from pkg.tools.demo import main\n'
    assert marker_problems(unmarked, at_import, anywhere)
    fixture = 'def test_x(ros_client):\n    pass\n'
    assert marker_problems(fixture, at_import, anywhere)
    marked = 'import pytest\n@pytest.mark.ros\ndef test_x(ros_client):\n    import rclpy\n'
    assert marker_problems(marked, at_import, anywhere) == []
    module = 'import pytest\npytestmark = pytest.mark.ros\ndef _h():\n    import rclpy\n'
    assert marker_problems(module, at_import, anywhere) == []
    launch = ("import pytest\npytest.importorskip('launch_testing')\nimport rclpy\n"
              '@pytest.mark.launch_test\n@pytest.mark.ros\n'
              'def generate_test_description():\n    pass\n')
    assert marker_problems(launch, at_import, anywhere) == []
    unmarked_launch = launch.replace('@pytest.mark.ros\n', '')
    assert marker_problems(unmarked_launch, at_import, anywhere) == [
        '<test>: generate_test_description is not marked ros']


def test_the_package_ros_layer_is_recognised() -> None:
    at_import, anywhere = ros_package_modules()
    assert {f'{PACKAGE}.ros.node', f'{PACKAGE}.ros.conversions'} <= at_import
    assert f'{PACKAGE}.ros.sync' not in anywhere and f'{PACKAGE}.engine' not in anywhere
    assert f'{PACKAGE}.tools.demo' in anywhere - at_import  # imports rclpy when it runs


def test_every_ros_test_is_marked_and_imports_without_ros() -> None:
    at_import, anywhere = ros_package_modules()
    found = {}
    for path in sorted((ROOT / 'test').rglob('test_*.py')):
        where = path.relative_to(ROOT).as_posix()
        problems = marker_problems(path.read_text(encoding='utf-8'), at_import, anywhere, where)
        if problems:
            found[where] = problems
    assert not set(found) - PENDING, '\n'.join(
        line for where in sorted(set(found) - PENDING) for line in found[where])
    assert PENDING <= set(found), f'fixed: drop {sorted(PENDING - set(found))} from PENDING'
