# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Full-resolution crops to the canonical patch size, and patch maps back to box size."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.preprocess import pixels_to_float


def _shape_groups(boxes: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """Group box indices by (height, width); boxes (K, 4) int xyxy."""
    shapes = np.stack([boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]], 1)  # (K, 2)
    groups: dict[tuple[int, int], list[int]] = {}
    for index, (height, width) in enumerate(shapes.tolist()):
        groups.setdefault((height, width), []).append(index)
    return {shape: np.array(members) for shape, members in groups.items()}


def crop_patches(images: torch.Tensor, frames: np.ndarray, boxes: np.ndarray,
                 side: int) -> torch.Tensor:
    """Crop boxes (K, 4) of frames (K,) from images (B, 3, H, W) into (K, 3, side, side).

    images are float in [0, 1], or uint8 (only the crops are converted to float). Boxes of one
    shape are resized together (bilinear, antialiased when shrinking).
    """
    dtype = torch.float32 if images.dtype == torch.uint8 else images.dtype
    out = images.new_empty(len(boxes), images.shape[1], side, side, dtype=dtype)  # (K, 3, p, p)
    for (height, width), members in _shape_groups(boxes).items():
        crops = pixels_to_float(torch.stack(
            [images[frames[i], :, boxes[i, 1]:boxes[i, 3], boxes[i, 0]:boxes[i, 2]]
             for i in members.tolist()]))  # (k, 3, h, w)
        if (height, width) != (side, side):
            crops = F.interpolate(crops, size=(side, side), mode='bilinear', align_corners=False,
                                  antialias=height > side or width > side)
        out[torch.from_numpy(members).to(out.device)] = crops
    return out


def resize_to_boxes(maps: torch.Tensor, boxes: np.ndarray) -> list[torch.Tensor]:
    """Resize patch maps (K, C, q, q) to each box's size: K tensors (C, h_i, w_i)."""
    resized: list[torch.Tensor] = [maps[0]] * len(boxes)
    for (height, width), members in _shape_groups(boxes).items():
        index = torch.from_numpy(members).to(maps.device)
        group = F.interpolate(maps.index_select(0, index), size=(height, width), mode='bilinear',
                              align_corners=False,
                              antialias=height < maps.shape[-2] or width < maps.shape[-1])
        for slot, member in enumerate(members.tolist()):
            resized[member] = group[slot]
    return resized
