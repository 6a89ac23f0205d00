# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The patchdrivenet-synth command line tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from patchdrivenet_ros.data.bags import iter_bag_images, load_label_sidecar
from patchdrivenet_ros.tools.synth import main

COMMON = ['--size', '160x64', '--frames', '2', '--seed', '3']


def test_kitti_tracking(tmp_path: Path) -> None:
    assert main(['--format', 'kitti-tracking', *COMMON, '--sequence', '2', '--out',
                 str(tmp_path)]) == 0
    assert len(list((tmp_path / 'image_02' / '0002').glob('*.png'))) == 2
    assert (tmp_path / 'label_02' / '0002.txt').exists()


def test_kitti_raw(tmp_path: Path) -> None:
    assert main(['--format', 'kitti-raw', *COMMON, '--sequence', '1', '--out',
                 str(tmp_path)]) == 0
    drive = tmp_path / '2011_09_26' / '2011_09_26_drive_0001_sync'
    assert len(list((drive / 'image_02' / 'data').glob('*.png'))) == 2
    assert (tmp_path / '2011_09_26' / 'calib_cam_to_cam.txt').exists()


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_bag_with_conditions(tmp_path: Path, storage: str) -> None:
    assert main(['--format', 'bag', '--bag-storage', storage, '--profile', 'nuscenes',
                 '--conditions', 'rain,fog', *COMMON, '--out', str(tmp_path)]) == 0
    bag = tmp_path / f'synth_nuscenes_seed0003_{storage}'
    images = list(iter_bag_images(bag))
    assert [i.topic for i in images] == ['/CAM_FRONT/image_rect_compressed'] * 2
    assert len(load_label_sidecar(bag)) == 2
    assert main(['--format', 'bag', '--bag-storage', storage, '--profile', 'nuscenes',
                 *COMMON, '--out', str(tmp_path)]) == 2  # exists already


def test_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(['--conditions', 'hail', '--out', str(tmp_path)])
    with pytest.raises(SystemExit):
        main(['--size', '12by4', '--out', str(tmp_path)])
    assert main(['--size', '8x8', '--out', str(tmp_path)]) == 2
    assert 'below 16x16' in capsys.readouterr().err
