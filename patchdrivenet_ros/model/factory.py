# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The explicit model factory (no registries)."""

from __future__ import annotations

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model.layers import fold_batch_norm
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet


def build_model(config: ModelConfig) -> PatchDriveNet:
    """Build an untrained PatchDriveNet for ``config`` (in eval mode is up to the caller)."""
    return PatchDriveNet(config)


def inference_model(model: PatchDriveNet) -> PatchDriveNet:
    """Return an eval-mode copy of ``model`` with batch norm folded into the convolutions.

    Same outputs (to float rounding), about a fifth less CPU time; the copy cannot be trained
    or saved (``folded`` is True).
    """
    copy = build_model(model.config)
    copy.load_state_dict(model.state_dict())
    fold_batch_norm(copy)
    copy.folded = True
    return copy.eval().to(next(model.parameters()).device)
