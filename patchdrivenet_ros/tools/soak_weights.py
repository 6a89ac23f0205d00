# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak section 3: broken weights files, loaded directly and given to the node.

Each case is a ``.safetensors`` path made from a freshly saved tiny model: missing, truncated,
a corrupted header, the config JSON of another model, a pickle renamed ``.safetensors`` whose
unpickling would create a marker file, and bytes flipped inside the tensor data with the header
intact (caught by the SHA-256 recorded beside the file). ``load_weights`` must raise one
WeightsError naming the file and the reason; the node given the file through its ``weights``
parameter must stop with one line saying so (the node refuses to start on an explicit weights
file it cannot load: engine.py ``PerceptionEngine.from_config``). The marker must never appear.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import pickle
import shutil
from typing import Any

from patchdrivenet_ros.tools.node_process import NodeProcess
from patchdrivenet_ros.tools.soak_figures import Figure, check
from patchdrivenet_ros.tools.soak_log import LogLine

SECTION = 'weights'


@dataclass(frozen=True)
class WeightsCase:
    """A broken weights file and the words its error must contain."""

    name: str
    path: Path
    reason: str


class _Marker:
    """Unpickling the bytes of one of these creates ``path`` (as a malicious file would)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (str(self.path), 'w')


def _tiny_config() -> Any:
    from patchdrivenet_ros.config import ModelConfig

    return ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16,
                       attention_heads=2)


def _with_config(path: Path, source: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` with a copy of ``source``'s config JSON beside it."""
    from patchdrivenet_ros.model.weights import config_path

    path.write_bytes(data)
    shutil.copyfile(config_path(source), config_path(path))
    return path


def make_cases(folder: Path, marker: Path) -> list[WeightsCase]:
    """Write the broken files under ``folder``; the pickle one would create ``marker``."""
    import torch

    from patchdrivenet_ros.config import config_to_mapping
    from patchdrivenet_ros.model.factory import build_model
    from patchdrivenet_ros.model.weights import CONFIG_KEY, config_path, save_weights

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    good = folder / 'good.safetensors'
    save_weights(build_model(_tiny_config()), good)
    data = good.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], 'little')
    corrupted = bytearray(data)
    corrupted[8:min(header_end, 72)] = bytes(range(64))[: min(header_end, 72) - 8]
    flipped = bytearray(data)
    for offset in range(len(data) - 4096, len(data), 7):
        flipped[offset] ^= 0x5A
    wrong = folder / 'wrong_config.safetensors'
    shutil.copyfile(good, wrong)
    other = config_to_mapping(type(_tiny_config())(width=16, refine_width=16,
                                                   patch_canonical=32, token_dim=16,
                                                   attention_heads=2))
    config_path(wrong).write_text(json.dumps({CONFIG_KEY: other, 'metadata': {}}),
                                  encoding='utf-8')
    return [
        WeightsCase('missing', folder / 'missing.safetensors', 'no such weights file'),
        WeightsCase('truncated', _with_config(folder / 'truncated.safetensors', good,
                                              data[: len(data) // 2]), 'unreadable weights'),
        WeightsCase('corrupted header', _with_config(folder / 'corrupted.safetensors', good,
                                                     bytes(corrupted)), 'unreadable weights'),
        WeightsCase('wrong config', wrong, 'do not fit the model'),
        WeightsCase('pickle renamed .safetensors',
                    _with_config(folder / 'pickled.safetensors', good,
                                 pickle.dumps(_Marker(marker))), 'unreadable weights'),
        WeightsCase('corrupted tensor bytes', _with_config(folder / 'flipped.safetensors', good,
                                                           bytes(flipped)),
                    'changed after it was saved'),
    ]


@dataclass(frozen=True)
class LoadOutcome:
    """What ``load_weights`` did with a case: the error's type and text ('' when it loaded)."""

    error_type: str
    message: str


def load_outcome(case: WeightsCase) -> LoadOutcome:
    """Call load_weights on the case's file; return what it raised."""
    from patchdrivenet_ros.model.weights import load_weights

    try:
        load_weights(case.path)
    except Exception as error:  # noqa: BLE001 - any type other than WeightsError is a miss
        return LoadOutcome(type(error).__name__, str(error))
    return LoadOutcome('', '')


def names_file(case: WeightsCase, text: str) -> bool:
    """Whether ``text`` names the case's file (or its config JSON beside it)."""
    return str(case.path) in text or str(case.path.with_suffix('.json')) in text


def clear_error(case: WeightsCase, outcome: LoadOutcome) -> bool:
    """Whether the outcome is one WeightsError naming the file and the expected reason."""
    return (outcome.error_type == 'WeightsError' and names_file(case, outcome.message)
            and case.reason in outcome.message and '\n' not in outcome.message)


def start_nodes(cases: list[WeightsCase], folder: Path) -> dict[str, NodeProcess]:
    """Start one node per case, ``weights`` set to the case's file."""
    return {case.name: NodeProcess(f'/soak_weights_{index}',
                                   [f'weights:={case.path}', 'threads:=1'],
                                   folder / f'node_{index}.log')
            for index, case in enumerate(cases)}


@dataclass(frozen=True)
class NodeOutcome:
    """How a node given a case's file ended: exit status (None: still serving), its lines."""

    exit_code: int | None
    lines: tuple[str, ...]

    def naming(self, case: WeightsCase) -> list[str]:
        """Return the lines that name the case's file."""
        return [line for line in self.lines if names_file(case, line)]


def node_outcome(node: NodeProcess, timeout_s: float) -> NodeOutcome:
    """Wait for the node to end (stopping it after ``timeout_s``); return how it ended."""
    code = node.wait_exit(timeout_s)
    lines: list[LogLine] = node.close()
    return NodeOutcome(code, tuple(line.text for line in lines if line.text.strip()))


def weights_figures(cases: list[WeightsCase], loads: dict[str, LoadOutcome],
                    nodes: dict[str, NodeOutcome], marker: Path) -> list[Figure]:
    """Figures of the section, one per case and way of loading, and the marker."""
    figures = []
    for case in cases:
        load, node = loads[case.name], nodes.get(case.name)
        said = f'{load.error_type}: {load.message}' if load.error_type else 'loaded, no error'
        figures.append(check(SECTION, f'{case.name}: load_weights', clear_error(case, load),
                             'one WeightsError naming file + reason', bool, said[:200]))
        if node is None:
            continue
        naming = node.naming(case)
        traceback = any('Traceback' in line for line in node.lines)
        stopped = node.exit_code not in (None, 0) and len(naming) == 1 and not traceback
        detail = (f'exit {node.exit_code}; ' + (naming[0][:200] if naming else
                                                f'{len(node.lines)} lines, none names the file'))
        figures.append(check(SECTION, f'{case.name}: node', stopped,
                             'stops, one line naming the file', bool, detail))
    figures.append(check(SECTION, 'code run from a pickle file', marker.exists(),
                         'marker file never created', lambda v: not v, str(marker)))
    return figures


__all__ = ['LoadOutcome', 'NodeOutcome', 'WeightsCase', 'clear_error', 'load_outcome',
           'make_cases', 'node_outcome', 'start_nodes', 'weights_figures']
