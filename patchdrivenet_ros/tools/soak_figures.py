# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Figures of the soak tool: one measured value each, with its target, as a table and as JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
import json
import math
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured value; ``ok`` is None for figures without a target (reported only)."""

    section: str
    name: str
    value: Any
    target: str = ''
    ok: bool | None = None
    detail: str = ''


def check(section: str, name: str, value: Any, target: str,
          meets: Callable[[Any], bool], detail: str = '') -> Figure:
    """Return a figure whose ``ok`` says whether ``meets(value)`` (False for NaN)."""
    nan = isinstance(value, float) and math.isnan(value)
    return Figure(section, name, value, target, (not nan) and bool(meets(value)), detail)


def note(section: str, name: str, value: Any, detail: str = '') -> Figure:
    """Return a figure that is reported but has no target."""
    return Figure(section, name, value, '', None, detail)


def all_met(figures: Iterable[Figure]) -> bool:
    """Whether no figure missed its target."""
    return all(f.ok is not False for f in figures)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return 'nan' if math.isnan(value) else f'{value:.4g}'
    return str(value)


def to_json(figures: Iterable[Figure], **extra: Any) -> dict[str, Any]:
    """Return the figures (and ``extra`` facts of the run) as a JSON-ready dict."""
    rows = []
    for figure in figures:
        row = asdict(figure)
        if isinstance(figure.value, float) and not math.isfinite(figure.value):
            row['value'] = str(figure.value)  # JSON has no NaN or inf
        rows.append(row)
    return {**extra, 'all_targets_met': all(r['ok'] is not False for r in rows), 'figures': rows}


def write_json(path: Path, figures: Iterable[Figure], **extra: Any) -> None:
    """Write the figures (see ``to_json``) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(figures, **extra), indent=2) + '\n', encoding='utf-8')


def print_table(figures: Iterable[Figure], title: str) -> None:
    """Print the figures as a table (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ('section', 'figure', 'value', 'target', 'met', 'detail'):
        table.add_column(column, overflow='fold')
    marks = {True: '[green]yes[/green]', False: '[red]NO[/red]', None: ''}
    for figure in figures:
        table.add_row(figure.section, figure.name, _text(figure.value), figure.target,
                      marks[figure.ok], figure.detail)
    Console(width=160).print(table)


__all__ = ['Figure', 'all_met', 'check', 'note', 'print_table', 'to_json', 'write_json']
