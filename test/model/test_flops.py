# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from patchdrivenet_ros.model import PatchDriveNet


@pytest.mark.parametrize(('budget', 'scale'), [(6, 0.5), (0, 1.0)])
def test_counted_flops_match_torch_flop_counter(small_model: PatchDriveNet, budget: int,
                                                scale: float) -> None:
    images = torch.rand(2, 3, 217, 333)
    independent = FlopCounterMode(display=False)
    with torch.inference_mode(), independent:
        out = small_model(images, patch_budget=budget, patch_sizes=(32, 64, 128),
                          global_scale=scale)
    ours = small_model.flop_counter.total()
    assert ours == pytest.approx(independent.get_total_flops(), rel=0.01)  # as the README says
    assert out.flops.sum().item() == pytest.approx(ours)
    assert (small_model.flop_counter.totals.get('patch', 0.0) > 0) == (budget > 0)
