# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ament-style checks as tests: copyright headers, lint (flake8 and pep257 rules), xmllint.

ruff stands in for ament_flake8 and ament_pep257 (its rule set in pyproject.toml mirrors them at
99 columns); `colcon test` in a ROS workspace runs these too.
"""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    '# Copyright 2026 The patchdrivenet_ros Authors\n'
    '# SPDX-License-Identifier: Apache-2.0\n'
)
SKIPPED_DIRS = {'build', 'install', 'log', 'out', '__pycache__'}


def python_files() -> list[Path]:
    """Every .py file of the repository, outside hidden folders and build outputs."""
    found = []
    for path in sorted(ROOT.rglob('*.py')):
        parts = path.relative_to(ROOT).parts[:-1]
        if any(part.startswith('.') or part in SKIPPED_DIRS for part in parts):
            continue
        found.append(path)
    return found


def test_python_files_are_found() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {'setup.py', 'patchdrivenet_ros/config.py', 'test/test_style.py'} <= names


def test_copyright_header_on_every_python_file() -> None:
    missing = []
    for path in python_files():
        text = path.read_text(encoding='utf-8')
        if text.startswith('#!'):
            text = text.split('\n', 1)[1]
        if not text.startswith(HEADER):
            missing.append(path.relative_to(ROOT).as_posix())
    assert not missing, 'files without the copyright header:\n  ' + '\n  '.join(missing)


@pytest.mark.skipif(shutil.which('ruff') is None, reason='ruff is not installed')
def test_ruff_flake8_and_pep257_rules() -> None:
    result = subprocess.run(
        ['ruff', 'check', '--no-cache', '--output-format', 'concise', str(ROOT)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


XML_FILES = ['package.xml', 'interfaces/vision_msgs/package.xml']


@pytest.mark.parametrize('name', XML_FILES)
def test_xml_is_well_formed(name: str) -> None:
    path = ROOT / name
    xmllint = shutil.which('xmllint')
    if xmllint is not None:
        result = subprocess.run([xmllint, '--noout', '--nonet', str(path)],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
    else:  # Debian: apt-get install libxml2-utils (.ci/run does)
        ElementTree.parse(path)


@pytest.mark.parametrize('name', XML_FILES)
def test_package_manifest_format_3(name: str) -> None:
    text = (ROOT / name).read_text(encoding='utf-8')
    assert text.startswith('<?xml version="1.0"?>\n')
    assert 'schematypens="http://www.w3.org/2001/XMLSchema"' in text
    root = ElementTree.fromstring(text)
    assert root.tag == 'package' and root.get('format') == '3'
    order = [child.tag for child in root]
    assert order[:3] == ['name', 'version', 'description']
    assert order.index('maintainer') < order.index('license')
    assert order[-1] == 'export'
