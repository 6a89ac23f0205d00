# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training batches, streamed on the fly and reproducible from the step index.

Steps come in periods of ``drive_length // frame_stride``. For each period, each of the batch's
slots draws one of the data sources (training/sources.py) by weight, seeded by (seed, period,
slot); with one source there is no draw. A synthetic slot follows a drive, advancing
``frame_stride`` frames per step and rendering only the frames it uses: drive d of slot b uses
scene seed ``data_seeds[(d * batch_size + b) % len(data_seeds)]`` and adverse conditions drawn
from a generator seeded by (seed, d, b). A file slot reads a sample drawn by (seed, step, slot)
each step; an unreadable sample is skipped (counted) for the next one. Each frame is cut to a
random crop seeded by (seed, step, slot), keeping the source's pixel scale so objects and
patches look as they do at inference (a frame smaller than the crop is padded, unlabelled).
Batch s is therefore a pure function of the config, the files and s: a resumed run sees exactly
the batches an uninterrupted one would, and a stream of some slots only (one process of a
distributed run) sees exactly those slots of the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
import logging

import numpy as np
import torch

from patchdrivenet_ros.classes import IGNORE_INDEX
from patchdrivenet_ros.config import TrainConfig
from patchdrivenet_ros.data.drive_config import CONDITIONS, DriveConfig
from patchdrivenet_ros.data.frame import LabeledFrame
from patchdrivenet_ros.data.synthetic import generate_drive
from patchdrivenet_ros.training.data_spec import DataError, SourceSpec
from patchdrivenet_ros.training.sources import FileSource, Sample, SampleError

MIN_CROPPED_SIDE = 4.0
"""Boxes cut to less than this many pixels a side by the crop are dropped."""
MAX_UNREADABLE_IN_A_ROW = 20
"""Unreadable samples in a row after which a source is taken as broken (DataError)."""
LOG = logging.getLogger('patchdrivenet_train')


@dataclass(frozen=True)
class Batch:
    """One training step's frames."""

    images: torch.Tensor  # (B, 3, H, W) float32 in [0, 1]
    labels: torch.Tensor  # (B, H, W) int64 class ids, 255 = unlabeled
    boxes: list[np.ndarray]  # B x (N, 4) float32 xyxy input px
    class_ids: list[np.ndarray]  # B x (N,) int64 segmentation class ids
    boxes_labelled: tuple[bool, ...]  # B: False = the frame's source has no box labels

    def __len__(self) -> int:
        """Return the number of frames."""
        return len(self.boxes)

    def part(self, start: int, stop: int) -> Batch:
        """Return frames start:stop as a batch of their own (views, no copies)."""
        return Batch(self.images[start:stop], self.labels[start:stop], self.boxes[start:stop],
                     self.class_ids[start:stop], self.boxes_labelled[start:stop])


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


def pad_to(frame: LabeledFrame, width: int, height: int) -> LabeledFrame:
    """Pad the frame on the right and bottom to at least width x height (unlabelled, black)."""
    extra_rows, extra_columns = max(0, height - frame.height), max(0, width - frame.width)
    if not extra_rows and not extra_columns:
        return frame
    padding = ((0, extra_rows), (0, extra_columns))
    return replace(frame, image=np.pad(frame.image, (*padding, (0, 0))),
                   mask=np.pad(frame.mask, padding, constant_values=IGNORE_INDEX))


def random_crop(frame: LabeledFrame, width: int, height: int,
                rng: np.random.Generator) -> Crop:
    """Cut a random width x height window; keep boxes whose clipped part is >= 4 px a side.

    A frame smaller than the window is padded first (pad_to).
    """
    frame = pad_to(frame, width, height)
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


@dataclass(frozen=True)
class WeightedSource:
    """A data source of the stream: its spec and, for files, the opened source."""

    spec: SourceSpec
    files: FileSource | None = None  # None: the synthetic world


SYNTHETIC_ONLY = (WeightedSource(SourceSpec('synthetic')),)


def _following(drive: Iterator[LabeledFrame]) -> Callable[[int], Sample]:
    """Return a slot's feed that takes the next frame of a synthetic drive (fully labelled)."""
    return lambda _slot: Sample(next(drive), boxes_labelled=True)


class TrainingStream:
    """Batches for steps start, start + 1, ... of a TrainConfig over its data sources."""

    def __init__(self, config: TrainConfig, start: int = 0,
                 sources: Sequence[WeightedSource] = SYNTHETIC_ONLY,
                 slots: Sequence[int] | None = None) -> None:
        if not sources:
            raise DataError('give at least one data source')
        self._config = config
        self._slots = tuple(range(config.batch_size)) if slots is None else tuple(slots)
        self._sources = tuple(sources)
        weights = np.array([s.spec.weight for s in self._sources], np.float64)
        self._weights = weights / weights.sum()
        self._steps_per_drive = max(1, config.drive_length // config.frame_stride)
        self._step = start
        self._feeds: list[Callable[[int], Sample]] = []  # per own slot: its step's sample
        self.skipped = 0  # unreadable samples passed over so far
        self._open_drives(skip_steps=start % self._steps_per_drive)

    def _source(self, drive: int, slot: int) -> WeightedSource:
        """Return the source slot ``slot`` reads in period ``drive`` (no draw with one source)."""
        if len(self._sources) == 1:
            return self._sources[0]
        rng = np.random.default_rng((self._config.seed, drive, slot, 13))
        return self._sources[int(rng.choice(len(self._sources), p=self._weights))]

    def _open_drives(self, skip_steps: int) -> None:
        config = self._config
        drive = self._step // self._steps_per_drive
        stride = config.frame_stride
        # Step k of a drive uses frame k * stride + stride - 1 (the last frame if shorter).
        first = min(skip_steps * stride + stride - 1, config.drive_length - 1)
        self._feeds = []
        for slot in self._slots:
            files = self._source(drive, slot).files
            self._feeds.append(
                _following(generate_drive(drive_config(config, drive, slot), first, stride))
                if files is None else partial(self._read, files))

    def _read(self, files: FileSource, slot: int) -> Sample:
        """Read the sample drawn for ``slot`` this step, passing over unreadable ones."""
        rng = np.random.default_rng((self._config.seed, self._step, slot, 17))
        index = int(rng.integers(len(files)))
        for attempt in range(MAX_UNREADABLE_IN_A_ROW):
            try:
                return files.read((index + attempt) % len(files))
            except SampleError as error:
                self.skipped += 1
                if self.skipped <= 10 or self.skipped % 100 == 0:
                    LOG.warning('skipped an unreadable sample (%d so far): %s', self.skipped,
                                error)
        raise DataError(f'{files.name}: {MAX_UNREADABLE_IN_A_ROW} unreadable samples in a row '
                        f'from index {index}; is the folder what it should be?')

    def __iter__(self) -> TrainingStream:
        """Return self: the stream is endless."""
        return self

    def __next__(self) -> Batch:
        """Return the next step's batch."""
        if self._step % self._steps_per_drive == 0 and self._step > 0:
            self._open_drives(skip_steps=0)
        samples = [feed(slot) for slot, feed in zip(self._slots, self._feeds, strict=True)]
        crops = [random_crop(sample.frame, self._config.crop_width, self._config.crop_height,
                             np.random.default_rng((self._config.seed, self._step, slot, 11)))
                 for slot, sample in zip(self._slots, samples, strict=True)]
        self._step += 1
        images = np.stack([c.image for c in crops])  # (B, h, w, 3) uint8
        return Batch(
            images=torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0),
            labels=torch.from_numpy(np.stack([c.mask for c in crops])).long(),
            boxes=[c.boxes for c in crops],
            class_ids=[c.class_ids for c in crops],
            boxes_labelled=tuple(s.boxes_labelled for s in samples),
        )
