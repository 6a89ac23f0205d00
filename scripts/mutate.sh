#!/usr/bin/env bash
# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
#
# `make mutate`: mutation testing of the core modules with mutmut (not part of CI: too slow).
# The modules and their fast test files are set in pyproject.toml, [tool.mutmut]; each mutant
# runs only the tests that call the function it changed. mutmut works in a fresh scratch copy,
# out/mutate/, so the working tree is never mutated. Prints the kill ratio per module and the
# surviving mutants (docs/mutation.md says why each is accepted); exits non-zero when a module
# kills fewer than MUTATE_MIN_KILLED percent (default 90) or the run outlasts MUTATE_BUDGET_S
# seconds (default 2700).
#   scripts/mutate.sh [mutant name globs...]     e.g. 'patchdrivenet_ros.model.decode.*'
# Afterwards:  cd out/mutate && mutmut show <mutant name>   (the diff of one mutant)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ -f .ws/env.sh ] || { echo 'run `make setup` first' >&2; exit 1; }
# shellcheck source=/dev/null
. .ws/env.sh
command -v mutmut >/dev/null || { echo 'mutmut missing: run `make setup`' >&2; exit 1; }

WORK=$ROOT/out/mutate
MIN_KILLED=${MUTATE_MIN_KILLED:-90}
BUDGET_S=${MUTATE_BUDGET_S:-2700}

rm -rf "$WORK"
mkdir -p "$WORK"
cp -r patchdrivenet_ros test pyproject.toml setup.cfg "$WORK"/
find "$WORK" -name __pycache__ -type d -prune -exec rm -rf {} +
cd "$WORK"

start=$SECONDS
echo "mutmut $(mutmut --version 2>/dev/null | awk '{print $NF}') in $WORK (log: mutmut.log)"
status=0
# Progress lines go to the log; one test thread per mutant, as many mutants as cores.
timeout --signal=INT "$BUDGET_S" mutmut run --max-children "$(nproc)" "$@" >mutmut.log 2>&1 \
  || status=$?
elapsed=$((SECONDS - start))
if [ "$status" -ne 0 ]; then
  tr '\r' '\n' <mutmut.log | tail -n 30
  [ "$status" -eq 124 ] && echo "mutation run stopped at the budget of ${BUDGET_S}s" >&2
  echo "mutmut run failed (exit $status) after ${elapsed}s" >&2
  exit 1
fi

mutmut results --all true >results.txt
python - "$MIN_KILLED" "$elapsed" <<'EOF'
"""Tally results.txt per module: mutants the tests detected over all mutants."""
from collections import Counter, defaultdict
import sys

DETECTED = ('killed', 'timeout', 'segfault')  # the tests failed, ran too long or crashed

minimum, elapsed = float(sys.argv[1]), int(sys.argv[2])
counts: dict[str, Counter[str]] = defaultdict(Counter)
survivors: list[str] = []
for line in open('results.txt', encoding='utf-8'):
    name, _, status = line.strip().rpartition(': ')
    if not name or status == 'not checked':  # outside the globs given on the command line
        continue
    counts[name.rsplit('.', 1)[0]][status] += 1
    if status not in DETECTED:
        survivors.append(f'{name}: {status}')
failed = False
print(f'\n{"module":44} {"mutants":>7} {"killed":>7} {"ratio":>7}')
for module, tally in sorted(counts.items()):
    total = sum(tally.values())
    killed = sum(tally[status] for status in DETECTED)
    ratio = 100.0 * killed / total
    failed |= ratio < minimum
    print(f'{module:44} {total:7d} {killed:7d} {ratio:6.1f}%')
total = sum(sum(t.values()) for t in counts.values())
killed = sum(sum(t[status] for status in DETECTED) for t in counts.values())
print(f'{"all":44} {total:7d} {killed:7d} {100.0 * killed / max(total, 1):6.1f}%')
print(f'\n{len(survivors)} not killed (cd out/mutate && mutmut show NAME):')
print('\n'.join(f'  {s}' for s in survivors))
print(f'\n{elapsed}s')
if failed:
    print(f'a module kills fewer than {minimum:g}% of its mutants', file=sys.stderr)
sys.exit(1 if failed else 0)
EOF
