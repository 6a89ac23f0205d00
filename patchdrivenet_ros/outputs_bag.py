# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""What a node published, read back from a bag: masks, boxes, and when frames were sent.

An outputs bag is what ``patchdrivenet-replay --record`` writes (or ``ros2 bag record`` of the
node's topics): per camera ``<prefix>/segmentation/mask`` (mono8 class ids) and
``<prefix>/detections`` (vision_msgs Detection2DArray), keyed by the input frame's header stamp.
The replay also writes ``<prefix>/replay/sent`` (std_msgs Header, the frame's stamp) at the
moment it sent each frame; with those, each frame can be scored against the output on hand
when it was sent (streaming). Log times are the recording machine's clock. No ROS needed.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError

from patchdrivenet_ros.data.bags import vision_msgs_typestore

MASK = 'segmentation/mask'
DETECTIONS = 'detections'
FORECASTS = {'segmentation/mask_forecast': MASK, 'detections_forecast': DETECTIONS}
"""The node's forecast topics (``forecast_s``), stamped at the time they forecast."""
SENT = 'replay/sent'
SENT_TYPE = 'std_msgs/msg/Header'

Detections = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Boxes (N, 4) xyxy float32, scores (N,) float32, class ids (N,) int64."""
NO_DETECTIONS: Detections = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                             np.zeros(0, np.int64))
"""What a frame without an output on hand predicts."""


class OutputsError(Exception):
    """An outputs bag that cannot be read or scored; the message says why."""


@dataclass
class RecordedOutputs:
    """One camera's outputs by input stamp (ns), and when frames were sent and answered."""

    masks: dict[int, np.ndarray] = field(default_factory=dict)
    detections: dict[int, Detections] = field(default_factory=dict)
    answered_ns: dict[int, int] = field(default_factory=dict)  # log time of each mask
    sent_ns: dict[int, int] = field(default_factory=dict)  # log time of each sent marker
    forecasts: RecordedOutputs | None = None  # the forecast topics, by their own stamps


def stamp_ns(message: Any) -> int:
    """Return a message's header stamp in nanoseconds."""
    stamp = message.header.stamp
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def image_pixels(message: Any) -> np.ndarray:
    """Return an 8-bit Image message's pixels as (H, W) or (H, W, C) uint8 (a copy)."""
    channels = int(message.step) // max(1, int(message.width))
    rows = np.frombuffer(bytes(message.data), np.uint8).reshape(int(message.height),
                                                                 int(message.step))
    pixels = rows[:, : int(message.width) * channels]
    shape = (int(message.height), int(message.width)) + ((channels,) if channels > 1 else ())
    return pixels.reshape(shape).copy()


def detection_arrays(message: Any) -> Detections:
    """Return a Detection2DArray's best hypothesis per box as xyxy boxes, scores, class ids."""
    boxes, scores, ids = [], [], []
    for detection in message.detections:
        cx, cy = detection.bbox.center.position.x, detection.bbox.center.position.y
        w, h = detection.bbox.size_x, detection.bbox.size_y
        boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        best = max(detection.results, key=lambda r: r.hypothesis.score)
        scores.append(best.hypothesis.score)
        ids.append(int(best.hypothesis.class_id))
    return (np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
            np.array(ids, np.int64))


def streaming_sources(sent: Mapping[int, float], answered: Mapping[int, float]
                      ) -> dict[int, int | None]:
    """Map each sent frame's stamp to the stamp of the output on hand when it was sent.

    That is the frame whose answer arrived last at or before the moment the frame was sent
    (streaming perception: the world does not wait for the answer); None before any answer.
    ``sent`` and ``answered`` give times by stamp on one clock.
    """
    arrivals = sorted((time, stamp) for stamp, time in answered.items())
    times = [time for time, _ in arrivals]
    sources: dict[int, int | None] = {}
    for stamp, sent_at in sent.items():
        on_hand = bisect.bisect_right(times, sent_at)
        sources[stamp] = arrivals[on_hand - 1][1] if on_hand else None
    return sources


def read_outputs(path: Path, camera: str | None = None) -> tuple[str, RecordedOutputs]:
    """Read one camera's outputs; return its topic prefix and them.

    ``camera`` is the prefix of its topics (``/replay`` or ``/replay/camera_0``); None picks
    the only one. Raises OutputsError with the reason when that cannot be done.
    """
    if not path.exists():
        raise OutputsError(f'no outputs bag at {path}')
    try:
        with AnyReader([path], default_typestore=vision_msgs_typestore()) as reader:
            prefixes = sorted(c.topic[: -len(MASK) - 1] for c in reader.connections
                              if c.topic.endswith('/' + MASK))
            prefix = _choose(prefixes, camera, path)
            outputs, forecasts = RecordedOutputs(), RecordedOutputs()
            wanted = {f'{prefix}/{name}': (outputs, name) for name in (MASK, DETECTIONS, SENT)}
            wanted.update({f'{prefix}/{topic}': (forecasts, name)
                           for topic, name in FORECASTS.items()})
            connections = [c for c in reader.connections if c.topic in wanted]
            for connection, log_ns, raw in reader.messages(connections=connections):
                message: Any = reader.deserialize(raw, connection.msgtype)
                target, name = wanted[connection.topic]
                _keep(target, name, message, int(log_ns))
            outputs.forecasts = forecasts if forecasts.masks else None
    except (AnyReaderError, OSError, KeyError, ValueError) as error:
        raise OutputsError(f'cannot read the outputs bag {path}: {error}') from None
    return prefix, outputs


def _choose(prefixes: list[str], camera: str | None, path: Path) -> str:
    if not prefixes:
        raise OutputsError(f'{path}: no {MASK} topic: not an outputs bag of the node')
    if camera is not None:
        wanted = '/' + camera.strip('/')
        if wanted not in prefixes:
            raise OutputsError(f'{path}: no outputs of {wanted}; cameras: {", ".join(prefixes)}')
        return wanted
    if len(prefixes) > 1:
        raise OutputsError(f'{path}: outputs of several cameras ({", ".join(prefixes)}); '
                           'choose one with --camera')
    return prefixes[0]


def _keep(outputs: RecordedOutputs, name: str, message: Any, log_ns: int) -> None:
    if name == SENT:  # a Header itself
        stamp = int(message.stamp.sec) * 1_000_000_000 + int(message.stamp.nanosec)
        outputs.sent_ns.setdefault(stamp, log_ns)
        return
    stamp = stamp_ns(message)
    if name == MASK:
        outputs.masks[stamp] = image_pixels(message)
        outputs.answered_ns.setdefault(stamp, log_ns)
    else:
        outputs.detections[stamp] = detection_arrays(message)


__all__ = ['DETECTIONS', 'FORECASTS', 'MASK', 'NO_DETECTIONS', 'SENT', 'SENT_TYPE', 'Detections',
           'OutputsError',
           'RecordedOutputs', 'detection_arrays', 'image_pixels', 'read_outputs', 'stamp_ns',
           'streaming_sources']
