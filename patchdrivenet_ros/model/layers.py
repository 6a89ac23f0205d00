# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Convolution building blocks shared by the global and refinement streams."""

from __future__ import annotations

import torch
from torch import nn


def make_divisible(value: float, divisor: int = 4, minimum: int = 8) -> int:
    """Round a channel count to a multiple of ``divisor`` (at least ``minimum``)."""
    rounded = max(minimum, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class ConvBNAct(nn.Sequential):
    """Convolution, batch norm and an optional ReLU6."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1,
                 groups: int = 1, act: bool = True) -> None:
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise, linear 1x1 projection, residual."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(ConvBNAct(in_channels, hidden, kernel=1))
        layers += [
            ConvBNAct(hidden, hidden, stride=stride, groups=hidden),
            ConvBNAct(hidden, out_channels, kernel=1, act=False),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block; (N, Cin, H, W) -> (N, Cout, H / stride, W / stride)."""
        out = self.body(x)
        return x + out if self.residual else out


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 convolution, both with batch norm and ReLU6."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            ConvBNAct(in_channels, in_channels, groups=in_channels),
            ConvBNAct(in_channels, out_channels, kernel=1),
        )


def stage(in_channels: int, out_channels: int, blocks: int, stride: int,
          expansion: int) -> nn.Sequential:
    """Stack ``blocks`` inverted residuals; the first one strides and changes width."""
    layers = [InvertedResidual(in_channels, out_channels, stride, expansion)]
    layers += [InvertedResidual(out_channels, out_channels, 1, expansion)
               for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


def fold_batch_norm(model: nn.Module) -> None:
    """Fold every ConvBNAct's batch norm (running statistics) into its convolution, in place.

    For inference only: the outputs stay the same (to float rounding), the BN layers become
    identities, and the convolutions get a bias.
    """
    for module in model.modules():
        if not isinstance(module, ConvBNAct) or not isinstance(module[1], nn.BatchNorm2d):
            continue
        conv, norm = module[0], module[1]
        assert isinstance(conv, nn.Conv2d)
        assert norm.running_var is not None and norm.running_mean is not None
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)  # (Cout,)
        with torch.no_grad():
            conv.weight.mul_(scale[:, None, None, None])
            conv.bias = nn.Parameter(norm.bias - norm.running_mean * scale)
        module[1] = nn.Identity()
