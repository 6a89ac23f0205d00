# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Validation scores during training: the model on held-out frames of each of its data sources.

Synthetic: the first frame of drives with the validation seeds (data/splits.py). Files: the
validation split of each source (training/sources.py). The model runs as the node runs it
(whole frames, inference copy, reuse off, the default patch budget); mIoU and thin IoU count
the frames with pixel labels, mAP50 those with box labels.
"""

from __future__ import annotations

from collections.abc import Sequence
import logging

from patchdrivenet_ros.classes import IGNORE_INDEX
from patchdrivenet_ros.config import PerceptionConfig, TrainConfig
from patchdrivenet_ros.data.drive_config import DriveConfig
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.splits import VALIDATION_SEED
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import SequenceScore
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet
from patchdrivenet_ros.training.data import WeightedSource
from patchdrivenet_ros.training.data_spec import DataError
from patchdrivenet_ros.training.sources import Sample, SampleError, open_source

LOG = logging.getLogger('patchdrivenet_train')


def validation_samples(config: TrainConfig, sources: Sequence[WeightedSource]) -> list[Sample]:
    """Return up to ``validation_frames`` held-out samples of each source."""
    count = config.validation_frames
    samples: list[Sample] = []
    for source in sources:
        if source.files is None:
            samples += [Sample(next(generate_drive(DriveConfig(
                width=config.frame_width, height=config.frame_height, num_frames=1,
                seed=VALIDATION_SEED + index))), boxes_labelled=True) for index in range(count)]
            continue
        try:
            held_out = open_source(source.spec, 'validation')
        except DataError as error:
            LOG.warning('no validation frames from %s: %s', source.files.name, error)
            continue
        for index in range(min(count, len(held_out))):
            try:
                samples.append(held_out.read(index))
            except SampleError as error:
                LOG.warning('validation sample skipped: %s', error)
    return samples


def validation_scores(model: PatchDriveNet, config: TrainConfig, scale: float,
                      samples: Sequence[Sample]) -> dict[str, float]:
    """Score ``model`` on ``samples``; return val_miou, val_thin_iou and val_map50."""
    settings = PerceptionConfig(method=config.method, global_scale=scale,
                                patch_sizes=config.patch_sizes, reuse_rule='off',
                                device=config.device)
    pixels, boxes = SequenceScore(), SequenceScore()
    # The engine runs a folded copy; training draws no torch randomness after its init, so the
    # copy's random init does not change what is trained (test_sources checks it).
    engine = PerceptionEngine(model, settings, device=str(next(model.parameters()).device))
    for sample in samples:
        frame: LabeledFrame = sample.frame
        result = engine.infer([frame.image])[0]
        if bool((frame.mask != IGNORE_INDEX).any()):
            pixels.add(frame, result, 0.0)
        if sample.boxes_labelled:
            boxes.add(frame, result, 0.0)
    segmentation = pixels.summary() if pixels.flops else {'miou': float('nan'),
                                                          'thin_iou': float('nan')}
    detection = boxes.summary() if boxes.flops else {'map50': float('nan')}
    return {'val_miou': segmentation['miou'], 'val_thin_iou': segmentation['thin_iou'],
            'val_map50': detection['map50']}


__all__ = ['validation_samples', 'validation_scores']
