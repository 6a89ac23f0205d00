# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""MobileNetV2-style global encoder, FPN-lite neck at stride 8, optional stride-4 decoder."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.layers import ConvBNAct, SeparableConv, make_divisible, stage

# (channels as a multiple of the width, blocks, stride, expansion) after the stride-2 stem.
STAGES: tuple[tuple[float, int, int, int], ...] = (
    (1.0, 1, 1, 1),  # stride 2
    (1.5, 2, 2, 4),  # stride 4
    (2.0, 3, 2, 4),  # stride 8
    (4.0, 3, 2, 4),  # stride 16
    (6.0, 2, 2, 4),  # stride 32
)
STRIDE = 32
"""Total stride of the encoder: inputs are padded to a multiple of it."""
FEATURE_STRIDE = 8
"""Stride of the neck output that every global head reads."""


class Backbone(nn.Module):
    """Inverted-residual encoder returning its stride 4, 8, 16 and 32 features."""

    def __init__(self, width: int, depth_multiplier: float) -> None:
        super().__init__()
        self.stem = ConvBNAct(3, width, stride=2)
        channels = width
        stages = []
        self.out_channels: list[int] = []
        for multiple, blocks, stride, expansion in STAGES:
            out = make_divisible(width * multiple)
            count = max(1, round(blocks * depth_multiplier))
            stages.append(stage(channels, out, count, stride, expansion))
            channels = out
            self.out_channels.append(out)
        self.stages = nn.ModuleList(stages)
        self.detail_channels = self.out_channels[1]
        self.out_channels = self.out_channels[2:]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Encode (B, 3, H, W) with H, W multiples of 32 into features at strides 4 to 32."""
        x = self.stem(x)  # (B, w, H/2, W/2)
        features = []
        for index, layer in enumerate(self.stages):
            x = layer(x)
            if index >= 1:
                features.append(x)
        return features


class Neck(nn.Module):
    """Top-down feature pyramid merged into one stride-8 map."""

    def __init__(self, in_channels: list[int], channels: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(ConvBNAct(c, channels, kernel=1, act=False)
                                     for c in in_channels)
        self.smooth = SeparableConv(channels, channels)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Merge [(B, c8, H/8, W/8), (B, c16, ...), (B, c32, ...)] into (B, C, H/8, W/8)."""
        merged = self.lateral[-1](features[-1])
        for lateral, feature in zip(self.lateral[-2::-1], features[-2::-1], strict=True):
            merged = lateral(feature) + F.interpolate(merged, size=feature.shape[-2:],
                                                      mode='nearest')
        return self.smooth(merged)


class DetailDecoder(nn.Module):
    """Refines stride-8 class logits to stride 4 with the encoder's stride-4 features.

    ``logits_4 = up(logits_8) + out(trunk([up(logits_8), reduce(detail)]))``; the output layer
    starts at zero, so an untrained decoder returns the upsampled logits.
    """

    def __init__(self, detail_channels: int, classes: int, hidden: int = 24) -> None:
        super().__init__()
        self.reduce = ConvBNAct(detail_channels, hidden, kernel=1)
        self.trunk = SeparableConv(classes + hidden, hidden)
        self.out = nn.Conv2d(hidden, classes, 1)
        for parameter in self.out.parameters():
            nn.init.zeros_(parameter)

    def forward(self, logits: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        """Map logits (B, C, h, w) and detail (B, Cd, 2h, 2w) to logits (B, C, 2h, 2w)."""
        up = F.interpolate(logits, size=detail.shape[-2:], mode='bilinear', align_corners=False)
        return up + self.out(self.trunk(torch.cat([up, self.reduce(detail)], 1)))
