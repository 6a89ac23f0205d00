# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS parameters declared from the PerceptionConfig fields, kept in step with one config.

Each field becomes one parameter with its description, range (IntegerRange /
FloatingPointRange from the FieldSpec), choices as constraints, and ``read_only`` unless the
field may change at runtime. A change is validated as a whole new PerceptionConfig
(``with_changes``): an invalid value is refused with ConfigError's reason and the old value kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import dataclasses
import typing
from typing import Any

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.node import Node
from rclpy.parameter import Parameter

from patchdrivenet_ros.config import (
    ConfigError,
    FieldSpec,
    PerceptionConfig,
    field_types,
    spec_of,
    with_changes,
)

_INT64_MAX = 2**63 - 1

_SCALAR_TYPES: dict[Any, Parameter.Type] = {
    bool: Parameter.Type.BOOL,
    int: Parameter.Type.INTEGER,
    float: Parameter.Type.DOUBLE,
    str: Parameter.Type.STRING,
}
_ARRAY_TYPES: dict[Any, Parameter.Type] = {
    int: Parameter.Type.INTEGER_ARRAY,
    float: Parameter.Type.DOUBLE_ARRAY,
    str: Parameter.Type.STRING_ARRAY,
    bool: Parameter.Type.BOOL_ARRAY,
}

ConfigListener = Callable[[PerceptionConfig, PerceptionConfig], None]
"""Called with (old, new) after a runtime change was accepted."""


def parameter_type(hint: Any) -> Parameter.Type:
    """Return the ROS parameter type of a config field annotation."""
    if typing.get_origin(hint) is tuple:
        return _ARRAY_TYPES[typing.get_args(hint)[0]]
    return _SCALAR_TYPES[hint]


def _range_text(spec: FieldSpec) -> str:
    """Describe the range and choices of a field for people reading the descriptor."""
    parts = []
    if spec.choices:
        parts.append('one of: ' + ', '.join(spec.choices))
    if spec.minimum is not None or spec.maximum is not None:
        low = '-inf' if spec.minimum is None else f'{spec.minimum:g}'
        high = 'inf' if spec.maximum is None else f'{spec.maximum:g}'
        parts.append(f'in [{low}, {high}]')
    return '; '.join(parts)


def parameter_descriptor(name: str, hint: Any, spec: FieldSpec) -> ParameterDescriptor:
    """Return the descriptor of one field: description, range, constraints, read-only."""
    kind = parameter_type(hint)
    descriptor = ParameterDescriptor(
        name=name,
        type=kind.value,
        description=spec.description + ('' if spec.runtime else ' (set at startup)'),
        additional_constraints=_range_text(spec),
        read_only=not spec.runtime,
    )
    has_range = spec.minimum is not None or spec.maximum is not None
    if kind == Parameter.Type.INTEGER and has_range:
        low = int(spec.minimum) if spec.minimum is not None else -_INT64_MAX
        high = int(spec.maximum) if spec.maximum is not None else _INT64_MAX
        descriptor.integer_range = [IntegerRange(from_value=low, to_value=high, step=0)]
    if kind == Parameter.Type.DOUBLE and has_range:
        low_f = float(spec.minimum) if spec.minimum is not None else -float('inf')
        high_f = float(spec.maximum) if spec.maximum is not None else float('inf')
        descriptor.floating_point_range = [
            FloatingPointRange(from_value=low_f, to_value=high_f, step=0.0)
        ]
    return descriptor


def to_parameter_value(value: Any) -> Any:
    """Return a config value in the form rclpy declares (tuples as lists)."""
    return list(value) if isinstance(value, tuple) else value


def from_parameter_value(hint: Any, value: Any, default: Any) -> Any:
    """Return a parameter value in the config field's form; ``default`` when it is unset."""
    if value is None:
        return default
    if typing.get_origin(hint) is tuple:
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class ConfigParameters:
    """Declare PerceptionConfig as parameters on a node and validate every later change."""

    def __init__(
        self,
        node: Node,
        defaults: PerceptionConfig | None = None,
        on_change: ConfigListener | None = None,
    ) -> None:
        self._node = node
        self._defaults = defaults if defaults is not None else PerceptionConfig()
        self._hints = field_types(PerceptionConfig)
        self._fields = {f.name: f for f in dataclasses.fields(PerceptionConfig)}
        self._listeners: list[ConfigListener] = [on_change] if on_change else []
        for name, field in self._fields.items():
            self._declare(name, field)
        self._config = self._read_all()
        node.add_on_set_parameters_callback(self._validate)
        node.add_post_set_parameters_callback(self._apply)

    @property
    def config(self) -> PerceptionConfig:
        """The validated config matching the node's parameters now."""
        return self._config

    def add_listener(self, listener: ConfigListener) -> None:
        """Call ``listener(old, new)`` after each accepted change."""
        self._listeners.append(listener)

    def _declare(self, name: str, field: dataclasses.Field[Any]) -> None:
        """Declare one field; empty arrays are declared by type (rclpy cannot type ``[]``)."""
        hint = self._hints[name]
        descriptor = parameter_descriptor(name, hint, spec_of(field))
        default = to_parameter_value(getattr(self._defaults, name))
        if default == []:
            self._node.declare_parameter(name, parameter_type(hint), descriptor)
        else:
            self._node.declare_parameter(name, default, descriptor)

    def _value(self, name: str, raw: Any) -> Any:
        """Convert a raw parameter value of field ``name``."""
        return from_parameter_value(self._hints[name], raw, getattr(self._defaults, name))

    def _read_all(self) -> PerceptionConfig:
        """Build the config from the declared parameters (raises ConfigError when invalid)."""
        values = {}
        for name in self._fields:
            parameter = self._node.get_parameter_or(name, Parameter(name, value=None))
            values[name] = self._value(name, parameter.value)
        return with_changes(self._defaults, **values)

    def _changes(self, parameters: Sequence[Parameter[Any]]) -> dict[str, Any]:
        """Return the config fields among ``parameters``, converted."""
        return {p.name: self._value(p.name, p.value) for p in parameters if p.name in self._fields}

    def _validate(self, parameters: list[Parameter[Any]]) -> SetParametersResult:
        """Accept a change only when the whole new config validates."""
        changes = self._changes(parameters)
        if not changes:
            return SetParametersResult(successful=True)
        try:
            with_changes(self._config, **changes)
        except ConfigError as error:
            return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _apply(self, parameters: list[Parameter[Any]]) -> None:
        """Adopt an accepted change and tell the listeners."""
        changes = self._changes(parameters)
        if not changes:
            return
        old = self._config
        self._config = with_changes(old, **changes)
        for listener in self._listeners:
            listener(old, self._config)


__all__ = [
    'ConfigListener', 'ConfigParameters', 'from_parameter_value', 'parameter_descriptor',
    'parameter_type', 'to_parameter_value',
]
