# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Camera bytes reach the model as uint8.

Only the resized global input and the crops become float; they equal (crops) or round to a
grey level (global input) what the float frame gives.
"""

import numpy as np
import torch

from patchdrivenet_ros.model.crops import crop_patches
from patchdrivenet_ros.preprocess import (
    frames_to_pixels,
    pixels_to_float,
    resize_images,
)

CPU = torch.device('cpu')


def frames_to_float(frames: list[np.ndarray]) -> torch.Tensor:
    """Return the frames as the float tensor the model was fed before: (B, 3, H, W) in [0, 1]."""
    batch = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    return batch.to(torch.float32, memory_format=torch.contiguous_format) / 255.0


def camera_frame(seed: int = 0, size: tuple[int, int] = (120, 200)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def test_one_rgb_frame_is_a_view_of_the_camera_bytes_and_bgr_is_swapped():
    frame = camera_frame()
    pixels = frames_to_pixels([frame], CPU)
    assert pixels.dtype == torch.uint8 and pixels.shape == (1, 3, 120, 200)
    assert pixels.data_ptr() == frame.ctypes.data  # no copy of the frame
    swapped = frames_to_pixels([frame[..., ::-1].copy()], CPU, bgr=True)
    assert torch.equal(swapped, pixels)
    assert torch.equal(pixels_to_float(pixels), frames_to_float([frame]))


def test_bgr_batches_and_views_are_reordered_channels_last():
    frames = [camera_frame(0), camera_frame(1, (140, 230))[10:130, 15:215]]  # a strided view
    rgb = frames_to_pixels([np.ascontiguousarray(f) for f in frames], CPU)
    bgr = frames_to_pixels([f[..., ::-1] for f in frames], CPU, bgr=True)
    assert torch.equal(bgr, rgb)
    assert bgr.is_contiguous(memory_format=torch.channels_last)


def test_bytes_resize_to_within_one_grey_level_of_the_float_resize():
    frames = [camera_frame(0), camera_frame(1)]
    pixels, floats = frames_to_pixels(frames, CPU), frames_to_float(frames)
    small = resize_images(pixels, (48, 80))
    reference = resize_images(floats, (48, 80))
    assert small.dtype == torch.float32 and small.shape == reference.shape
    difference = (small - reference).abs()
    assert float(difference.max()) <= 1.0 / 255 + 1e-6
    assert float(difference.mean()) < 0.5 / 255
    assert torch.equal(resize_images(pixels, (120, 200)), floats)  # same size: converted only


def test_crops_of_bytes_equal_crops_of_the_float_frame():
    frames = [camera_frame(0), camera_frame(1)]
    boxes = np.array([[0, 0, 64, 64], [40, 20, 72, 52], [8, 8, 128, 118]])  # down, same, down
    which = np.array([0, 1, 1])
    from_bytes = crop_patches(frames_to_pixels(frames, CPU), which, boxes, 32)
    from_floats = crop_patches(frames_to_float(frames), which, boxes, 32)
    assert from_bytes.dtype == torch.float32
    assert torch.equal(from_bytes, from_floats)
