# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The convolution-heavy stages through ONNX Runtime on CPU (``PerceptionConfig.backend``).

Three stages are exported from the engine's inference copy when the engine is built: the global
encoder (backbone and neck, before the crop to the valid cells), and the patch encoder and
decoder of the refinement stream. Attention, heads on cropped features, fusion and decoding
stay in torch. Outputs equal torch's to float rounding (tested). A stage runs through ONNX
Runtime only for CPU tensors; on another device the torch modules run as before.

ONNX Runtime's work is invisible to the FLOP counter's hooks, so each stage counts once per
input shape by running its torch module (the global encoder per frame size, the patch stages
per patch, times the number of patches) and adds that count afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING
import warnings

import torch
from torch import nn

from patchdrivenet_ros.model.flops import FlopCounter

if TYPE_CHECKING:
    from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet


class _GlobalEncoder(nn.Module):
    def __init__(self, model: PatchDriveNet) -> None:
        super().__init__()
        self.backbone, self.neck = model.backbone, model.neck

    def forward(self, padded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        levels = self.backbone(padded)
        return self.neck(levels[1:]), levels[0]


class _PatchEncoder(nn.Module):
    def __init__(self, model: PatchDriveNet) -> None:
        super().__init__()
        self.refine = model.refine

    def forward(self, crops: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.refine.encode(crops, context)


class _PatchDecoder(nn.Module):
    def __init__(self, model: PatchDriveNet) -> None:
        super().__init__()
        self.refine = model.refine

    def forward(self, x2: torch.Tensor, x4: torch.Tensor, x8: torch.Tensor,
                film: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.refine.decode(x2, x4, x8, film)


class OnnxStage:
    """One exported module: call it with CPU tensors, get CPU tensors back."""

    def __init__(self, module: nn.Module, example: Sequence[torch.Tensor],
                 inputs: Sequence[str], outputs: Sequence[str], dynamic: dict[str, dict[int, str]],
                 threads: int, counter: FlopCounter, per_item: bool) -> None:
        import onnxruntime

        with tempfile.TemporaryDirectory() as folder, torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore', (DeprecationWarning, FutureWarning, UserWarning))
            path = Path(folder) / 'stage.onnx'
            torch.onnx.export(module, tuple(example), path, dynamo=False, opset_version=17,
                              input_names=list(inputs), output_names=list(outputs),
                              dynamic_axes=dynamic)
            exported = path.read_bytes()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        # Idle ONNX Runtime threads would spin and take the cores from the torch stages between.
        options.add_session_config_entry('session.intra_op.allow_spinning', '0')
        self._session = onnxruntime.InferenceSession(exported, options,
                                                     providers=['CPUExecutionProvider'])
        self._module = module
        self._inputs = tuple(inputs)
        self._counter = counter
        self._per_item = per_item  # FLOPs scale with the batch (patches); else per shape
        self._flops: dict[tuple[int, ...], float] = {}

    @property
    def threads(self) -> int:
        """The session's intra-op thread count."""
        return int(self._session.get_session_options().intra_op_num_threads)

    def _count(self, tensors: Sequence[torch.Tensor]) -> float:
        """FLOPs of one call, from one torch run per shape (per item when per_item)."""
        batch = tensors[0].shape[0]
        sample = [t[:1] for t in tensors] if self._per_item else list(tensors)
        key = tuple(size for t in sample for size in t.shape)
        if key not in self._flops:
            before = self._counter.total()
            with torch.no_grad():
                self._module(*sample)
            self._flops[key] = self._counter.total() - before
            self._counter.add(-self._flops[key])  # that run was for counting only
        return self._flops[key] * (batch if self._per_item else 1)

    def __call__(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Run the stage; counts its FLOPs in the counter's current scope."""
        feed = {name: t.detach().contiguous().numpy() for name, t in
                zip(self._inputs, tensors, strict=True)}
        outputs = self._session.run(None, feed)
        self._counter.add(self._count(tensors))
        return tuple(torch.from_numpy(o) for o in outputs)


def use_onnxruntime(model: PatchDriveNet, threads: int) -> None:
    """Run the global encoder and the patch encoder and decoder through ONNX Runtime.

    ``model`` is an eval-mode model on CPU; the stages are exported from it once, here.
    """
    side = model.patch_side
    counter = model.flop_counter
    channels = model.refine.context_channels
    film = 2 * model.refine.bottleneck_channels
    padded = torch.zeros(1, 3, 64, 96)
    crops, context = torch.zeros(2, 3, side, side), torch.zeros(2, channels, side // 8, side // 8)
    with torch.no_grad():
        x2, x4, x8 = model.refine.encode(crops, context)
    model.global_runner = OnnxStage(
        _GlobalEncoder(model), [padded], ['image'], ['features', 'detail'],
        {'image': {0: 'batch', 2: 'height', 3: 'width'},
         'features': {0: 'batch', 2: 'rows', 3: 'cols'},
         'detail': {0: 'batch', 2: 'rows4', 3: 'cols4'}}, threads, counter, per_item=False)
    model.refine.encode_runner = OnnxStage(
        _PatchEncoder(model), [crops, context], ['crops', 'context'], ['x2', 'x4', 'x8'],
        {name: {0: 'patches'} for name in ('crops', 'context', 'x2', 'x4', 'x8')},
        threads, counter, per_item=True)
    model.refine.decode_runner = OnnxStage(
        _PatchDecoder(model), [x2, x4, x8, torch.zeros(2, film, 1, 1)],
        ['x2', 'x4', 'x8', 'film'], ['segment', 'detection'],
        {name: {0: 'patches'} for name in ('x2', 'x4', 'x8', 'film', 'segment', 'detection')},
        threads, counter, per_item=True)
