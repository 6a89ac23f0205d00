# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""nuScenes as a training source: the official scene split, boxes only, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patchdrivenet_ros.classes import IGNORE_INDEX, class_id
from patchdrivenet_ros.training.data_spec import DataError, parse_spec

pytest.importorskip('nuscenes', reason='nuscenes-devkit is not installed')

from test_nuscenes_loader import _write_tables  # noqa: E402

from patchdrivenet_ros.training.sources import open_source  # noqa: E402


def _dataroot(root: Path, scene_name: str) -> Path:
    """Write the one-sample v1.0-mini tables with the scene renamed (splits go by name)."""
    _write_tables(root)
    scenes_file = root / 'v1.0-mini' / 'scene.json'
    scenes = json.loads(scenes_file.read_text())
    scenes[0]['name'] = scene_name
    scenes_file.write_text(json.dumps(scenes))
    return root


def test_training_reads_the_keyframes_of_the_training_scenes(tmp_path: Path) -> None:
    root = _dataroot(tmp_path / 'nuscenes', 'scene-0061')  # in mini_train
    source = open_source(parse_spec(f'nuscenes:{root}:v1.0-mini:0.5'))
    assert len(source) == 1  # one keyframe, CAM_FRONT only in these tables
    sample = source.read(0)
    assert sample.boxes_labelled and (sample.frame.mask == IGNORE_INDEX).all()
    assert sample.frame.class_ids.tolist() == [class_id('car'), class_id('pedestrian')]
    with pytest.raises(DataError, match='no validation keyframes'):
        open_source(parse_spec(f'nuscenes:{root}:v1.0-mini'), 'validation')


def test_validation_reads_the_validation_scenes(tmp_path: Path) -> None:
    root = _dataroot(tmp_path / 'nuscenes', 'scene-0103')  # in mini_val
    assert len(open_source(parse_spec(f'nuscenes:{root}:v1.0-mini'), 'validation')) == 1
    with pytest.raises(DataError, match='no train keyframes'):
        open_source(parse_spec(f'nuscenes:{root}:v1.0-mini'))


def test_unusable_nuscenes_sources_say_why(tmp_path: Path) -> None:
    root = _dataroot(tmp_path / 'nuscenes', 'scene-0061')
    with pytest.raises(DataError, match='no labelled split'):
        open_source(parse_spec(f'nuscenes:{root}:v1.0-test'))
    with pytest.raises(DataError, match='not a nuScenes v1.0-trainval dataroot'):
        open_source(parse_spec(f'nuscenes:{root}'))  # no v1.0-trainval tables there
    with pytest.raises(DataError, match='no such folder'):
        open_source(parse_spec(f'nuscenes:{tmp_path / "absent"}:v1.0-mini'))


def test_evaluate_nuscenes_scores_the_scenes_of_a_split(tmp_path: Path,
                                                        tiny_weights: Path) -> None:
    from patchdrivenet_ros.tools.evaluate import main

    root = _dataroot(tmp_path / 'nuscenes', 'scene-0103')  # in mini_val
    rows = tmp_path / 'rows.json'
    assert main(['nuscenes', str(root), '--scenes', 'val', '--weights', str(tiny_weights),
                 '--budget', '2', '--json', str(rows)]) == 0
    (row,) = json.loads(rows.read_text())
    assert row['frames'] == 1 and row['split'] == 'nuscenes v1.0-mini CAM_FRONT val'
    assert main(['nuscenes', str(root), '--scenes', 'train', '--weights',
                 str(tiny_weights)]) == 2  # no training scene in these tables
