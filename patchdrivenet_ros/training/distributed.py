# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The process group of a ``torchrun`` launch: who this process is and what it shares.

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK (and the rendezvous) in each process's
environment; without them, or with one process, training runs alone and nothing here talks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import os

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        """Whether other processes take part."""
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """Whether this process writes checkpoints, weights, metrics and progress."""
        return self.rank == 0

    def device(self, requested: torch.device) -> torch.device:
        """Return this process's device: its own GPU (LOCAL_RANK) when CUDA is requested."""
        if self.distributed and requested.type == 'cuda':
            return torch.device('cuda', self.local_rank)
        return requested

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the processes, in place; return it."""
        if self.distributed:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.distributed:
            dist.barrier()


ALONE = ProcessGroup()
"""A training process on its own."""


def join(environment: Mapping[str, str] | None = None,
         device: torch.device | None = None) -> ProcessGroup:
    """Join the process group torchrun describes in the environment (gloo; NCCL on CUDA)."""
    environment = os.environ if environment is None else environment
    world_size = int(environment.get('WORLD_SIZE', '1'))
    group = ProcessGroup(int(environment.get('RANK', '0')), world_size,
                         int(environment.get('LOCAL_RANK', '0')))
    if group.distributed and not dist.is_initialized():
        on_cuda = device is not None and device.type == 'cuda'
        if on_cuda:
            torch.cuda.set_device(group.local_rank)
        dist.init_process_group('nccl' if on_cuda else 'gloo')
    return group


def leave() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()
