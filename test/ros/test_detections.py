# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""FrameResult boxes as Detection2DArray, and the class map as LabelInfo.

Marked ``ros`` (needs vision_msgs): the message modules are imported inside the tests, so the
file imports anywhere and test/conftest.py skips or fails it with the reason.
"""

import numpy as np
import pytest

from patchdrivenet_ros.classes import CLASS_NAMES, class_id
from patchdrivenet_ros.result import FrameResult, PatchPlan

pytestmark = pytest.mark.ros


def _result(boxes: list, scores: list, names: list) -> FrameResult:
    return FrameResult(
        mask=np.zeros((4, 4), np.uint8),
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        scores=np.array(scores, np.float32),
        class_ids=np.array([class_id(n) for n in names], np.int64),
        plan=PatchPlan.empty(),
        saliency=np.zeros((1, 1), np.float32),
        flops=0.0,
    )


def test_boxes_become_centre_and_size_in_input_pixels() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.detections import detections_to_msg

    header = Header(frame_id='cam')
    header.stamp.sec = 5
    result = _result([[10, 20, 50, 80], [0, 0, 4, 2]], [0.9, 0.4], ['car', 'pedestrian'])
    msg = detections_to_msg(result, header)
    assert msg.header.frame_id == 'cam' and len(msg.detections) == 2
    first = msg.detections[0]
    assert first.header.stamp.sec == 5 and first.header.frame_id == 'cam'
    assert (first.bbox.center.position.x, first.bbox.center.position.y) == (30.0, 50.0)
    assert (first.bbox.size_x, first.bbox.size_y) == (40.0, 60.0)
    hypothesis = first.results[0].hypothesis
    assert hypothesis.class_id == str(class_id('car'))
    assert hypothesis.score == pytest.approx(0.9)
    assert msg.detections[1].results[0].hypothesis.class_id == str(class_id('pedestrian'))


def test_no_boxes_gives_an_empty_array_with_the_header() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.detections import detections_to_msg

    msg = detections_to_msg(_result([], [], []), Header(frame_id='x'))
    assert msg.header.frame_id == 'x' and len(msg.detections) == 0


def test_label_info_maps_every_class_id_to_its_name() -> None:
    from std_msgs.msg import Header

    from patchdrivenet_ros.ros.detections import label_info_msg

    msg = label_info_msg(CLASS_NAMES, Header(), 0.3)
    assert [(c.class_id, c.class_name) for c in msg.class_map] == list(enumerate(CLASS_NAMES))
    assert msg.threshold == pytest.approx(0.3)
