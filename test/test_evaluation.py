# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
import json
from pathlib import Path

import numpy as np
import pytest

from patchdrivenet_ros.config import ModelConfig, PerceptionConfig
from patchdrivenet_ros.data.drive_config import DriveConfig
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.evaluation import score_sequences
from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.shipped import UNIFORM_FAMILY
from patchdrivenet_ros.model.weights import save_weights
from patchdrivenet_ros.tools.evaluate import main

TINY = ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16, attention_heads=2)


def test_scores_cover_every_frame_and_stay_in_range():
    engine = PerceptionEngine(build_model(TINY), PerceptionConfig(patch_budget=3))
    drives = [list(generate_drive(DriveConfig(width=320, height=128, num_frames=3, seed=s)))
              for s in (1, 2)]
    summary = score_sequences(engine, drives).summary()
    assert summary['frames'] == 6
    assert summary['patches_per_frame'] == 3
    for key in ('miou', 'thin_iou', 'boundary_iou'):
        assert 0.0 <= summary[key] <= 1.0
    assert summary['gflops_per_frame'] > 0


def test_perfect_predictions_score_one():
    frames = list(generate_drive(DriveConfig(width=320, height=128, num_frames=2, seed=4)))

    class Oracle(PerceptionEngine):
        def infer(self, images, *, bgr=False, stamps=None, streams=None,  # type: ignore[override]
                  choice_scores=None):
            results = super().infer(images, stamps=stamps)
            frame = next(f for f in frames if f.image is images[0])
            from dataclasses import replace
            return [replace(results[0], mask=frame.mask, boxes=frame.boxes,
                            scores=np.ones(len(frame.boxes), np.float32),
                            class_ids=frame.class_ids)]

    engine = Oracle(build_model(TINY), PerceptionConfig(patch_budget=0))
    summary = score_sequences(engine, [frames]).summary()
    assert summary['miou'] == 1.0 and summary['boundary_iou'] == 1.0
    assert summary['map50'] == 1.0


def test_cli_writes_one_row_per_method_and_split(tmp_path: Path):
    weights = tmp_path / 'tiny.safetensors'
    save_weights(build_model(TINY), weights)
    out = tmp_path / 'rows.json'
    assert main(['synthetic', '--weights', str(weights), '--scales', '', '--params-file', '',
                 '--oracle-budgets', '',
                 '--budgets', '2', '--reuse-rules', 'compensated', '--reuse-budget', '2',
                 '--interval', '0',
                 '--drives', '1', '--frames', '2', '--json', str(out)]) == 0
    rows = json.loads(out.read_text())
    names = [(r['method'], r['split'], r['family']) for r in rows]
    assert names == [(m, s, f) for m, f in (('PatchDriveNet K=2', 'patchdrivenet'),
                                            ('PatchDriveNet K=2 reuse=compensated', 'reuse'))
                     for s in ('clear', 'adverse')]
    assert not any(r['default'] for r in rows)


def test_adverse_drives_can_all_take_one_condition(tmp_path: Path):
    weights = tmp_path / 'tiny.safetensors'
    save_weights(build_model(TINY), weights)
    out = tmp_path / 'rows.json'
    assert main(['synthetic', '--weights', str(weights), '--scales', '', '--params-file', '',
                 '--oracle-budgets', '', '--budgets', '2', '--reuse-rules', '', '--interval', '0',
                 '--adverse', 'night', '--drives', '3', '--frames', '1', '--json', str(out)]) == 0
    clear, adverse = json.loads(out.read_text())
    assert [d['conditions'] for d in clear['drives']] == [[], [], []]
    assert [d['conditions'] for d in adverse['drives']] == [['night']] * 3
    with pytest.raises(SystemExit):
        main(['synthetic', '--adverse', 'moonlight'])


def test_frontier_rows_plot_and_default_row(tmp_path: Path):
    for member in UNIFORM_FAMILY:
        save_weights(build_model(TINY), member.weights(tmp_path))
    params = tmp_path / 'params.yaml'
    params.write_text('/**:\n  ros__parameters:\n    patch_budget: 2\n'
                      '    reuse_rule: compensated\n    motion_threshold: 2.5\n')
    out, plot = tmp_path / 'rows.json', tmp_path / 'frontier.png'
    assert main(['synthetic', '--weights', str(UNIFORM_FAMILY[0].weights(tmp_path)),
                 '--baselines', str(tmp_path), '--scales', '0.25,0.5,1.0',
                 '--params-file', str(params), '--budgets', '0,2', '--reuse-rules', '',
                 '--oracle-budgets', '2',
                 '--interval', '0', '--drives', '2', '--frames', '2',
                 '--json', str(out), '--plot', str(plot)]) == 0
    rows = json.loads(out.read_text())
    clear = {r['method']: r for r in rows if r['split'] == 'clear'}
    assert list(clear) == ['SF-low', 'SF-0.5', 'SF-full', 'PatchDriveNet K=0',
                           'PatchDriveNet K=2', 'PatchDriveNet K=2 oracle choice',
                           'PatchDriveNet default (K=2, reuse=compensated)']
    assert clear['PatchDriveNet K=2 oracle choice']['family'] == 'oracle'
    assert [clear[m]['family'] for m in ('SF-low', 'SF-0.5', 'SF-full')] == ['uniform'] * 3
    assert [clear[m]['global_scale'] for m in ('SF-low', 'SF-0.5', 'SF-full')] == [
        0.25, 0.5, 1.0]
    flops = [clear[m]['gflops_per_frame'] for m in ('SF-low', 'SF-0.5', 'SF-full')]
    assert flops == sorted(flops) and flops[0] < flops[-1]
    default = [r for r in rows if r['default']]
    assert len(default) == 2 and all(r['family'] == 'reuse' for r in default)
    assert all(len(r['drives']) == 2 for r in rows)
    assert 'above_uniform' in clear['PatchDriveNet K=2']
    assert 'above_uniform' not in clear['SF-0.5']
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b'\x89PNG'


def test_bag_command_scores_the_labelled_frames(tmp_path: Path):
    from patchdrivenet_ros.data.bags import write_bag
    frames = list(generate_drive(DriveConfig(width=320, height=128, num_frames=3, seed=8)))
    bag = tmp_path / 'drive'
    write_bag(frames, bag, profile='kitti', storage='mcap')
    weights = tmp_path / 'tiny.safetensors'
    save_weights(build_model(TINY), weights)
    out = tmp_path / 'rows.json'
    assert main(['bag', str(bag), '--weights', str(weights), '--budget', '2',
                 '--json', str(out)]) == 0
    (row,) = json.loads(out.read_text())
    assert row['frames'] == 3 and row['patches_per_frame'] == 2


def test_kitti_command_scores_an_object_folder(tmp_path: Path):
    import cv2
    (tmp_path / 'image_2').mkdir()
    (tmp_path / 'label_2').mkdir()
    cv2.imwrite(str(tmp_path / 'image_2' / '000000.png'), np.zeros((128, 320, 3), np.uint8))
    (tmp_path / 'label_2' / '000000.txt').write_text(
        'Car 0.00 0 -1.58 10.00 20.00 90.00 80.00 1.5 1.6 3.9 1.0 1.7 20.0 -1.57\n'
        'DontCare -1 -1 -10 200.00 10.00 240.00 40.00 -1 -1 -1 -1000 -1000 -1000 -10\n')
    weights = tmp_path / 'tiny.safetensors'
    save_weights(build_model(TINY), weights)
    out = tmp_path / 'rows.json'
    assert main(['kitti', str(tmp_path), '--weights', str(weights), '--json', str(out)]) == 0
    (row,) = json.loads(out.read_text())
    assert row['frames'] == 1
    assert 0.0 <= row['kitti_car_easy'] <= 1.0


def test_missing_baseline_weights_are_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(['synthetic', '--baselines', str(tmp_path), '--scales', '0.5', '--budgets', '',
                 '--oracle-budgets', '', '--reuse-rules', '', '--interval', '0',
                 '--params-file', '', '--drives', '1', '--frames', '1']) == 2
    error = capsys.readouterr().err
    assert 'sf_0.5.safetensors' in error and 'no such weights file' in error


def test_patchdrivenet_rows_take_the_global_scale_asked_for() -> None:
    from patchdrivenet_ros.tools.evaluate import methods, parse_args

    args = parse_args(['synthetic', '--global-scale', '0.25', '--budgets', '0,12',
                       '--scales', '0.5', '--params-file', ''])
    rows = {row.name: row for row in methods(args)}
    assert rows['PatchDriveNet K=12'].config.global_scale == 0.25
    assert rows['PatchDriveNet K=0'].config.global_scale == 0.25
    assert rows['SF-0.5'].config.global_scale == 0.5  # the uniform family keeps its own scale
    default_args = parse_args(['synthetic', '--budgets', '12', '--scales', ''])
    (row, *_) = methods(default_args)
    assert row.config.global_scale == PerceptionConfig().global_scale
