# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Score a PerceptionEngine on labelled frame sequences: accuracy, compute and reuse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
import time
from typing import Any

import numpy as np

from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.metrics import DetectionEvaluator, SegmentationEvaluator
from patchdrivenet_ros.result import FrameResult


@dataclass
class SequenceScore:
    """Accumulates what an engine did on labelled frames."""

    segmentation: SegmentationEvaluator = field(default_factory=SegmentationEvaluator)
    detection: DetectionEvaluator = field(default_factory=DetectionEvaluator)
    flops: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    chosen: int = 0
    reused: int = 0

    def add(self, frame: LabeledFrame, result: FrameResult, latency_ms: float) -> None:
        """Score one frame's result against its labels."""
        self.segmentation.add(result.mask, frame.mask)
        self.detection.add(result.boxes, result.scores, result.class_ids, frame.boxes,
                           frame.class_ids)
        self.flops.append(result.flops)
        self.latency_ms.append(latency_ms)
        self.chosen += result.plan.chosen
        self.reused += result.plan.reused

    def summary(self) -> dict[str, Any]:
        """Return the headline numbers (fractions in [0, 1], GFLOPs and ms per frame)."""
        segmentation = self.segmentation.summary()
        detection = self.detection.summary()
        latency = np.asarray(self.latency_ms or [np.nan])
        return {
            'frames': len(self.flops),
            'miou': segmentation['miou'],
            'thin_iou': segmentation['thin_iou'],
            'boundary_iou': segmentation['boundary_iou'],
            'map50': detection['map50'],
            'map': detection['map'],
            'map_small': detection['map_small'],
            'gflops_per_frame': float(np.mean(self.flops)) / 1e9 if self.flops else float('nan'),
            'latency_ms_p50': float(np.percentile(latency, 50)),
            'latency_ms_p95': float(np.percentile(latency, 95)),
            'patches_per_frame': self.chosen / max(1, len(self.flops)),
            'reuse_ratio': self.reused / self.chosen if self.chosen else 0.0,
            'per_class_iou': segmentation['per_class_iou'],
        }


def score_sequences(engine: PerceptionEngine, sequences: Iterable[Iterable[LabeledFrame]],
                    score: SequenceScore | None = None) -> SequenceScore:
    """Run the engine over each sequence in order (temporal state reset between them)."""
    score = score or SequenceScore()
    for sequence in sequences:
        engine.reset()
        for frame in sequence:
            start = time.perf_counter()
            result = engine.infer([frame.image], stamps=[frame.stamp_ns * 1e-9])[0]
            score.add(frame, result, (time.perf_counter() - start) * 1e3)
    return score
