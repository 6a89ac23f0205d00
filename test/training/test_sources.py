# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Training on labelled files: the data spec, the file sources, the mixed stream, the CLI.

Small datasets in each format are written by the tests: Cityscapes (leftImg8bit/gtFine),
KITTI object (image_2/label_2) and a plain folder (images/masks/classes.yaml/boxes).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from safetensors.torch import load_file
from test_trainer import TINY, tiny_config
import torch

from patchdrivenet_ros.classes import IGNORE_INDEX, class_id
from patchdrivenet_ros.config import ConfigError
from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.weights import load_weights, save_weights
from patchdrivenet_ros.tools.train import main
from patchdrivenet_ros.training.curves import plot_curves
from patchdrivenet_ros.training.data import Batch, TrainingStream
from patchdrivenet_ros.training.data_spec import DataError, SourceSpec, parse_spec
from patchdrivenet_ros.training.objective import detection_channels, detection_loss
from patchdrivenet_ros.training.sources import (
    VALIDATION_EVERY,
    CityscapesSource,
    FolderSource,
    KittiObjectSource,
    SampleError,
    open_source,
)
from patchdrivenet_ros.training.trainer import Trainer, open_sources
from patchdrivenet_ros.training.validation import validation_samples, validation_scores

HEIGHT, WIDTH = 120, 200  # smaller than the tiny config's 192 x 96 crop in width: padded


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)


def write_folder(root: Path, count: int = 12, boxes: bool = True) -> Path:
    """Images, masks of values 0/1/2/7 and a class map; KITTI boxes for every other image."""
    for sub in ('images', 'masks', 'boxes'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / 'classes.yaml').write_text('0: road\n1: car\n2: ignore\n', encoding='utf-8')
    for i in range(count):
        cv2.imwrite(str(root / 'images' / f'{i:03d}.png'), _image(i))
        mask = np.zeros((HEIGHT, WIDTH), np.uint8)
        mask[40:80, 50:120] = 1
        mask[:10] = 2
        mask[-5:] = 7  # not in the class map: unlabelled
        cv2.imwrite(str(root / 'masks' / f'{i:03d}.png'), mask)
        if boxes and i % 2:
            (root / 'boxes' / f'{i:03d}.txt').write_text(
                'Car 0.00 0 0.0 50 40 120 80 1.5 1.6 3.9 0.0 1.5 10.0 0.0\n', encoding='utf-8')
    return root


def write_kitti(root: Path, count: int = 11) -> Path:
    (root / 'image_2').mkdir(parents=True)
    (root / 'label_2').mkdir()
    for i in range(count):
        cv2.imwrite(str(root / 'image_2' / f'{i:06d}.png'), _image(100 + i))
        if i != 3:  # one image without a label file
            (root / 'label_2' / f'{i:06d}.txt').write_text(
                'Pedestrian 0.00 0 0.0 20 30 40 90 1.7 0.6 0.8 1.0 1.5 8.0 0.0\n',
                encoding='utf-8')
    return root


def write_cityscapes(root: Path) -> Path:
    images = root / 'leftImg8bit' / 'train' / 'aachen'
    labels = root / 'gtFine' / 'train' / 'aachen'
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    for i in range(2):
        stem = f'aachen_{i:06d}_000019'
        cv2.imwrite(str(images / f'{stem}_leftImg8bit.png'), _image(200 + i))
        ids = np.full((HEIGHT, WIDTH), 7, np.uint8)  # 7 = road
        ids[30:70, 60:110] = 26  # 26 = car
        cv2.imwrite(str(labels / f'{stem}_gtFine_labelIds.png'), ids)
        if i == 0:
            instances = ids.astype(np.uint16)
            instances[30:70, 60:110] = 26 * 1000 + 1
            cv2.imwrite(str(labels / f'{stem}_gtFine_instanceIds.png'), instances)
    return root


@pytest.mark.parametrize(('text', 'spec'), [
    ('synthetic', SourceSpec('synthetic')),
    ('synthetic:2', SourceSpec('synthetic', '', 2.0)),
    ('folder:/data/mine', SourceSpec('folder', '/data/mine')),
    ('kitti-object:/data/k:0.5', SourceSpec('kitti-object', '/data/k', 0.5)),
    ('cityscapes:/a:b', SourceSpec('cityscapes', '/a:b')),
])
def test_data_specs_parse(text: str, spec: SourceSpec) -> None:
    assert parse_spec(text) == spec


@pytest.mark.parametrize(('text', 'words'), [
    ('imagenet:/x', 'unknown source'), ('folder', 'give the folder'),
    ('synthetic:/x', 'only a weight'), ('folder:/x:0', 'positive'),
    ('folder:/x:nan', 'positive'),
])
def test_bad_data_specs_are_refused(text: str, words: str) -> None:
    with pytest.raises(DataError, match=words):
        parse_spec(text)
    with pytest.raises(ConfigError, match='data'):
        tiny_config(data=(text,))


def test_folder_source_maps_classes_holds_out_validation_and_reads_boxes(tmp_path: Path) -> None:
    source = FolderSource(write_folder(tmp_path / 'mine'))
    assert len(source) == 12 - len(range(0, 12, VALIDATION_EVERY))  # 000 and 010 held out
    sample = source.read(0)  # 001: has boxes
    assert sample.frame.index == 0 and sample.boxes_labelled
    mask = sample.frame.mask
    assert mask[60, 80] == class_id('car') and mask[20, 10] == class_id('road')
    assert mask[5, 5] == IGNORE_INDEX and mask[-1, 0] == IGNORE_INDEX
    np.testing.assert_array_equal(sample.frame.boxes, [[50, 40, 120, 80]])
    assert not source.read(1).boxes_labelled  # 002: no boxes file


def test_kitti_object_source_has_boxes_and_no_pixel_labels(tmp_path: Path) -> None:
    source = KittiObjectSource(write_kitti(tmp_path / 'kitti'))
    assert len(source) == 9  # 000000 and 000010 are held out
    sample = source.read(0)  # 000001
    assert (sample.frame.mask == IGNORE_INDEX).all() and sample.boxes_labelled
    assert sample.frame.class_ids.tolist() == [class_id('pedestrian')]
    assert not source.read(2).boxes_labelled  # 000003 has no label file


def test_cityscapes_source_reads_train_with_instance_boxes(tmp_path: Path) -> None:
    source = CityscapesSource(write_cityscapes(tmp_path / 'cs'))
    first, second = source.read(0), source.read(1)
    assert first.frame.mask[50, 80] == class_id('car')
    assert first.boxes_labelled and first.frame.boxes.tolist() == [[60, 30, 110, 70]]
    assert not second.boxes_labelled  # no instanceIds file: its boxes are unknown


def test_unusable_sources_are_refused_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=str(tmp_path / 'absent' / 'images')):
        open_source(SourceSpec('folder', str(tmp_path / 'absent')))
    mine = write_folder(tmp_path / 'mine')
    (mine / 'classes.yaml').write_text('0: road\n1: unicorn\n', encoding='utf-8')
    with pytest.raises(DataError, match=r'classes.yaml: unknown class .unicorn.'):
        FolderSource(mine)
    with pytest.raises(DataError, match='image_2'):
        KittiObjectSource(tmp_path / 'mine')
    with pytest.raises(DataError, match='leftImg8bit'):
        CityscapesSource(tmp_path / 'mine')


def test_unreadable_samples_name_their_file(tmp_path: Path) -> None:
    mine = write_folder(tmp_path / 'mine')
    (mine / 'images' / '001.png').write_bytes(b'not a png')
    cv2.imwrite(str(mine / 'masks' / '002.png'), np.zeros((HEIGHT, WIDTH + 1), np.uint8))
    source = FolderSource(mine)
    with pytest.raises(SampleError, match='001.png: unreadable image'):
        source.read(0)
    with pytest.raises(SampleError, match=r'masks/002.png: label of shape'):
        source.read(1)


def test_a_mixed_stream_is_reproducible_and_says_what_is_labelled(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / 'mine', boxes=False)
    kitti = write_kitti(tmp_path / 'kitti')
    config = tiny_config(batch_size=6, data=('synthetic', f'folder:{folder}',
                                             f'kitti-object:{kitti}'))
    sources = open_sources(config)
    stream = TrainingStream(config, sources=sources)
    first = [next(stream) for _ in range(3)]
    again = TrainingStream(config, start=2, sources=sources)
    assert torch.equal(first[2].images, next(again).images)
    kinds = set()
    for batch in first:
        assert batch.images.shape == (6, 3, 96, 192)
        for labels, labelled in zip(batch.labels, batch.boxes_labelled, strict=True):
            unlabelled_pixels = bool((labels == IGNORE_INDEX).all())
            kinds.add((unlabelled_pixels, labelled))
    # synthetic: both labelled; folder without boxes: pixels only; KITTI: boxes only
    assert {(False, True), (False, False), (True, True)} <= kinds
    # One process of a distributed run streams slots 3-5 only: the same frames as the whole.
    shard = TrainingStream(config, sources=sources, slots=range(3, 6))
    for batch in first:
        part = next(shard)
        assert torch.equal(part.images, batch.images[3:])
        assert torch.equal(part.labels, batch.labels[3:])
        assert part.boxes_labelled == batch.boxes_labelled[3:]


def test_a_stream_passes_over_unreadable_samples_and_counts_them(tmp_path: Path) -> None:
    mine = write_folder(tmp_path / 'mine')
    for name in ('001', '002', '003', '004', '005'):
        (mine / 'images' / f'{name}.png').write_bytes(b'broken')
    config = tiny_config(batch_size=4, data=(f'folder:{mine}',))
    stream = TrainingStream(config, sources=open_sources(config))
    batches = [next(stream) for _ in range(3)]
    assert all(b.images.shape[0] == 4 for b in batches) and stream.skipped > 0
    for name in ('006', '007', '008', '009', '011'):
        (mine / 'images' / f'{name}.png').write_bytes(b'broken')
    with pytest.raises(DataError, match='unreadable samples in a row'):
        for _ in range(5):
            next(TrainingStream(config, sources=open_sources(config)))


def test_detection_loss_leaves_out_frames_without_box_labels() -> None:
    images = torch.rand(2, 3, 96, 192)
    labels = torch.zeros(2, 96, 192, dtype=torch.long)
    car = np.array([class_id('car')])
    boxes = [np.array([[10, 10, 60, 50]], np.float32), np.array([[90, 20, 150, 70]], np.float32)]
    moved = [boxes[0], boxes[1] + 16.0]  # frame 1's boxes change
    model = build_model(TINY)
    with torch.no_grad():
        maps = model(images, patch_budget=2, patch_sizes=(32, 64),
                     global_scale=0.5).global_detection
    channels = detection_channels(TINY)

    def loss(frame_boxes: list[np.ndarray], labelled: tuple[bool, bool]) -> float:
        batch = Batch(images, labels, frame_boxes, [car, car], labelled)
        return float(detection_loss(maps, batch, channels))

    assert loss(boxes, (True, False)) == loss(moved, (True, False))  # frame 1 is left out
    assert loss(boxes, (True, True)) != loss(moved, (True, True))
    assert loss(boxes, (False, False)) == 0.0


def test_cli_trains_on_a_mix_from_given_weights_and_writes_curves(tmp_path: Path) -> None:
    mine = write_folder(tmp_path / 'mine')
    start = tmp_path / 'start.safetensors'
    torch.manual_seed(5)
    save_weights(build_model(TINY), start)
    yaml_file = tmp_path / 'train.yaml'
    values = {k: v for k, v in vars(tiny_config(steps=3, checkpoint_every=1)).items()
              if k not in ('model', 'data', 'init_weights')}
    yaml_file.write_text(json.dumps({**{k: list(v) if isinstance(v, tuple) else v
                                        for k, v in values.items()},
                                     'model': vars(TINY) | {'classes': list(TINY.classes),
                                                            'detection_classes': list(
                                                                TINY.detection_classes)}}),
                         encoding='utf-8')
    out = tmp_path / 'run'
    assert main(['--config', str(yaml_file), '--data', 'synthetic', '--data',
                 f'folder:{mine}:2', '--init-weights', str(start), '--out', str(out)]) == 0
    records = [json.loads(line) for line in (out / 'metrics.jsonl').read_text().splitlines()]
    assert [r['step'] for r in records] == [1, 2, 3]
    assert {'total', 'seg', 'det', 'learning_rate', 'skipped'} <= set(records[0])
    assert (out / 'training_curves.png').stat().st_size > 0
    trained = load_weights(out / 'patchdrivenet.safetensors')
    document = json.loads((out / 'patchdrivenet.json').read_text())
    assert document['metadata']['data'] == f'synthetic folder:{mine}:2'
    assert document['metadata']['init_weights'] == str(start)
    assert trained.config == TINY
    assert main(['--config', str(yaml_file), '--data', f'folder:{tmp_path}/absent',
                 '--out', str(tmp_path / 'bad')]) == 2


def test_fine_tuning_starts_from_the_given_weights(tmp_path: Path) -> None:
    start = tmp_path / 'start.safetensors'
    torch.manual_seed(9)
    save_weights(build_model(TINY), start)
    trainer = Trainer(tiny_config(init_weights=str(start)), tmp_path / 'run')
    for name, tensor in load_weights(start).state_dict().items():
        torch.testing.assert_close(trainer.model.state_dict()[name], tensor, rtol=0, atol=0)
    assert trainer.model.training


def test_validation_reads_the_held_out_split_and_scores_what_is_labelled(tmp_path: Path) -> None:
    mine = write_folder(tmp_path / 'mine')
    held_out = open_source(SourceSpec('folder', str(mine)), 'validation')
    assert len(held_out) == 2 and held_out.read(0).frame.image.shape == (HEIGHT, WIDTH, 3)
    kitti = write_kitti(tmp_path / 'kitti')
    config = tiny_config(validation_frames=3, data=(f'folder:{mine}', f'kitti-object:{kitti}'))
    samples = validation_samples(config, open_sources(config))
    assert len(samples) == 2 + 2  # folder 000, 010; KITTI 000000, 000010
    scores = validation_scores(build_model(TINY), config, 0.5, samples)
    assert set(scores) == {'val_miou', 'val_thin_iou', 'val_map50'}
    assert 0.0 <= scores['val_miou'] <= 1.0 and 0.0 <= scores['val_map50'] <= 1.0
    boxes_only = tiny_config(validation_frames=3, data=(f'kitti-object:{kitti}',))
    scored = validation_scores(build_model(TINY), boxes_only, 0.5,
                               validation_samples(boxes_only, open_sources(boxes_only)))
    assert np.isnan(scored['val_miou']) and not np.isnan(scored['val_map50'])


def test_validating_does_not_change_what_is_trained(tmp_path: Path) -> None:
    plain = Trainer(tiny_config(steps=3), tmp_path / 'plain').fit()
    trainer = Trainer(tiny_config(steps=3, validate_every=2, validation_frames=1),
                      tmp_path / 'validated')
    validated = trainer.fit()
    records = trainer.metrics.records()
    assert [r['step'] for r in records if 'val_miou' in r] == [2, 3]
    for name, tensor in load_file(plain).items():
        assert torch.equal(load_file(validated)[name], tensor), name
    assert plot_curves(records, tmp_path / 'curves.png').stat().st_size > 0
