# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Labelled files on disk as training sources (the spec that names them: training/data_spec.py).

File sources list their samples once (a missing or empty folder, or a class map naming an
unknown class, is a DataError naming the path) and read one sample on demand; a sample that
cannot be read raises SampleError naming the file, which the training stream skips and counts.

Every source maps onto the one class list. What a source does not label is ignored by the
loss, never taken as background: pixels it does not label are 255, and a sample without box
labels says so (``boxes_labelled``) so the detection loss leaves it out.

Splits: Cityscapes trains on its ``train`` folder and validates on ``val``; nuScenes on the
scenes of the devkit's official ``train`` / ``val`` split (``mini_train`` / ``mini_val`` for
v1.0-mini). KITTI object and plain folders hold out every VALIDATION_EVERY-th image (in
file-name order, data/splits.py) for validation; training never reads those.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import yaml

from patchdrivenet_ros.classes import CLASS_NAMES, IGNORE_INDEX
from patchdrivenet_ros.data.cityscapes import read_cityscapes_frame, read_label
from patchdrivenet_ros.data.class_map import cityscapes_lut
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.kitti import objects_to_frame, read_object_labels, read_rgb
from patchdrivenet_ros.data.nuscenes import (
    frame_from_sample_data,
    open_nuscenes,
    split_scene_names,
)
from patchdrivenet_ros.data.splits import (
    FOLDER_SPLITS,
    VALIDATION_EVERY,
    folder_images,
    folder_split,
)
from patchdrivenet_ros.training.data_spec import DataError, SourceSpec

IGNORE_NAME = 'ignore'
"""Class-map value of a folder source for mask values that are not labelled."""
NUSCENES_CAMERAS = ('CAM_FRONT', 'CAM_FRONT_LEFT', 'CAM_FRONT_RIGHT', 'CAM_BACK',
                    'CAM_BACK_LEFT', 'CAM_BACK_RIGHT')
NUSCENES_DEFAULT_VERSION = 'v1.0-trainval'


class SampleError(ValueError):
    """One sample that cannot be read (names the file); training skips it."""


@dataclass(frozen=True)
class Sample:
    """A labelled frame and whether its boxes are labelled (else the detection loss skips it)."""

    frame: LabeledFrame
    boxes_labelled: bool


class FileSource(Protocol):
    """Samples read from files, by index."""

    name: str

    def __len__(self) -> int:
        """Return the number of training samples."""

    def read(self, index: int) -> Sample:
        """Read training sample ``index``; raise SampleError naming the file it cannot read."""


def _folder(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DataError(f'{path}: no such folder ({what})')
    return path


SPLITS = FOLDER_SPLITS


def _listed_images(folder: Path, what: str, split: str) -> list[Path]:
    """Return the images of ``split`` in ``folder``; DataError when it is missing or has none."""
    images = folder_split(folder_images(_folder(folder, what)), split)
    if not images:
        raise DataError(f'{folder}: no {split} images')
    return images


def _image(path: Path) -> np.ndarray:
    """Read an image file (RGB); SampleError when it cannot be read."""
    try:
        return read_rgb(path)
    except FileNotFoundError:
        raise SampleError(f'{path}: unreadable image') from None


def _label(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """Read a label image of an image's size; SampleError when it cannot be read or differs."""
    try:
        return read_label(path, shape)
    except (FileNotFoundError, ValueError) as error:
        raise SampleError(str(error)) from None


def _boxes_file(image: np.ndarray, path: Path | None, index: int) -> LabeledFrame:
    """Return a frame with the boxes of a KITTI-format label file, or none (no pixel labels)."""
    try:
        objects = read_object_labels(path) if path is not None else []
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
        raise SampleError(f'{path}: unreadable KITTI label file ({error})') from None
    return objects_to_frame(image, objects, index, 0)


def _optional(path: Path) -> Path | None:
    """Return ``path`` when the file exists, else None."""
    return path if path.exists() else None


class CityscapesSource:
    """``ROOT/leftImg8bit/<s>/<city>/*_leftImg8bit.png`` with ``ROOT/gtFine/<s>/...``.

    ``s`` is ``train`` for training and ``val`` for validation.
    """

    def __init__(self, root: Path, split: str = 'train') -> None:
        self.name = f'cityscapes:{root}'
        folder = 'train' if split == 'train' else 'val'
        images = _folder(root / 'leftImg8bit' / folder, f'Cityscapes {split} images')
        self._labels = _folder(root / 'gtFine' / folder, 'Cityscapes fine labels')
        self._images = sorted(images.glob('*/*_leftImg8bit.png'))
        if not self._images:
            raise DataError(f'{images}: no *_leftImg8bit.png images')
        self._lut = cityscapes_lut()

    def __len__(self) -> int:
        return len(self._images)

    def read(self, index: int) -> Sample:
        """Read image, labelIds (mapped to our classes) and, when present, instance boxes."""
        path = self._images[index]
        try:
            frame, has_instances = read_cityscapes_frame(
                path, self._labels / path.parent.name, index, self._lut)
        except (FileNotFoundError, ValueError) as error:
            raise SampleError(f'{path}: {error}') from None
        return Sample(frame, boxes_labelled=has_instances)


class KittiObjectSource:
    """``ROOT/image_2/*.png`` with ``ROOT/label_2/*.txt``: boxes only, no pixel labels."""

    def __init__(self, root: Path, split: str = 'train') -> None:
        self.name = f'kitti-object:{root}'
        self._images = _listed_images(root / 'image_2', 'KITTI object images', split)
        self._labels = _folder(root / 'label_2', 'KITTI object labels')

    def __len__(self) -> int:
        return len(self._images)

    def read(self, index: int) -> Sample:
        """Read the image and its boxes; a missing label file means no box labels."""
        path = self._images[index]
        labels = _optional(self._labels / f'{path.stem}.txt')
        return Sample(_boxes_file(_image(path), labels, index), labels is not None)


class FolderSource:
    """``ROOT/images/*``, ``ROOT/masks/<stem>.png`` (mono8) and ``ROOT/classes.yaml``.

    ``classes.yaml`` maps mask values to class names (or ``ignore``); values it does not name
    are unlabelled. Optional ``ROOT/boxes/<stem>.txt`` files in the KITTI object format give
    boxes; without them a sample's boxes are not labelled.
    """

    def __init__(self, root: Path, split: str = 'train') -> None:
        self.name = f'folder:{root}'
        self._images = _listed_images(root / 'images', 'images', split)
        self._masks = _folder(root / 'masks', 'masks')
        self._boxes = root / 'boxes'
        self._lut = self._class_map(root / 'classes.yaml')

    @staticmethod
    def _class_map(path: Path) -> np.ndarray:
        """Return the (256,) uint8 lookup from mask value to class id of ``classes.yaml``."""
        if not path.is_file():
            raise DataError(f'{path}: no class map (mask value: class name, one per line)')
        try:
            table = yaml.safe_load(path.read_text(encoding='utf-8'))
        except yaml.YAMLError as error:
            raise DataError(f'{path}: unreadable class map ({error})') from None
        if not isinstance(table, dict) or not table:
            raise DataError(f'{path}: expected a mapping of mask values to class names')
        lut = np.full(256, IGNORE_INDEX, np.uint8)
        for value, name in table.items():
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise DataError(f'{path}: mask value {value!r} is not an integer in 0..255')
            if name == IGNORE_NAME:
                continue
            if name not in CLASS_NAMES:
                raise DataError(f'{path}: unknown class {name!r} for value {value} (known: '
                                f'{", ".join(CLASS_NAMES)}, or {IGNORE_NAME})')
            lut[value] = CLASS_NAMES.index(name)
        return lut

    def __len__(self) -> int:
        return len(self._images)

    def read(self, index: int) -> Sample:
        """Read the image, its mask through the class map and, when present, its boxes."""
        path = self._images[index]
        image = _image(path)
        mask_path = self._masks / f'{path.stem}.png'
        if not mask_path.exists():
            raise SampleError(f'{mask_path}: no mask for {path.name}')
        boxes = _optional(self._boxes / f'{path.stem}.txt')
        frame = _boxes_file(image, boxes, index)
        return Sample(replace(frame, mask=self._lut[_label(mask_path, image.shape)]),
                      boxes_labelled=boxes is not None)


class NuScenesSource:
    """A nuScenes dataroot: the six cameras' keyframes of a split's scenes (boxes only)."""

    def __init__(self, root: Path, version: str, split: str = 'train') -> None:
        self.name = f'nuscenes:{root}:{version}'
        _folder(root, 'nuScenes dataroot')
        try:
            scenes = split_scene_names(version, 'val' if split == 'validation' else 'train')
        except ImportError:
            raise DataError(f'{root}: nuScenes needs the devkit (pip install '
                            'nuscenes-devkit)') from None
        except ValueError as error:
            raise DataError(f'{root}: {error}') from None
        try:
            self._nusc = open_nuscenes(root, version)
        except ImportError:
            raise DataError(f'{root}: nuScenes needs the devkit (pip install '
                            'nuscenes-devkit)') from None
        except (OSError, AssertionError, KeyError, ValueError) as error:
            raise DataError(f'{root}: not a nuScenes {version} dataroot ({error})') from None
        self._tokens = [token for scene in self._nusc.scene if scene['name'] in scenes
                        for token in self._keyframes(scene)]
        if not self._tokens:
            raise DataError(f'{root}: no {split} keyframes in nuScenes {version}')

    def _keyframes(self, scene: dict[str, str]) -> list[str]:
        """Return the camera sample_data tokens of a scene's keyframes, in time order."""
        tokens, sample_token = [], scene['first_sample_token']
        while sample_token:
            sample = self._nusc.get('sample', sample_token)
            tokens += [sample['data'][c] for c in NUSCENES_CAMERAS if c in sample['data']]
            sample_token = sample['next']
        return tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def read(self, index: int) -> Sample:
        """Read the keyframe's image and its projected boxes."""
        try:
            frame = frame_from_sample_data(self._nusc, self._tokens[index], index)
        except FileNotFoundError as error:
            raise SampleError(f'{self.name}: {error}') from None
        return Sample(frame, boxes_labelled=True)


def open_source(spec: SourceSpec, split: str = 'train') -> FileSource:
    """Open the ``split`` of the file source of ``spec`` (not synthetic); DataError if unusable."""
    if split not in SPLITS:
        raise ValueError(f'split {split!r} is not one of {", ".join(SPLITS)}')
    root = Path(spec.path).expanduser()
    if spec.kind == 'nuscenes':
        head, _, version = spec.path.rpartition(':')
        if head and version.startswith('v1.0'):
            return NuScenesSource(Path(head).expanduser(), version, split)
        return NuScenesSource(root, NUSCENES_DEFAULT_VERSION, split)
    if spec.kind == 'cityscapes':
        return CityscapesSource(root, split)
    if spec.kind == 'kitti-object':
        return KittiObjectSource(root, split)
    return FolderSource(root, split)


__all__ = ['SPLITS', 'VALIDATION_EVERY', 'CityscapesSource', 'FileSource', 'FolderSource',
           'KittiObjectSource', 'NuScenesSource', 'Sample', 'SampleError', 'open_source']
