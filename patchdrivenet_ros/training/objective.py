# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The training objective: L = L_seg + L_det + L_priority + lambda * sum |w_i|."""

from __future__ import annotations

import numpy as np
import torch

from patchdrivenet_ros.classes import IGNORE_INDEX
from patchdrivenet_ros.config import ModelConfig, TrainConfig
from patchdrivenet_ros.model.outputs import DetectionMaps, PatchDriveNetOutput
from patchdrivenet_ros.training.data import Batch
from patchdrivenet_ros.training.distillation import distillation_loss
from patchdrivenet_ros.training.losses import (
    boundary_weights,
    heatmap_focal_loss,
    masked_l1,
    pixel_weights,
    priority_loss,
    segmentation_loss,
)
from patchdrivenet_ros.training.oracle import (
    oracle_candidate_scores,
    oracle_pixel_map,
    prediction_errors,
    resolution_errors,
)
from patchdrivenet_ros.training.targets import detection_targets

COARSE_WEIGHT = 0.5
"""Weight of the global stream's own segmentation losses beside the fused one."""


def detection_channels(model_config: ModelConfig) -> np.ndarray:
    """Map segmentation class id -> detection-head channel (-1 for classes without boxes)."""
    lut = np.full(len(model_config.classes), -1, np.int64)
    for channel, name in enumerate(model_config.detection_classes):
        lut[model_config.classes.index(name)] = channel
    return lut


def detection_loss(maps: DetectionMaps, batch: Batch, channels: np.ndarray) -> torch.Tensor:
    """Focal heatmap + L1 size/offset loss of M maps against the batch's boxes.

    Maps of frames whose source labels no boxes are left out (not taken as "no objects").
    """
    labelled = torch.tensor(batch.boxes_labelled, dtype=torch.bool)[maps.frame.cpu()]
    if not bool(labelled.all()):
        keep = torch.nonzero(labelled).flatten().to(maps.heat.device)
        maps = DetectionMaps(*(t.index_select(0, keep) for t in (
            maps.heat, maps.size, maps.offset, maps.origin, maps.cell, maps.frame)))
    count, classes, rows, cols = maps.heat.shape
    if count == 0:
        return maps.heat.sum() * 0.0
    frames = maps.frame.cpu().numpy()
    origins = maps.origin.detach().cpu().numpy()
    cells = maps.cell.detach().cpu().numpy()
    rendered = []
    for index in range(count):
        frame = int(frames[index])
        box_channels = channels[batch.class_ids[frame]]
        keep = box_channels >= 0
        rendered.append(detection_targets(
            batch.boxes[frame][keep], box_channels[keep], classes, (rows, cols),
            (float(origins[index, 0]), float(origins[index, 1])),
            (float(cells[index, 0]), float(cells[index, 1])),
        ))
    device = maps.heat.device

    def stacked(name: str) -> torch.Tensor:
        return torch.from_numpy(np.stack([getattr(t, name) for t in rendered])).to(device)

    mask = stacked('mask')  # (M, 1, h, w)
    heat = heatmap_focal_loss(maps.heat.float(), stacked('heat'))
    size = masked_l1(maps.size.float(), stacked('size'), mask)
    offset = masked_l1(torch.sigmoid(maps.offset.float()), stacked('offset'), mask)
    return heat + 0.5 * size + offset


def training_loss(
    output: PatchDriveNetOutput,
    batch: Batch,
    config: TrainConfig,
    thin_ids: tuple[int, ...],
    teacher_log_probs: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Return each weighted loss term and their sum under 'total'.

    teacher_log_probs (B, C, H, W), from a full-resolution teacher, adds the 'distill' term.
    """
    labels = batch.labels.to(output.logits.device)
    channels = detection_channels(config.model)
    weights = pixel_weights(labels, config.boundary_weight)
    terms = {
        'seg': segmentation_loss(output.logits, labels, weights)
        + COARSE_WEIGHT * segmentation_loss(output.global_logits, labels, weights),
        'det': config.detection_weight * (
            detection_loss(output.global_detection, batch, channels)
            + detection_loss(output.patch_detection, batch, channels)
        ),
    }
    if teacher_log_probs is not None:
        everywhere = boundary_weights(labels, config.boundary_weight)
        terms['distill'] = config.distill_weight * (
            distillation_loss(output.logits, teacher_log_probs, everywhere)
            + COARSE_WEIGHT * distillation_loss(output.global_logits, teacher_log_probs,
                                                everywhere))
    if output.coarse_logits is not None and output.priority_logits.shape[1] > 0:
        terms['seg'] = terms['seg'] + COARSE_WEIGHT * segmentation_loss(
            output.coarse_logits, labels, weights)
        errors = (resolution_errors(labels, config.global_scale)
                  if config.priority_target == 'resolution'
                  else prediction_errors(output.coarse_logits, labels))
        pixel_map = oracle_pixel_map(errors, labels, thin_ids)
        oracle = oracle_candidate_scores(pixel_map, output.candidates)  # (B, N)
        # Frames without pixel labels say nothing about where refining gains.
        labelled = (labels != IGNORE_INDEX).flatten(1).any(1)  # (B,)
        logits = output.priority_logits.float()
        terms['priority'] = config.priority_weight * (
            priority_loss(logits[labelled], oracle[labelled]) if bool(labelled.any())
            else logits.sum() * 0.0)
    terms['sparsity'] = config.sparsity_weight * output.patch_weights.abs().sum()
    terms['total'] = sum(terms.values(), torch.zeros((), device=output.logits.device))
    return terms

