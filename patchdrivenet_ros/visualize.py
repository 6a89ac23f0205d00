# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Pictures of a FrameResult: patch attention, colour mask overlay, mosaics; numpy + OpenCV.

Used by the node (``patch_attention`` topic), the demo and the tools, so they all show the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from patchdrivenet_ros.classes import CLASS_COLORS_BGR, colorize
from patchdrivenet_ros.result import FrameResult, PatchPlan, PatchState

RECOMPUTED_BGR = (0, 230, 0)
"""Outline of a patch refined this frame (green)."""
REUSED_BGR = (255, 160, 0)
"""Outline of a patch that reused its cached result (blue)."""
_TEXT_BGR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def heat_overlay(image_bgr: np.ndarray, saliency: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend the saliency map (h, w) in [0, 1], scaled to the image, as a heat map over it."""
    height, width = image_bgr.shape[:2]
    if saliency.size == 0:
        return image_bgr.copy()
    clipped = np.clip(saliency.astype(np.float32), 0.0, 1.0)  # (h, w)
    heat = cv2.resize(clipped, (width, height), interpolation=cv2.INTER_LINEAR)  # (H, W)
    colored = cv2.applyColorMap((heat * 255.0).astype(np.uint8), cv2.COLORMAP_JET)  # (H, W, 3)
    return cv2.addWeighted(image_bgr, 1.0 - alpha, colored, alpha, 0.0)


def draw_patches(canvas_bgr: np.ndarray, plan: PatchPlan, thickness: int = 2) -> np.ndarray:
    """Outline the chosen patches on ``canvas_bgr`` in place: recomputed green, reused blue."""
    for box, state in zip(plan.boxes.tolist(), plan.states.tolist(), strict=True):
        x1, y1, x2, y2 = (int(v) for v in box)
        color = REUSED_BGR if state == PatchState.REUSED else RECOMPUTED_BGR
        cv2.rectangle(canvas_bgr, (x1, y1), (x2 - 1, y2 - 1), color, thickness)
    return canvas_bgr


def _label(canvas_bgr: np.ndarray, text: str, origin: tuple[int, int],
           color: tuple[int, int, int], scale: float = 0.45) -> None:
    """Write ``text`` on a filled box whose top-left corner is ``origin``, inside the image."""
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    x = int(np.clip(origin[0], 0, max(0, canvas_bgr.shape[1] - text_w - 2)))
    y = int(np.clip(origin[1], 0, max(0, canvas_bgr.shape[0] - text_h - baseline - 2)))
    cv2.rectangle(canvas_bgr, (x, y), (x + text_w + 2, y + text_h + baseline + 2), color, -1)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 140 else _TEXT_BGR
    cv2.putText(canvas_bgr, text, (x + 1, y + text_h + 1), _FONT, scale, ink, 1, cv2.LINE_AA)


def draw_detections(
    canvas_bgr: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    class_ids: np.ndarray,
    class_names: Sequence[str],
    thickness: int = 2,
) -> np.ndarray:
    """Draw xyxy boxes (N, 4) with 'name score' labels in their class colours, in place."""
    for box, score, class_index in zip(
        boxes.tolist(), scores.tolist(), class_ids.tolist(), strict=True
    ):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        index = int(class_index)
        blue, green, red = (int(c) for c in CLASS_COLORS_BGR[index % len(CLASS_COLORS_BGR)])
        color = (blue, green, red)
        name = class_names[index] if 0 <= index < len(class_names) else str(index)
        cv2.rectangle(canvas_bgr, (x1, y1), (x2, y2), color, thickness)
        _label(canvas_bgr, f'{name} {score:.2f}', (x1, y1 - 16), color)
    return canvas_bgr


def render_patch_attention(
    image_bgr: np.ndarray, result: FrameResult, class_names: Sequence[str]
) -> np.ndarray:
    """Return the patch-attention picture (H, W, 3) BGR: heat, patches by state, boxes."""
    canvas = heat_overlay(image_bgr, result.saliency)
    draw_patches(canvas, result.plan)
    draw_detections(canvas, result.boxes, result.scores, result.class_ids, class_names)
    plan = result.plan
    stream = 'reused (moved along the flow)' if result.global_reused else 'encoded'
    _label(canvas, f'patches {plan.chosen}: recomputed {plan.recomputed}, reused {plan.reused}'
           f'; global stream {stream}', (4, 4), (40, 40, 40))
    return canvas


def mask_overlay(image_bgr: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend the colour mask of ``mask`` (H, W) class ids over the image."""
    return cv2.addWeighted(image_bgr, 1.0 - alpha, colorize(mask), alpha, 0.0)


def mosaic(tiles: Sequence[np.ndarray], titles: Sequence[str], columns: int = 1,
           width: int = 0) -> np.ndarray:
    """Stack BGR tiles (each resized to ``width``, default the first's) with titles in a grid."""
    if not tiles or len(tiles) != len(titles):
        raise ValueError('give one title per tile, at least one tile')
    width = width or tiles[0].shape[1]
    resized = []
    for tile, title in zip(tiles, titles, strict=True):
        height = max(1, round(tile.shape[0] * width / tile.shape[1]))
        image = cv2.resize(np.ascontiguousarray(tile), (width, height),
                           interpolation=cv2.INTER_AREA)
        _label(image, title, (4, image.shape[0] - 20), (40, 40, 40), scale=0.5)
        resized.append(image)
    tile_height = max(t.shape[0] for t in resized)
    blank = np.zeros((tile_height, width, 3), np.uint8)
    padded = [np.pad(t, ((0, tile_height - t.shape[0]), (0, 0), (0, 0))) for t in resized]
    padded += [blank] * (-len(padded) % columns)
    rows = [np.hstack(padded[i:i + columns]) for i in range(0, len(padded), columns)]
    return np.vstack(rows)


__all__ = [
    'RECOMPUTED_BGR', 'REUSED_BGR', 'draw_detections', 'draw_patches', 'heat_overlay',
    'mask_overlay', 'mosaic', 'render_patch_attention',
]
