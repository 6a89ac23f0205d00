# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""KITTI label files and loaders on tiny fixtures in the exact formats."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from patchdrivenet_ros.classes import class_id
from patchdrivenet_ros.data.kitti import (
    difficulty,
    format_object,
    format_tracking,
    load_kitti_object,
    load_kitti_tracking,
    observation_angle,
    parse_object_line,
    parse_tracking_line,
)

OBJECT_LABELS = """\
Car 0.00 0 -1.58 587.01 173.33 614.12 200.12 1.65 1.67 3.64 -0.65 1.71 46.70 -1.59
Van 0.12 1 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57
Pedestrian 0.00 2 0.21 423.17 173.67 433.17 224.03 1.87 0.50 0.90 -5.73 1.96 33.16 0.04
Tram 0.00 0 -1.63 0.00 140.00 200.00 260.00 3.50 2.50 15.00 -20.00 1.80 30.00 -2.20
Misc 0.00 0 -1.63 900.00 150.00 950.00 200.00 1.50 1.50 1.50 10.00 1.80 30.00 -2.20
DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10
"""

TRACKING_LABELS = """\
0 0 Car 0 0 -1.79 296.74 161.75 455.23 292.51 2.00 1.82 4.43 -4.55 1.86 13.45 -2.11
0 1 Cyclist 1 1 -1.93 737.62 161.81 931.13 374.00 1.74 0.82 1.79 1.92 1.71 5.76 -1.62
0 -1 DontCare -1 -1 -10.00 219.31 188.49 245.50 218.56 -1 -1 -1 -1000 -1000 -1000 -10
1 0 Car 0 0 -1.80 290.12 160.01 450.80 295.10 2.00 1.82 4.43 -4.60 1.86 13.20 -2.11
"""


def _image(path: Path, width: int = 1242, height: int = 375) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((height, width, 3), 90, np.uint8))


def test_object_line_round_trip() -> None:
    line = OBJECT_LABELS.splitlines()[0]
    obj = parse_object_line(line)
    assert obj.type == 'Car' and obj.occluded == 0
    assert obj.bbox == (587.01, 173.33, 614.12, 200.12)
    assert obj.dimensions == (1.65, 1.67, 3.64) and obj.location == (-0.65, 1.71, 46.7)
    assert format_object(obj) == line
    scored = parse_object_line(line + ' 0.93')
    assert scored.score == pytest.approx(0.93)


def test_tracking_line_round_trip_and_truncation_levels() -> None:
    obj = parse_tracking_line(TRACKING_LABELS.splitlines()[1])
    assert (obj.frame, obj.track_id, obj.type) == (0, 1, 'Cyclist')
    assert obj.truncated == pytest.approx(0.3) and obj.occluded == 1
    assert format_tracking(obj).split()[:5] == ['0', '1', 'Cyclist', '1', '1']


def test_wrong_column_count_is_an_error() -> None:
    with pytest.raises(ValueError, match='15 or 16'):
        parse_object_line('Car 0 0 1 2 3')


def test_object_loader_maps_types_and_ignore_regions(tmp_path: Path) -> None:
    _image(tmp_path / 'image_2' / '000000.png')
    (tmp_path / 'label_2').mkdir()
    (tmp_path / 'label_2' / '000000.txt').write_text(OBJECT_LABELS)
    frames = list(load_kitti_object(tmp_path))
    assert len(frames) == 1
    f = frames[0]
    assert f.image.shape == (375, 1242, 3)
    assert (f.mask == 255).all()
    assert f.class_ids.tolist() == [class_id('car'), class_id('car'), class_id('pedestrian')]
    assert f.occlusion.tolist() == [0, 1, 2]
    assert f.truncation.tolist() == pytest.approx([0.0, 0.12, 0.0])
    assert f.ignore_boxes.shape == (3, 4)  # Tram, Misc and DontCare
    assert f.boxes_3d is not None and f.boxes_3d[0].tolist() == pytest.approx(
        [1.65, 1.67, 3.64, -0.65, 1.71, 46.70, -1.59])


def test_tracking_loader_groups_frames_and_keeps_track_ids(tmp_path: Path) -> None:
    for k in range(2):
        _image(tmp_path / 'image_02' / '0003' / f'{k:06d}.png')
    (tmp_path / 'label_02').mkdir()
    (tmp_path / 'label_02' / '0003.txt').write_text(TRACKING_LABELS)
    frames = list(load_kitti_tracking(tmp_path, 3))
    assert [f.index for f in frames] == [0, 1]
    assert frames[0].track_ids.tolist() == [0, 1]
    assert frames[0].class_ids.tolist() == [class_id('car'), class_id('cyclist')]
    assert frames[0].ignore_boxes.shape == (1, 4)
    assert frames[1].track_ids.tolist() == [0]
    assert frames[1].stamp_ns - frames[0].stamp_ns == 100_000_000


def test_difficulty_rules() -> None:
    assert difficulty(45, 0, 0.1) == 0
    assert difficulty(30, 1, 0.2) == 1
    assert difficulty(30, 2, 0.45) == 2
    assert difficulty(20, 0, 0.0) == -1
    assert difficulty(50, 0, 0.6) == -1


def test_observation_angle_wraps() -> None:
    assert observation_angle(0.0, 0.0, 10.0) == pytest.approx(0.0)
    assert observation_angle(3.0, -10.0, 1.0) == pytest.approx(3.0 + np.arctan2(10.0, 1.0)
                                                               - 2 * np.pi)
