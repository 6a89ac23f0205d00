# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Patch logits written back into the full-resolution segmentation (logits and class ids)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.crops import resize_to_boxes
from patchdrivenet_ros.model.fusion import (
    GlobalUpsampler,
    fuse_labels,
    fuse_segmentation,
    patch_window,
)
from patchdrivenet_ros.model.outputs import PatchOutputs

CPU = torch.device('cpu')
CLASSES = 4


def _patches(logits: torch.Tensor, blend: torch.Tensor, weight: torch.Tensor) -> PatchOutputs:
    """PatchOutputs of the given segmentation tensors (detection and tokens are not fused)."""
    count = logits.shape[0]
    return PatchOutputs(logits=logits, blend=blend, weight=weight,
                        detection=torch.zeros(count, 6, 4, 4), token=torch.zeros(count, 8),
                        mixed=torch.zeros(count, 8))


def _upsampled(global_logits: torch.Tensor, input_size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(global_logits, size=input_size, mode='bilinear', align_corners=False)


def _reference(global_logits: torch.Tensor, patches: PatchOutputs, frames: np.ndarray,
               boxes: np.ndarray, input_size: tuple[int, int]) -> torch.Tensor:
    """Return the fused logits by the module docstring's formula, over whole frames at once."""
    fused = _upsampled(global_logits, input_size)
    maps = resize_to_boxes(torch.cat([patches.logits, patches.blend], 1), boxes)
    classes = global_logits.shape[1]
    for frame in range(global_logits.shape[0]):
        total = torch.zeros(1, *input_size)
        keep = torch.ones(1, *input_size)
        weighted = torch.zeros(classes, *input_size)
        for index in np.flatnonzero(frames == frame).tolist():
            x1, y1, x2, y2 = boxes[index].tolist()
            window = patch_window(boxes[index], input_size, CPU)
            a = torch.sigmoid(maps[index][classes:]) * patches.weight[index] * window
            total[:, y1:y2, x1:x2] += a
            keep[:, y1:y2, x1:x2] *= 1.0 - a
            weighted[:, y1:y2, x1:x2] += a * maps[index][:classes]
        alpha = 1.0 - keep
        fused[frame] = fused[frame] * (1.0 - alpha) + weighted * alpha / total.clamp(min=1e-6)
    return fused


SIZE = (40, 64)  # (H, W)
FRAMES = np.array([0, 0, 0, 0, 1, 1])
BOXES = np.array([
    [0, 0, 16, 16],  # overlaps the third only,
    [28, 0, 44, 16],  # which overlaps this one: one group through a chain
    [12, 0, 32, 16],
    [48, 24, 64, 40],  # apart, in the bottom-right corner
    [16, 8, 48, 40],  # frame 1: larger than the canonical patch, on the bottom border
    [8, 4, 24, 20],  # overlapping it
])


def _scene(seed: int = 0) -> tuple[torch.Tensor, PatchOutputs]:
    """Random global logits (2, C, 5, 8) and patches at BOXES with varied weights."""
    generator = torch.Generator().manual_seed(seed)
    global_logits = torch.randn(2, CLASSES, 5, 8, generator=generator)
    count = len(BOXES)
    patches = _patches(3.0 * torch.randn(count, CLASSES, 8, 8, generator=generator),
                       2.0 * torch.randn(count, 1, 8, 8, generator=generator),
                       0.3 + 0.7 * torch.rand(count, generator=generator))
    return global_logits, patches


def test_fused_logits_follow_the_blending_formula() -> None:
    global_logits, patches = _scene()
    with torch.no_grad():
        fused = fuse_segmentation(global_logits, patches, FRAMES, BOXES, SIZE)
        expected = _reference(global_logits, patches, FRAMES, BOXES, SIZE)
    assert fused.shape == (2, CLASSES, *SIZE)
    torch.testing.assert_close(fused, expected, rtol=1e-5, atol=1e-5)


def test_fused_labels_are_the_class_of_the_largest_fused_logit() -> None:
    global_logits, patches = _scene(1)
    with torch.no_grad():
        labels = fuse_labels(global_logits, patches, FRAMES, BOXES, SIZE)
        logits = fuse_segmentation(global_logits, patches, FRAMES, BOXES, SIZE)
    assert labels.dtype == torch.uint8 and labels.shape == (2, *SIZE)
    torch.testing.assert_close(labels, logits.argmax(1).to(torch.uint8), rtol=0, atol=0)


@pytest.mark.parametrize('fuse', [fuse_labels, fuse_segmentation])
def test_patches_change_the_mask_exactly_where_confident_and_disagreeing(fuse: object) -> None:
    generator = torch.Generator().manual_seed(2)
    size = (16, 24)
    global_logits = torch.randn(1, CLASSES, 4, 6, generator=generator)
    global_mask = _upsampled(global_logits, size).argmax(1)[0]  # (16, 24)
    box = np.array([[8, 0, 16, 8]])  # canonical size: written as is
    patch_labels = torch.randint(0, CLASSES, (8, 8), generator=generator)
    logits = 10.0 * F.one_hot(patch_labels, CLASSES).permute(2, 0, 1).float()[None]
    confident = torch.zeros(16, 24, dtype=torch.bool)
    inner = torch.rand(7, 6, generator=generator) < 0.6  # away from the feathered sides
    confident[0:7, 9:15] = inner
    blend = torch.where(confident[0:8, 8:16], 30.0, -30.0)[None, None]
    patches = _patches(logits, blend, torch.ones(1))
    with torch.no_grad():
        out = fuse(global_logits, patches, np.array([0]), box, size)  # type: ignore[operator]
    mask = out[0] if out.dtype == torch.uint8 else out.argmax(1)[0]
    patch_mask = torch.zeros(16, 24, dtype=torch.long)
    patch_mask[0:8, 8:16] = patch_labels
    disagree = patch_mask != global_mask
    changed = mask.long() != global_mask
    assert (confident & disagree).any() and (confident & ~disagree).any()
    torch.testing.assert_close(changed, confident & disagree, rtol=0, atol=0)
    torch.testing.assert_close(mask.long()[confident], patch_mask[confident], rtol=0, atol=0)


def test_patches_inside_the_extent_of_another_group_keep_their_labels() -> None:
    # The last two patches overlap (one group); their bounding box [6, 6, 36, 36] also holds
    # the first two, which overlap nothing.
    boxes = np.array([[6, 26, 14, 34], [26, 6, 34, 14], [6, 6, 16, 16], [15, 15, 36, 36]])
    generator = torch.Generator().manual_seed(6)
    global_logits = torch.randn(1, CLASSES, 6, 6, generator=generator)
    patches = _patches(5.0 * torch.randn(4, CLASSES, 8, 8, generator=generator),
                       torch.full((4, 1, 8, 8), 5.0), torch.ones(4))
    frames = np.zeros(4, np.int64)
    with torch.no_grad():
        labels = fuse_labels(global_logits, patches, frames, boxes, (48, 48))
        logits = fuse_segmentation(global_logits, patches, frames, boxes, (48, 48))
    torch.testing.assert_close(labels, logits.argmax(1).to(torch.uint8), rtol=0, atol=0)
    global_mask = _upsampled(global_logits, (48, 48)).argmax(1)[0]
    for x1, y1, x2, y2 in boxes[:2].tolist():
        assert (labels[0, y1:y2, x1:x2] != global_mask[y1:y2, x1:x2]).any()


def test_no_patches_leave_the_global_prediction() -> None:
    global_logits, patches = _scene(3)
    none = patches.take(torch.zeros(0, dtype=torch.long))
    empty = np.zeros((0, 4), np.int64)
    frames = np.zeros(0, np.int64)
    with torch.no_grad():
        logits = fuse_segmentation(global_logits, none, frames, empty, SIZE)
        labels = fuse_labels(global_logits, none, frames, empty, SIZE)
    expected = _upsampled(global_logits, SIZE)
    torch.testing.assert_close(logits, expected, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(labels, expected.argmax(1).to(torch.uint8), rtol=0, atol=0)


def test_gradients_reach_global_and_patch_logits() -> None:
    global_logits, patches = _scene(4)
    global_logits.requires_grad_(True)
    patches.logits.requires_grad_(True)
    patches.blend.requires_grad_(True)
    fuse_segmentation(global_logits, patches, FRAMES, BOXES, SIZE).square().sum().backward()
    for tensor in (global_logits, patches.logits, patches.blend):
        assert tensor.grad is not None and torch.isfinite(tensor.grad).all()
        assert tensor.grad.abs().sum() > 0


@pytest.mark.parametrize(('rows', 'cols', 'size'), [(5, 7, (37, 50)), (6, 8, (6, 8)),
                                                    (9, 4, (5, 12)), (4, 9, (6, 5))])
def test_upsampler_blocks_equal_bilinear_interpolation(rows: int, cols: int,
                                                       size: tuple[int, int]) -> None:
    logits = torch.randn(2, 3, rows, cols, generator=torch.Generator().manual_seed(5))
    expected = _upsampled(logits, size)
    upsampler = GlobalUpsampler(logits, size)
    height, width = size
    torch.testing.assert_close(upsampler.block(0, height, 0, width), expected)
    y0, y1, x0, x1 = height // 3, height - 1, width // 4, width // 2 + 1
    torch.testing.assert_close(upsampler.block(y0, y1, x0, x1), expected[:, :, y0:y1, x0:x1])
    for frame in (0, 1):
        torch.testing.assert_close(upsampler.block(y0, y1, x0, x1, frame=frame),
                                   expected[frame:frame + 1, :, y0:y1, x0:x1])
    labels = upsampler.labels()
    assert labels.dtype == torch.uint8
    torch.testing.assert_close(labels, expected.argmax(1).to(torch.uint8), rtol=0, atol=0)


def test_upsampled_labels_interpolate_where_neighbouring_cells_disagree() -> None:
    logits = torch.zeros(1, 2, 4, 5)
    logits[0, 0] = 1.0  # class 0 everywhere but in the bottom-left cell
    logits[0, :, 3, 0] = torch.tensor([0.0, 2.0])
    labels = GlobalUpsampler(logits, (6, 5)).labels()[0]
    # Output row 4 lies halfway between cell rows 2 and 3: (0.5, 1.0) there, class 1.
    expected = torch.zeros(6, 5, dtype=torch.uint8)
    expected[4:, 0] = 1
    torch.testing.assert_close(labels, expected, rtol=0, atol=0)


def test_upsampler_keeps_double_precision() -> None:
    logits = torch.randn(1, 2, 3, 5, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(7))
    block = GlobalUpsampler(logits, (29, 31)).block(0, 29, 0, 31)
    assert block.dtype == torch.float64
    torch.testing.assert_close(block, _upsampled(logits, (29, 31)), rtol=0, atol=1e-12)


def test_patch_window_is_one_on_frame_sides_and_fades_at_inner_sides() -> None:
    window = patch_window(np.array([0, 16, 32, 48]), (48, 64), CPU)[0]  # (32, 32)
    assert window.shape == (32, 32)
    # Left and bottom lie on the frame border: no fade there.
    torch.testing.assert_close(window[-1, :4], torch.ones(4))
    torch.testing.assert_close(window[4:, 0], torch.ones(28))
    # Top and right lie inside: the window falls towards them over 32 / FEATHER = 4 px.
    torch.testing.assert_close(window[4:, :28], torch.ones(28, 28))
    top = window[:4, 0]
    right = window[-1, 28:]
    assert (top[1:] > top[:-1]).all() and (right[1:] < right[:-1]).all()
    assert 0.0 < top[0] < 0.05 and 0.0 < right[-1] < 0.05
    torch.testing.assert_close(top, right.flip(0))
    assert ((window >= 0) & (window <= 1)).all()


@pytest.mark.parametrize(('box', 'flat_rows', 'flat_cols'), [
    ([40, 0, 64, 20], (True, False), (False, True)),  # on the top and right borders
    ([1, 1, 25, 21], (False, False), (False, False)),  # one pixel in from top and left
])
def test_patch_window_sides(box: list[int], flat_rows: tuple[bool, bool],
                            flat_cols: tuple[bool, bool]) -> None:
    window = patch_window(np.array(box), (48, 64), CPU)[0]
    middle_row, middle_col = window[window.shape[0] // 2], window[:, window.shape[1] // 2]
    ends = (middle_col[0].item(), middle_col[-1].item(), middle_row[0].item(),
            middle_row[-1].item())
    assert tuple(end == 1.0 for end in ends[:2]) == flat_rows
    assert tuple(end == 1.0 for end in ends[2:]) == flat_cols
    assert all(0.0 < end < 0.2 or end == 1.0 for end in ends)


def test_patch_window_of_a_tiny_patch_still_fades() -> None:
    window = patch_window(np.array([10, 10, 14, 12]), (48, 64), CPU)[0]  # margin of 1 px
    assert window.shape == (2, 4)
    expected = torch.tensor([[0.5 ** 2, 0.5, 0.5, 0.5 ** 2]] * 2)  # smoothstep(1/2) = 1/2
    torch.testing.assert_close(window, expected)


def test_fusion_computes_on_the_device_of_its_inputs() -> None:
    meta = torch.device('meta')  # shapes only: stands in for an accelerator
    assert patch_window(np.array([8, 8, 24, 24]), (40, 64), meta).device == meta
    global_logits, patches = _scene(8)
    global_logits = global_logits.to(meta)
    patches = PatchOutputs(*(t.to(meta) for t in (patches.logits, patches.blend, patches.weight,
                                                  patches.detection, patches.token,
                                                  patches.mixed)))
    assert GlobalUpsampler(global_logits, SIZE).block(0, 9, 3, 17, frame=1).device == meta
    with torch.no_grad():
        fused = fuse_segmentation(global_logits, patches, FRAMES, BOXES, SIZE)
    assert fused.device == meta and fused.shape == (2, CLASSES, *SIZE)
