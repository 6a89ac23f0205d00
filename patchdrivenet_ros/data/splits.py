# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Scene seeds of the synthetic splits: training uses TrainConfig.data_seeds (1000+), far below."""

from __future__ import annotations

HELD_OUT_SEED = 900_000
"""First scene seed of the held-out drives (reported results); +10000 for adverse ones."""
VALIDATION_SEED = 800_000
"""First scene seed of the validation drives (tuning, ablations, scores during training)."""

__all__ = ['HELD_OUT_SEED', 'VALIDATION_SEED']
