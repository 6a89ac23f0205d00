# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""A 2-process torchrun run on CPU (gloo) against one process with the same micro-batches."""

from pathlib import Path
import shutil
import subprocess
import sys

import pytest
from safetensors.torch import load_file
from test_trainer import tiny_config
import torch
import yaml

from patchdrivenet_ros.config import ConfigError
from patchdrivenet_ros.tools.train import load_train_config, main
from patchdrivenet_ros.training.checkpoint import save_checkpoint
from patchdrivenet_ros.training.data import TrainingStream
from patchdrivenet_ros.training.distributed import ProcessGroup, join
from patchdrivenet_ros.training.metrics_log import MetricsLog
from patchdrivenet_ros.training.trainer import Trainer

RECIPE = {
    'model': {'width': 8, 'refine_width': 8, 'patch_canonical': 32, 'token_dim': 16,
              'attention_heads': 2},
    'frame_width': 256, 'frame_height': 128, 'crop_width': 192, 'crop_height': 96,
    'patch_sizes': [32, 64], 'patch_budget': 2, 'steps': 4, 'warmup_steps': 1,
    'batch_size': 4, 'micro_batches': 2, 'drive_length': 4, 'frame_stride': 2,
    'data_seeds': [5, 6, 7, 8], 'checkpoint_every': 2, 'device': 'cpu',
    'oracle_choice_fraction': 0.5, 'freeze_global_steps': 1,
}


def torchrun() -> str:
    found = shutil.which('torchrun', path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip('torchrun is not installed beside this Python')
    return found


def test_a_stream_of_some_slots_gives_those_slots_of_the_whole_batch():
    config = tiny_config(batch_size=4)
    whole = TrainingStream(config, start=1)
    second_half = TrainingStream(config, start=1, slots=range(2, 4))
    for _ in range(3):
        batch, part = next(whole), next(second_half)
        assert torch.equal(batch.images[2:], part.images)
        assert torch.equal(batch.labels[2:], part.labels)
        assert len(part) == 2 and part.boxes_labelled == batch.boxes_labelled[2:]


def test_micro_batches_must_divide_the_batch_and_be_shared_by_the_processes(tmp_path: Path):
    with pytest.raises(ConfigError, match='micro_batches'):
        tiny_config(batch_size=4, micro_batches=3)
    with pytest.raises(ConfigError, match='2 processes'):
        Trainer(tiny_config(batch_size=4, micro_batches=1), tmp_path,
                ProcessGroup(rank=0, world_size=2))


def test_without_torchrun_the_process_is_alone():
    group = join({})
    assert (group.rank, group.world_size, group.distributed, group.main) == (0, 1, False, True)


def test_each_process_takes_its_own_gpu_and_the_cpu_is_shared():
    second = ProcessGroup(rank=3, world_size=4, local_rank=1)  # 2nd process of the 2nd machine
    assert second.device(torch.device('cuda')) == torch.device('cuda', 1)
    assert second.device(torch.device('cpu')) == torch.device('cpu')
    assert not second.main
    assert ProcessGroup().device(torch.device('cuda', 0)) == torch.device('cuda', 0)


@pytest.fixture
def one_thread():
    """One torch thread, as torchrun gives each process: the float sums then run alike."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.timeout(600)
@pytest.mark.usefixtures('one_thread')
def test_two_processes_resume_and_train_what_one_process_trains(tmp_path: Path):
    recipe = tmp_path / 'recipe.yaml'
    recipe.write_text(yaml.safe_dump(RECIPE), encoding='utf-8')
    assert main(['--config', str(recipe), '--out', str(tmp_path / 'one')]) == 0
    # Interrupted after 2 steps (one process wrote the checkpoint); two processes go on.
    config = load_train_config(recipe, [])
    two = tmp_path / 'two'
    interrupted = Trainer(config, two)
    stream = TrainingStream(config)
    for _ in range(2):
        interrupted.train_step(next(stream))
    save_checkpoint(interrupted.checkpoint_path, interrupted.model, interrupted.optimizer, 2,
                    config)
    run = subprocess.run(
        [torchrun(), '--standalone', '--nproc_per_node=2', '-m', 'patchdrivenet_ros.tools.train',
         '--config', str(recipe), '--out', str(two)],
        capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count('resuming') == 1  # said once, by the first process
    one = load_file(tmp_path / 'one' / 'patchdrivenet.safetensors')
    distributed = load_file(two / 'patchdrivenet.safetensors')
    assert one.keys() == distributed.keys()
    for name, tensor in one.items():
        torch.testing.assert_close(distributed[name], tensor, rtol=1e-6, atol=1e-7, msg=name)
    steps = [record['step'] for record in MetricsLog(two / 'metrics.jsonl').records()]
    assert steps == [3, 4]  # written once per step, by the first process
    reference = MetricsLog(tmp_path / 'one' / 'metrics.jsonl').records()[2:]
    for logged, expected in zip(MetricsLog(two / 'metrics.jsonl').records(), reference,
                                strict=True):
        assert logged['total'] == pytest.approx(expected['total'], rel=1e-6)
