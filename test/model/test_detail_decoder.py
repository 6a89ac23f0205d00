# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The optional stride-4 detail decoder of the global stream (ModelConfig.decoder_stride)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from patchdrivenet_ros.config import ConfigError, ModelConfig
from patchdrivenet_ros.model import PatchDriveNet, build_model
from patchdrivenet_ros.model.outputs import PatchDriveNetOutput

SIZES = (64, 128, 256)


def _pair(config: ModelConfig) -> tuple[PatchDriveNet, PatchDriveNet]:
    """Build the same weights with decoder stride 8 and 4 (the decoder untrained)."""
    torch.manual_seed(0)
    coarse = build_model(config).eval()
    fine = build_model(dataclasses.replace(config, decoder_stride=4)).eval()
    missing, unexpected = fine.load_state_dict(coarse.state_dict(), strict=False)
    assert not unexpected and all(name.startswith('detail_decoder.') for name in missing)
    return coarse, fine


def _outputs(config: ModelConfig, shape: tuple[int, int], budget: int, scale: float
             ) -> tuple[PatchDriveNetOutput, PatchDriveNetOutput]:
    """Run both decoders of _pair on one random frame (no gradients)."""
    coarse, fine = _pair(config)
    images = torch.rand(1, 3, *shape)
    settings = {'patch_budget': budget, 'patch_sizes': SIZES, 'global_scale': scale}
    with torch.inference_mode():
        return coarse(images, **settings), fine(images, **settings)


def test_logits_at_stride_4(small_config: ModelConfig) -> None:
    low, high = _outputs(small_config, (375, 1242), budget=3, scale=0.25)
    rows, cols = low.global_logits.shape[-2:]
    assert high.global_logits.shape[-2:] == (2 * rows, 2 * cols)
    assert high.logits.shape == low.logits.shape
    assert high.global_detection.heat.shape == low.global_detection.heat.shape
    assert torch.equal(high.chosen, low.chosen)


def test_untrained_decoder_returns_upsampled_logits(small_config: ModelConfig) -> None:
    low, high = _outputs(small_config, (200, 320), budget=0, scale=0.5)
    upsampled = F.interpolate(low.global_logits, size=high.global_logits.shape[-2:],
                              mode='bilinear', align_corners=False)
    torch.testing.assert_close(high.global_logits, upsampled)


def test_decoder_is_counted_and_trained(small_config: ModelConfig) -> None:
    coarse, fine = _pair(small_config)
    images = torch.rand(1, 3, 200, 320)
    with torch.inference_mode():
        low = coarse(images, patch_budget=0, patch_sizes=SIZES, global_scale=0.5)
    high = fine(images, patch_budget=0, patch_sizes=SIZES, global_scale=0.5)
    assert high.flops.item() > low.flops.item()
    high.global_logits.square().mean().backward()
    assert fine.detail_decoder is not None
    assert fine.detail_decoder.out.weight.grad is not None
    assert fine.detail_decoder.out.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('stride', [2, 6, 16])
def test_other_strides_refused(stride: int) -> None:
    with pytest.raises(ConfigError, match='decoder_stride'):
        ModelConfig(decoder_stride=stride)
