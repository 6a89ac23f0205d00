# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo end to end on a few frames with a tiny model, and its message helpers."""

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ros

SUMMARY_KEYS = {'frames_in', 'frames_out', 'detections_total', 'latency_ms_p50',
                'latency_ms_p95', 'fps', 'reuse_ratio', 'miou', 'map50', 'streaming_miou',
                'streaming_map50'}


def test_demo_writes_summary_previews_and_the_outputs_bag(tmp_path: Path,
                                                          tiny_weights: Path) -> None:
    import cv2

    from patchdrivenet_ros.tools.demo import main

    out = tmp_path / 'demo'
    status = main(['--frames', '4', '--out', str(out), '--weights', str(tiny_weights),
                   '--lockstep'])
    log = (out / 'node.log').read_text(encoding='utf-8') if (out / 'node.log').exists() else ''
    assert status == 0, log
    summary = json.loads((out / 'summary.json').read_text(encoding='utf-8'))
    assert SUMMARY_KEYS <= set(summary)
    assert summary['frames_in'] == 4 and summary['frames_out'] == 4
    assert 0.0 <= summary['miou'] <= 1.0 and summary['weights_loaded']
    preview = cv2.imread(str(out / 'preview.png'))
    assert preview.shape == (3 * 375, 1242, 3)
    video = cv2.VideoCapture(str(out / 'preview.mp4'))
    assert video.isOpened() and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    assert any((out / 'outputs').glob('*.mcap'))


def test_detection_messages_become_xyxy_arrays() -> None:
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    from patchdrivenet_ros.tools.demo import _detection_arrays

    detection = Detection2D()
    detection.bbox.center.position.x, detection.bbox.center.position.y = 30.0, 50.0
    detection.bbox.size_x, detection.bbox.size_y = 40.0, 60.0
    hypothesis = ObjectHypothesisWithPose()
    hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = '9', 0.8
    detection.results.append(hypothesis)
    boxes, scores, ids = _detection_arrays(Detection2DArray(detections=[detection]))
    np.testing.assert_allclose(boxes, [[10, 20, 50, 80]])
    assert ids.tolist() == [9] and scores[0] == pytest.approx(0.8)
    empty = _detection_arrays(Detection2DArray())
    assert empty[0].shape == (0, 4)


def test_streaming_scores_use_the_output_on_hand_when_each_frame_was_sent() -> None:
    from patchdrivenet_ros.data.frame import FrameLabels
    from patchdrivenet_ros.tools.demo import FrameRecord, _score, streaming_sources

    image = np.zeros((4, 4, 3), np.uint8)
    road, sky = np.zeros((4, 4), np.uint8), np.full((4, 4), 5, np.uint8)
    records = {  # stamp: sent at, answered at (frame 20 is never answered)
        10: FrameRecord(0.0, image, mask=road, answered_s=0.15),
        20: FrameRecord(0.1, image),
        30: FrameRecord(0.2, image, mask=sky, answered_s=0.35),
        40: FrameRecord(0.35, image, mask=sky, answered_s=0.5),
    }
    assert streaming_sources(records) == {10: None, 20: None, 30: 10, 40: 30}
    empty = np.zeros((0, 4), np.float32)
    none = np.zeros(0, np.int64)
    truth = FrameLabels(mask=sky, boxes=empty, class_ids=none, track_ids=none,
                        truncation=np.zeros(0, np.float32), occlusion=none, stamp_ns=30, index=2)
    # No output on hand predicts nothing: every labelled pixel is a miss.
    assert _score([(None, truth)])['miou'] == 0.0
    assert _score([(records[30], truth)])['miou'] == 1.0
