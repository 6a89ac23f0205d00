# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""FLOPs actually spent: forward hooks count what ran, per scope, from the tensors' shapes.

Counted like ``torch.utils.flop_counter``: 2 x multiply-adds of convolutions, linear layers and
attention products. Elementwise work (normalisation, activations, resizing, blending) is not
counted, so a reused patch costs nothing here: its bookkeeping is elementwise.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from patchdrivenet_ros.model.attention import CrossAttention

ENCODE = 'encode'
"""Scope of the global stream's encoding of a frame (skipped where its features are reused)."""
GLOBAL = 'global'
"""Scope of the rest of the work done once per frame (global heads, attention to patches)."""
PATCH = 'patch'
"""Scope of work done for the patches refined in this call."""


def module_flops(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> float:
    """Return 2 x multiply-adds of one call of a counted module, else 0."""
    if isinstance(module, nn.Conv2d):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        return 2.0 * output.numel() * kernel * module.in_channels / module.groups
    if isinstance(module, nn.Linear):
        return 2.0 * output.numel() * module.in_features
    if isinstance(module, CrossAttention):
        query, context = inputs[0], inputs[1]
        batch, length, dim = query.shape
        return 4.0 * batch * length * context.shape[1] * dim  # scores and weighted sum
    return 0.0


class FlopCounter:
    """Accumulates the FLOPs of the modules it is attached to, per scope."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.scope = GLOBAL
        self.enabled = True

    def attach(self, model: nn.Module) -> None:
        """Register a counting hook on each convolution, linear layer and attention of model."""
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear, CrossAttention)):
                module.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
        if self.enabled:
            self.totals[self.scope] += module_flops(module, inputs, output)

    @contextmanager
    def within(self, scope: str) -> Iterator[None]:
        """Count what runs inside the block under ``scope``."""
        previous, self.scope = self.scope, scope
        try:
            yield
        finally:
            self.scope = previous

    def add(self, flops: float) -> None:
        """Count work done outside the hooked modules (e.g. by ONNX Runtime) in the scope."""
        if self.enabled:
            self.totals[self.scope] += flops

    def reset(self) -> None:
        """Forget every count."""
        self.totals.clear()

    def total(self) -> float:
        """Return the FLOPs counted since the last reset."""
        return float(sum(self.totals.values()))

    def per_frame(self, batch: int, patch_frames: np.ndarray,
                  encoded_frames: np.ndarray | None = None) -> torch.Tensor:
        """Split the counts over ``batch`` frames, (B,) float64.

        GLOBAL work is shared evenly; ENCODE work evenly over the frames encoded in this call
        (encoded_frames (e,) int; default every frame); PATCH work in proportion to the patches
        each frame had refined in this call (patch_frames (k,) int, frame of each refined patch).
        """
        flops = np.full(batch, self.totals[GLOBAL] / batch)
        encoded = np.arange(batch) if encoded_frames is None else encoded_frames
        if encoded.size:
            flops[encoded] += self.totals[ENCODE] / encoded.size
        if patch_frames.size:
            share = np.bincount(patch_frames, minlength=batch) / patch_frames.size
            flops += self.totals[PATCH] * share
        return torch.from_numpy(flops)
