# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI tracking and raw layouts written from a synthetic drive, read back."""

from __future__ import annotations

from pathlib import Path
import re

import numpy as np
import pytest

from patchdrivenet_ros.data.exporters import (
    export_kitti_raw,
    export_kitti_tracking,
    kitti_timestamp,
    oxts_packets,
)
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.kitti import load_kitti_tracking, read_rgb, read_tracking_labels


def _read_calib(path: Path) -> dict[str, np.ndarray]:
    values = {}
    for line in path.read_text().splitlines():
        key, _, rest = line.partition(':') if ':' in line.split()[0] else line.partition(' ')
        if key == 'calib_time':
            continue
        values[key.strip()] = np.array([float(v) for v in rest.split()])
    return values


def test_tracking_layout_round_trip(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    export_kitti_tracking(frames, tmp_path, sequence=7)
    images = sorted((tmp_path / 'image_02' / '0007').glob('*.png'))
    assert [p.name for p in images] == ['000000.png', '000001.png', '000002.png']
    assert np.array_equal(read_rgb(images[1]), frames[1].image)
    labels = read_tracking_labels(tmp_path / 'label_02' / '0007.txt')
    assert sorted(labels) == [0, 1, 2]
    back = list(load_kitti_tracking(tmp_path, 7))
    for original, loaded in zip(frames, back, strict=True):
        assert np.allclose(loaded.boxes, original.boxes, atol=0.01)
        assert loaded.track_ids.tolist() == original.track_ids.tolist()
        assert loaded.class_ids.tolist() == original.class_ids.tolist()
        assert loaded.occlusion.tolist() == original.occlusion.tolist()
        assert loaded.ignore_boxes.shape == original.ignore_boxes.shape
        assert original.boxes_3d is not None and loaded.boxes_3d is not None
        assert np.allclose(loaded.boxes_3d, original.boxes_3d, atol=0.01)
    calib = _read_calib(tmp_path / 'calib' / '0007.txt')
    assert calib['P2'].reshape(3, 4)[:, :3] == pytest.approx(frames[0].camera_matrix, abs=1e-3)
    assert {'R_rect', 'Tr_velo_cam', 'Tr_imu_velo'} <= set(calib)


def test_tracking_lines_have_seventeen_columns(tmp_path: Path,
                                               frames: list[LabeledFrame]) -> None:
    export_kitti_tracking(frames, tmp_path)
    lines = (tmp_path / 'label_02' / '0000.txt').read_text().splitlines()
    assert lines
    for line in lines:
        fields = line.split(' ')
        assert len(fields) == 17
        if fields[2] == 'DontCare':
            assert fields[1] == '-1' and fields[3] == '-1' and fields[16] == '-10.00'


def test_raw_layout(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    drive = export_kitti_raw(frames, tmp_path, date='2011_09_26', drive=5)
    assert drive == tmp_path / '2011_09_26' / '2011_09_26_drive_0005_sync'
    data = sorted((drive / 'image_02' / 'data').glob('*.png'))
    assert [p.name for p in data] == ['0000000000.png', '0000000001.png', '0000000002.png']
    stamps = (drive / 'image_02' / 'timestamps.txt').read_text().splitlines()
    assert len(stamps) == 3
    assert all(re.fullmatch(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}', s) for s in stamps)
    assert stamps[0] == kitti_timestamp(frames[0].stamp_ns)
    cam = _read_calib(tmp_path / '2011_09_26' / 'calib_cam_to_cam.txt')
    assert cam['S_rect_02'].tolist() == [320.0, 96.0]
    assert cam['P_rect_02'].shape == (12,) and cam['K_02'].shape == (9,)
    velo = _read_calib(tmp_path / '2011_09_26' / 'calib_velo_to_cam.txt')
    assert velo['R'].shape == (9,) and velo['T'].shape == (3,)
    imu = _read_calib(tmp_path / '2011_09_26' / 'calib_imu_to_velo.txt')
    assert imu['R'].shape == (9,) and imu['T'].shape == (3,)


def test_kitti_timestamp_format() -> None:
    assert kitti_timestamp(1_317_042_145_964_389_445) == '2011-09-26 13:02:25.964389445'


def test_raw_drive_has_the_streams_converters_count(tmp_path: Path,
                                                    frames: list[LabeledFrame]) -> None:
    drive = export_kitti_raw(frames, tmp_path, drive=2)
    stamps = (drive / 'image_02' / 'timestamps.txt').read_text()
    assert (drive / 'oxts' / 'timestamps.txt').read_text() == stamps
    for name in ('timestamps.txt', 'timestamps_start.txt', 'timestamps_end.txt'):
        assert (drive / 'velodyne_points' / name).read_text() == stamps
    scans = sorted((drive / 'velodyne_points' / 'data').glob('*.bin'))
    packets = sorted((drive / 'oxts' / 'data').glob('*.txt'))
    assert len(scans) == len(packets) == len(frames)
    assert all(scan.stat().st_size == 0 for scan in scans)  # no lidar: empty scans
    for packet in packets:
        values = packet.read_text().split()
        assert len(values) == 30 and values[-5:] == ['4', '10', '5', '5', '6']


def test_oxts_track_follows_the_ego_pose(frames: list[LabeledFrame]) -> None:
    lines = oxts_packets([f.stamp_ns for f in frames], [f.camera_pose for f in frames])
    packets = np.array([[float(v) for v in line.split()] for line in lines])
    poses = [f.camera_pose for f in frames]
    assert all(p is not None for p in poses)
    step = np.linalg.norm(poses[1][[0, 2], 3] - poses[0][[0, 2], 3])  # type: ignore[index]
    gap = (frames[1].stamp_ns - frames[0].stamp_ns) * 1e-9
    assert packets[0, 8] == pytest.approx(step / gap, rel=1e-6)  # forward speed vf
    assert np.hypot(packets[0, 6], packets[0, 7]) == pytest.approx(step / gap, rel=1e-6)
    assert abs(packets[0, 9]) < 0.02 * packets[0, 8]  # little sideways: heading agrees


def test_pykitti_reads_the_raw_drive(tmp_path: Path, frames: list[LabeledFrame]) -> None:
    pykitti = pytest.importorskip('pykitti')
    export_kitti_raw(frames, tmp_path, date='2011_09_26', drive=7)
    data = pykitti.raw(str(tmp_path), '2011_09_26', '0007')
    assert len(data) == len(frames)
    assert data.get_cam2(0).size == (frames[0].width, frames[0].height)
    assert data.get_velo(1).shape == (0, 4)
    moved = [np.linalg.norm(o.T_w_imu[:2, 3]) for o in data.oxts]
    assert moved[0] == 0.0 and moved[-1] > moved[1] > 0.0  # metres from the first position
    poses = [f.camera_pose for f in frames]
    travelled = np.linalg.norm(poses[-1][[0, 2], 3] - poses[0][[0, 2], 3])  # type: ignore[index]
    assert moved[-1] == pytest.approx(travelled, rel=1e-3)
