# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Reuse of the global stream: its cached features, warped by the measured motion.

Where a stream's scene barely changes, the global stream's features of an earlier frame,
moved along the optical flow, stand in for a fresh encoding. Everything decoded from them
(masks, boxes, the patch priorities) then moves with the measured motion. One frame, as the
engine uses it (``previous`` is the stream's grey frame before ``TemporalState.advance``)::

    motion = frame_motion(previous, grey, flow, scale)
    if may_reuse_global(state.global_entry, motion, state.frame_index, limit_px, max_age):
        encoded = warp_global(state.global_entry.features, flow, scale)

A change the flow cannot explain (a scene cut, a car appearing, light switching) or content
entering the frame (turning, driving fast) makes the stream encode afresh on that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.model.outputs import GlobalFeatures

PHOTOMETRIC_TOLERANCE = 24
"""Grey levels by which a pixel may differ from the previous frame moved along the flow."""
MAX_UNEXPLAINED = 0.05
"""Largest share of pixels the flow may leave unexplained for the global features to be reused."""
MAX_ENTERING = 0.05
"""Largest share of pixels whose content entered the frame since the features were encoded."""
STILL_CELLS = 0.02
"""Motion (global cells) under which the cached features are taken as they are, not resampled."""


@dataclass(frozen=True)
class FrameMotion:
    """How a stream's frame moved since the previous one."""

    magnitude_px: float  # 90th percentile of the flow's length, full-resolution pixels
    unexplained: float  # share of pixels the previous frame, moved by the flow, does not match
    entering: float  # share of pixels whose content lay outside the previous frame


@dataclass(frozen=True)
class CachedGlobal:
    """A stream's global features (a batch of one), moved to the latest frame."""

    features: GlobalFeatures
    computed_at: int  # frame index of the encoding they come from (warping keeps it)
    entered: float = 0.0  # share of the frame that entered since (summed over the frames)


def _sources(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return where each pixel's content lay in the previous frame, (h, w) x and y each.

    The flow maps previous -> current; the source of current pixel x is taken as x - flow(x),
    exact for a uniform motion and first-order accurate for a smooth one.
    """
    height, width = flow.shape[:2]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32),
                                np.arange(height, dtype=np.float32))
    return columns - flow[:, :, 0], rows - flow[:, :, 1]


def frame_motion(previous: np.ndarray, current: np.ndarray, flow: np.ndarray,
                 scale: float) -> FrameMotion:
    """Measure the motion of ``current`` against ``previous`` ((h, w) uint8 grey, low-res).

    ``flow`` is the (h, w, 2) previous -> current flow in low-res pixels, ``scale`` the low-res
    size relative to full resolution.
    """
    if previous.shape != current.shape or flow.shape[:2] != current.shape:
        raise ValueError(f'frames {previous.shape}, {current.shape} and flow {flow.shape} differ')
    if scale <= 0:
        raise ValueError(f'scale must be positive, got {scale}')
    height, width = current.shape
    source_x, source_y = _sources(flow)
    inside = ((source_x >= 0) & (source_x <= width - 1)
              & (source_y >= 0) & (source_y <= height - 1))  # (h, w)
    moved = cv2.remap(previous, source_x, source_y, cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)  # (h, w)
    differs = cv2.absdiff(moved, current) > PHOTOMETRIC_TOLERANCE  # (h, w)
    length = cv2.magnitude(flow[:, :, 0], flow[:, :, 1])  # (h, w); 20x numpy's norm here
    return FrameMotion(
        magnitude_px=float(np.percentile(length, 90)) / scale,
        unexplained=float(np.count_nonzero(differs & inside)) / current.size,
        entering=float(np.count_nonzero(~inside)) / current.size,
    )


def may_reuse_global(entry: CachedGlobal | None, motion: FrameMotion | None, frame_index: int,
                     limit_px: float, max_age: int) -> bool:
    """Whether a stream's cached global features may stand in for this frame's.

    They may when they exist, are at most ``max_age`` frames old, the frame moved by at most
    ``limit_px`` (90th percentile, full-resolution pixels; 0 never reuses), the flow explains
    the change, and little content entered the frame since they were encoded.
    """
    return (entry is not None and motion is not None and limit_px > 0
            and frame_index - entry.computed_at <= max_age
            and motion.magnitude_px <= limit_px
            and motion.unexplained <= MAX_UNEXPLAINED
            and entry.entered + motion.entering <= MAX_ENTERING)


def _resample(tensors: list[torch.Tensor], shift: np.ndarray) -> list[torch.Tensor]:
    """Move (1, C, h, w) ``tensors`` of one grid by ``shift`` (h, w, 2) in cells (bilinear)."""
    rows, columns = shift.shape[:2]
    source_x, source_y = _sources(shift.astype(np.float32))
    grid = np.stack([2.0 * source_x / max(columns - 1, 1) - 1.0,
                     2.0 * source_y / max(rows - 1, 1) - 1.0], axis=-1)  # (h, w, 2)
    sampler = torch.from_numpy(grid[None]).to(tensors[0].device, tensors[0].dtype)
    return [F.grid_sample(t, sampler, mode='bilinear', padding_mode='border',
                          align_corners=True) for t in tensors]


def warp_global(cached: GlobalFeatures, flow: np.ndarray, scale: float) -> GlobalFeatures:
    """Move one frame's global features along the (h, w, 2) low-res flow to the next frame.

    Below ``STILL_CELLS`` of motion everywhere the features are returned as they are, so a still
    scene reuses them exactly.
    """
    rows, columns = cached.cells
    cell_x, cell_y = cached.cell_size
    per_cell = cv2.resize(flow, (columns, rows), interpolation=cv2.INTER_AREA)  # (h, w, 2)
    cell_px = np.array([cell_x, cell_y], dtype=np.float32) * scale  # low-res px per cell
    shift = (per_cell.reshape(rows, columns, 2) / cell_px).astype(np.float32)  # cells
    if float(np.abs(shift).max()) < STILL_CELLS:
        return cached
    detail = None
    if cached.detail is not None:
        fine = cv2.resize(shift, (2 * columns, 2 * rows), interpolation=cv2.INTER_LINEAR)
        (detail,) = _resample([cached.detail], 2.0 * fine.reshape(2 * rows, 2 * columns, 2))
    features, priority = _resample([cached.features, cached.priority], shift)
    return GlobalFeatures(features, priority, cached.input_size, cached.cells, detail)


__all__ = ['CachedGlobal', 'FrameMotion', 'frame_motion', 'may_reuse_global', 'warp_global']
