# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak section 1: malformed messages over DDS, interleaved with good frames.

Rounds of a burst of malformed messages (random kinds of soak_inputs.KINDS, each to the node of
its transport, a short gap apart so the node can decode each) followed by one good frame per
node, sent once the burst is out and waited for before the next round: the node keeps only the
newest frame, so a good frame sent last is never replaced and must be answered. Every second
good frame carries an odd header (soak_inputs.ODD_HEADERS); those must be answered too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
import time

import numpy as np

from patchdrivenet_ros.tools.node_process import NodeProcess
from patchdrivenet_ros.tools.soak_figures import Figure, check, note
from patchdrivenet_ros.tools.soak_inputs import (
    KINDS,
    ODD_HEADERS,
    InputKind,
    Spec,
    Stamper,
    Transport,
    odd_header,
)
from patchdrivenet_ros.tools.soak_node import NodeView, SoakClient

SECTION = 'malformed'
ODD_EVERY = 2


@dataclass
class Target:
    """A node taking one transport, the client's view of it, and its good frames."""

    node: NodeProcess
    view: NodeView
    transport: Transport
    good: Sequence[Spec]  # the good frames as messages of the transport
    frames: Sequence[np.ndarray]  # the same frames, (H, W, 3) uint8 RGB


@dataclass
class MalformedResult:
    """What was sent and answered, and the nodes' counts before and after."""

    sent: Counter[str] = field(default_factory=Counter)
    good_sent: Counter[str] = field(default_factory=Counter)  # by header kind ('normal', ...)
    good_answered: Counter[str] = field(default_factory=Counter)
    header_changed: list[str] = field(default_factory=list)  # answers with another frame_id
    unanswered: list[str] = field(default_factory=list)
    before: dict[str, dict[str, str]] = field(default_factory=dict)
    after: dict[str, dict[str, str]] = field(default_factory=dict)
    seconds: float = 0.0


def _good_frame(target: Target, index: int, stamper: Stamper) -> tuple[str, Spec]:
    """Return (header kind, spec) of the good frame of round ``index``."""
    spec = target.good[index % len(target.good)]
    stamp = stamper.next()
    header = 'normal'
    frame_id = 'camera'
    if index % ODD_EVERY == ODD_EVERY - 1:
        header = ODD_HEADERS[(index // ODD_EVERY) % len(ODD_HEADERS)]
        frame_id, stamp = odd_header(header, stamp, index + 1)
    return header, replace(spec, frame_id=frame_id, stamp=stamp)


def _burst(client: SoakClient, targets: dict[str, Target], kinds: Sequence[InputKind],
           size: int, gap_s: float, rng: np.random.Generator, stamper: Stamper,
           result: MalformedResult) -> None:
    """Send ``size`` malformed messages of random kinds, ``gap_s`` apart."""
    for _ in range(size):
        kind = kinds[int(rng.integers(0, len(kinds)))]
        target = targets[kind.transport]
        frame = target.frames[int(rng.integers(0, len(target.frames)))]
        spec = replace(kind.build(rng, frame), stamp=stamper.next())
        client.send(target.view, spec)
        result.sent[kind.name] += 1
        time.sleep(gap_s)


def run_malformed(client: SoakClient, targets: dict[str, Target], count: int, burst: int,
                  gap_s: float, rng: np.random.Generator, stamper: Stamper,
                  answer_timeout_s: float, progress: Callable[[int], None] | None = None
                  ) -> MalformedResult:
    """Send ``count`` malformed messages in bursts, each followed by good frames."""
    kinds = [k for k in KINDS if k.transport in targets]
    result = MalformedResult()
    for name, target in targets.items():
        result.before[name] = client.settled(target.node, answer_timeout_s)
    started = time.perf_counter()
    index = 0
    while sum(result.sent.values()) < count:
        _burst(client, targets, kinds, min(burst, count - sum(result.sent.values())), gap_s,
               rng, stamper, result)
        waiting: list[tuple[str, Target, Spec]] = []
        for target in targets.values():
            header, spec = _good_frame(target, index, stamper)
            client.send(target.view, spec)
            result.good_sent[header] += 1
            waiting.append((header, target, spec))
        for header, target, spec in waiting:
            stamp = spec.stamp
            if client.wait_answer(target.view, stamp, answer_timeout_s) is not None:
                result.good_answered[header] += 1
                if target.view.frame_ids.get(stamp) != spec.frame_id:
                    result.header_changed.append(f'{header}: {spec.frame_id[:20]!r}')
            else:
                result.unanswered.append(f'{target.transport} {header} {stamp}')
        if not all(t.node.alive() for t in targets.values()):
            break
        index += 1
        if progress is not None:
            progress(sum(result.sent.values()))
    result.seconds = time.perf_counter() - started
    for name, target in targets.items():
        result.after[name] = client.settled(target.node, answer_timeout_s)
    return result


def _delta(result: MalformedResult, name: str, key: str) -> int:
    before, after = result.before.get(name, {}), result.after.get(name, {})
    return int(after.get(key, 0)) - int(before.get(key, 0))


def malformed_figures(result: MalformedResult) -> list[Figure]:
    """Figures of the section: good frames answered; what the nodes did with the bad ones."""
    refused = {k.name for k in KINDS if k.expect == 'refused'}
    sent_refused = sum(n for kind, n in result.sent.items() if kind in refused)
    good_sent, good_answered = sum(result.good_sent.values()), sum(result.good_answered.values())
    odd_sent = good_sent - result.good_sent['normal']
    odd_answered = good_answered - result.good_answered['normal']
    bad = sum(_delta(result, name, 'bad_frames') for name in result.after)
    received = sum(_delta(result, name, 'frames_in') for name in result.after)
    dropped = sum(_delta(result, name, 'dropped_frames') for name in result.after)
    failed = sum(_delta(result, name, 'failed_frames') for name in result.after)
    kinds = ', '.join(f'{kind} {n}' for kind, n in sorted(result.sent.items()))
    return [
        note(SECTION, 'malformed messages sent', sum(result.sent.values()),
             f'in {result.seconds:.0f} s: {kinds}'),
        check(SECTION, 'good frames answered (by stamp)', good_answered, f'= {good_sent} sent',
              lambda v: v == good_sent, '; '.join(result.unanswered[:3])),
        check(SECTION, 'odd-header frames answered', odd_answered, f'= {odd_sent} sent',
              lambda v: v == odd_sent,
              ', '.join(f'{h} {result.good_answered[h]}/{n}'
                        for h, n in sorted(result.good_sent.items()) if h != 'normal')),
        check(SECTION, 'answers with another frame_id', len(result.header_changed), '0',
              lambda v: v == 0, '; '.join(result.header_changed[:3])),
        note(SECTION, 'received by the nodes (frames_in)', received,
             f'of {sum(result.sent.values()) + good_sent} sent, good frames included'),
        note(SECTION, 'refused by the decoder (bad_frames)', bad,
             f'of {sent_refused} sent of refused kinds; the others were replaced by newer '
             'ones before decoding (dropped) or in the middleware (keep last 1)'),
        note(SECTION, 'replaced before decoding (dropped_frames)', dropped),
        note(SECTION, 'processing raised (failed_frames)', failed),
    ]


__all__ = ['MalformedResult', 'Target', 'malformed_figures', 'run_malformed']
