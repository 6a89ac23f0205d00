# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Decode anchor-free detection maps into boxes, and merge them with class-wise NMS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.outputs import DetectionMaps

MAX_LOG_SIZE = 8.0
"""Upper clamp of the log-size output (a box at most e^8 cells wide)."""
PRE_NMS_FACTOR = 10
"""class_nms looks at no more than this many candidates per box it may keep."""


@dataclass(frozen=True)
class Detections:
    """Decoded boxes of several maps, as numpy arrays on the host."""

    boxes: np.ndarray  # (n, 4) float32 xyxy, input pixels
    scores: np.ndarray  # (n,) float32
    labels: np.ndarray  # (n,) int64 detection-class index
    frames: np.ndarray  # (n,) int64 frame index

    @staticmethod
    def cat(parts: list[Detections]) -> Detections:
        """Concatenate decoded sets."""
        return Detections(*(np.concatenate(column) for column in zip(
            *((p.boxes, p.scores, p.labels, p.frames) for p in parts), strict=True)))


def decode_maps(maps: DetectionMaps, top_k: int, threshold: float) -> Detections:
    """Take up to top_k local heatmap peaks per map above threshold and decode their boxes."""
    count, classes, rows, cols = maps.heat.shape
    if count == 0:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                          np.zeros(0, np.int64), np.zeros(0, np.int64))
    heat = torch.sigmoid(maps.heat.float())  # (M, D, h, w)
    peaks = heat * (F.max_pool2d(heat, 3, stride=1, padding=1) == heat)
    scores, flat = peaks.flatten(1).topk(min(top_k, classes * rows * cols))  # (M, k)
    labels = flat // (rows * cols)
    position = flat % (rows * cols)  # (M, k)
    index = position[:, None, :].expand(-1, 2, -1)  # (M, 2, k)
    offset = torch.sigmoid(maps.offset.float().flatten(2).gather(2, index))  # (M, 2, k)
    size = maps.size.float().flatten(2).gather(2, index).clamp(max=MAX_LOG_SIZE).exp()
    cell = torch.stack([position % cols, position // cols], 1).to(heat.dtype)  # (M, 2, k)
    centre = maps.origin[:, :, None] + (cell + offset) * maps.cell[:, :, None]  # (M, 2, k)
    half = 0.5 * size * maps.cell[:, :, None]  # (M, 2, k)
    boxes = torch.cat([centre - half, centre + half], 1).transpose(1, 2)  # (M, k, 4)
    frames = maps.frame[:, None].expand_as(scores)  # (M, k)
    keep = scores >= threshold
    return Detections(
        boxes[keep].cpu().numpy().astype(np.float32),
        scores[keep].cpu().numpy().astype(np.float32),
        labels[keep].cpu().numpy().astype(np.int64),
        frames[keep].cpu().numpy().astype(np.int64),
    )


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, limit: int) -> np.ndarray:
    """Greedy non-maximum suppression; up to ``limit`` kept indices by descending score."""
    order = np.argsort(-scores, kind='stable')
    boxes = boxes[order].astype(np.float64)  # (n, 4)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    suppressed = np.zeros(len(order), dtype=bool)
    kept: list[int] = []
    for i in range(len(order)):
        if suppressed[i]:
            continue
        kept.append(i)
        if len(kept) == limit:
            break
        rest = boxes[i + 1:]
        width = np.clip(np.minimum(boxes[i, 2], rest[:, 2]) - np.maximum(boxes[i, 0], rest[:, 0]),
                        0, None)
        height = np.clip(np.minimum(boxes[i, 3], rest[:, 3])
                         - np.maximum(boxes[i, 1], rest[:, 1]), 0, None)
        inter = width * height
        union = areas[i] + areas[i + 1:] - inter
        suppressed[i + 1:] |= inter > iou * np.maximum(union, 1e-9)
    return order[np.array(kept, dtype=np.int64)]


def class_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou: float,
              limit: int) -> np.ndarray:
    """NMS within each class (boxes of different classes never suppress each other).

    Only the PRE_NMS_FACTOR * limit best boxes enter. Returns up to ``limit`` kept indices by
    descending score.
    """
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    best = np.argsort(-scores, kind='stable')[: PRE_NMS_FACTOR * limit]
    shift = (float(np.abs(boxes[best]).max()) + 1.0) * 2.0 * labels[best, None]  # (n, 1)
    return best[nms(boxes[best] + shift, scores[best], iou, limit)]
