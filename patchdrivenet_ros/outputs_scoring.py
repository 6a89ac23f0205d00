# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Score what a node published (an outputs bag) against a drive's labels.

Two scores: each answered frame's own output, and, where the bag holds the replay's sent
markers, streaming: every sent frame against the output on hand when it was sent (a frame sent
before any answer predicts nothing); and, where the node also published forecasts
(``forecast_s``), streaming against the forecast on hand. Labels come from any source
``bag_labels`` reads (the package's sidecar, a KITTI tracking file by order or by
timestamps.txt); "by order" counts the sent frames (or, without markers, the answered ones) in
stamp order.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path

import numpy as np

from patchdrivenet_ros.bag_labels import LabelError, label_source
from patchdrivenet_ros.classes import IGNORE_INDEX
from patchdrivenet_ros.evaluation import EvaluationError, SequenceScore
from patchdrivenet_ros.outputs_bag import (
    NO_DETECTIONS,
    OutputsError,
    RecordedOutputs,
    read_outputs,
    streaming_sources,
)
from patchdrivenet_ros.result import FrameResult, PatchPlan

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutputsScore:
    """The scores of one camera's published outputs."""

    camera: str  # topic prefix
    own: SequenceScore
    streaming: SequenceScore | None  # None: the bag has no sent markers
    streaming_forecast: SequenceScore | None = None  # None: no sent markers or no forecasts


def _published(outputs: RecordedOutputs, stamp: int | None, shape: tuple[int, int]
               ) -> FrameResult:
    """Return the published output of ``stamp`` as a FrameResult (None: nothing on hand)."""
    if stamp is None or stamp not in outputs.masks:
        mask = np.full(shape, IGNORE_INDEX, np.uint8)
        boxes, scores, ids = NO_DETECTIONS
    else:
        mask = outputs.masks[stamp]
        boxes, scores, ids = outputs.detections.get(stamp, NO_DETECTIONS)
    return FrameResult(mask=mask, boxes=boxes, scores=scores, class_ids=ids,
                       plan=PatchPlan.empty(), saliency=np.zeros((0, 0), np.float32),
                       flops=float('nan'))


def score_outputs(path: Path, labels: Path, timestamps: Path | None = None,
                  camera: str | None = None) -> OutputsScore:
    """Score one camera's outputs in ``path`` against ``labels`` (raises EvaluationError)."""
    try:
        prefix, outputs = read_outputs(path, camera)
        source = label_source(path, labels, timestamps)
    except (OutputsError, LabelError) as error:
        raise EvaluationError(str(error)) from None
    LOG.info('%s: outputs of %s, labels matched %s', path, prefix, source.matching)
    if not outputs.sent_ns:
        LOG.info('%s: no %s/replay/sent markers, so no streaming scores (a recording of '
                 'patchdrivenet-replay --record has them)', path, prefix)
    frames = sorted(outputs.sent_ns or outputs.masks)
    shape = next(iter(outputs.masks.values())).shape[:2] if outputs.masks else (1, 1)
    image = np.zeros((*shape, 3), np.uint8)
    sources = streaming_sources(outputs.sent_ns, outputs.answered_ns)
    own, streaming = SequenceScore(), SequenceScore() if outputs.sent_ns else None
    forecasts = outputs.forecasts if outputs.sent_ns else None
    ahead = SequenceScore()
    forecast_sources = (streaming_sources(outputs.sent_ns, forecasts.answered_ns)
                        if forecasts is not None else {})
    matched = 0
    for index, stamp in enumerate(frames):
        truth = source.truth(index, stamp, image)
        if truth is None:
            continue
        matched += 1
        sent = outputs.sent_ns.get(stamp)
        answered = outputs.answered_ns.get(stamp)
        if answered is not None:
            latency = (answered - sent) * 1e-6 if sent is not None else float('nan')
            own.add(truth, _published(outputs, stamp, shape), latency)
        if streaming is not None:
            streaming.add(truth, _published(outputs, sources.get(stamp), shape), float('nan'))
        if forecasts is not None:
            ahead.add(truth, _published(forecasts, forecast_sources.get(stamp), shape),
                      float('nan'))
    if matched == 0:
        raise EvaluationError(f'{path}: none of its {len(frames)} frames of {prefix} has a '
                              f'label (matched {source.matching})')
    if matched < source.count / 2:
        LOG.warning('%s: only %d of %d labelled frames were sent; the rest are not scored',
                    path, matched, source.count)
    return OutputsScore(prefix, own, streaming, ahead if forecasts is not None else None)


__all__ = ['OutputsScore', 'score_outputs']
