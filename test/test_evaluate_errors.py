# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""patchdrivenet-evaluate on bad input: one clear line and exit status 2.

Never a traceback, never a table of NaN with status 0.
"""

from __future__ import annotations

import json
from pathlib import Path
import shutil

import pytest

from patchdrivenet_ros.classes import CLASS_NAMES
from patchdrivenet_ros.data.bags import write_bag
from patchdrivenet_ros.data.drive_config import DriveConfig
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.tools.evaluate import main


@pytest.fixture()
def bag(tmp_path: Path) -> Path:
    frames = list(generate_drive(DriveConfig(width=160, height=64, num_frames=4, seed=8)))
    return write_bag(frames, tmp_path / 'drive', profile='kitti', storage='mcap')


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert 'Traceback' not in captured.err and captured.out == ''
    (line,) = captured.err.strip().splitlines()
    assert line.startswith('patchdrivenet-evaluate: error: ')
    return line


def _shift_label_stamps(bag: Path, keep: int, shift_ns: int) -> None:
    """Move all but the first ``keep`` labelled stamps by shift_ns (masks renamed too)."""
    side = bag.with_name(bag.name + '.labels')
    document = json.loads((side / 'labels.json').read_text())
    for record in document['frames'][keep:]:
        old = int(record['stamp_ns'])
        record['stamp_ns'] = old + shift_ns
        shutil.move(side / 'masks' / f'{old}.png', side / 'masks' / f'{old + shift_ns}.png')
    (side / 'labels.json').write_text(json.dumps(document))


def test_bag_without_labels(bag: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
                            ) -> None:
    shutil.rmtree(bag.with_name(bag.name + '.labels'))
    line = _error(capsys, ['bag', str(bag), '--weights', str(tiny_weights)])
    assert 'no labels' in line and 'drive.labels/labels.json does not exist' in line
    assert '--labels' in line


def test_unreadable_labels(bag: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
                           ) -> None:
    (bag.with_name(bag.name + '.labels') / 'labels.json').write_text('{not json')
    assert 'cannot read the labels' in _error(capsys, ['bag', str(bag), '--weights',
                                                       str(tiny_weights)])


def test_labels_matching_no_frame(bag: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]
                                  ) -> None:
    _shift_label_stamps(bag, keep=0, shift_ns=60_000_000_000)  # a minute late
    line = _error(capsys, ['bag', str(bag), '--weights', str(tiny_weights)])
    assert 'none of its 4 frames has a label' in line and 'label stamps from' in line


def test_labels_matching_few_frames_warn(bag: Path, tiny_weights: Path, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    _shift_label_stamps(bag, keep=1, shift_ns=1)
    rows = tmp_path / 'rows.json'
    assert main(['bag', str(bag), '--weights', str(tiny_weights), '--json', str(rows)]) == 0
    (record,) = [r for r in caplog.records if r.levelname == 'WARNING']
    assert 'only 1 of 4 labelled frames' in record.getMessage()
    assert json.loads(rows.read_text())[0]['frames'] == 1


def test_unknown_topic(bag: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _error(capsys, ['bag', str(bag), '--topic', '/nope', '--weights', str(tiny_weights)])
    assert "no image topic '/nope'" in line and '/kitti/camera_color_left/image_raw' in line


def test_missing_and_unreadable_bags(tmp_path: Path, tiny_weights: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert 'no bag at' in _error(capsys, ['bag', str(tmp_path / 'absent.mcap'), '--weights',
                                          str(tiny_weights)])
    garbage = tmp_path / 'garbage.mcap'
    garbage.write_bytes(b'not a bag at all')
    (tmp_path / 'garbage.mcap.labels').mkdir()
    (tmp_path / 'garbage.mcap.labels' / 'labels.json').write_text(
        json.dumps({'classes': list(CLASS_NAMES), 'frames': []}))
    assert 'cannot read the bag' in _error(capsys, ['bag', str(garbage), '--weights',
                                                    str(tiny_weights)])


@pytest.mark.parametrize(('layout', 'expected'), [
    ((), 'no folder'),
    (('root',), 'no image_2/*.png'),
    (('root', 'image'), 'no label_2/ folder'),
])
def test_kitti_folders(tmp_path: Path, tiny_weights: Path, capsys: pytest.CaptureFixture[str],
                       layout: tuple[str, ...], expected: str) -> None:
    import cv2
    import numpy as np
    root = tmp_path / 'kitti'
    if 'root' in layout:
        (root / 'image_2').mkdir(parents=True)
    if 'image' in layout:
        cv2.imwrite(str(root / 'image_2' / '000000.png'), np.zeros((64, 160, 3), np.uint8))
    assert expected in _error(capsys, ['kitti', str(root), '--weights', str(tiny_weights)])


def test_labels_in_a_folder_of_any_name(bag: Path, tiny_weights: Path, tmp_path: Path) -> None:
    moved = tmp_path / 'ground_truth'
    shutil.move(bag.with_name(bag.name + '.labels'), moved)
    rows = tmp_path / 'rows.json'
    assert main(['bag', str(bag), '--labels', str(moved), '--weights', str(tiny_weights),
                 '--json', str(rows)]) == 0
    assert json.loads(rows.read_text())[0]['frames'] == 4
