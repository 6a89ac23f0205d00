# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The demo end to end on a few frames with a tiny model, and its scoring and message helpers.

The end-to-end run is checked against what it wrote: the summary's counts and scores are
recomputed from the outputs bag (what the node published) and the drive's label sidecar, with
an mIoU written here from its definition rather than the package's evaluator.
"""

from collections.abc import Sequence
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX

pytestmark = pytest.mark.ros

SUMMARY_KEYS = {'frames_in', 'frames_out', 'detections_total', 'latency_ms_p50',
                'latency_ms_p95', 'fps', 'reuse_ratio', 'global_reuse_ratio', 'miou', 'map50',
                'streaming_miou', 'streaming_map50', 'streaming_forecast_miou',
                'streaming_forecast_map50', 'dropped_frames', 'weights_loaded'}
FRAMES = 4


def miou(pairs: Sequence[tuple[np.ndarray | None, np.ndarray]]) -> float:
    """Return the mIoU of (prediction, truth) mask pairs, summed over all pairs.

    Per class: pixels predicted and labelled that class over pixels predicted or labelled it,
    among labelled pixels (truth != IGNORE_INDEX); classes absent from both are left out. A
    None prediction predicts nothing.
    """
    inter = np.zeros(len(CLASS_NAMES), np.int64)
    union = np.zeros(len(CLASS_NAMES), np.int64)
    for pred, truth in pairs:
        labelled = truth != IGNORE_INDEX
        for c in range(len(CLASS_NAMES)):
            predicted = labelled & (pred == c) if pred is not None else np.zeros_like(labelled)
            actual = truth == c
            inter[c] += int((predicted & actual).sum())
            union[c] += int((predicted | actual).sum())
    present = union > 0
    return float((inter[present] / union[present]).mean()) if present.any() else float('nan')


def test_miou_of_a_hand_computed_case() -> None:
    truth = np.array([[0, 0, 0], [1, 1, IGNORE_INDEX]], np.uint8)
    pred = np.array([[0, 0, 1], [1, 0, 1]], np.uint8)
    # class 0: 2 of 4 pixels agree; class 1: 1 of 3 (the ignored pixel does not count)
    assert miou([(pred, truth)]) == pytest.approx((2 / 4 + 1 / 3) / 2)
    assert miou([(None, truth)]) == 0.0
    assert miou([(truth, truth)]) == 1.0


def _outputs(bag: Path, forecast: bool = False) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    """Read the outputs bag: mask and number of detections by stamp (ns), or the forecasts'."""
    from rosbags.highlevel import AnyReader

    from patchdrivenet_ros.data.bags import vision_msgs_typestore

    masks: dict[int, np.ndarray] = {}
    detections: dict[int, int] = {}
    with AnyReader([bag], default_typestore=vision_msgs_typestore()) as reader:
        suffix = '_forecast' if forecast else ''
        mask_topic, detections_topic = f'/segmentation/mask{suffix}', f'/detections{suffix}'
        scored = [c for c in reader.connections
                  if c.topic.endswith((mask_topic, detections_topic))]
        for connection, _, raw in reader.messages(connections=scored):
            msg: Any = reader.deserialize(raw, connection.msgtype)
            stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
            if connection.topic.endswith(mask_topic):
                assert msg.encoding == 'mono8' and stamp not in masks
                rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
                masks[stamp] = rows[:, :msg.width]
            elif connection.topic.endswith(detections_topic):
                detections[stamp] = len(msg.detections)
    return masks, detections


def test_demo_summary_is_what_its_own_outputs_score(tmp_path: Path, tiny_weights: Path) -> None:
    """Lockstep sends each frame once the last was answered, which fixes what is checked.

    Every frame is answered and none dropped; the output on hand when frame i is sent is frame
    i - 1's (none for the first), which the streaming scores use.
    """
    import cv2

    from patchdrivenet_ros.data.bags import iter_bag_images, load_label_sidecar
    from patchdrivenet_ros.tools.demo import main

    out = tmp_path / 'demo'
    status = main(['--frames', str(FRAMES), '--out', str(out), '--weights', str(tiny_weights),
                   '--lockstep', '--forecast'])
    log = (out / 'node.log').read_text(encoding='utf-8') if (out / 'node.log').exists() else ''
    assert status == 0, log
    summary = json.loads((out / 'summary.json').read_text(encoding='utf-8'))
    assert SUMMARY_KEYS <= set(summary) and summary['weights_loaded']
    sent = sorted(image.stamp_ns for image in iter_bag_images(out / 'drive'))
    labels = load_label_sidecar(out / 'drive')
    masks, detections = _outputs(out / 'outputs')

    assert len(sent) == FRAMES == summary['frames_in']
    assert set(masks) <= set(sent) and set(detections) == set(masks)
    assert summary['frames_out'] == len(masks) == FRAMES, log  # lockstep: every frame answered
    assert summary['dropped_frames'] == 0  # and none replaced before the node took it
    assert summary['detections_total'] == sum(detections.values())
    for stamp, mask in masks.items():
        assert mask.shape == labels[stamp].mask.shape
    assert summary['miou'] == pytest.approx(miou([(masks[s], labels[s].mask) for s in sent]))
    on_hand = [None, *sent[:-1]]
    assert summary['streaming_miou'] == pytest.approx(miou(
        [(None if source is None else masks[source], labels[s].mask)
         for source, s in zip(on_hand, sent, strict=True)]))
    assert 0.0 < summary['latency_ms_p50'] <= summary['latency_ms_p95']
    assert summary['fps'] > 0.0
    # Forecasts one frame period (0.1 s) ahead, from the second frame on (the first has no flow).
    forecasts, _ = _outputs(out / 'outputs', forecast=True)
    assert forecasts and set(forecasts) <= {s + 100_000_000 for s in sent[1:]}
    assert all(m.shape == labels[sent[0]].mask.shape for m in forecasts.values())

    preview = cv2.imread(str(out / 'preview.png'))
    assert preview is not None and preview.shape == (3 * 375, 1242, 3)
    video = cv2.VideoCapture(str(out / 'preview.mp4'))
    assert video.isOpened() and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES


def test_detection_messages_become_xyxy_arrays() -> None:
    from vision_msgs.msg import Detection2D, Detection2DArray, ObjectHypothesisWithPose

    from patchdrivenet_ros.outputs_bag import detection_arrays

    detection = Detection2D()
    detection.bbox.center.position.x, detection.bbox.center.position.y = 30.0, 50.0
    detection.bbox.size_x, detection.bbox.size_y = 40.0, 60.0
    hypothesis = ObjectHypothesisWithPose()
    hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = '9', 0.8
    detection.results.append(hypothesis)
    boxes, scores, ids = detection_arrays(Detection2DArray(detections=[detection]))
    np.testing.assert_allclose(boxes, [[10, 20, 50, 80]])
    assert ids.tolist() == [9] and scores[0] == pytest.approx(0.8)
    empty = detection_arrays(Detection2DArray())
    assert empty[0].shape == (0, 4)


def test_streaming_scores_use_the_output_on_hand_when_each_frame_was_sent() -> None:
    from patchdrivenet_ros.data.frame import FrameLabels
    from patchdrivenet_ros.outputs_bag import streaming_sources
    from patchdrivenet_ros.tools.demo import FrameRecord, _score

    image = np.zeros((4, 4, 3), np.uint8)
    road, sky = np.zeros((4, 4), np.uint8), np.full((4, 4), 5, np.uint8)
    records = {  # stamp: sent at, answered at (frame 20 is never answered)
        10: FrameRecord(0.0, image, mask=road, answered_s=0.15),
        20: FrameRecord(0.1, image),
        30: FrameRecord(0.2, image, mask=sky, answered_s=0.35),
        40: FrameRecord(0.35, image, mask=sky, answered_s=0.5),
    }
    sent = {stamp: r.sent_s for stamp, r in records.items()}
    answered = {stamp: r.answered_s for stamp, r in records.items() if r.answered_s is not None}
    assert streaming_sources(sent, answered) == {10: None, 20: None, 30: 10, 40: 30}
    empty = np.zeros((0, 4), np.float32)
    none = np.zeros(0, np.int64)
    truth = FrameLabels(mask=sky, boxes=empty, class_ids=none, track_ids=none,
                        truncation=np.zeros(0, np.float32), occlusion=none, stamp_ns=30, index=2)
    # No output on hand predicts nothing: every labelled pixel is a miss.
    assert _score([(None, truth)])['miou'] == 0.0
    assert _score([(records[30], truth)])['miou'] == 1.0


def test_the_demo_asks_for_forecasts_one_frame_ahead_unless_its_params_set_them(
        tmp_path: Path) -> None:
    from patchdrivenet_ros.tools.demo import forecast_override
    from patchdrivenet_ros.tools.params_file import default_params_file

    assert forecast_override(None, 'kitti') == ('forecast_s:=0.1',)  # 10 Hz
    assert forecast_override(None, 'nuscenes') == ('forecast_s:=0.0833333',)  # 12 Hz
    params = tmp_path / 'params.yaml'
    params.write_text(default_params_file().read_text(encoding='utf-8').replace(
        'forecast_s: 0.0', 'forecast_s: 0.2'), encoding='utf-8')
    assert forecast_override(params, 'kitti') == ()


def test_previews_exist_without_debug_images(tmp_path: Path, tiny_weights: Path) -> None:
    """With publish_debug false the previews show the input and the mask coloured here."""
    import cv2

    from patchdrivenet_ros.tools.demo import main
    from patchdrivenet_ros.tools.params_file import default_params_file

    params = tmp_path / 'params.yaml'
    params.write_text(default_params_file().read_text(encoding='utf-8').replace(
        'publish_debug: true', 'publish_debug: false'), encoding='utf-8')
    out = tmp_path / 'demo'
    assert main(['--frames', str(FRAMES), '--out', str(out), '--weights', str(tiny_weights),
                 '--params-file', str(params), '--lockstep']) == 0
    preview = cv2.imread(str(out / 'preview.png'))
    assert preview is not None and preview.shape == (2 * 375, 1242, 3)  # input, colour
    video = cv2.VideoCapture(str(out / 'preview.mp4'))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    summary = json.loads((out / 'summary.json').read_text(encoding='utf-8'))
    assert 'streaming_miou' in summary and 'streaming_forecast_miou' not in summary  # not asked
