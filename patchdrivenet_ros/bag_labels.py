# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the labels of a recorded bag come from, and how they are matched to its frames.

- The package's label sidecar (``<bag>.labels``, or ``--labels`` a folder with labels.json):
  masks and boxes, matched by header stamp to the nanosecond.
- A KITTI tracking label file (``label_02/NNNN.txt``): boxes only (no masks: segmentation is not
  scored), matched to the bag's frames in order (frame k of the file is the k-th image of the
  topic), or with the drive's ``timestamps.txt`` to the nearest stamp within 5 ms.
- A KITTI object folder (``label_2/``): boxes only, the k-th label file (in name order) for
  the k-th image of the topic (a bag made from the folder's ``image_2/`` in name order).
- A nuScenes dataroot (or one of its ``v1.0-*`` table folders): boxes only, projected from the
  3D boxes (data/nuscenes.py); a frame is labelled when its stamp is within 1 ms of a camera
  keyframe's ``sample_data`` timestamp (converters stamp frames with it); sweeps are not
  scored but still run, for temporal reuse.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

import numpy as np

from patchdrivenet_ros.data.bags import load_label_sidecar, sidecar_path
from patchdrivenet_ros.data.frame import FrameLabels, LabeledFrame
from patchdrivenet_ros.data.kitti import (
    KittiObject,
    objects_to_frame,
    read_object_labels,
    read_tracking_labels,
)

STAMP_TOLERANCE_NS = 5_000_000
"""A bag stamp matches a timestamps.txt line within this distance (KITTI runs at 10 Hz)."""


class LabelError(Exception):
    """Labels that cannot be read; the message says which and why."""


class LabelSource(Protocol):
    """Labels of a bag's frames, looked up frame by frame as the bag is read."""

    matching: str  # how frames are matched, said to the user
    count: int  # labelled frames

    def truth(self, index: int, stamp_ns: int, image: np.ndarray
              ) -> FrameLabels | LabeledFrame | None:
        """Return the labels of the index-th image (stamp, pixels), or None."""

    def stamps(self) -> list[int]:
        """Return the labelled stamps, where known (for error messages)."""


class SidecarLabels:
    """The package's label sidecar, matched by stamp."""

    matching = 'by header stamp'

    def __init__(self, path: Path) -> None:
        try:
            self._frames = load_label_sidecar(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LabelError(f'cannot read the labels in {path}: {error}') from None
        self.count = len(self._frames)

    def truth(self, index: int, stamp_ns: int, image: np.ndarray) -> FrameLabels | None:
        """Return the sidecar's labels of this stamp."""
        return self._frames.get(stamp_ns)

    def stamps(self) -> list[int]:
        """Return the labelled stamps."""
        return list(self._frames)


def parse_kitti_timestamp(line: str) -> int:
    """Parse ``2011-09-26 13:02:25.964389445`` (UTC) into nanoseconds."""
    whole, _, fraction = line.strip().partition('.')
    moment = datetime.strptime(whole, '%Y-%m-%d %H:%M:%S').replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction + '0' * 9)[:9])


class KittiTrackingLabels:
    """A KITTI tracking label file, matched in order or by the drive's timestamps.txt."""

    def __init__(self, path: Path, timestamps: Path | None = None) -> None:
        try:
            self._frames: dict[int, list[KittiObject]] = read_tracking_labels(path)
            self._times = (np.array([parse_kitti_timestamp(line) for line in
                                     timestamps.read_text(encoding='utf-8').splitlines()
                                     if line.strip()], np.int64)
                           if timestamps is not None else None)
        except (OSError, ValueError) as error:
            raise LabelError(f'cannot read the labels {path}: {error}') from None
        self.count = len(self._frames)
        self.matching = (f'by stamp, nearest line of {timestamps} within '
                         f'{STAMP_TOLERANCE_NS / 1e6:g} ms' if timestamps is not None
                         else f'in order: frame k of {path.name} is the k-th image')

    def _frame_of(self, index: int, stamp_ns: int) -> int | None:
        if self._times is None:
            return index
        gaps = np.abs(self._times - stamp_ns)
        nearest = int(np.argmin(gaps)) if len(gaps) else -1
        return nearest if nearest >= 0 and gaps[nearest] <= STAMP_TOLERANCE_NS else None

    def truth(self, index: int, stamp_ns: int, image: np.ndarray) -> LabeledFrame | None:
        """Return the boxes of the matched frame (a frame without objects has none)."""
        frame = self._frame_of(index, stamp_ns)
        if frame is None or (self._times is None and frame > max(self._frames, default=-1)):
            return None
        return objects_to_frame(image, self._frames.get(frame, []), frame, stamp_ns)

    def stamps(self) -> list[int]:
        """Return the stamps of timestamps.txt (empty when matched in order)."""
        return [] if self._times is None else self._times.tolist()


class KittiObjectLabels:
    """A KITTI object folder's label_2 files, matched in order."""

    def __init__(self, root: Path) -> None:
        self._files = sorted((root / 'label_2').glob('*.txt'))
        if not self._files:
            raise LabelError(f'{root / "label_2"}: no label files')
        self.count = len(self._files)
        self.matching = f'in order: the k-th file of {root / "label_2"} is the k-th image'

    def truth(self, index: int, stamp_ns: int, image: np.ndarray) -> LabeledFrame | None:
        """Return the boxes of the index-th label file (None past the last)."""
        if index >= len(self._files):
            return None
        try:
            objects = read_object_labels(self._files[index])
        except (OSError, ValueError) as error:
            raise LabelError(f'cannot read the labels {self._files[index]}: {error}') from None
        return objects_to_frame(image, objects, index, stamp_ns)

    def stamps(self) -> list[int]:
        """Return nothing: object labels carry no stamps."""
        return []


NUSCENES_TOLERANCE_NS = 1_000_000
"""A bag stamp matches a nuScenes keyframe within this distance (cameras run at 12 Hz)."""


def nuscenes_tables(path: Path) -> tuple[Path, str] | None:
    """Return (dataroot, version) when ``path`` is a nuScenes dataroot or table folder."""
    if path.name.startswith('v1.0-') and (path / 'sample_data.json').is_file():
        return path.parent, path.name
    versions = sorted(p.name for p in path.glob('v1.0-*') if (p / 'sample_data.json').is_file())
    if not versions:
        return None
    if len(versions) > 1:
        raise LabelError(f'{path} holds several nuScenes versions ({", ".join(versions)}); '
                         f'pass one of them, e.g. --labels {path / versions[0]}')
    return path, versions[0]


class NuScenesLabels:
    """A nuScenes dataroot, matched by stamp to its camera keyframes."""

    def __init__(self, dataroot: Path, version: str) -> None:
        from patchdrivenet_ros.data.nuscenes import open_nuscenes  # the devkit, when used

        try:
            self._nusc = open_nuscenes(dataroot, version)
        except (ImportError, OSError, KeyError, ValueError, AssertionError) as error:
            raise LabelError(f'cannot read nuScenes {version} in {dataroot}: {error}') from None
        keyframes = {int(sd['timestamp']) * 1000: sd['token'] for sd in self._nusc.sample_data
                     if sd['is_key_frame'] and str(sd['filename']).startswith('samples/CAM_')}
        self._times = np.array(sorted(keyframes), np.int64)
        self._tokens = [keyframes[int(t)] for t in self._times]
        self.count = len(self._tokens)
        self.matching = (f'by stamp to the camera keyframes of nuScenes {version} (within '
                         f'{NUSCENES_TOLERANCE_NS / 1e6:g} ms)')

    def truth(self, index: int, stamp_ns: int, image: np.ndarray) -> LabeledFrame | None:
        """Return the keyframe's boxes projected into this image, or None (a sweep)."""
        from patchdrivenet_ros.data.nuscenes import frame_from_sample_data

        if not len(self._times):
            return None
        gaps = np.abs(self._times - stamp_ns)
        nearest = int(np.argmin(gaps))
        if gaps[nearest] > NUSCENES_TOLERANCE_NS:
            return None
        frame = frame_from_sample_data(self._nusc, self._tokens[nearest], index, image)
        return dataclasses.replace(frame, stamp_ns=stamp_ns)

    def stamps(self) -> list[int]:
        """Return the keyframe stamps."""
        return self._times.tolist()


def label_source(bag: Path, labels: Path | None, timestamps: Path | None = None
                 ) -> LabelSource:
    """Pick the label source: a KITTI tracking file (.txt), a nuScenes dataroot or a sidecar."""
    if labels is not None and labels.suffix == '.txt':
        if not labels.is_file():
            raise LabelError(f'no label file {labels}')
        return KittiTrackingLabels(labels, timestamps)
    if labels is not None and (labels / 'label_2').is_dir():
        return KittiObjectLabels(labels)
    tables = nuscenes_tables(labels) if labels is not None and labels.is_dir() else None
    if tables is not None:
        return NuScenesLabels(*tables)
    side = sidecar_path(labels or bag)
    if not (side / 'labels.json').is_file():
        raise LabelError(
            f'no labels for {bag}: {side / "labels.json"} does not exist. Pass --labels with a '
            'label sidecar (patchdrivenet-synth writes one beside each bag) or a KITTI tracking '
            'label file (label_02/NNNN.txt).')
    return SidecarLabels(side)
