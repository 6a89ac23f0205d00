# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Model outputs to the arrays of a FrameResult: detections per frame, patch plans."""

from __future__ import annotations

import numpy as np

from patchdrivenet_ros.model.decode import Detections, class_nms
from patchdrivenet_ros.result import PatchPlan


def frame_detections(detections: Detections, frame: int, class_ids: np.ndarray,
                     input_size: tuple[int, int], nms_iou: float,
                     limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return one frame's (boxes (n, 4) float32, scores (n,), class ids (n,) int64).

    Boxes are clipped to the frame and merged by class-wise NMS; class_ids maps detection
    channels to segmentation class ids.
    """
    height, width = input_size
    mine = detections.frames == frame
    boxes = detections.boxes[mine].copy()  # (n, 4)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    scores, labels = detections.scores[mine], detections.labels[mine]
    keep = class_nms(boxes, scores, labels, nms_iou, limit)
    return boxes[keep], scores[keep], class_ids[labels[keep]]


def frame_plan(members: np.ndarray, boxes: np.ndarray, cells: np.ndarray, sizes: np.ndarray,
               priorities: np.ndarray, states: np.ndarray) -> PatchPlan:
    """Return the PatchPlan of the chosen patches at indices ``members`` of one frame.

    boxes (K, 4) where each patch was written, cells (K,) candidate ids, sizes (N,) of the
    candidates, priorities (N,) of this frame's candidates in [0, 1], states (K,) uint8.
    """
    chosen = cells[members]
    return PatchPlan(
        boxes=boxes[members].astype(np.int32).reshape(-1, 4),
        sizes=sizes[chosen].astype(np.int32),
        priorities=priorities[chosen].astype(np.float32),
        states=states[members].astype(np.uint8),
        cell_ids=chosen.astype(np.int64),
    )
