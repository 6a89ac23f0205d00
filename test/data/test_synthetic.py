# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The synthetic driving world: determinism, exact labels, motion and conditions."""

from __future__ import annotations

import numpy as np
import pytest

from patchdrivenet_ros.classes import CLASS_NAMES, DETECTION_CLASSES, IGNORE_INDEX, class_id
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import DriveConfig, generate_drive, profile_config

SMALL = {'width': 320, 'height': 96}


def drive(seed: int = 0, frames: int = 6, **overrides: object) -> list[LabeledFrame]:
    config = profile_config('kitti', num_frames=frames, seed=seed, **{**SMALL, **overrides})
    return list(generate_drive(config))


@pytest.fixture(scope='module')
def frames() -> list[LabeledFrame]:
    return drive(seed=5, frames=8)


def test_frame_types_and_shapes(frames: list[LabeledFrame]) -> None:
    for k, f in enumerate(frames):
        assert f.image.shape == (96, 320, 3) and f.image.dtype == np.uint8
        assert f.mask.shape == (96, 320) and f.mask.dtype == np.uint8
        n = f.boxes.shape[0]
        assert f.boxes.shape == (n, 4) and f.boxes.dtype == np.float32
        assert f.class_ids.shape == (n,) and f.class_ids.dtype == np.int64
        assert f.track_ids.shape == (n,) and f.track_ids.dtype == np.int64
        assert f.truncation.dtype == np.float32 and f.occlusion.dtype == np.int64
        assert f.boxes_3d is not None and f.boxes_3d.shape == (n, 7)
        assert f.index == k
        assert ((f.truncation >= 0) & (f.truncation <= 1)).all()
        assert set(f.occlusion.tolist()) <= {0, 1, 2}


def test_same_seed_same_frames_and_different_seed_differs() -> None:
    a = drive(seed=11, frames=3)
    b = drive(seed=11, frames=3)
    c = drive(seed=12, frames=3)
    for fa, fb in zip(a, b, strict=True):
        assert np.array_equal(fa.image, fb.image)
        assert np.array_equal(fa.mask, fb.mask)
        assert np.array_equal(fa.boxes, fb.boxes)
    assert not np.array_equal(a[0].image, c[0].image)


def test_a_strided_drive_renders_the_same_frames_as_the_full_drive() -> None:
    config = profile_config('kitti', num_frames=7, seed=13, conditions=('rain',), **SMALL)
    full = list(generate_drive(config))
    strided = list(generate_drive(config, 2, 3))
    assert [f.index for f in strided] == [2, 5]
    for frame in strided:
        assert np.array_equal(frame.image, full[frame.index].image)
        assert np.array_equal(frame.mask, full[frame.index].mask)
        assert np.array_equal(frame.boxes, full[frame.index].boxes)
    with pytest.raises(ValueError, match='step'):
        next(generate_drive(config, 0, 0))


def test_mask_uses_only_known_classes_and_labels_every_pixel(frames: list[LabeledFrame]) -> None:
    for f in frames:
        assert int(f.mask.max()) < len(CLASS_NAMES)
        assert not (f.mask == IGNORE_INDEX).any()


def test_boxes_are_the_visible_extent_of_their_class(frames: list[LabeledFrame]) -> None:
    detection = {class_id(n) for n in DETECTION_CLASSES}
    checked = 0
    for f in frames:
        assert set(f.class_ids.tolist()) <= detection
        for box, cls in zip(f.boxes.astype(int), f.class_ids, strict=True):
            x0, y0, x1, y1 = box
            assert 0 <= x0 < x1 <= f.width and 0 <= y0 < y1 <= f.height
            inside = f.mask[y0:y1, x0:x1] == cls
            # The extent is tight: the class reaches every edge row and column of the box.
            assert inside[0].any() and inside[-1].any()
            assert inside[:, 0].any() and inside[:, -1].any()
            checked += 1
    assert checked > 10


def test_tracks_persist_and_move_smoothly(frames: list[LabeledFrame]) -> None:
    first, second = frames[3], frames[4]
    common = set(first.track_ids.tolist()) & set(second.track_ids.tolist())
    assert len(common) >= 3
    for track in common:
        a = first.boxes[first.track_ids == track][0]
        b = second.boxes[second.track_ids == track][0]
        assert first.class_ids[first.track_ids == track][0] == \
            second.class_ids[second.track_ids == track][0]
        assert np.abs(a - b).max() < 0.25 * 320


def test_consecutive_frames_are_coherent() -> None:
    a, b = drive(seed=3, frames=2)
    other = drive(seed=4, frames=1)[0]
    same_drive = np.mean(a.mask == b.mask)
    across = np.mean(a.mask == other.mask)
    assert same_drive > 0.75
    assert same_drive > across


def test_camera_moves_forward_along_its_view(frames: list[LabeledFrame]) -> None:
    poses = [f.camera_pose for f in frames]
    assert all(p is not None for p in poses)
    steps = np.diff(np.stack([p[:3, 3] for p in poses]), axis=0)  # type: ignore[index]
    assert np.abs(steps[:, 1]).max() < 1e-9  # the camera stays at its height
    forward = np.stack([p[:3, 2] for p in poses[:-1]])  # type: ignore[index]
    along = np.einsum('ij,ij->i', steps, forward)
    assert (along >= -1e-6).all()  # never backwards
    assert along.max() <= 40.0 / 10.0  # at most 40 m/s at 10 Hz


def test_stamps_follow_the_frame_rate() -> None:
    config = profile_config('nuscenes', num_frames=3, seed=1, width=160, height=90)
    stamps = [f.stamp_ns for f in generate_drive(config)]
    assert config.fps == 12.0
    assert np.allclose(np.diff(stamps), 1e9 / 12, atol=1)
    assert stamps[0] == config.start_ns


def test_all_classes_appear_over_a_few_drives() -> None:
    seen: set[int] = set()
    for seed in range(4):
        for f in drive(seed=seed, frames=2, width=480, height=144):
            seen |= set(np.unique(f.mask).tolist())
    assert seen == set(range(len(CLASS_NAMES)))


@pytest.mark.parametrize('condition', ['rain', 'snow', 'fog', 'night', 'motion_blur', 'noise'])
def test_conditions_change_pixels_not_labels(condition: str) -> None:
    clear = drive(seed=2, frames=2)[1]
    bad = drive(seed=2, frames=2, conditions=(condition,))[1]
    assert np.array_equal(clear.mask, bad.mask)
    assert np.array_equal(clear.boxes, bad.boxes)
    assert np.abs(clear.image.astype(int) - bad.image).mean() > 1.0


def test_night_is_darker_and_fog_is_lighter() -> None:
    clear = drive(seed=6, frames=1)[0].image.mean()
    assert drive(seed=6, frames=1, conditions=('night',))[0].image.mean() < 0.6 * clear
    assert drive(seed=6, frames=1, conditions=('fog',))[0].image.mean() > clear


def test_profiles() -> None:
    kitti = profile_config('kitti')
    nuscenes = profile_config('nuscenes')
    uhd = profile_config('4k')
    assert (kitti.width, kitti.height, kitti.fps) == (1242, 375, 10.0)
    assert (nuscenes.width, nuscenes.height, nuscenes.fps) == (1600, 900, 12.0)
    assert (uhd.width, uhd.height) == (3840, 2160)
    assert profile_config('kitti', seed=4, conditions=['rain']).conditions == ('rain',)


@pytest.mark.parametrize('bad', [
    {'conditions': ('hail',)}, {'width': 8}, {'fps': 0.0}, {'num_frames': 0},
    {'speed_range': (10.0, 2.0)}, {'stop_probability': 2.0},
])
def test_invalid_config_is_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DriveConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        profile_config('kitti', **bad)


def test_unknown_profile_and_field_are_rejected() -> None:
    with pytest.raises(ValueError, match='profile'):
        profile_config('waymo')
    with pytest.raises(ValueError, match='colour'):
        profile_config('kitti', colour=1)


def test_a_4k_frame_renders() -> None:
    config = profile_config('4k', num_frames=1, seed=1)
    frame = next(iter(generate_drive(config)))
    assert frame.image.shape == (2160, 3840, 3)
    assert frame.boxes.shape[0] > 0
