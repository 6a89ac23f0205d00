# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Command-line ``key=value`` overrides onto a config mapping (dots reach nested fields)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


def apply_overrides(mapping: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return a copy of mapping with each ``a.b=value`` applied; values are parsed as YAML."""
    result: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in mapping.items()}
    for item in overrides:
        key, sep, text = item.partition('=')
        if not sep or not key:
            raise ValueError(f'override {item!r} is not key=value')
        *parents, leaf = key.split('.')
        target = result
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ValueError(f'override {item!r}: {parent} is not a group')
        target[leaf] = yaml.safe_load(text)
    return result
