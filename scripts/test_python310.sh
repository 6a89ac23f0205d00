#!/usr/bin/env bash
# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# `make test-py310`: the core suite (everything but the ROS tests) on Python 3.10, the Python of
# ROS 2 Humble, with requirements-ros.txt as a Humble user installs it. What rosdep would bring
# from Ubuntu 22.04 (numpy 1.x, OpenCV, PyYAML) is pinned below to versions with 3.10 wheels.
# No ROS 2 Humble is installed here, so the ROS tests cannot run on 3.10: only the core does.
# Not in CI: PyPI's torch 2.13.0 for 3.10 is the CUDA build (about 4.7 GB installed).
#   scripts/test_python310.sh [pytest arguments...]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv-py310"
ROSDEP_STAND_INS=('numpy==1.26.4' 'opencv-python-headless==4.10.0.84' 'pyyaml==6.0.3')

PYTHON=""
for candidate in python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10; do
  # (a pyenv shim is on PATH even where it would refuse to run: ask the interpreter itself)
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
  then
    PYTHON=$("$candidate" -c 'import sys; print(sys.executable)')
    break
  fi
done
if [ -z "$PYTHON" ]; then
  echo '[py310] no Python 3.10 interpreter found (PATH or pyenv): nothing measured' >&2
  exit 2
fi
echo "[py310] $("$PYTHON" --version) at $PYTHON"

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
  -r "$ROOT/requirements-ros.txt" -r "$ROOT/requirements-dev.txt" "${ROSDEP_STAND_INS[@]}" \
  2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q --no-deps \
  nuscenes-devkit==1.2.0 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }

cd "$ROOT"
PYTHONPATH="$ROOT" "$VENV/bin/python" -m pytest -q -m 'not ros' -p no:cacheprovider "$@"
