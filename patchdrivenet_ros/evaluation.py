# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Score a PerceptionEngine on labelled frame sequences: accuracy, compute and reuse."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
import logging
from pathlib import Path
import time
from typing import Any, Protocol

import numpy as np
from rosbags.highlevel import AnyReaderError

from patchdrivenet_ros.bag_labels import LabelError, label_source
from patchdrivenet_ros.classes import CLASS_NAMES, thin_class_ids
from patchdrivenet_ros.data.bags import iter_bag_images
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.metrics import DetectionEvaluator, KittiEvaluator, SegmentationEvaluator
from patchdrivenet_ros.model.baselines import run_settings
from patchdrivenet_ros.model.candidates import candidate_grid
from patchdrivenet_ros.result import FrameResult
from patchdrivenet_ros.training.oracle import label_oracle_scores

KITTI_TYPES = {'car': 'Car', 'pedestrian': 'Pedestrian', 'cyclist': 'Cyclist'}
"""Our classes scored by the KITTI 2D benchmark, with its type names (others do not count)."""

LOG = logging.getLogger(__name__)


class EvaluationError(Exception):
    """Input that cannot be scored (missing or unmatched labels, no frames); says what to fix."""


class FrameTruth(Protocol):
    """The labels a frame is scored against (LabeledFrame and FrameLabels have them)."""

    @property
    def mask(self) -> np.ndarray:
        """(H, W) uint8 class ids, 255 = unlabeled."""

    @property
    def boxes(self) -> np.ndarray:
        """(N, 4) float32 xyxy input pixels."""

    @property
    def class_ids(self) -> np.ndarray:
        """(N,) int64 class ids."""

    @property
    def truncation(self) -> np.ndarray:
        """(N,) float32 truncation in [0, 1]."""

    @property
    def occlusion(self) -> np.ndarray:
        """(N,) int64 KITTI occlusion levels."""

    @property
    def ignore_boxes(self) -> np.ndarray:
        """(M, 4) float32 xyxy regions neither rewarded nor punished."""


def kitti_types(class_ids: np.ndarray) -> list[str]:
    """Return the KITTI type name of each class id ('Other' where KITTI does not score it)."""
    return [KITTI_TYPES.get(CLASS_NAMES[int(c)], 'Other') for c in class_ids]


@dataclass
class SequenceScore:
    """Accumulates what an engine did on labelled frames."""

    segmentation: SegmentationEvaluator = field(default_factory=SegmentationEvaluator)
    detection: DetectionEvaluator = field(default_factory=DetectionEvaluator)
    kitti: KittiEvaluator = field(default_factory=KittiEvaluator)
    flops: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    chosen: int = 0
    reused: int = 0
    global_reused: int = 0  # frames whose global stream reused its cached features

    def add(self, truth: FrameTruth, result: FrameResult, latency_ms: float) -> None:
        """Score one frame's result against its labels."""
        self.segmentation.add(result.mask, truth.mask)
        self.detection.add(result.boxes, result.scores, result.class_ids, truth.boxes,
                           truth.class_ids)
        ignore = len(truth.ignore_boxes)
        types = kitti_types(result.class_ids)
        scored = np.array([kind != 'Other' for kind in types], bool)  # a results file's lines
        self.kitti.add(
            result.boxes[scored], result.scores[scored],
            [kind for kind, keep in zip(types, scored, strict=True) if keep],
            np.concatenate([truth.boxes, truth.ignore_boxes]),
            kitti_types(truth.class_ids) + ['DontCare'] * ignore,
            np.concatenate([truth.truncation, np.zeros(ignore, np.float32)]),
            np.concatenate([truth.occlusion, np.zeros(ignore, np.int64)]),
        )
        self.flops.append(result.flops)
        self.latency_ms.append(latency_ms)
        self.chosen += result.plan.chosen
        self.reused += result.plan.reused
        self.global_reused += int(result.global_reused)

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
            'global_reuse_ratio': self.global_reused / max(1, len(self.flops)),
            'per_class_iou': segmentation['per_class_iou'],
            **{f'kitti_{k}': v for k, v in self.kitti.summary().items()},
        }


def score_sequences(engine: PerceptionEngine, sequences: Iterable[Iterable[LabeledFrame]],
                    score: SequenceScore | None = None,
                    scored: Callable[[LabeledFrame], bool] | None = None) -> SequenceScore:
    """Run the engine over each sequence in order (temporal state reset between them).

    ``scored`` picks the frames that are scored (default: all); the others only run (they
    feed temporal reuse, as the sweeps between nuScenes keyframes do).
    """
    score = score or SequenceScore()
    for sequence in sequences:
        _score_sequence(engine, sequence, [score], scored=scored)
    return score


def _score_sequence(engine: PerceptionEngine, sequence: Iterable[LabeledFrame],
                    scores: Sequence[SequenceScore], oracle_choice: bool = False,
                    scored: Callable[[LabeledFrame], bool] | None = None) -> None:
    """Run the engine over one sequence from a fresh temporal state; add frames to scores."""
    engine.reset()
    for frame in sequence:
        choice = [oracle_choice_scores(engine, frame)] if oracle_choice else None
        start = time.perf_counter()
        result = engine.infer([frame.image], stamps=[frame.stamp_ns * 1e-9],
                              choice_scores=choice)[0]
        latency = (time.perf_counter() - start) * 1e3
        if scored is None or scored(frame):
            for score in scores:
                score.add(frame, result, latency)


def oracle_choice_scores(engine: PerceptionEngine, frame: LabeledFrame) -> np.ndarray:
    """Score the engine's patch candidates for ``frame`` from its labels (the label oracle)."""
    height, width = frame.mask.shape
    grid = candidate_grid(width, height, engine.config.patch_sizes)
    scale = run_settings(engine.config, (width, height)).global_scale
    return label_oracle_scores(frame.mask, grid.boxes, scale, thin_class_ids())


def score_drives(engine: PerceptionEngine, drives: Iterable[Sequence[LabeledFrame]],
                 oracle_choice: bool = False) -> tuple[SequenceScore, list[SequenceScore]]:
    """Score the engine on each drive: pooled over all drives, and each drive on its own.

    The per-drive scores give the noise of a comparison (the spread over drives). With
    ``oracle_choice`` the patches are chosen from each frame's labels instead of the learned
    priority: the learned choice's upper bound.
    """
    pooled, each = SequenceScore(), []
    for drive in drives:
        each.append(SequenceScore())
        _score_sequence(engine, drive, [pooled, each[-1]], oracle_choice)
    return pooled, each


def _stamp_range(stamps: Iterable[int]) -> str:
    ordered = sorted(stamps)
    return f'{ordered[0] * 1e-9:.3f} s to {ordered[-1] * 1e-9:.3f} s' if ordered else 'none'


def score_bag(engine: PerceptionEngine, bag: Path, topic: str | None = None,
              labels: Path | None = None, score: SequenceScore | None = None,
              timestamps: Path | None = None) -> SequenceScore:
    """Run the engine over a bag's images in order; score those the labels cover.

    labels: the bag's sidecar (default), a sidecar folder, or a KITTI tracking label file
    (matched in order, or by timestamps); see bag_labels. Unlabelled frames still run (they
    feed temporal reuse) but are not scored. Raises EvaluationError when the bag or its labels
    cannot be read or no frame matches a label; logs how frames were matched, and a warning
    when fewer than half of the labelled frames are in the bag.
    """
    if not Path(bag).exists():
        raise EvaluationError(f'no bag at {bag}')
    try:
        source = label_source(bag, labels, timestamps)
    except LabelError as error:
        raise EvaluationError(str(error)) from None
    LOG.info('labels matched %s', source.matching)
    score = score or SequenceScore()
    engine.reset()
    seen: list[int] = []
    matched = 0
    try:
        for index, image in enumerate(iter_bag_images(bag, topic)):
            seen.append(image.stamp_ns)
            start = time.perf_counter()
            result = engine.infer([image.image], stamps=[image.stamp_ns * 1e-9])[0]
            latency = (time.perf_counter() - start) * 1e3
            truth = source.truth(index, image.stamp_ns, image.image)
            if truth is not None:
                score.add(truth, result, latency)
                matched += 1
    except KeyError as error:  # no such topic (the message names the topics there are)
        raise EvaluationError(str(error.args[0])) from None
    except (AnyReaderError, OSError) as error:
        raise EvaluationError(f'cannot read the bag {bag}: {error}') from None
    except ValueError as error:  # an image it cannot decode (encoding, damaged data)
        raise EvaluationError(f'{bag}: {error}') from None
    if not seen:
        raise EvaluationError(f'{bag}: no image messages' + (f' on {topic}' if topic else ''))
    if matched == 0:
        raise EvaluationError(
            f'{bag}: none of its {len(seen)} frames has a label (matched {source.matching}). '
            f'Frame stamps run from {_stamp_range(seen)}, label stamps from '
            f'{_stamp_range(source.stamps())}.')
    if matched < source.count / 2:
        LOG.warning('%s: only %d of %d labelled frames are frames of the bag; the rest are not '
                    'scored', bag, matched, source.count)
    return score
