# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Synthetic training batches, streamed on the fly and reproducible from the step index.

Each of the batch's slots follows a drive, advancing ``frame_stride`` frames per step and
rendering only the frames it uses; after ``drive_length // frame_stride`` steps every slot
starts a new drive. Drive d of slot b uses scene seed
``data_seeds[(d * batch_size + b) % len(data_seeds)]`` and adverse conditions drawn from a
generator seeded by (seed, d, b). Each frame is cut to a random crop seeded by (seed, step),
keeping the camera's pixel scale so objects and patches look as they do at inference.
Batch s is therefore a pure function of the config and s: a resumed run sees exactly the
batches an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from patchdrivenet_ros.config import TrainConfig
from patchdrivenet_ros.data.drive_config import CONDITIONS, DriveConfig
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive

MIN_CROPPED_SIDE = 4.0
"""Boxes cut to less than this many pixels a side by the crop are dropped."""


@dataclass(frozen=True)
class Batch:
    """One training step's frames."""

    images: torch.Tensor  # (B, 3, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (B, H, W) int64 class ids, 255 = unlabeled
    boxes: list[np.ndarray]  # B x (N, 4) float32 xyxy input px
    class_ids: list[np.ndarray]  # B x (N,) int64 segmentation class ids


def drive_config(config: TrainConfig, drive: int, slot: int) -> DriveConfig:
    """Return the DriveConfig of a slot's drive number ``drive``."""
    rng = np.random.default_rng((config.seed, drive, slot))
    conditions: tuple[str, ...] = ()
    if rng.random() < config.adverse_fraction:
        count = int(rng.integers(1, 3))
        conditions = tuple(sorted(rng.choice(CONDITIONS, size=count, replace=False).tolist()))
    seeds = config.data_seeds
    return DriveConfig(
        width=config.frame_width,
        height=config.frame_height,
        num_frames=config.drive_length,
        seed=seeds[(drive * config.batch_size + slot) % len(seeds)],
        conditions=conditions,
    )


@dataclass(frozen=True)
class Crop:
    """A window of a labelled frame at the camera's pixel scale."""

    image: np.ndarray  # (h, w, 3) uint8 RGB
    mask: np.ndarray  # (h, w) uint8 class ids
    boxes: np.ndarray  # (N, 4) float32 xyxy crop px, clipped to the crop
    class_ids: np.ndarray  # (N,) int64


def random_crop(frame: LabeledFrame, width: int, height: int,
                rng: np.random.Generator) -> Crop:
    """Cut a random width x height window; keep boxes whose clipped part is >= 4 px a side."""
    left = int(rng.integers(0, frame.width - width + 1))
    top = int(rng.integers(0, frame.height - height + 1))
    boxes = frame.boxes - np.array([left, top, left, top], np.float32)
    boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= MIN_CROPPED_SIDE) & (
        (boxes[:, 3] - boxes[:, 1]) >= MIN_CROPPED_SIDE)
    return Crop(
        image=frame.image[top:top + height, left:left + width],
        mask=frame.mask[top:top + height, left:left + width],
        boxes=boxes[keep],
        class_ids=frame.class_ids[keep],
    )


class TrainingStream:
    """Batches for steps start, start + 1, ... of a TrainConfig."""

    def __init__(self, config: TrainConfig, start: int = 0) -> None:
        self._config = config
        self._steps_per_drive = max(1, config.drive_length // config.frame_stride)
        self._step = start
        self._drives: list[Iterator[LabeledFrame]] = []
        self._open_drives(skip_steps=start % self._steps_per_drive)

    def _open_drives(self, skip_steps: int) -> None:
        config = self._config
        drive = self._step // self._steps_per_drive
        stride = config.frame_stride
        # Step k of a drive uses frame k * stride + stride - 1 (the last frame if shorter).
        first = min(skip_steps * stride + stride - 1, config.drive_length - 1)
        self._drives = [generate_drive(drive_config(config, drive, slot), first, stride)
                        for slot in range(config.batch_size)]

    def __iter__(self) -> TrainingStream:
        """Return self: the stream is endless."""
        return self

    def __next__(self) -> Batch:
        """Return the next step's batch."""
        if self._step % self._steps_per_drive == 0 and self._step > 0:
            self._open_drives(skip_steps=0)
        rng = np.random.default_rng((self._config.seed, self._step, 11))
        crops = [random_crop(next(drive), self._config.crop_width, self._config.crop_height,
                             rng) for drive in self._drives]
        self._step += 1
        images = np.stack([c.image for c in crops])  # (B, h, w, 3) uint8
        return Batch(
            images=torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0),
            labels=torch.from_numpy(np.stack([c.mask for c in crops])).long(),
            boxes=[c.boxes for c in crops],
            class_ids=[c.class_ids for c in crops],
        )
