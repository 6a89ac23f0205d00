# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Write drives in the KITTI tracking layout and the KITTI raw layout.

Tracking layout (what KITTI tracking tools read)::

    ROOT/image_02/NNNN/000000.png   left colour images
    ROOT/label_02/NNNN.txt          frame track_id type truncated occluded alpha bbox dims xyz ry
    ROOT/calib/NNNN.txt             P0..P3, R_rect, Tr_velo_cam, Tr_imu_velo

Objects carry our 3D placement (h w l, bottom-centre location and ry in camera coordinates,
alpha = ry - atan2(x, z)). Regions too small to label are written as ``DontCare`` with KITTI's
placeholders (track -1, alpha -10, dimensions -1, location -1000, ry -10); so are 3D fields a
source does not know.

Raw layout (what pykitti and the converters built on it read)::

    ROOT/DATE/DATE_drive_NNNN_sync/image_02/data/0000000000.png
    ROOT/DATE/DATE_drive_NNNN_sync/image_02/timestamps.txt   2011-09-26 13:02:25.964389445
    ROOT/DATE/DATE_drive_NNNN_sync/oxts/data/0000000000.txt  30 values per line (dataformat.txt)
    ROOT/DATE/DATE_drive_NNNN_sync/oxts/timestamps.txt
    ROOT/DATE/DATE_drive_NNNN_sync/velodyne_points/data/0000000000.bin
    ROOT/DATE/DATE_drive_NNNN_sync/velodyne_points/timestamps{,_start,_end}.txt
    ROOT/DATE/calib_cam_to_cam.txt, calib_imu_to_velo.txt, calib_velo_to_cam.txt

Only the left colour camera has images. What else is written is synthetic, and says so by its
content: OXTS packets are the rendered ego pose (position as latitude / longitude around
Karlsruhe, heading as yaw, speed and yaw rate from consecutive frames; roll, pitch and
accelerations 0; a fixed good-fix status), or a standing vehicle where a frame has no pose.
Velodyne scans are empty (0 points): there is no lidar in the renderer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_NAMES
from patchdrivenet_ros.data.class_map import KITTI_EXPORT_TYPES
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.kitti import KittiObject, format_tracking, observation_angle

_CALIB_TIME = '09-Jan-2012 13:57:47'
# Velodyne (x forward, y left, z up) to camera (x right, y down, z forward), KITTI-like mounting.
_VELO_TO_CAM_R = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
_VELO_TO_CAM_T = np.array([-0.004, -0.076, -0.272])
_IMU_TO_VELO_T = np.array([-0.811, 0.320, -0.800])
_CAMERA_OFFSETS = (0.0, -0.537, 0.06, -0.477)  # x offsets of cameras 0..3 from camera 0, metres
_EARTH_RADIUS_M = 6378137.0  # the radius pykitti's Mercator projection uses
_ORIGIN_LAT_LON_ALT = (49.011213, 8.416956, 112.0)  # Karlsruhe, where KITTI was recorded
_OXTS_STATUS = (0.05, 0.05, 4, 10, 5, 5, 6)  # accuracies (m, m/s), navstat, satellites, modes


def _numbers(values: np.ndarray) -> str:
    return ' '.join(f'{v:.6e}' for v in np.asarray(values, np.float64).ravel())


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f'cannot write {path}')


def _projections(camera_matrix: np.ndarray) -> list[np.ndarray]:
    """Return P_rect of cameras 0..3 (3, 4) for rectified cameras sharing ``camera_matrix``."""
    out = []
    for offset in _CAMERA_OFFSETS:
        p = np.zeros((3, 4))
        p[:, :3] = camera_matrix
        p[:, 3] = camera_matrix @ np.array([offset, 0.0, 0.0])
        out.append(p)
    return out


def _bbox(values: np.ndarray) -> tuple[float, float, float, float]:
    return float(values[0]), float(values[1]), float(values[2]), float(values[3])


def tracking_objects(frame: LabeledFrame) -> list[KittiObject]:
    """Return the KITTI tracking objects of a frame, DontCare regions last."""
    objects = []
    for i in range(frame.boxes.shape[0]):
        kitti_type = KITTI_EXPORT_TYPES.get(CLASS_NAMES[int(frame.class_ids[i])])
        if kitti_type is None:
            continue
        if frame.boxes_3d is not None:
            h, w, length, x, y, z, ry = (float(v) for v in frame.boxes_3d[i])
            alpha = observation_angle(ry, x, z)
        else:
            h, w, length, x, y, z, ry, alpha = -1, -1, -1, -1000, -1000, -1000, -10, -10
        objects.append(KittiObject(kitti_type, float(frame.truncation[i]),
                                   int(frame.occlusion[i]), alpha, _bbox(frame.boxes[i]),
                                   (h, w, length), (x, y, z), ry, frame.index,
                                   int(frame.track_ids[i])))
    for box in frame.ignore_boxes:
        objects.append(KittiObject('DontCare', -1.0, -1, -10.0, _bbox(box), (-1, -1, -1),
                                   (-1000, -1000, -1000), -10.0, frame.index, -1))
    return objects


def export_kitti_tracking(frames: Iterable[LabeledFrame], root: str | Path,
                          sequence: int = 0) -> Path:
    """Write frames as KITTI tracking sequence ``sequence`` under ``root``; return root."""
    root = Path(root)
    image_dir = root / 'image_02' / f'{sequence:04d}'
    image_dir.mkdir(parents=True, exist_ok=True)
    (root / 'label_02').mkdir(parents=True, exist_ok=True)
    lines = []
    camera_matrix = None
    for frame in frames:
        _write_png(image_dir / f'{frame.index:06d}.png', frame.image)
        lines += [_dontcare_fix(format_tracking(obj)) for obj in tracking_objects(frame)]
        if frame.camera_matrix is not None:
            camera_matrix = frame.camera_matrix
    (root / 'label_02' / f'{sequence:04d}.txt').write_text(''.join(x + '\n' for x in lines))
    if camera_matrix is not None:
        (root / 'calib').mkdir(parents=True, exist_ok=True)
        (root / 'calib' / f'{sequence:04d}.txt').write_text(_tracking_calib(camera_matrix))
    return root


def _dontcare_fix(line: str) -> str:
    """Write KITTI's DontCare placeholders (truncation -1, occlusion -1) verbatim."""
    fields = line.split(' ')
    if fields[2] == 'DontCare':
        fields[3] = '-1'
        fields[4] = '-1'
    return ' '.join(fields)


def _tracking_calib(camera_matrix: np.ndarray) -> str:
    lines = [f'P{k}: {_numbers(p)}' for k, p in enumerate(_projections(camera_matrix))]
    tr_velo = np.hstack([_VELO_TO_CAM_R, _VELO_TO_CAM_T[:, None]])
    tr_imu = np.hstack([np.eye(3), _IMU_TO_VELO_T[:, None]])
    lines += [f'R_rect {_numbers(np.eye(3))}', f'Tr_velo_cam {_numbers(tr_velo)}',
              f'Tr_imu_velo {_numbers(tr_imu)}']
    return '\n'.join(lines) + '\n'


def kitti_timestamp(stamp_ns: int) -> str:
    """Format a stamp as KITTI raw does: ``2011-09-26 13:02:25.964389445`` (UTC)."""
    seconds, nanos = divmod(int(stamp_ns), 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return f'{moment:%Y-%m-%d %H:%M:%S}.{nanos:09d}'


def export_kitti_raw(frames: Iterable[LabeledFrame], root: str | Path,
                     date: str = '2011_09_26', drive: int = 1) -> Path:
    """Write frames as camera 2 of a KITTI raw synced drive; return the drive folder."""
    root = Path(root)
    drive_dir = root / date / f'{date}_drive_{drive:04d}_sync'
    data_dir = drive_dir / 'image_02' / 'data'
    data_dir.mkdir(parents=True, exist_ok=True)
    stamps, stamps_ns, poses = [], [], []
    camera_matrix = None
    size = (0, 0)
    for k, frame in enumerate(frames):
        _write_png(data_dir / f'{k:010d}.png', frame.image)
        stamps.append(kitti_timestamp(frame.stamp_ns))
        stamps_ns.append(frame.stamp_ns)
        poses.append(frame.camera_pose)
        camera_matrix = frame.camera_matrix if frame.camera_matrix is not None else camera_matrix
        size = (frame.width, frame.height)
    (drive_dir / 'image_02' / 'timestamps.txt').write_text(''.join(s + '\n' for s in stamps))
    _write_oxts(drive_dir / 'oxts', stamps, stamps_ns, poses)
    _write_empty_velodyne(drive_dir / 'velodyne_points', stamps)
    if camera_matrix is None:
        w, h = size
        f = 0.5 * w / np.tan(np.radians(81.4) / 2)
        camera_matrix = np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])
    _write_raw_calib(root / date, camera_matrix, size)
    return drive_dir


def _ground_track(poses: list[np.ndarray | None]) -> np.ndarray:
    """Return (N, 3) east, north (metres) and heading (radians from east, counter-clockwise).

    Poses map camera to world (Y up); east is world X and north world -Z (right-handed ENU).
    A frame without a pose keeps the previous one (the origin, heading east, at first).
    """
    track = np.zeros((len(poses), 3))
    for k, pose in enumerate(poses):
        if pose is None:
            track[k] = track[k - 1] if k else 0.0
            continue
        forward = pose[:3, 2]  # camera z axis in the world
        track[k] = (pose[0, 3], -pose[2, 3], np.arctan2(-forward[2], forward[0]))
    return track


def oxts_packets(stamps_ns: list[int], poses: list[np.ndarray | None]) -> list[str]:
    """Return one OXTS line (30 values) per frame from the ego poses (see the module doc)."""
    lat0, lon0, alt0 = _ORIGIN_LAT_LON_ALT
    scale = np.cos(np.radians(lat0))
    mercator_y0 = scale * _EARTH_RADIUS_M * np.log(np.tan(np.radians(90.0 + lat0) / 2))
    track = _ground_track(poses)
    times = np.asarray(stamps_ns, np.float64) * 1e-9
    velocity, turn = np.zeros((len(track), 2)), np.zeros(len(track))
    if len(track) > 1:  # from each frame to the next; the last frame repeats its predecessor
        gaps = np.maximum(np.diff(times), 1e-6)
        velocity[:-1] = np.diff(track[:, :2], axis=0) / gaps[:, None]
        turn[:-1] = np.diff(np.unwrap(track[:, 2])) / gaps
        velocity[-1], turn[-1] = velocity[-2], turn[-2]
    lines = []
    for (east, north, yaw), (v_east, v_north), yaw_rate in zip(track, velocity, turn,
                                                              strict=True):
        lon = lon0 + np.degrees(east / (scale * _EARTH_RADIUS_M))
        lat = np.degrees(2 * np.arctan(np.exp((mercator_y0 + north)
                                              / (scale * _EARTH_RADIUS_M)))) - 90.0
        forward = v_east * np.cos(yaw) + v_north * np.sin(yaw)
        left = -v_east * np.sin(yaw) + v_north * np.cos(yaw)
        values = [lat, lon, alt0, 0.0, 0.0, yaw, v_north, v_east, forward, left, 0.0,
                  *([0.0] * 6), 0.0, 0.0, yaw_rate, 0.0, 0.0, yaw_rate]
        lines.append(' '.join(f'{v:.12g}' for v in values) + ' '
                     + ' '.join(str(v) for v in _OXTS_STATUS))
    return lines


def _write_oxts(folder: Path, stamps: list[str], stamps_ns: list[int],
                poses: list[np.ndarray | None]) -> None:
    (folder / 'data').mkdir(parents=True, exist_ok=True)
    for k, line in enumerate(oxts_packets(stamps_ns, poses)):
        (folder / 'data' / f'{k:010d}.txt').write_text(line + '\n')
    (folder / 'timestamps.txt').write_text(''.join(s + '\n' for s in stamps))
    (folder / 'dataformat.txt').write_text(
        'synthetic: the rendered ego pose as OXTS packets (see patchdrivenet_ros.data.exporters)'
        '\n')


def _write_empty_velodyne(folder: Path, stamps: list[str]) -> None:
    (folder / 'data').mkdir(parents=True, exist_ok=True)
    for k in range(len(stamps)):
        (folder / 'data' / f'{k:010d}.bin').write_bytes(b'')  # 0 points: no lidar rendered
    for name in ('timestamps.txt', 'timestamps_start.txt', 'timestamps_end.txt'):
        (folder / name).write_text(''.join(s + '\n' for s in stamps))


def _write_raw_calib(date_dir: Path, camera_matrix: np.ndarray, size: tuple[int, int]) -> None:
    lines = [f'calib_time: {_CALIB_TIME}', 'corner_dist: 9.950000e-02']
    for k, p in enumerate(_projections(camera_matrix)):
        lines += [
            f'S_{k:02d}: {_numbers(np.array(size, np.float64))}',
            f'K_{k:02d}: {_numbers(camera_matrix)}',
            f'D_{k:02d}: {_numbers(np.zeros(5))}',
            f'R_{k:02d}: {_numbers(np.eye(3))}',
            f'T_{k:02d}: {_numbers(np.array([_CAMERA_OFFSETS[k], 0.0, 0.0]))}',
            f'S_rect_{k:02d}: {_numbers(np.array(size, np.float64))}',
            f'R_rect_{k:02d}: {_numbers(np.eye(3))}',
            f'P_rect_{k:02d}: {_numbers(p)}',
        ]
    (date_dir / 'calib_cam_to_cam.txt').write_text('\n'.join(lines) + '\n')
    (date_dir / 'calib_velo_to_cam.txt').write_text('\n'.join([
        'calib_time: 15-Mar-2012 11:37:16',
        f'R: {_numbers(_VELO_TO_CAM_R)}',
        f'T: {_numbers(_VELO_TO_CAM_T)}',
        f'delta_f: {_numbers(np.zeros(2))}',
        f'delta_c: {_numbers(np.zeros(2))}',
    ]) + '\n')
    (date_dir / 'calib_imu_to_velo.txt').write_text('\n'.join([
        'calib_time: 25-May-2012 16:47:16',
        f'R: {_numbers(np.eye(3))}',
        f'T: {_numbers(_IMU_TO_VELO_T)}',
    ]) + '\n')
