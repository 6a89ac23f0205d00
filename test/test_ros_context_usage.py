# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Static check: a node of its own rclpy context is never spun by the default executor.

``rclpy.spin_once(node)`` (and ``spin``, ``spin_until_future_complete``) without ``executor=``
uses the global executor of the default context; for a node created with ``context=...`` that
fails where the default context was never initialised ("Context must be initialized a
GuardCondition can be created"), as under launch_testing. Such a node is spun by an executor
made with the same context. Runs without ROS: the source is read, not imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ('test', 'patchdrivenet_ros', 'launch')
SPIN_FUNCTIONS = frozenset({'spin', 'spin_once', 'spin_until_future_complete'})


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _own_context_objects(tree: ast.AST) -> set[str]:
    """Return the names (as source, e.g. ``node``, ``self.node``) bound to calls given a context.

    ``context=None`` is the default context and does not count.
    """
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not isinstance(value, ast.Call):
            continue
        context = _keyword(value, 'context')
        if context is None or (isinstance(context, ast.Constant) and context.value is None):
            continue
        bound.update(ast.unparse(target) for target in targets)
    return bound


def _rclpy_spin_names(tree: ast.AST) -> dict[str, str]:
    """Return the local names of rclpy's spin functions imported with ``from rclpy import``."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == 'rclpy' and node.level == 0:
            for alias in node.names:
                if alias.name in SPIN_FUNCTIONS:
                    names[alias.asname or alias.name] = alias.name
    return names


def _spin_function(call: ast.Call, imported: dict[str, str]) -> str | None:
    """Return which rclpy spin function ``call`` calls, or None."""
    func = call.func
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and func.value.id == 'rclpy' and func.attr in SPIN_FUNCTIONS):
        return func.attr
    if isinstance(func, ast.Name):
        return imported.get(func.id)
    return None


def default_executor_misuse(source: str, where: str = '<source>') -> list[str]:
    """Return one line per rclpy spin call on an own-context node without ``executor=``."""
    tree = ast.parse(source)
    own = _own_context_objects(tree)
    imported = _rclpy_spin_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = _spin_function(node, imported)
        if function is None or _keyword(node, 'executor') is not None:
            continue
        spun = node.args[0] if node.args else _keyword(node, 'node')
        if spun is not None and ast.unparse(spun) in own:
            found.append(f'{where}:{node.lineno}: rclpy.{function}({ast.unparse(spun)}) spins a '
                         'node of its own context on the default executor; use an executor '
                         'made with context=... (or pass executor=)')
    return found


def python_sources() -> list[Path]:
    """Return the Python files of the checked folders."""
    return sorted(path for folder in CHECKED for path in (ROOT / folder).rglob('*.py')
                  if '__pycache__' not in path.parts)


MISUSE = """
import rclpy
context = rclpy.Context()
rclpy.init(context=context)
node = rclpy.create_node('client', context=context)
rclpy.spin_once(node, timeout_sec=0.5)
"""


def test_the_launch_testing_failure_is_caught() -> None:
    (line,) = default_executor_misuse(MISUSE, 'client.py')
    assert line.startswith('client.py:6: rclpy.spin_once(node)')


def test_attributes_aliases_and_keyword_nodes_are_caught() -> None:
    source = """
import rclpy
from rclpy import spin as run, spin_until_future_complete
from rclpy.node import Node
class Client:
    def __init__(self, context):
        self.node: Node = Node('client', context=context)
    def wait(self, future):
        spin_until_future_complete(self.node, future)
        run(node=self.node)
"""
    found = default_executor_misuse(source)
    assert [line.split(': ')[1].split(' ')[0] for line in found] == [
        'rclpy.spin_until_future_complete(self.node)', 'rclpy.spin(self.node)']


def test_right_uses_pass() -> None:
    executor_given = MISUSE.replace('timeout_sec=0.5', 'executor=executor, timeout_sec=0.5')
    default_context = MISUSE.replace(', context=context)\nrclpy.spin', ')\nrclpy.spin')
    explicit_default = MISUSE.replace("'client', context=context", "'client', context=None")
    own_executor = MISUSE.replace(
        'rclpy.spin_once(node, timeout_sec=0.5)',
        'executor = SingleThreadedExecutor(context=context)\nexecutor.add_node(node)\n'
        'executor.spin_once(timeout_sec=0.5)')
    for source in (executor_given, default_context, explicit_default, own_executor):
        assert source != MISUSE
        assert default_executor_misuse(source) == [], source


def test_no_own_context_node_is_spun_by_the_default_executor() -> None:
    sources = python_sources()
    assert ROOT / 'test' / 'ros' / 'test_launch_proof_of_life.py' in sources
    found = [line for path in sources for line in default_executor_misuse(
        path.read_text(encoding='utf-8'), path.relative_to(ROOT).as_posix())]
    assert not found, '\n'.join(found)
