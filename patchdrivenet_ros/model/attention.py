# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Attention over tokens: patches attend to patches, global cells attend to patches."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F  # noqa: N812


class CrossAttention(nn.Module):
    """Pre-norm multi-head attention of queries to a context of tokens (no residual)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm_query = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim)
        self.key_value = nn.Linear(dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, query: torch.Tensor, context: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attend (N, L, T) queries to (N, S, T) context; mask (N, S) bool marks usable keys."""
        batch, length, dim = query.shape
        head_dim = dim // self.heads
        q = self.query(self.norm_query(query))  # (N, L, T)
        q = q.view(batch, length, self.heads, head_dim).transpose(1, 2)  # (N, h, L, T/h)
        kv = self.key_value(self.norm_context(context))  # (N, S, 2T)
        kv = kv.view(batch, -1, 2, self.heads, head_dim)  # (N, S, 2, h, T/h)
        key, value = kv.permute(2, 0, 3, 1, 4)  # (N, h, S, T/h) each
        attn_mask = None if mask is None else mask[:, None, None, :]  # (N, 1, 1, S)
        out = F.scaled_dot_product_attention(q, key, value, attn_mask=attn_mask)  # (N, h, L, T/h)
        return self.out(out.transpose(1, 2).reshape(batch, length, dim))


class TokenMixer(nn.Module):
    """A transformer layer: queries attend to context tokens, then an MLP, both residual."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attention = CrossAttention(dim, heads)
        self.mlp = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.GELU(),
                                 nn.Linear(2 * dim, dim))

    def forward(self, query: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Mix (N, L, T) queries with (N, S, T) context tokens into (N, L, T)."""
        mixed = query + self.attention(query, context)
        return mixed + self.mlp(mixed)


class GlobalPatchAttention(nn.Module):
    """Global cells attend to their frame's patch tokens; a frame without patches is unchanged."""

    def __init__(self, channels: int, dim: int, heads: int) -> None:
        super().__init__()
        self.down = nn.Conv2d(channels, dim, 1)
        self.attention = CrossAttention(dim, heads)
        self.up = nn.Conv2d(dim, channels, 1)

    def forward(self, features: torch.Tensor, tokens: torch.Tensor,
                frames: torch.Tensor) -> torch.Tensor:
        """Refine (B, F, h, w) features with the (K, T) tokens of frames (K,) int64."""
        if tokens.shape[0] == 0:
            return features
        batch, _, rows, cols = features.shape
        counts = torch.bincount(frames, minlength=batch)  # (B,)
        order = torch.argsort(frames, stable=True)  # (K,)
        ordered = frames[order]
        slot = torch.arange(frames.shape[0], device=frames.device) - (counts.cumsum(0) - counts)[
            ordered]  # (K,) position of each token in its frame's context
        width = int(counts.max())
        context = tokens.new_zeros(batch, width, tokens.shape[1])  # (B, S, T)
        context[ordered, slot] = tokens[order]
        mask = torch.zeros(batch, width, dtype=torch.bool, device=tokens.device)  # (B, S)
        mask[ordered, slot] = True
        mask[:, 0] = True  # a frame without patches attends to a zero token; gated off below
        query = self.down(features).flatten(2).transpose(1, 2)  # (B, h*w, T)
        update = self.attention(query, context, mask).transpose(1, 2)  # (B, T, h*w)
        update = self.up(update.reshape(batch, -1, rows, cols))  # (B, F, h, w)
        return features + update * (counts > 0).to(update.dtype)[:, None, None, None]
