# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The console tools make OpenMP threads wait passively unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ('import os, sys, patchdrivenet_ros.tools; loaded = "torch" in sys.modules; '
         'import patchdrivenet_ros.tools.benchmark; '
         'print(os.environ["OMP_WAIT_POLICY"], loaded)')


@pytest.mark.parametrize(('given', 'expected'), [(None, 'PASSIVE'), ('ACTIVE', 'ACTIVE')])
def test_openmp_waits_passively_before_torch_loads(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != 'OMP_WAIT_POLICY'}
    if given is not None:
        env['OMP_WAIT_POLICY'] = given
    result = subprocess.run([sys.executable, '-c', PROBE], env=env, capture_output=True,
                            text=True, check=True, timeout=120)
    assert result.stdout.split() == [expected, 'False']  # set before torch was imported
