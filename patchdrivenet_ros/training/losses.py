# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training losses: boundary-aware cross-entropy, centre-heatmap focal loss, masked L1."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.classes import IGNORE_INDEX


def boundary_weights(labels: torch.Tensor, extra: float, radius: int = 2) -> torch.Tensor:
    """Return per-pixel weights 1 + extra near class boundaries; labels (B, H, W) long."""
    # A pixel is near a boundary when a neighbour within radius has another label.
    as_float = labels.unsqueeze(1).float()  # (B, 1, H, W)
    size = 2 * radius + 1
    high = F.max_pool2d(as_float, size, stride=1, padding=radius)
    low = -F.max_pool2d(-as_float, size, stride=1, padding=radius)
    near = (high != low).squeeze(1)  # (B, H, W)
    return 1.0 + extra * near.float()


def segmentation_loss(
    logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted cross-entropy over labelled pixels.

    logits (B, C, h, w) are resized to the labels' (B, H, W) size when they differ; weights
    (B, H, W) come from ``pixel_weights``.
    """
    if logits.shape[-2:] != labels.shape[-2:]:
        logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear',
                               align_corners=False)
    per_pixel = F.cross_entropy(logits, labels, ignore_index=IGNORE_INDEX, reduction='none')
    return (per_pixel * weights).sum() / weights.sum().clamp(min=1.0)


def pixel_weights(labels: torch.Tensor, boundary_extra: float) -> torch.Tensor:
    """Return (B, H, W) loss weights: 0 on unlabeled pixels, 1 + extra near boundaries."""
    return boundary_weights(labels, boundary_extra) * (labels != IGNORE_INDEX)


def heatmap_focal_loss(
    logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0
) -> torch.Tensor:
    """Penalty-reduced focal loss on centre heatmaps (CornerNet/CenterNet form).

    logits and target (B, D, h, w); target is 1 at object centres and a Gaussian around them.
    Normalised by the number of centres (at least 1).
    """
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    prob = log_p.exp()
    positive = target.ge(1.0 - 1e-4).float()
    pos_term = ((1.0 - prob) ** alpha) * log_p * positive
    neg_term = ((1.0 - target) ** beta) * (prob**alpha) * log_not_p * (1.0 - positive)
    count = positive.sum().clamp(min=1.0)
    return -(pos_term.sum() + neg_term.sum()) / count


def masked_l1(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean L1 over positions where mask (B, 1, h, w) is set; prediction/target (B, c, h, w)."""
    weight = mask.expand_as(prediction)
    return (weight * (prediction - target).abs()).sum() / weight.sum().clamp(min=1.0)


def priority_loss(priority_logits: torch.Tensor, oracle: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of candidate priorities against oracle scores in [0, 1]; (B, N)."""
    return F.binary_cross_entropy_with_logits(priority_logits, oracle)
