# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The weights shipped with the package: PatchDriveNet's default and the uniform family.

The uniform family is the same network trained with the same recipe as PatchDriveNet, run on
the whole frame at one scale and without patches (SF-low at 0.25 up to SF-full at 1.0). It is
the curve PatchDriveNet must lie above at equal compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from patchdrivenet_ros.config import PerceptionConfig, with_changes
from patchdrivenet_ros.model.weights import default_weights_path


def shipped_weights_dir() -> Path:
    """Return the folder of the shipped weights (beside the default PatchDriveNet weights)."""
    return default_weights_path().parent


@dataclass(frozen=True)
class UniformBaseline:
    """One member of the uniform-resolution family: a name, its scale and its weights file."""

    name: str
    scale: float

    @property
    def method(self) -> str:
        """The PerceptionConfig method that runs it."""
        return 'sf_full' if self.scale == 1.0 else 'sf_low'

    @property
    def filename(self) -> str:
        """Weights file name inside a weights folder."""
        return 'sf_full.safetensors' if self.scale == 1.0 else f'sf_{self.scale:g}.safetensors'

    def weights(self, folder: Path | None = None) -> Path:
        """Return its weights path in ``folder`` (default: the shipped weights)."""
        return (folder or shipped_weights_dir()) / self.filename

    def config(self, base: PerceptionConfig) -> PerceptionConfig:
        """Return ``base`` set up to run this baseline."""
        return with_changes(base, method=self.method, global_scale=min(self.scale, 1.0),
                            patch_budget=0, reuse_rule='off')


UNIFORM_FAMILY = (
    UniformBaseline('SF-low', 0.25),
    UniformBaseline('SF-0.375', 0.375),
    UniformBaseline('SF-0.5', 0.5),
    UniformBaseline('SF-0.75', 0.75),
    UniformBaseline('SF-full', 1.0),
)
"""The shipped uniform family, cheapest first (SF-low is SF-0.25)."""


def uniform_baseline(scale: float) -> UniformBaseline:
    """Return the family member of ``scale`` (ValueError when none)."""
    for member in UNIFORM_FAMILY:
        if member.scale == scale:
            return member
    scales = ', '.join(f'{m.scale:g}' for m in UNIFORM_FAMILY)
    raise ValueError(f'no uniform baseline at scale {scale:g} (shipped: {scales})')
