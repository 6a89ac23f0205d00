# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI object benchmark folders scored the devkit's way, against ``label_2`` as written.

Ground truth keeps its KITTI types (Van, Person_sitting, DontCare, ...), which the devkit
treats as neighbours or regions; detections are what a results file holds: Car, Pedestrian and
Cyclist lines with a score. Two sources: KITTI-format results files (the devkit's own input)
or the engine run on ``image_2``, whose detections can be saved as results files too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
import time
from typing import Any

import numpy as np

from patchdrivenet_ros.data.kitti import (
    KITTI_PERIOD_NS,
    KittiObject,
    format_object,
    objects_to_frame,
    read_object_labels,
    read_rgb,
)
from patchdrivenet_ros.data.splits import folder_images, folder_split
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import EvaluationError, SequenceScore, kitti_types
from patchdrivenet_ros.metrics import KittiEvaluator
from patchdrivenet_ros.result import FrameResult

SCORED_TYPES = ('Car', 'Pedestrian', 'Cyclist')
"""The types a results file holds (the devkit scores these)."""


def check_object_folder(root: Path, images: bool = True) -> None:
    """Raise EvaluationError unless root holds label_2/ (and image_2/*.png when images)."""
    if not root.is_dir():
        raise EvaluationError(f'no folder {root}')
    if images and not any((root / 'image_2').glob('*.png')):
        raise EvaluationError(f'{root}: no image_2/*.png (a KITTI object split has image_2/ '
                              'and label_2/; pass --results to score results files alone)')
    if not (root / 'label_2').is_dir():
        raise EvaluationError(f'{root}: no label_2/ folder, so nothing to score against')


def add_objects(evaluator: KittiEvaluator, detections: Sequence[KittiObject],
                truth: Sequence[KittiObject]) -> None:
    """Add one image: scored detections and its label objects, types as written."""
    evaluator.add(
        np.array([d.bbox for d in detections], np.float64).reshape(-1, 4),
        np.array([d.score for d in detections], np.float64),
        [d.type for d in detections],
        np.array([g.bbox for g in truth], np.float64).reshape(-1, 4),
        [g.type for g in truth],
        np.array([g.truncated for g in truth], np.float64),
        np.array([g.occluded for g in truth], np.int64),
    )


def result_objects(result: FrameResult) -> list[KittiObject]:
    """Return the engine's Car / Pedestrian / Cyclist detections as results-file objects."""
    return [KittiObject(kind, -1.0, -1, -10.0,
                        (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                        (-1.0, -1.0, -1.0), (-1000.0, -1000.0, -1000.0), -10.0,
                        score=float(score))
            for kind, box, score in zip(kitti_types(result.class_ids), result.boxes,
                                        result.scores, strict=True)
            if kind in SCORED_TYPES]


def _labels(root: Path, name: str) -> list[KittiObject]:
    path = root / 'label_2' / f'{name}.txt'
    if not path.is_file():
        raise EvaluationError(f'no label file {path}')
    try:
        return read_object_labels(path)
    except ValueError as error:
        raise EvaluationError(f'{path}: {error}') from None


def score_results(root: Path, results: Path) -> tuple[dict[str, float], int]:
    """Score KITTI results files (``results/*.txt`` or ``results/data/*.txt``) against root.

    Returns the ``kitti_*`` numbers and the number of images scored.
    """
    check_object_folder(root, images=False)
    folder = results / 'data' if (results / 'data').is_dir() else results
    files = sorted(folder.glob('*.txt'))
    if not files:
        raise EvaluationError(f'no results files (*.txt) in {folder}')
    evaluator = KittiEvaluator()
    for path in files:
        try:
            detections = read_object_labels(path)
        except ValueError as error:
            raise EvaluationError(f'{path}: {error}') from None
        if any(d.score is None for d in detections):
            raise EvaluationError(f'{path}: a results line needs a 16th column, the score')
        add_objects(evaluator, detections, _labels(root, path.stem))
    return {f'kitti_{k}': v for k, v in evaluator.summary().items()}, len(files)


def score_engine(engine: PerceptionEngine, root: Path, save_results: Path | None = None,
                 split: str = 'all') -> dict[str, Any]:
    """Run the engine on the images of ``image_2/`` (independent frames) and score it.

    split: 'all', or the 'train' / 'validation' images of a ``kitti-object`` training source
    (data/splits.py). KITTI AP|R40 comes from the label files as written; the other numbers
    from the frames in the package's classes. save_results writes a results file per image.
    """
    check_object_folder(root)
    images = folder_images(root / 'image_2')
    if split != 'all':
        images = folder_split(images, split)
    engine.reset()
    score, evaluator = SequenceScore(), KittiEvaluator()
    if save_results is not None:
        save_results.mkdir(parents=True, exist_ok=True)
    for index, image_path in enumerate(images):
        truth = _labels(root, image_path.stem)
        frame = objects_to_frame(read_rgb(image_path), truth, index, index * KITTI_PERIOD_NS)
        start = time.perf_counter()
        result = engine.infer([frame.image], stamps=[frame.stamp_ns * 1e-9])[0]
        score.add(frame, result, (time.perf_counter() - start) * 1e3)
        engine.reset()  # object images are not a video
        detections = result_objects(result)
        add_objects(evaluator, detections, truth)
        if save_results is not None:
            (save_results / f'{image_path.stem}.txt').write_text(
                ''.join(format_object(d) + '\n' for d in detections), encoding='utf-8')
    summary = score.summary()
    summary.update({f'kitti_{k}': v for k, v in evaluator.summary().items()})
    return summary
