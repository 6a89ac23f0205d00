#!/usr/bin/env bash
# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# `make test` / `make lint`: ruff, mypy, then pytest (ROS tests included) inside .ws/env.sh.
# Every step runs even when an earlier one fails; a summary closes the output and the exit
# status is non-zero when any step failed.
#   scripts/test.sh [--lint-only] [pytest arguments...]
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
[ -f .ws/env.sh ] || { echo 'run `make setup` first' >&2; exit 1; }
# shellcheck source=/dev/null
. .ws/env.sh

lint_only=false
if [ "${1:-}" = --lint-only ]; then
  lint_only=true
  shift
fi

# ROS tests must run here, never be skipped for a missing rclpy or vision_msgs.
export PATCHDRIVENET_REQUIRE_ROS=1

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

step ruff ruff check .
step mypy mypy
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
