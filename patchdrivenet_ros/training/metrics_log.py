# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""``metrics.jsonl``: one JSON line per training step (learning rate, loss terms, skips)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class MetricsLog:
    """Appends step records to a JSON-lines file; a resumed run drops the steps it redoes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, step: int, values: dict[str, Any]) -> None:
        """Write the record of ``step``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open('a', encoding='utf-8') as stream:
            stream.write(json.dumps({'step': step, **values}) + '\n')

    def records(self) -> list[dict[str, Any]]:
        """Return every record, in order (none when the file does not exist)."""
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding='utf-8').splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def truncate(self, step: int) -> None:
        """Keep only the records up to ``step`` (a checkpoint's step, before resuming)."""
        kept = [r for r in self.records() if r['step'] <= step]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(''.join(json.dumps(r) + '\n' for r in kept), encoding='utf-8')


__all__ = ['MetricsLog']
