# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-evaluate kitti: results files and weights against label_2 as written."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.tools.evaluate import main
from patchdrivenet_ros.training.data_spec import SourceSpec
from patchdrivenet_ros.training.sources import open_source

COPIES = 80
"""Images per folder: enough found objects for the devkit's 41 recall thresholds."""


def _line(kind: str, box: tuple[float, float, float, float], score: float | None = None,
          truncated: float = 0.0, occluded: int = 0) -> str:
    coords = ' '.join(f'{v:.2f}' for v in box)
    line = f'{kind} {truncated:.2f} {occluded} -1.58 {coords} 1.5 1.6 3.9 1.0 1.7 20.0 -1.57'
    return line + (f' {score:.4f}' if score is not None else '')


def _folder(root: Path, labels: list[str], results: list[str] | None) -> Path:
    """Write COPIES images' label files (and results files) with the same lines."""
    (root / 'label_2').mkdir(parents=True)
    out = root / 'results' / 'data'
    out.mkdir(parents=True)
    for i in range(COPIES):
        (root / 'label_2' / f'{i:06d}.txt').write_text('\n'.join(labels) + '\n')
        if results is not None:
            (out / f'{i:06d}.txt').write_text(''.join(line + '\n' for line in results))
    return root


def _image_folder(root: Path, count: int, size: tuple[int, int],
                  car: tuple[float, float, float, float]) -> Path:
    """Write ``count`` random (height, width) images, each labelled with one car."""
    (root / 'image_2').mkdir(parents=True)
    (root / 'label_2').mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        cv2.imwrite(str(root / 'image_2' / f'{i:06d}.png'),
                    rng.integers(0, 255, (*size, 3), dtype=np.uint8))
        (root / 'label_2' / f'{i:06d}.txt').write_text(_line('Car', car) + '\n')
    return root


def _score(root: Path, tmp_path: Path) -> dict[str, float]:
    rows = tmp_path / 'rows.json'
    assert main(['kitti', str(root), '--results', str(root / 'results'), '--json',
                 str(rows)]) == 0
    (row,) = json.loads(rows.read_text())
    assert row['frames'] == COPIES
    return row


def test_van_and_dontcare_are_neither_hits_nor_misses(tmp_path: Path) -> None:
    car, van, region = (10, 10, 110, 70), (200, 10, 300, 70), (400, 0, 600, 100)
    root = _folder(tmp_path / 'kitti',
                   [_line('Car', car), _line('Van', van), _line('DontCare', region, None, -1, -1)],
                   [_line('Car', car, 0.8), _line('Car', van, 0.9),
                    _line('Car', (450, 10, 550, 70), 0.95)])
    row = _score(root, tmp_path)
    assert row['kitti_car_easy'] == pytest.approx(1.0)
    assert np.isnan(row['kitti_pedestrian_easy'])


def test_a_van_counted_as_a_car_would_change_the_score(tmp_path: Path) -> None:
    # Only the car is detected. As a van, the other object neither counts nor is missed: AP 1.
    # Called a car, it is missed in every image: 80 hits of 160 give the devkit 21 recall
    # thresholds (at most recall 1/2), precision 1 at each: AP = 20/40.
    car, van = (10, 10, 110, 70), (200, 10, 300, 70)
    root = _folder(tmp_path / 'kitti', [_line('Car', car), _line('Van', van)],
                   [_line('Car', car, 0.8)])
    assert _score(root, tmp_path)['kitti_car_easy'] == pytest.approx(1.0)
    other = _folder(tmp_path / 'as_car', [_line('Car', car), _line('Car', van)],
                    [_line('Car', car, 0.8)])
    assert _score(other, tmp_path)['kitti_car_easy'] == pytest.approx(20 / 40)


def test_saved_results_score_like_the_weights(tmp_path: Path, tiny_weights: Path) -> None:
    root = _image_folder(tmp_path / 'kitti', 2, (128, 320), (10, 20, 90, 80))
    weights = tiny_weights
    engine_rows, file_rows = tmp_path / 'engine.json', tmp_path / 'files.json'
    saved = tmp_path / 'saved'
    assert main(['kitti', str(root), '--weights', str(weights), '--save-results', str(saved),
                 '--json', str(engine_rows)]) == 0
    assert sorted(p.name for p in saved.iterdir()) == ['000000.txt', '000001.txt']
    assert main(['kitti', str(root), '--results', str(saved), '--json', str(file_rows)]) == 0
    (engine,), (files,) = json.loads(engine_rows.read_text()), json.loads(file_rows.read_text())
    for key in [k for k in files if k.startswith('kitti_')]:
        assert engine[key] == pytest.approx(files[key], nan_ok=True), key


@pytest.mark.parametrize(('results', 'expected'), [
    ([_line('Car', (10, 10, 110, 70))], 'needs a 16th column, the score'),
    (['Car 1 2 3'], 'needs 15 or 16 columns'),
])
def test_bad_results_files_are_clear_errors(tmp_path: Path, results: list[str], expected: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    root = _folder(tmp_path / 'kitti', [_line('Car', (10, 10, 110, 70))], results)
    assert main(['kitti', str(root), '--results', str(root / 'results')]) == 2
    assert expected in capsys.readouterr().err


def test_results_without_labels_or_files_are_clear_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _folder(tmp_path / 'kitti', [_line('Car', (10, 10, 110, 70))], [])
    (root / 'results' / 'data' / '999999.txt').write_text('')
    assert main(['kitti', str(root), '--results', str(root / 'results')]) == 2
    assert 'no label file' in capsys.readouterr().err
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert main(['kitti', str(root), '--results', str(empty)]) == 2
    assert 'no results files' in capsys.readouterr().err


def test_the_validation_split_runs_only_the_images_training_holds_out(
        tmp_path: Path, tiny_weights: Path) -> None:
    root = _image_folder(tmp_path / 'kitti', 12, (64, 160), (10, 20, 90, 60))
    saved = tmp_path / 'saved'
    rows = tmp_path / 'rows.json'
    assert main(['kitti', str(root), '--weights', str(tiny_weights), '--split', 'validation',
                 '--save-results', str(saved), '--json', str(rows)]) == 0
    scored = sorted(p.stem for p in saved.iterdir())
    assert scored == ['000000', '000010']
    trained = open_source(SourceSpec('kitti-object', str(root)))
    held_out = [cv2.imread(str(root / 'image_2' / f'{stem}.png'))[..., ::-1] for stem in scored]
    assert len(trained) == 10
    for index in range(len(trained)):
        image = trained.read(index).frame.image
        assert not any(np.array_equal(image, other) for other in held_out)
    (row,) = json.loads(rows.read_text())
    assert row['frames'] == 2 and row['split'] == 'kitti validation'
