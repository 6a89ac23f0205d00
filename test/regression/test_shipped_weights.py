# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shipped weights still do what they did when they were recorded.

A few fixed synthetic frames run through the shipped default weights with the shipped node
parameters; accuracy, detections and the patch plan are compared with ``shipped_default.json``.
A change that silently degrades the shipped model fails here. New weights come with new
recorded values, on purpose and in the same commit:

    PATCHDRIVENET_RECORD=1 python -m pytest test/regression -k recorded

The frames are stored as PNG files (``frames/``), not rendered by the test: the renderer draws
with OpenCV, whose output differs slightly between versions (4.10 against 4.14: 0.09% of the
mask pixels), enough to move a detection count on a distribution's OpenCV.
``PATCHDRIVENET_RECORD_FRAMES=1`` renders and stores them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig, load_yaml, with_changes
from patchdrivenet_ros.data.drive_config import profile_config
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.metrics import SegmentationEvaluator
from patchdrivenet_ros.model.shipped import UNIFORM_FAMILY, UniformBaseline
from patchdrivenet_ros.model.weights import config_path, default_weights_path, load_weights

RECORDED = Path(__file__).with_name('shipped_default.json')
FRAME_DIR = Path(__file__).with_name('frames')
PARAMS = Path(__file__).resolve().parents[2] / 'config' / 'perception.yaml'
SEED = 950_000
"""Scene seed of the reference drive: outside training (1000+) and the held-out sets."""
FRAMES = 3
MIOU_TOLERANCE = 0.005
"""Float rounding across CPUs and thread counts moves mIoU by far less than this."""
MAX_DIFFERENT_PATCHES = 1
"""Near-tied priorities may swap one patch between CPUs; more means the ranking changed."""
MAX_DETECTION_DIFFERENCE = 1
GLOBAL_STREAM_FIELDS = ('classes', 'detection_classes', 'width', 'depth_multiplier',
                        'decoder_stride')
"""What makes the uniform baselines the same network as PatchDriveNet's global stream (they
never refine patches, so the refinement settings they were saved with do not matter)."""


def store_frames() -> None:
    """Render the reference drive and store its images, masks and stamps in FRAME_DIR."""
    FRAME_DIR.mkdir(exist_ok=True)
    stamps = []
    for index, frame in enumerate(generate_drive(profile_config('kitti', num_frames=FRAMES,
                                                                seed=SEED))):
        cv2.imwrite(str(FRAME_DIR / f'image_{index}.png'), frame.image[..., ::-1])
        cv2.imwrite(str(FRAME_DIR / f'mask_{index}.png'), frame.mask)
        stamps.append(frame.stamp_ns)
    (FRAME_DIR / 'stamps.json').write_text(json.dumps(stamps) + '\n', encoding='utf-8')


def stored_frames() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Return the stored (image RGB, mask, stamp_ns) of the reference drive."""
    stamps = json.loads((FRAME_DIR / 'stamps.json').read_text(encoding='utf-8'))
    return [(cv2.imread(str(FRAME_DIR / f'image_{i}.png'), cv2.IMREAD_COLOR)[..., ::-1],
             cv2.imread(str(FRAME_DIR / f'mask_{i}.png'), cv2.IMREAD_UNCHANGED), stamp)
            for i, stamp in enumerate(stamps)]


def measure() -> dict[str, Any]:
    """Run the shipped weights and parameters on the reference drive; return what to compare."""
    config = with_changes(load_yaml(PerceptionConfig, PARAMS), device='cpu', threads=1)
    engine = PerceptionEngine(load_weights(default_weights_path()), config)
    if os.environ.get('PATCHDRIVENET_RECORD_FRAMES') == '1':
        store_frames()
    frames = []
    for image, mask, stamp_ns in stored_frames():
        result = engine.infer([np.ascontiguousarray(image)], stamps=[stamp_ns * 1e-9])[0]
        evaluator = SegmentationEvaluator()
        evaluator.add(result.mask, mask)
        frames.append({
            'miou': evaluator.summary()['miou'],
            'detections': int(len(result.boxes)),
            'patch_cells': sorted(int(c) for c in result.plan.cell_ids),
            'reused': result.plan.reused,
            'global_reused': result.global_reused,
        })
    return {'seed': SEED, 'frames': frames}


@pytest.fixture(scope='module')
def measured() -> dict[str, Any]:
    """Measure; record into shipped_default.json when PATCHDRIVENET_RECORD=1."""
    values = measure()
    if os.environ.get('PATCHDRIVENET_RECORD') == '1':
        RECORDED.write_text(json.dumps(values, indent=2) + '\n', encoding='utf-8')
    return values


def test_shipped_default_weights_match_the_default_model_config():
    model = load_weights(default_weights_path(), expected=ModelConfig())
    assert not model.training


def test_shipped_weights_give_the_recorded_accuracy_and_plan(measured: dict[str, Any]):
    recorded = json.loads(RECORDED.read_text(encoding='utf-8'))
    assert len(measured['frames']) == len(recorded['frames']) == FRAMES
    for index, (now, then) in enumerate(zip(measured['frames'], recorded['frames'],
                                            strict=True)):
        assert now['miou'] == pytest.approx(then['miou'], abs=MIOU_TOLERANCE), index
        assert abs(now['detections'] - then['detections']) <= MAX_DETECTION_DIFFERENCE, index
        different = set(now['patch_cells']) ^ set(then['patch_cells'])
        assert len(different) <= 2 * MAX_DIFFERENT_PATCHES, (index, sorted(different))
        assert now['reused'] == pytest.approx(then['reused'], abs=MAX_DIFFERENT_PATCHES)
        assert now['global_reused'] == then['global_reused'], index


def test_shipped_weights_are_better_than_an_untrained_model(measured: dict[str, Any]):
    # A sanity floor independent of the recorded file: trained weights segment the scene.
    assert float(np.mean([f['miou'] for f in measured['frames']])) > 0.3


@pytest.mark.parametrize('member', UNIFORM_FAMILY, ids=lambda m: m.name)
def test_shipped_uniform_baselines_load_and_match_their_config(member: UniformBaseline):
    path = member.weights()
    model = load_weights(path)
    for name in GLOBAL_STREAM_FIELDS:  # the same global stream as PatchDriveNet's
        assert getattr(model.config, name) == getattr(ModelConfig(), name), name
    metadata = json.loads(config_path(path).read_text(encoding='utf-8'))['metadata']
    assert metadata['method'] == member.method
    assert float(metadata['global_scale']) == member.scale
    default = json.loads(config_path(default_weights_path()).read_text(encoding='utf-8'))
    assert metadata['steps'] == default['metadata']['steps']  # the same recipe and steps
