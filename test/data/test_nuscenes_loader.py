# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""nuScenes 2D boxes through the devkit, on a v1.0-mini-shaped table set of one sample."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.classes import class_id

pytest.importorskip('nuscenes', reason='nuscenes-devkit is not installed')

from patchdrivenet_ros.data.nuscenes import load_nuscenes  # noqa: E402

F, CX, CY = 1266.0, 816.0, 491.0
# Camera looking along ego +x: camera z = ego x, camera x = -ego y, camera y = -ego z.
CAM_ROTATION = [0.5, -0.5, 0.5, -0.5]
CAM_HEIGHT = 1.5


def _write_tables(root: Path) -> None:
    version = root / 'v1.0-mini'
    version.mkdir(parents=True)
    (root / 'samples' / 'CAM_FRONT').mkdir(parents=True)
    (root / 'maps').mkdir()
    cv2.imwrite(str(root / 'samples' / 'CAM_FRONT' / 'f.jpg'), np.zeros((900, 1600, 3), np.uint8))
    cv2.imwrite(str(root / 'maps' / 'map.png'), np.zeros((4, 4), np.uint8))
    categories = ['vehicle.car', 'movable_object.barrier', 'human.pedestrian.adult',
                  'animal']
    tables = {
        'category': [{'token': f'cat{i}', 'name': n, 'description': ''}
                     for i, n in enumerate(categories)],
        'attribute': [],
        'visibility': [{'token': str(v), 'level': lvl, 'description': ''}
                       for v, lvl in [(1, 'v0-40'), (2, 'v40-60'), (3, 'v60-80'),
                                      (4, 'v80-100')]],
        'instance': [{'token': f'inst{i}', 'category_token': f'cat{i}', 'nbr_annotations': 1,
                      'first_annotation_token': f'ann{i}', 'last_annotation_token': f'ann{i}'}
                     for i in range(4)],
        'sensor': [{'token': 'sensor0', 'channel': 'CAM_FRONT', 'modality': 'camera'}],
        'calibrated_sensor': [{'token': 'cs0', 'sensor_token': 'sensor0',
                               'translation': [0.0, 0.0, CAM_HEIGHT],
                               'rotation': CAM_ROTATION,
                               'camera_intrinsic': [[F, 0, CX], [0, F, CY], [0, 0, 1]]}],
        'ego_pose': [{'token': 'pose0', 'timestamp': 1533151603512404,
                      'rotation': [1.0, 0.0, 0.0, 0.0], 'translation': [0.0, 0.0, 0.0]}],
        'log': [{'token': 'log0', 'logfile': 'l', 'vehicle': 'v', 'date_captured': '2018-08-01',
                 'location': 'singapore-onenorth'}],
        'scene': [{'token': 'scene0', 'log_token': 'log0', 'nbr_samples': 1,
                   'first_sample_token': 'sample0', 'last_sample_token': 'sample0',
                   'name': 'scene-0001', 'description': ''}],
        'sample': [{'token': 'sample0', 'timestamp': 1533151603512404, 'prev': '', 'next': '',
                    'scene_token': 'scene0'}],
        'sample_data': [{'token': 'sd0', 'sample_token': 'sample0', 'ego_pose_token': 'pose0',
                         'calibrated_sensor_token': 'cs0', 'timestamp': 1533151603512404,
                         'fileformat': 'jpg', 'is_key_frame': True, 'height': 900,
                         'width': 1600, 'filename': 'samples/CAM_FRONT/f.jpg', 'prev': '',
                         'next': ''}],
        'sample_annotation': [
            _annotation(0, [10.0, 0.0, 1.0], [2.0, 4.0, 1.5], '4'),  # car straight ahead
            _annotation(1, [20.0, 3.0, 0.5], [0.5, 2.0, 1.0], '4'),  # barrier: ignore region
            _annotation(2, [8.0, -4.0, 0.9], [0.6, 0.6, 1.8], '2'),  # pedestrian, occluded
            _annotation(3, [12.0, 1.0, 0.3], [0.3, 0.5, 0.6], '4'),  # animal: not our class
        ],
        'map': [{'token': 'map0', 'log_tokens': ['log0'], 'category': 'semantic_prior',
                 'filename': 'maps/map.png'}],
    }
    for name, rows in tables.items():
        (version / f'{name}.json').write_text(json.dumps(rows))


def _annotation(i: int, centre: list[float], size: list[float], visibility: str) -> dict:
    return {'token': f'ann{i}', 'sample_token': 'sample0', 'instance_token': f'inst{i}',
            'visibility_token': visibility, 'attribute_tokens': [], 'translation': centre,
            'size': size, 'rotation': [1.0, 0.0, 0.0, 0.0], 'prev': '', 'next': '',
            'num_lidar_pts': 10, 'num_radar_pts': 0}


def _expected_box(centre: list[float], size: list[float]) -> list[float]:
    """Project the 8 corners of an axis-aligned box (w along y, l along x) by hand."""
    w, length, h = size
    xs = [centre[0] - length / 2, centre[0] + length / 2]
    ys = [centre[1] - w / 2, centre[1] + w / 2]
    zs = [centre[2] - h / 2, centre[2] + h / 2]
    us, vs = [], []
    for x in xs:
        for y in ys:
            for z in zs:
                us.append(F * -y / x + CX)
                vs.append(F * -(z - CAM_HEIGHT) / x + CY)
    return [max(0.0, min(us)), max(0.0, min(vs)), min(1600.0, max(us)), min(900.0, max(vs))]


def test_boxes_are_projected_3d_boxes(tmp_path: Path) -> None:
    _write_tables(tmp_path)
    frames = list(load_nuscenes(tmp_path, version='v1.0-mini'))
    assert len(frames) == 1
    f = frames[0]
    assert f.image.shape == (900, 1600, 3)
    assert f.stamp_ns == 1533151603512404 * 1000
    assert f.class_ids.tolist() == [class_id('car'), class_id('pedestrian')]
    assert f.boxes[0].tolist() == pytest.approx(_expected_box([10.0, 0.0, 1.0], [2.0, 4.0, 1.5]),
                                                abs=1e-3)
    assert f.boxes[1].tolist() == pytest.approx(_expected_box([8.0, -4.0, 0.9], [0.6, 0.6, 1.8]),
                                                abs=1e-3)
    assert f.occlusion.tolist() == [0, 1]
    assert f.track_ids.tolist() == [0, 2]
    assert f.truncation.tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert f.ignore_boxes.shape == (1, 4)  # the barrier
    assert (f.mask == 255).all()
    assert f.camera_matrix is not None and f.camera_matrix[0, 0] == F


def test_evaluate_nuscenes_scores_the_keyframes(tmp_path: Path, tiny_weights: Path) -> None:
    from patchdrivenet_ros.tools.evaluate import main

    root = tmp_path / 'nuscenes'
    _write_tables(root)
    weights = tiny_weights
    rows = tmp_path / 'rows.json'
    assert main(['nuscenes', str(root), '--weights', str(weights), '--budget', '2',
                 '--json', str(rows)]) == 0
    (row,) = json.loads(rows.read_text())
    assert row['frames'] == 1 and row['split'] == 'nuscenes v1.0-mini CAM_FRONT'
    assert main(['nuscenes', str(tmp_path / 'absent'), '--weights', str(weights)]) == 2
    assert main(['nuscenes', str(root), '--camera', 'CAM_NOWHERE', '--weights',
                 str(weights)]) == 2


def test_a_bag_is_scored_against_a_nuscenes_dataroot_by_keyframe_stamp(
        tmp_path: Path, tiny_weights: Path) -> None:
    from patchdrivenet_ros.bag_labels import LabelError, label_source
    from patchdrivenet_ros.config import PerceptionConfig
    from patchdrivenet_ros.data.bags import write_bag
    from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
    from patchdrivenet_ros.engine import PerceptionEngine
    from patchdrivenet_ros.evaluation import score_bag
    from patchdrivenet_ros.model.weights import load_weights

    root = tmp_path / 'nuscenes'
    _write_tables(root)
    # Two frames at 12 Hz from the keyframe's stamp: the first is the keyframe, the second a
    # sweep (unlabelled: it runs, for temporal reuse, but is not scored).
    frames = generate_drive(profile_config('nuscenes', num_frames=2, seed=5,
                                           start_ns=1533151603512404 * 1000))
    bag = write_bag(frames, tmp_path / 'scene', profile='nuscenes', labels=False)
    source = label_source(bag, root)
    assert source.count == 1 and 'keyframes of nuScenes v1.0-mini' in source.matching
    assert label_source(bag, root / 'v1.0-mini').count == 1
    image = np.zeros((900, 1600, 3), np.uint8)
    keyframe = source.truth(0, 1533151603512404 * 1000 + 400_000, image)  # within 1 ms
    assert keyframe is not None
    assert keyframe.class_ids.tolist() == [class_id('car'), class_id('pedestrian')]
    assert source.truth(1, 1533151603512404 * 1000 + 83_333_333, image) is None  # a sweep
    engine = PerceptionEngine(load_weights(tiny_weights),
                              PerceptionConfig(device='cpu', patch_budget=2))
    summary = score_bag(engine, bag, labels=root).summary()
    assert summary['frames'] == 1
    (root / 'v1.0-trainval').mkdir()
    (root / 'v1.0-trainval' / 'sample_data.json').write_text('[]')
    with pytest.raises(LabelError, match='several nuScenes versions'):
        label_source(bag, root)


def test_sweeps_run_between_keyframes_but_only_keyframes_are_scored(
        tmp_path: Path, tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from patchdrivenet_ros.engine import PerceptionEngine
    from patchdrivenet_ros.tools.evaluate import main

    inferred: list[int] = []
    infer = PerceptionEngine.infer

    def counted(self: PerceptionEngine, *args: object, **kwargs: object) -> object:
        inferred.append(1)
        return infer(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PerceptionEngine, 'infer', counted)

    root = tmp_path / 'nuscenes'
    _write_tables(root)
    version = root / 'v1.0-mini'
    rows = json.loads((version / 'sample_data.json').read_text())
    rows[0]['next'] = 'sd1'
    rows.append({**rows[0], 'token': 'sd1', 'timestamp': rows[0]['timestamp'] + 83_333,
                 'is_key_frame': False, 'filename': 'sweeps/CAM_FRONT/s.jpg', 'prev': 'sd0',
                 'next': ''})
    (version / 'sample_data.json').write_text(json.dumps(rows))
    (root / 'sweeps' / 'CAM_FRONT').mkdir(parents=True)
    cv2.imwrite(str(root / 'sweeps' / 'CAM_FRONT' / 's.jpg'), np.zeros((900, 1600, 3), np.uint8))
    assert len(list(load_nuscenes(root, keyframes_only=False))) == 2
    for extra, ran in (([], 1), (['--sweeps'], 2)):
        inferred.clear()
        out = tmp_path / f'rows{len(extra)}.json'
        assert main(['nuscenes', str(root), '--weights', str(tiny_weights), '--budget', '2',
                     '--json', str(out), *extra]) == 0
        (row,) = json.loads(out.read_text())
        assert len(inferred) == ran and row['frames'] == 1  # the sweep runs, is not scored
