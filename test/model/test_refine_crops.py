# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""How patch crops are normalised for the refinement stream (ModelConfig.refine_crops)."""

from __future__ import annotations

import dataclasses

import torch

from patchdrivenet_ros.config import ModelConfig
from patchdrivenet_ros.model import PatchDriveNet, build_model
from patchdrivenet_ros.model.patchdrivenet import (
    DARK_CROP,
    EXPOSURE_MAX_GAIN,
    EXPOSURE_TARGET,
)

OVERRIDE = torch.tensor([[0, 0], [0, 3]])


def _refined_crops(model: PatchDriveNet, images: torch.Tensor) -> torch.Tensor:
    """Return the crops (K, 3, p, p) the refinement stream receives for OVERRIDE's patches."""
    seen: list[torch.Tensor] = []
    hook = model.refine.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    try:
        with torch.inference_mode():
            model(images, patch_budget=0, patch_sizes=(32, 64), global_scale=0.5,
                  chosen_override=OVERRIDE)
    finally:
        hook.remove()
    return seen[0]


def test_a_darkened_frame_reaches_the_refinement_at_the_same_contrast(
        small_config: ModelConfig) -> None:
    model = build_model(dataclasses.replace(small_config, refine_crops='contrast')).eval()
    torch.manual_seed(0)
    day = torch.rand(1, 3, 96, 160)
    night = 0.15 * day + 0.02  # darker and flatter, the same structure
    day_crops, night_crops = _refined_crops(model, day), _refined_crops(model, night)
    torch.testing.assert_close(night_crops, day_crops, atol=1e-4, rtol=1e-4)
    per_crop = day_crops.flatten(1)
    torch.testing.assert_close(per_crop.std(1), torch.ones(2), atol=1e-4, rtol=0)


def test_flat_crops_are_not_amplified(small_config: ModelConfig) -> None:
    model = build_model(dataclasses.replace(small_config, refine_crops='contrast')).eval()
    flat = torch.full((1, 3, 96, 160), 0.5)
    flat[..., ::2, :] += 0.002  # a ripple of half a grey level
    crops = _refined_crops(model, flat)
    assert crops.abs().max() < 0.1


def test_off_by_default_keeps_the_absolute_brightness(small_model: PatchDriveNet) -> None:
    torch.manual_seed(0)
    day = torch.rand(1, 3, 96, 160)
    day_crops, night_crops = _refined_crops(small_model, day), _refined_crops(small_model,
                                                                               0.15 * day)
    assert (night_crops - day_crops).abs().mean() > 0.5


def test_exposure_brightens_dark_crops_and_keeps_bright_ones(
        small_config: ModelConfig, small_model: PatchDriveNet) -> None:
    model = build_model(dataclasses.replace(small_config, refine_crops='exposure')).eval()
    model.load_state_dict(small_model.state_dict())
    torch.manual_seed(0)
    day = 0.5 + 0.4 * torch.rand(1, 3, 96, 160)  # every crop brighter than the target
    torch.testing.assert_close(_refined_crops(model, day), _refined_crops(small_model, day))
    night = 0.1 * day  # mean about 0.07: each crop scaled up to the target, colours kept
    crops = _refined_crops(model, night) * model.std + model.mean
    source = _refined_crops(small_model, night) * model.std + model.mean
    gain = EXPOSURE_TARGET / source.mean((1, 2, 3))
    assert bool((gain > 3).all())
    torch.testing.assert_close(crops, source * gain[:, None, None, None], atol=1e-4, rtol=1e-4)

def test_exposure_gain_is_bounded(small_config: ModelConfig) -> None:
    model = build_model(dataclasses.replace(small_config, refine_crops='exposure')).eval()
    black = torch.full((1, 3, 96, 160), 0.001)
    crops = _refined_crops(model, black) * model.std + model.mean
    torch.testing.assert_close(crops, torch.full_like(crops, 0.001 * EXPOSURE_MAX_GAIN),
                               atol=1e-4, rtol=0)


def test_contrast_dark_standardises_only_dark_crops(
        small_config: ModelConfig, small_model: PatchDriveNet) -> None:
    model = build_model(dataclasses.replace(small_config, refine_crops='contrast_dark')).eval()
    model.load_state_dict(small_model.state_dict())
    contrast = build_model(dataclasses.replace(small_config, refine_crops='contrast')).eval()
    torch.manual_seed(0)
    frame = 0.4 + 0.4 * torch.rand(1, 3, 96, 160)
    frame[..., 64:] *= 0.2  # the second crop (columns 96-159) is dark, the first is not
    crops, standardised = _refined_crops(model, frame), _refined_crops(contrast, frame)
    torch.testing.assert_close(crops[0], _refined_crops(small_model, frame)[0])
    torch.testing.assert_close(crops[1], standardised[1])
    assert frame[..., 96:].mean() < DARK_CROP < frame[..., :64].mean()
