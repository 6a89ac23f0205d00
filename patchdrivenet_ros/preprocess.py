# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Camera frames to model input and to the low-resolution grey frames of optical flow."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch


def check_frames(frames: Sequence[np.ndarray]) -> tuple[int, int]:
    """Check frames are (H, W, 3) uint8 of one size; return (H, W)."""
    if not frames:
        raise ValueError('no frames given')
    shape = frames[0].shape
    for frame in frames:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f'expected (H, W, 3) uint8 frames, got {frame.shape} {frame.dtype}')
        if frame.shape != shape:
            raise ValueError(f'frames of one call must share a size: {shape} vs {frame.shape}')
    return int(shape[0]), int(shape[1])


def frames_to_tensor(frames: Sequence[np.ndarray], device: torch.device,
                     bgr: bool = False) -> torch.Tensor:
    """Convert (H, W, 3) uint8 frames (views allowed) to (B, 3, H, W) float RGB in [0, 1].

    The bytes cross to the device once, as uint8; the float conversion happens there.
    """
    if len(frames) == 1 and all(stride >= 0 for stride in frames[0].strides):
        batch = frames[0][None]  # (1, H, W, 3) view, no copy
    else:
        batch = np.stack(frames)  # (B, H, W, 3)
    pixels = torch.from_numpy(batch).to(device, non_blocking=True)  # (B, H, W, 3) uint8
    images = pixels.permute(0, 3, 1, 2)  # (B, 3, H, W) view
    if bgr:
        images = images.flip(1)
    return images.to(torch.float32, memory_format=torch.contiguous_format).div_(255.0)


def grey_thumbnail(frame: np.ndarray, scale: float, bgr: bool = False) -> np.ndarray:
    """Return the (round(H * scale), round(W * scale)) uint8 grey frame used for optical flow."""
    height, width = frame.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)  # (h, w, 3)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY if bgr else cv2.COLOR_RGB2GRAY)  # (h, w)
