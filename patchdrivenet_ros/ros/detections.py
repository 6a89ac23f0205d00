# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Boxes and the class map as vision_msgs: Detection2DArray and LabelInfo; pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from std_msgs.msg import Header
from vision_msgs.msg import (
    Detection2D,
    Detection2DArray,
    LabelInfo,
    ObjectHypothesisWithPose,
    VisionClass,
)

from patchdrivenet_ros.result import FrameResult


def detections_to_msg(result: FrameResult, header: Header) -> Detection2DArray:
    """Return the frame's boxes as a Detection2DArray in input pixels, each with ``header``.

    ``class_id`` is the segmentation class index as a string; the bbox centre and size are in
    input pixels (xyxy boxes: centre = (x1 + x2) / 2, size = x2 - x1).
    """
    array_msg = Detection2DArray()
    array_msg.header = header
    boxes = result.boxes.astype(float)  # (N, 4) xyxy
    for (x1, y1, x2, y2), score, class_index in zip(
        boxes.tolist(), result.scores.tolist(), result.class_ids.tolist(), strict=True
    ):
        detection = Detection2D()
        detection.header = header
        detection.bbox.center.position.x = (x1 + x2) / 2.0
        detection.bbox.center.position.y = (y1 + y2) / 2.0
        detection.bbox.center.theta = 0.0
        detection.bbox.size_x = x2 - x1
        detection.bbox.size_y = y2 - y1
        hypothesis = ObjectHypothesisWithPose()
        hypothesis.hypothesis.class_id = str(int(class_index))
        hypothesis.hypothesis.score = float(score)
        detection.results.append(hypothesis)
        array_msg.detections.append(detection)
    return array_msg


def label_info_msg(class_names: Sequence[str], header: Header, threshold: float) -> LabelInfo:
    """Return the class map (id -> name) as LabelInfo with the detection score threshold."""
    msg = LabelInfo()
    msg.header = header
    msg.threshold = float(threshold)
    for index, name in enumerate(class_names):
        msg.class_map.append(VisionClass(class_id=index, class_name=name))
    return msg


__all__ = ['detections_to_msg', 'label_info_msg']
