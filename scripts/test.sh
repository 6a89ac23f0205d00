#!/usr/bin/env bash
# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# `make test` / `make lint`: ruff, mypy, then pytest (ROS tests included) inside .ws/env.sh.
# Every step runs even when an earlier one fails; a summary closes the output and the exit
# status is non-zero when any step failed.
#   scripts/test.sh [--lint-only] [pytest arguments...]
# With ROS_WHEELS=jazzy (`make test-jazzy`) only pytest runs, inside .ws-jazzy/env.sh: the
# linters do not depend on the distribution.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
case "${ROS_WHEELS:-kilted}" in
  jazzy) ENV_SH=.ws-jazzy/env.sh ;;
  *) ENV_SH=.ws/env.sh ;;
esac
[ -f "$ENV_SH" ] || { echo "$ENV_SH missing: run \`make setup\` first" >&2; exit 1; }
# shellcheck source=/dev/null
. "$ENV_SH"
python - <<'EOF'
import sys
from importlib.metadata import version
import rclpy
print(f'[test] Python {sys.version.split()[0]}, rclpy {version("rclpy")} from {rclpy.__file__}')
EOF

lint_only=false
if [ "${1:-}" = --lint-only ]; then
  lint_only=true
  shift
fi

# ROS tests must run here, never be skipped for a missing rclpy or vision_msgs.
export PATCHDRIVENET_REQUIRE_ROS=1
# On the wheels (no ROS sourced), the rclpy major version proves which distribution ran.
if [ -z "${ROS_DISTRO:-}" ]; then
  case "${ROS_WHEELS:-kilted}" in
    jazzy) export PATCHDRIVENET_EXPECT_RCLPY_MAJOR=7 ;;
    *) export PATCHDRIVENET_EXPECT_RCLPY_MAJOR=9 ;;
  esac
fi

names=()
results=()
seconds=()
failed=0

step() {  # <name> <command...>
  local name=$1 start=$SECONDS rc
  shift
  printf '\n===== %s: %s\n' "$name" "$*"
  "$@"
  rc=$?
  names+=("$name")
  seconds+=($((SECONDS - start)))
  if [ "$rc" -eq 0 ]; then
    results+=(ok)
  else
    results+=("FAILED (exit $rc)")
    failed=1
  fi
}

if [ "${ROS_WHEELS:-kilted}" != jazzy ]; then
  step ruff ruff check .
  step mypy mypy
fi
if ! $lint_only; then
  step pytest python -m pytest -ra "$@"
fi

printf '\n===== summary\n'
for i in "${!names[@]}"; do
  printf '  %-8s %-18s %4ss\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}"
done
if [ "$failed" -ne 0 ]; then
  echo 'FAILED'
  exit 1
fi
echo 'all passed'
