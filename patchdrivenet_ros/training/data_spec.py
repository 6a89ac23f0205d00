# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The training data spec: ``KIND[:PATH][:WEIGHT]``, one entry per source (training/sources.py).

``synthetic``, ``synthetic:2``, ``cityscapes:/data/cityscapes``,
``kitti-object:/data/kitti/training:0.5``, ``folder:/data/mine``,
``nuscenes:/data/nuscenes:v1.0-trainval`` (the version after the dataroot; default
v1.0-trainval). The weight is the share of batch slots the source fills, relative to the others
(default 1).
"""

from __future__ import annotations

from dataclasses import dataclass
import math

SYNTHETIC = 'synthetic'
FILE_KINDS = ('cityscapes', 'kitti-object', 'folder', 'nuscenes')


class DataError(ValueError):
    """A data source that cannot be used at all (names the path and the reason)."""


@dataclass(frozen=True)
class SourceSpec:
    """One entry of ``--data``: a kind, its path (none for synthetic) and a sampling weight."""

    kind: str
    path: str = ''
    weight: float = 1.0


def parse_spec(text: str) -> SourceSpec:
    """Parse ``KIND[:PATH][:WEIGHT]``; raise DataError on an unknown kind or a bad weight."""
    kind, _, rest = text.partition(':')
    weight = 1.0
    head, _, tail = rest.rpartition(':')
    if tail and (kind == SYNTHETIC or head):
        try:
            weight, rest = float(tail), head
        except ValueError:
            pass  # a path with a colon and no weight
    if kind == SYNTHETIC:
        if rest:
            raise DataError(f'{text!r}: synthetic takes only a weight, e.g. synthetic:1.0')
    elif kind not in FILE_KINDS:
        raise DataError(f'{text!r}: unknown source {kind!r}; choose from '
                        f'{", ".join((SYNTHETIC, *FILE_KINDS))}')
    elif not rest:
        raise DataError(f'{text!r}: give the folder, e.g. {kind}:/data/{kind}')
    if not (math.isfinite(weight) and weight > 0):
        raise DataError(f'{text!r}: the weight must be a positive number')
    return SourceSpec(kind, rest, weight)


__all__ = ['FILE_KINDS', 'SYNTHETIC', 'DataError', 'SourceSpec', 'parse_spec']
