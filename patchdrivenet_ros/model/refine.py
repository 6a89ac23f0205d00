# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Refinement stream: one light CNN over all chosen patches at the canonical size."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model.attention import TokenMixer
from patchdrivenet_ros.model.heads import DetectionHead
from patchdrivenet_ros.model.layers import (
    ConvBNAct,
    InvertedResidual,
    SeparableConv,
    make_divisible,
    stage,
)
from patchdrivenet_ros.model.outputs import PatchOutputs

GEOMETRY_FEATURES = 4
"""Box geometry given to each token: centre (x, y) in [-1, 1], log2 of (w, h) / canonical."""


class RefineNet(nn.Module):
    """Encode patches to stride 8, mix their tokens, decode logits (stride 2) and boxes (4)."""

    def __init__(self, config: ModelConfig, context_channels: int) -> None:
        super().__init__()
        width = config.refine_width
        dim = config.token_dim
        c2, c4, c8 = width, make_divisible(1.5 * width), make_divisible(2 * width)
        self.classes = len(config.classes)
        self.context_channels, self.bottleneck_channels = context_channels, c8
        # Set by onnx_stages.use_onnxruntime: the same encode / decode through ONNX Runtime.
        self.encode_runner: Callable[..., tuple[torch.Tensor, ...]] | None = None
        self.decode_runner: Callable[..., tuple[torch.Tensor, ...]] | None = None
        self.stem = nn.Sequential(ConvBNAct(3, c2, stride=2), InvertedResidual(c2, c2, 1, 1))
        self.down4 = stage(c2, c4, 2, 2, 4)
        self.down8 = InvertedResidual(c4, c8, 2, 4)
        self.context = ConvBNAct(context_channels, c8, kernel=1, act=False)
        self.bottleneck = InvertedResidual(c8, c8, 1, 4)
        self.to_token = nn.Linear(c8, dim)
        self.geometry = nn.Linear(GEOMETRY_FEATURES, dim)
        self.mixer = TokenMixer(dim, config.attention_heads)
        self.film = nn.Linear(dim, 2 * c8)
        self.patch_weight = nn.Linear(dim, 1)
        self.skip4 = ConvBNAct(c4, c8, kernel=1, act=False)
        self.up4 = SeparableConv(c8, c4)
        self.detect = DetectionHead(c4, len(config.detection_classes))
        self.skip2 = ConvBNAct(c2, c4, kernel=1, act=False)
        self.up2 = SeparableConv(c4, c2)
        self.segment = nn.Conv2d(c2, self.classes + 1, 1)

    def forward(self, crops: torch.Tensor, context: torch.Tensor, geometry: torch.Tensor,
                extra_tokens: torch.Tensor, chunk: int | None = None) -> PatchOutputs:
        """Refine K patches.

        crops (K, 3, p, p) normalised; context (K, F, p/8, p/8) global features over each box;
        geometry (K, 4); extra_tokens (R, T) tokens of patches not refined now (reused) that
        the K patches attend to as well. The convolutions run ``chunk`` patches at a time
        (None: all at once); chunks of a few patches keep CPU caches warm.
        """
        step = chunk or crops.shape[0]
        spans = [slice(i, i + step) for i in range(0, crops.shape[0], step)]
        on_cpu = crops.device.type == 'cpu'
        encode: Callable[..., tuple[torch.Tensor, ...]] = (
            self.encode_runner if on_cpu and self.encode_runner else self.encode)
        decode: Callable[..., tuple[torch.Tensor, ...]] = (
            self.decode_runner if on_cpu and self.decode_runner else self.decode)
        encoded = [encode(crops[span], context[span]) for span in spans]
        pooled = torch.cat([x8.mean((2, 3)) for _, _, x8 in encoded])  # (K, c8)
        token = self.to_token(pooled) + self.geometry(geometry)  # (K, T)
        context_tokens = torch.cat([token, extra_tokens], 0)  # (K + R, T)
        mixed = self.mixer(token[None], context_tokens[None])[0]  # (K, T)
        film = self.film(mixed)[:, :, None, None]  # (K, 2 c8, 1, 1)
        decoded = [decode(*features, film[span]) for features, span in zip(encoded, spans,
                                                                              strict=True)]
        segment = torch.cat([s for s, _ in decoded])  # (K, C + 1, p/2, p/2)
        return PatchOutputs(
            logits=segment[:, : self.classes],
            blend=segment[:, self.classes:],
            weight=torch.sigmoid(self.patch_weight(mixed)).squeeze(1),  # (K,)
            detection=torch.cat([d for _, d in decoded]),  # (K, D + 4, p/4, p/4)
            token=token,
            mixed=mixed,
        )

    def encode(self, crops: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode (k, 3, p, p) crops with their context into features at strides 2, 4, 8."""
        x2 = self.stem(crops)  # (k, c2, p/2, p/2)
        x4 = self.down4(x2)  # (k, c4, p/4, p/4)
        x8 = self.bottleneck(self.down8(x4) + self.context(context))  # (k, c8, p/8, p/8)
        return x2, x4, x8

    def decode(self, x2: torch.Tensor, x4: torch.Tensor, x8: torch.Tensor,
                film: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Modulate x8 by film (k, 2 c8, 1, 1); return segment (k, C + 1, p/2, p/2) and boxes."""
        gamma, beta = film.chunk(2, 1)  # (k, c8, 1, 1) each
        x8 = x8 * (1.0 + gamma) + beta
        y4 = self.up4(F.interpolate(x8, scale_factor=2.0, mode='nearest') + self.skip4(x4))
        y2 = self.up2(F.interpolate(y4, scale_factor=2.0, mode='nearest') + self.skip2(x2))
        return self.segment(y2), self.detect(y4)
