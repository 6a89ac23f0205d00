# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Prediction heads: per-pixel class logits, CenterNet-style detection maps, patch priority."""

from __future__ import annotations

import math

import torch
from torch import nn

from patchdrivenet_ros.model.layers import SeparableConv

HEAT_PRIOR = 0.1
"""Initial centre-heatmap probability (the usual CenterNet focal-loss prior)."""


class Head(nn.Module):
    """A separable 3x3 trunk and a 1x1 linear output layer."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.trunk = SeparableConv(in_channels, in_channels)
        self.out = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, Cin, h, w) features to (N, Cout, h, w) outputs."""
        return self.out(self.trunk(x))


class DetectionHead(Head):
    """Anchor-free detection: D centre-heatmap logits, log size (2) and offset logits (2)."""

    def __init__(self, in_channels: int, classes: int) -> None:
        super().__init__(in_channels, classes + 4)
        self.classes = classes
        bias = torch.zeros(classes + 4)
        bias[:classes] = -math.log((1.0 - HEAT_PRIOR) / HEAT_PRIOR)
        self.out.bias = nn.Parameter(bias)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (heat (N, D, h, w), size (N, 2, h, w), offset (N, 2, h, w)) of features x."""
        out = self(x)
        return out[:, : self.classes], out[:, self.classes: self.classes + 2], \
            out[:, self.classes + 2:]
