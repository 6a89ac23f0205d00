# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Soak section 4: random parameter sets over the node's parameter services.

The node's parameters, types, ranges and read-only flags come from its ListParameters and
DescribeParameters services (choices from PerceptionConfig). Each set changes 1 to 4 of them,
through SetParameters or, one time in four, SetParametersAtomically, with values that are valid,
out of range, of the wrong type, lists, empty strings, unset, extreme, or for undeclared names.
Every request must be answered; a value that cannot be valid must be refused with a reason; an
applied value must read back through GetParameters; and after each set the node must still
answer a good frame.
"""

from __future__ import annotations

from collections import Counter
import dataclasses
from dataclasses import dataclass, field, replace
import math
from typing import Any

import numpy as np

from patchdrivenet_ros.config import PerceptionConfig, spec_of
from patchdrivenet_ros.tools.node_process import NodeProcess
from patchdrivenet_ros.tools.soak_figures import Figure, check, note
from patchdrivenet_ros.tools.soak_inputs import Spec, Stamper
from patchdrivenet_ros.tools.soak_node import NodeView, SoakClient

SECTION = 'parameters'
# rcl_interfaces/msg/ParameterType
NOT_SET, BOOL, INTEGER, DOUBLE, STRING = 0, 1, 2, 3, 4
BYTE_ARRAY, BOOL_ARRAY, INTEGER_ARRAY, DOUBLE_ARRAY, STRING_ARRAY = 5, 6, 7, 8, 9
SCALARS = (BOOL, INTEGER, DOUBLE, STRING)
ARRAYS = (BYTE_ARRAY, BOOL_ARRAY, INTEGER_ARRAY, DOUBLE_ARRAY, STRING_ARRAY)
_ELEMENT = {BOOL_ARRAY: BOOL, INTEGER_ARRAY: INTEGER, DOUBLE_ARRAY: DOUBLE, STRING_ARRAY: STRING}
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CATEGORIES = ('valid', 'out_of_range', 'wrong_type', 'list', 'empty_string', 'not_set',
              'extreme', 'unknown_name')
_WEIGHTS = (4, 2, 2, 1, 1, 1, 1, 1)


@dataclass(frozen=True)
class ParamInfo:
    """What the node says of one parameter (choices from PerceptionConfig)."""

    name: str
    type: int
    read_only: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """One value to set; ``invalid`` True: must be refused, None: either outcome is fine."""

    name: str
    category: str
    type: int
    value: Any
    invalid: bool | None


def config_choices() -> dict[str, tuple[str, ...]]:
    """Return the choices of the PerceptionConfig fields that have them."""
    return {f.name: spec_of(f).choices or () for f in dataclasses.fields(PerceptionConfig)
            if spec_of(f).choices}


def _text(rng: np.random.Generator, length: int) -> str:
    return ''.join(rng.choice(list('abcdefghijklmnopqrstuvwxyz_0123456789:/.'), length))


def _bounds(info: ParamInfo | None) -> tuple[float, float]:
    """Return the finite range to draw valid numbers from (±1000 where unbounded)."""
    low = info.low if info is not None and info.low is not None else -1000.0
    high = info.high if info is not None and info.high is not None else 1000.0
    low = low if math.isfinite(low) and abs(low) < 2**62 else -1000.0
    high = high if math.isfinite(high) and abs(high) < 2**62 else 1000.0
    return low, high


def _scalar(rng: np.random.Generator, kind: int, info: ParamInfo | None = None) -> Any:
    """Draw a value of a scalar type, in ``info``'s range and choices when given."""
    low, high = _bounds(info)
    if kind == BOOL:
        return bool(rng.integers(0, 2))
    if kind == INTEGER:
        return int(rng.integers(math.ceil(low), math.floor(high), endpoint=True))
    if kind == DOUBLE:
        return float(rng.uniform(low, high))
    if info is not None and info.choices:
        return str(rng.choice(info.choices))
    return _text(rng, int(rng.integers(1, 12)))


def _array(rng: np.random.Generator, kind: int) -> list[Any]:
    size = int(rng.integers(0, 5))
    if kind == BYTE_ARRAY:
        return [bytes([int(b)]) for b in rng.integers(0, 256, size)]
    return [_scalar(rng, _ELEMENT[kind]) for _ in range(size)]


def _in_range(info: ParamInfo, value: float) -> bool:
    if math.isnan(value):
        return False
    return ((info.low is None or value >= info.low)
            and (info.high is None or value <= info.high))


def _out_of_range(rng: np.random.Generator, info: ParamInfo) -> Any:
    """Draw a value of the right type just or far outside the range (or non-finite)."""
    low = info.low if info.low is not None else None
    high = info.high if info.high is not None else None
    if info.type == DOUBLE:
        options = [float('nan'), float('inf'), float('-inf')]
        options += [low - 1e-6 * max(1.0, abs(low)), low - 1e9] if low is not None else []
        options += [high + 1e-6 * max(1.0, abs(high)), high * 10 + 1e9] if high is not None else []
        return float(options[int(rng.integers(0, len(options)))])
    options_i = [int(low) - 1, INT64_MIN] if low is not None and low > INT64_MIN else []
    options_i += [int(high) + 1, INT64_MAX] if high is not None and high < INT64_MAX else []
    return int(options_i[int(rng.integers(0, len(options_i)))])


def random_attempt(rng: np.random.Generator, info: ParamInfo) -> Attempt:
    """Return one random value to set on the parameter ``info``."""
    category = str(rng.choice(CATEGORIES, p=np.array(_WEIGHTS) / sum(_WEIGHTS)))
    ranged = info.type in (INTEGER, DOUBLE) and (info.low is not None or info.high is not None)
    if category == 'out_of_range' and not ranged:
        category = 'wrong_type'
    if category == 'empty_string' and info.type != STRING:
        category = 'wrong_type'
    name, kind = info.name, info.type
    invalid: bool | None = True
    if category == 'valid':
        value: Any = (_scalar(rng, kind, info) if kind in SCALARS else
                      _array(rng, kind) if kind in ARRAYS else None)
        invalid = info.read_only
    elif category == 'out_of_range':
        value = _out_of_range(rng, info)
    elif category == 'wrong_type':
        kind = int(rng.choice([k for k in SCALARS if k != info.type]))
        value = _scalar(rng, kind)
    elif category == 'list':
        kind = int(rng.choice([k for k in ARRAYS if k != info.type]))
        value = _array(rng, kind)
    elif category == 'empty_string':
        value = ''
        invalid = True if info.read_only or info.choices else None
    elif category == 'not_set':
        kind, value = NOT_SET, None
    elif category == 'extreme':
        extremes: dict[int, list[Any]] = {
            INTEGER: [INT64_MIN, INT64_MAX], DOUBLE: [1e308, -1e308, 5e-324],
            STRING: ['x' * 10000, '\u2603' * 100], BOOL: [True, False]}
        choices = extremes.get(kind, [None])
        value = choices[int(rng.integers(0, len(choices)))]
        if kind in ARRAYS:
            value = [_scalar(rng, _ELEMENT.get(kind, INTEGER)) for _ in range(1000)]
            if kind == BYTE_ARRAY:
                value = [b'\x00'] * 1000
        invalid = _extreme_invalid(info, value)
    else:  # unknown_name
        name = 'soak_undeclared_' + _text(rng, 8)
        kind = int(rng.choice(SCALARS))
        value = _scalar(rng, kind)
    return Attempt(name, category, kind, value, invalid)


def _extreme_invalid(info: ParamInfo, value: Any) -> bool | None:
    """Whether an extreme value must be refused (None when it may be valid)."""
    if info.read_only:
        return True
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return not _in_range(info, float(value)) if (info.low, info.high) != (None, None) else None
    if isinstance(value, str):
        return True if info.choices else None
    return None


def random_set(rng: np.random.Generator, infos: list[ParamInfo]) -> list[Attempt]:
    """Return 1 to 4 attempts on distinct parameters."""
    size = int(rng.integers(1, min(4, len(infos)) + 1))
    picked = rng.choice(len(infos), size=size, replace=False)
    return [random_attempt(rng, infos[int(i)]) for i in picked]


def parameter_msg(attempt: Attempt) -> Any:
    """Return the rcl_interfaces/Parameter of an attempt."""
    from rcl_interfaces.msg import Parameter, ParameterValue

    value = ParameterValue(type=attempt.type)
    slot = {BOOL: 'bool_value', INTEGER: 'integer_value', DOUBLE: 'double_value',
            STRING: 'string_value', BYTE_ARRAY: 'byte_array_value',
            BOOL_ARRAY: 'bool_array_value', INTEGER_ARRAY: 'integer_array_value',
            DOUBLE_ARRAY: 'double_array_value', STRING_ARRAY: 'string_array_value'}
    if attempt.type in slot:
        setattr(value, slot[attempt.type], attempt.value)
    return Parameter(name=attempt.name, value=value)


def describe(client: SoakClient, fqn: str, timeout_s: float) -> list[ParamInfo]:
    """Ask the node for its parameters, their types, ranges and read-only flags."""
    from rcl_interfaces.srv import DescribeParameters, ListParameters

    listed = client.call(ListParameters, f'{fqn}/list_parameters', ListParameters.Request(),
                         timeout_s)
    if listed is None:
        return []
    names = sorted(listed.result.names)
    described = client.call(DescribeParameters, f'{fqn}/describe_parameters',
                            DescribeParameters.Request(names=names), timeout_s)
    if described is None:
        return []
    choices = config_choices()
    infos = []
    for descriptor in described.descriptors:
        low = high = None
        if descriptor.integer_range:
            low = descriptor.integer_range[0].from_value
            high = descriptor.integer_range[0].to_value
        if descriptor.floating_point_range:
            low = descriptor.floating_point_range[0].from_value
            high = descriptor.floating_point_range[0].to_value
        infos.append(ParamInfo(descriptor.name, int(descriptor.type), bool(descriptor.read_only),
                               low, high, choices.get(descriptor.name, ())))
    return infos


@dataclass
class ParamsResult:
    """Counts of one fuzz run."""

    sets: int = 0
    no_response: int = 0
    applied: Counter[str] = field(default_factory=Counter)  # by category
    refused: Counter[str] = field(default_factory=Counter)
    invalid_applied: list[str] = field(default_factory=list)
    refused_without_reason: int = 0
    readback_mismatch: list[str] = field(default_factory=list)
    good_sent: int = 0
    good_answered: int = 0
    unanswered_after: list[str] = field(default_factory=list)
    parameters: int = 0


def _same(attempt: Attempt, read: Any) -> bool:
    value = attempt.value
    if attempt.type == DOUBLE:
        return isinstance(read, float) and (read == value or (math.isnan(read)
                                                              and math.isnan(value)))
    if attempt.type in ARRAYS:
        return list(read) == list(value)
    return bool(read == value)


def _send_set(client: SoakClient, fqn: str, attempts: list[Attempt], atomically: bool,
              timeout_s: float) -> list[tuple[bool, str]] | None:
    """Send one set; return (successful, reason) per attempt, None when nothing answered."""
    from rcl_interfaces.srv import SetParameters, SetParametersAtomically

    params = [parameter_msg(a) for a in attempts]
    if atomically:
        response = client.call(SetParametersAtomically, f'{fqn}/set_parameters_atomically',
                               SetParametersAtomically.Request(parameters=params), timeout_s)
        if response is None:
            return None
        return [(response.result.successful, response.result.reason)] * len(attempts)
    response = client.call(SetParameters, f'{fqn}/set_parameters',
                           SetParameters.Request(parameters=params), timeout_s)
    if response is None or len(response.results) != len(attempts):
        return None
    return [(r.successful, r.reason) for r in response.results]


def _read_back(client: SoakClient, fqn: str, attempts: list[Attempt], timeout_s: float
               ) -> list[str]:
    """Return a line per applied attempt whose value does not read back."""
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python

    if not attempts:
        return []
    response = client.call(GetParameters, f'{fqn}/get_parameters',
                           GetParameters.Request(names=[a.name for a in attempts]), timeout_s)
    if response is None:
        return ['get_parameters did not answer']
    return [f'{a.name}: set {a.value!r:.40}, read {parameter_value_to_python(v)!r:.40}'
            for a, v in zip(attempts, response.values, strict=True)
            if not _same(a, parameter_value_to_python(v))]


def run_params(client: SoakClient, node: NodeProcess, view: NodeView, good: list[Spec],
               sets: int, rng: np.random.Generator, stamper: Stamper, timeout_s: float
               ) -> ParamsResult:
    """Send ``sets`` random parameter sets; after each, a good frame must be answered."""
    result = ParamsResult()
    infos = describe(client, node.fqn, timeout_s)
    result.parameters = len(infos)
    for index in range(sets if infos else 0):
        attempts = random_set(rng, infos)
        outcomes = _send_set(client, node.fqn, attempts, bool(rng.random() < 0.25), timeout_s)
        result.sets += 1
        if outcomes is None:
            result.no_response += 1
        else:
            applied = []
            for attempt, (successful, reason) in zip(attempts, outcomes, strict=True):
                (result.applied if successful else result.refused)[attempt.category] += 1
                if successful and attempt.invalid:
                    result.invalid_applied.append(f'{attempt.name}={attempt.value!r:.40}')
                if not successful and not reason:
                    result.refused_without_reason += 1
                if successful and attempt.type != NOT_SET:
                    applied.append(attempt)
            result.readback_mismatch += _read_back(client, node.fqn, applied, timeout_s)
        spec = replace(good[index % len(good)], stamp=stamper.next())
        client.send(view, spec)
        result.good_sent += 1
        if client.wait_answer(view, spec.stamp, timeout_s) is not None:
            result.good_answered += 1
        else:
            result.unanswered_after.append(', '.join(f'{a.name}={a.value!r:.30}'
                                                     for a in attempts))
        if not node.alive():
            break
    return result


def params_figures(result: ParamsResult) -> list[Figure]:
    """Figures of the section."""
    applied, refused = sum(result.applied.values()), sum(result.refused.values())
    return [
        note(SECTION, 'parameter sets sent', result.sets,
             f'{result.parameters} parameters; {applied} values applied, {refused} refused'),
        check(SECTION, 'requests answered', result.sets - result.no_response,
              f'= {result.sets}', lambda v: v == result.sets),
        check(SECTION, 'invalid values applied', len(result.invalid_applied), '0',
              lambda v: v == 0, '; '.join(result.invalid_applied[:3])),
        check(SECTION, 'refusals without a reason', result.refused_without_reason, '0',
              lambda v: v == 0),
        check(SECTION, 'applied values not read back', len(result.readback_mismatch), '0',
              lambda v: v == 0, '; '.join(result.readback_mismatch[:3])),
        check(SECTION, 'good frame answered after each set', result.good_answered,
              f'= {result.good_sent}', lambda v: v == result.good_sent,
              '; '.join(result.unanswered_after[:2])),
        note(SECTION, 'applied by category',
             ', '.join(f'{c} {result.applied[c]}/{result.applied[c] + result.refused[c]}'
                       for c in CATEGORIES if result.applied[c] + result.refused[c])),
    ]


__all__ = ['Attempt', 'ParamInfo', 'ParamsResult', 'describe', 'params_figures',
           'parameter_msg', 'random_attempt', 'random_set', 'run_params']
