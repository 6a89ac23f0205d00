# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A bag scored against a KITTI tracking label file: in order, or by the drive's timestamps."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from patchdrivenet_ros.bag_labels import parse_kitti_timestamp
from patchdrivenet_ros.data.bags import write_bag
from patchdrivenet_ros.data.exporters import (
    export_kitti_raw,
    export_kitti_tracking,
    kitti_timestamp,
)
from patchdrivenet_ros.data.synthetic import generate_drive, profile_config
from patchdrivenet_ros.tools.evaluate import main


@pytest.fixture(scope='module')
def drive(tmp_path_factory: pytest.TempPathFactory, tiny_weights: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp('drive')
    frames = list(generate_drive(profile_config('kitti', num_frames=4, seed=5, width=320,
                                                height=128)))
    export_kitti_tracking(frames, root / 'tracking', sequence=0)
    raw = export_kitti_raw(frames, root / 'raw')
    return {'bag': write_bag(frames, root / 'drive', profile='kitti', labels=False),
            'labels': root / 'tracking' / 'label_02' / '0000.txt',
            'timestamps': raw / 'image_02' / 'timestamps.txt', 'weights': tiny_weights}


def _row(drive: dict[str, Path], tmp_path: Path, *extra: str) -> dict[str, float]:
    out = tmp_path / 'rows.json'
    assert main(['bag', str(drive['bag']), '--labels', str(drive['labels']), '--weights',
                 str(drive['weights']), '--budget', '2', '--json', str(out), *extra]) == 0
    (row,) = json.loads(out.read_text())
    return row


def test_kitti_timestamps_parse_back() -> None:
    stamp = 1_317_042_145_964_389_445
    assert parse_kitti_timestamp(kitti_timestamp(stamp)) == stamp


def test_tracking_labels_by_order_and_by_timestamps_agree(drive: dict[str, Path],
                                                          tmp_path: Path) -> None:
    in_order = _row(drive, tmp_path)
    by_stamp = _row(drive, tmp_path, '--timestamps', str(drive['timestamps']))
    assert in_order['frames'] == by_stamp['frames'] == 4
    assert math.isnan(in_order['miou'])  # boxes only: segmentation is not scored
    for key in ('map50', 'map', 'kitti_car_moderate'):
        assert in_order[key] == pytest.approx(by_stamp[key], nan_ok=True), key


def test_timestamps_of_another_drive_match_nothing(drive: dict[str, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    shifted = tmp_path / 'timestamps.txt'
    shifted.write_text(''.join(
        kitti_timestamp(parse_kitti_timestamp(line) + 60_000_000_000) + '\n'
        for line in drive['timestamps'].read_text().splitlines()))
    assert main(['bag', str(drive['bag']), '--labels', str(drive['labels']), '--timestamps',
                 str(shifted), '--weights', str(drive['weights'])]) == 2
    error = capsys.readouterr().err
    assert 'none of its 4 frames has a label' in error and 'within 5 ms' in error


def test_a_kitti_object_folder_labels_the_bag_in_order(drive: dict[str, Path],
                                                       tmp_path: Path) -> None:
    from patchdrivenet_ros.bag_labels import KittiObjectLabels, label_source
    from patchdrivenet_ros.data.exporters import tracking_objects
    from patchdrivenet_ros.data.kitti import format_object

    frames = list(generate_drive(profile_config('kitti', num_frames=4, seed=5, width=320,
                                                height=128)))
    folder = tmp_path / 'training'
    (folder / 'label_2').mkdir(parents=True)
    for frame in frames:
        lines = [format_object(obj) for obj in tracking_objects(frame)]
        (folder / 'label_2' / f'{frame.index:06d}.txt').write_text(
            ''.join(line + '\n' for line in lines))
    source = label_source(drive['bag'], folder)
    assert isinstance(source, KittiObjectLabels) and source.count == 4
    truth = source.truth(1, frames[1].stamp_ns, frames[1].image)
    assert truth is not None and len(truth.boxes) == len(frames[1].boxes)
    assert source.truth(4, 0, frames[0].image) is None
    by_folder = _row({**drive, 'labels': folder}, tmp_path)
    by_tracking = _row(drive, tmp_path)
    assert by_folder['frames'] == by_tracking['frames'] == 4
    assert by_folder['map50'] == pytest.approx(by_tracking['map50'])
