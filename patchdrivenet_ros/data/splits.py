# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The splits: scene seeds of the synthetic world, and the held-out images of a folder.

Synthetic training uses TrainConfig.data_seeds (1000+), far below the validation and held-out
seeds. A KITTI object folder or an image folder trains on its images but every
VALIDATION_EVERY-th in name order, which it holds out for validation and evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

HELD_OUT_SEED = 900_000
"""First scene seed of the held-out drives (reported results); +10000 for adverse ones."""
VALIDATION_SEED = 800_000
"""First scene seed of the validation drives (tuning, ablations, scores during training)."""

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')
VALIDATION_EVERY = 10
"""Image i of a folder (in name order) is validation when i % VALIDATION_EVERY == 0."""
FOLDER_SPLITS = ('train', 'validation')


def folder_images(folder: Path) -> list[Path]:
    """Return the image files of ``folder`` in name order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def folder_split(images: Iterable[Path], split: str) -> list[Path]:
    """Return the images of ``split`` among ``images``, taken in name order."""
    if split not in FOLDER_SPLITS:
        raise ValueError(f'split {split!r} is not one of {", ".join(FOLDER_SPLITS)}')
    held_out = split == 'validation'
    return [p for i, p in enumerate(sorted(images)) if (i % VALIDATION_EVERY == 0) == held_out]


__all__ = ['FOLDER_SPLITS', 'HELD_OUT_SEED', 'IMAGE_SUFFIXES', 'VALIDATION_EVERY',
           'VALIDATION_SEED', 'folder_images', 'folder_split']
