# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The fast class-id path of the global upsampling equals the argmax of the full upsampling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.fusion import LABEL_CELL, GlobalUpsampler


def smooth_logits(batch: int, classes: int, rows: int, cols: int, seed: int) -> torch.Tensor:
    """Blobby (B, C, h, w) logits with class regions and boundaries, like a segmentation's."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randn(batch, classes, max(2, rows // 3), max(2, cols // 3),
                         generator=generator) * 3
    return (F.interpolate(coarse, size=(rows, cols), mode='bilinear', align_corners=False)
            + 0.3 * torch.randn(batch, classes, rows, cols, generator=generator))


@pytest.mark.parametrize(('rows', 'cols', 'height', 'width'), [
    (12, 39, 375, 1242),  # KITTI at global scale 0.25: 31.8 px per cell, not an integer
    (43, 75, 900, 1600),  # nuScenes at global scale 0.375: 21 px cells
    (36, 64, 1080, 1920),  # an integer ratio (30 px cells)
    (5, 7, 37, 61),
    (1, 1, 16, 16),  # one cell: no neighbours
    (3, 1, 50, 9),
])
def test_labels_equal_the_argmax_of_the_upsampled_logits(rows: int, cols: int, height: int,
                                                          width: int) -> None:
    logits = smooth_logits(2, 13, rows, cols, seed=rows * cols)
    upsampler = GlobalUpsampler(logits, (height, width))
    expected = upsampler.block(0, height, 0, width).max(1).indices.to(torch.uint8)
    labels = upsampler.labels()
    assert labels.dtype == torch.uint8 and labels.shape == (2, height, width)
    assert torch.equal(labels, expected)


def test_labels_match_torch_bilinear_upsampling() -> None:
    logits = smooth_logits(1, 13, 12, 39, seed=3)
    reference = F.interpolate(logits, size=(375, 1242), mode='bilinear', align_corners=False)
    labels = GlobalUpsampler(logits, (375, 1242)).labels()
    agreement = (labels == reference.argmax(1)).float().mean()
    assert agreement > 0.9999  # float rounding of near-ties only


def test_uniform_cells_are_written_without_interpolation() -> None:
    logits = torch.zeros(1, 3, 4, 4)
    logits[:, 1] = 5.0  # class 1 everywhere
    upsampler = GlobalUpsampler(logits, (64, 64))
    upsampler.columns = torch.full_like(upsampler.columns, float('nan'))  # never read
    assert torch.equal(upsampler.labels(), torch.ones(1, 64, 64, dtype=torch.uint8))


@pytest.mark.parametrize(('rows', 'cols', 'cell', 'step'), [
    (5, 7, 4 * LABEL_CELL, 4),  # 8K frames have cells of about 6 * LABEL_CELL
    (6, 8, 2 * LABEL_CELL + 14, 2),  # 4K under global_max_pixels: 46 px cells
])
def test_large_cells_are_labelled_by_blocks_near_the_exact_boundaries(
        rows: int, cols: int, cell: int, step: int) -> None:
    height, width = rows * cell, cols * cell
    logits = smooth_logits(2, 13, rows, cols, seed=5)
    upsampler = GlobalUpsampler(logits, (height, width))
    exact = upsampler.block(0, height, 0, width).max(1).indices.to(torch.uint8)
    labels = upsampler.labels()
    assert labels.shape == exact.shape and labels.dtype == torch.uint8
    blocks = labels.view(2, height // step, step, width // step, step)
    assert torch.equal(blocks, blocks[:, :, :1, :, :1].expand_as(blocks))  # one label per block
    changed = labels != exact
    assert 0 < changed.float().mean() < 0.02
    boundary = torch.zeros_like(changed)
    boundary[:, 1:] |= exact[:, 1:] != exact[:, :-1]
    boundary[:, :, 1:] |= exact[:, :, 1:] != exact[:, :, :-1]
    near = F.max_pool2d(boundary[:, None].float(), 2 * step + 1, stride=1, padding=step)[:, 0]
    assert not bool((changed & (near == 0)).any())  # moved by at most step / 2 (+1) pixels
