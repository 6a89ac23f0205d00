# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The one source of parameters: frozen dataclasses, validated in one place.

Every field is written once, with its description and range in ``setting(...)`` metadata.
YAML files, ROS parameters (declared from these fields) and the tools all map onto them.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass
from pathlib import Path
import re
import typing
from typing import Any, TypeVar

import yaml

from patchdrivenet_ros.classes import CLASS_NAMES, DETECTION_CLASSES
from patchdrivenet_ros.training.data_spec import DataError, parse_spec

DEFAULT_NODE_NAME = 'patchdrivenet'

METHODS = ('patchdrivenet', 'sf_full', 'sf_low', 'sf_interval')
"""Inference methods sharing one network: PatchDriveNet and the single-forward baselines."""

REUSE_RULES = ('off', 'displacement', 'compensated')
"""Temporal patch reuse rules (see temporal/reuse.py)."""

_DEVICE_PATTERN = re.compile(r'^(auto|cpu|cuda(:\d+)?)$')


class ConfigError(ValueError):
    """An invalid configuration value; the message names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f'{field}: {reason}')
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class FieldSpec:
    """Metadata of one setting: what it means, its range, and whether it may change at runtime."""

    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    runtime: bool = False


def setting(
    default: Any,
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] | None = None,
    runtime: bool = False,
) -> Any:
    """Declare a dataclass field with its FieldSpec."""
    spec = FieldSpec(description, minimum, maximum, choices, runtime)
    return dataclasses.field(default=default, metadata={'spec': spec})


def spec_of(field: dataclasses.Field[Any]) -> FieldSpec:
    """Return the FieldSpec of a field declared with ``setting``."""
    spec = field.metadata.get('spec')
    if not isinstance(spec, FieldSpec):
        raise TypeError(f'{field.name} was not declared with setting()')
    return spec


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """Coerce ``value`` to the annotated type ``hint`` or raise ConfigError."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        nested = typing.cast(type[Validated], hint)
        if isinstance(value, nested):
            return value
        if isinstance(value, Mapping):
            return config_from_mapping(nested, value, prefix=f'{name}.')
        raise ConfigError(name, f'expected a mapping, got {type(value).__name__}')
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(name, f'expected a list, got {type(value).__name__}')
        return tuple(_coerce(f'{name}[{i}]', v, item_hint) for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f'expected true or false, got {value!r}')
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f'expected an integer, got {value!r}')
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(name, f'expected a number, got {value!r}')
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(name, f'expected a string, got {value!r}')
        return value
    raise TypeError(f'{name}: unsupported annotation {hint!r}')


def _check_range(name: str, value: Any, spec: FieldSpec) -> None:
    """Check ``value`` (or each item of a tuple) against the spec's range and choices."""
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if spec.choices is not None and item not in spec.choices:
            raise ConfigError(name, f'{item!r} is not one of {", ".join(spec.choices)}')
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            if item != item:  # NaN
                raise ConfigError(name, 'must be a number, got NaN')
            if spec.minimum is not None and item < spec.minimum:
                raise ConfigError(name, f'{item} is below the minimum {spec.minimum}')
            if spec.maximum is not None and item > spec.maximum:
                raise ConfigError(name, f'{item} is above the maximum {spec.maximum}')


class Validated:
    """Base of the config dataclasses: coerces and range-checks fields, then cross-checks."""

    def __post_init__(self) -> None:
        """Validate every field, then the cross-field rules of ``check``."""
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _coerce(field.name, getattr(self, field.name), hints[field.name])
            object.__setattr__(self, field.name, value)
            if 'spec' in field.metadata:
                _check_range(field.name, value, spec_of(field))
        self.check()

    def check(self) -> None:
        """Check cross-field rules; raise ConfigError naming the field at fault."""


@dataclass(frozen=True)
class ModelConfig(Validated):
    """Network architecture; saved beside the weights and checked when loading them."""

    classes: tuple[str, ...] = setting(CLASS_NAMES, 'Segmentation class names, by class id.')
    detection_classes: tuple[str, ...] = setting(
        DETECTION_CLASSES, 'Classes that get 2D boxes; a subset of classes.'
    )
    width: int = setting(24, 'Base channel width of the global stream.', minimum=8, maximum=256)
    depth_multiplier: float = setting(
        1.0, 'Scales the number of blocks per stage (0.5 gives SF-depth-0.5).',
        minimum=0.25, maximum=2.0,
    )
    refine_width: int = setting(
        24, 'Base channel width of the refinement stream.', minimum=8, maximum=256
    )
    patch_canonical: int = setting(
        64, 'Side in pixels every chosen patch is resized to for refinement (64: the smallest '
        'candidates at full resolution).',
        minimum=16, maximum=512,
    )
    token_dim: int = setting(64, 'Patch/global token width for attention.', minimum=8, maximum=512)
    attention_heads: int = setting(4, 'Heads of the attention layers.', minimum=1, maximum=16)
    decoder_stride: int = setting(
        8, 'Stride of the global segmentation logits: 8 (neck only) or 4 (a detail decoder '
        "refines them with the encoder's stride-4 features).", minimum=4, maximum=8,
    )
    global_attention: bool = setting(
        False, 'Global cells attend to the patch tokens before the global heads; false keeps '
        'the global stream independent of the patches (patches only refine their own regions).'
    )
    refine_crops: str = setting(
        'image', 'How patch crops are normalised before refinement: image (the frame statistics, '
        'absolute brightness kept), contrast (each crop standardised by its own mean and '
        'contrast), contrast_dark (only dark crops standardised, the others as image) or '
        'exposure (a crop darker than the exposure target is brightened to it, others '
        'unchanged).', choices=('image', 'contrast', 'contrast_dark', 'exposure'),
    )

    def check(self) -> None:
        """Require detection classes among classes and heads dividing token_dim."""
        unknown = [c for c in self.detection_classes if c not in self.classes]
        if unknown:
            raise ConfigError('detection_classes', f'not in classes: {", ".join(unknown)}')
        if len(set(self.classes)) != len(self.classes):
            raise ConfigError('classes', 'names must be unique')
        if not 1 <= len(self.classes) <= 254:
            raise ConfigError('classes', 'between 1 and 254 classes are supported')
        if self.patch_canonical % 8:
            raise ConfigError('patch_canonical', 'must be a multiple of 8 (the refinement '
                              'stream halves it three times)')
        if self.token_dim % self.attention_heads:
            raise ConfigError('attention_heads', f'must divide token_dim ({self.token_dim})')
        if self.decoder_stride not in (4, 8):
            raise ConfigError('decoder_stride', 'must be 4 or 8')


@dataclass(frozen=True)
class PerceptionConfig(Validated):
    """Runtime settings of the perception pipeline; the node's ROS parameters, one per field."""

    # Inference
    method: str = setting(
        'patchdrivenet', 'Inference method: PatchDriveNet or a single-forward baseline.',
        choices=METHODS,
    )
    global_scale: float = setting(
        0.375, 'Scale of the global stream input relative to the camera frame (the shipped '
        'weights were trained at 0.375).',
        minimum=0.05, maximum=1.0, runtime=True,
    )
    global_max_pixels: int = setting(
        250_000, 'Most pixels of the global stream input (PatchDriveNet and SF-interval): larger '
        'frames are scaled below global_scale to fit, so the global stream of a 4K or 8K frame '
        'costs about what a 1600x900 one does; 0 = always global_scale.',
        minimum=0, maximum=100_000_000, runtime=True,
    )
    patch_sizes: tuple[int, ...] = setting(
        (64, 128, 256), 'Patch candidate sizes in full-resolution pixels (small far, large near).',
        minimum=16, maximum=2048,
    )
    patch_budget: int = setting(
        12, 'Patches refined at full resolution per frame (0 = global stream alone).',
        minimum=0, maximum=4096, runtime=True,
    )
    thin_priority: float = setting(
        3.0, 'Weight of the coarse thin-class probability (lane markings, poles, signs) added '
        'to the learned patch priority when choosing patches; 0 = learned priority alone.',
        minimum=0.0, maximum=100.0, runtime=True,
    )
    interval_k: int = setting(
        3, 'For method sf_interval: run the full model every k-th frame.',
        minimum=1, maximum=100, runtime=True,
    )
    # Temporal reuse
    reuse_rule: str = setting(
        'compensated', 'Temporal patch reuse rule.', choices=REUSE_RULES, runtime=True
    )
    motion_threshold: float = setting(
        3.0, 'Motion in full-resolution pixels under which a patch reuses its last result.',
        minimum=0.0, maximum=1000.0, runtime=True,
    )
    max_reuse_age: int = setting(
        4, 'Oldest cached patch result, in frames, that may still be reused.',
        minimum=0, maximum=1000, runtime=True,
    )
    max_global_reuse_age: int = setting(
        3, 'Most frames in a row the global stream may reuse its cached features before it '
        'encodes a frame again.',
        minimum=0, maximum=1000, runtime=True,
    )
    global_reuse_motion: float = setting(
        48.0, 'Frame motion (90th percentile of the optical flow, full-resolution pixels) up to '
        'which the global stream reuses its cached features moved along the flow instead of '
        'encoding the frame; 0 = encode every frame. Needs a reuse_rule other than off.',
        minimum=0.0, maximum=1000.0, runtime=True,
    )
    time_jump_s: float = setting(
        1.0, 'A stamp gap above this (or going backwards) resets the temporal cache.',
        minimum=0.001, maximum=3600.0, runtime=True,
    )
    forecast_s: float = setting(
        0.0, 'Also publish the mask and detections moved this many seconds ahead along the '
        'optical flow (constant velocity), stamped that much later, for consumers that act '
        'on the newest output (segmentation/mask_forecast, detections_forecast); 0 = off.',
        minimum=0.0, maximum=1.0, runtime=True,
    )
    # Post-processing
    score_threshold: float = setting(
        0.3, 'Minimum detection score.', minimum=0.0, maximum=1.0, runtime=True
    )
    nms_iou: float = setting(
        0.5, 'IoU above which overlapping boxes of a class are suppressed.',
        minimum=0.0, maximum=1.0, runtime=True,
    )
    max_detections: int = setting(
        100, 'Most detections published per frame.', minimum=1, maximum=10000, runtime=True
    )
    # Runtime environment
    device: str = setting('auto', 'Torch device: auto, cpu, cuda or cuda:N.')
    weights: str = setting('', 'Weights file (.safetensors); empty = the shipped default.')
    threads: int = setting(
        0, 'CPU threads for inference (0 = torch default): with backend onnxruntime, ONNX '
        'Runtime uses them and torch runs its small operations on one; else torch uses them.',
        minimum=0, maximum=256
    )
    backend: str = setting(
        'torch', 'Runs the convolutions on CPU: torch, or onnxruntime (same outputs to float '
        'rounding; see README Benchmarks). CUDA devices always use torch.',
        choices=('torch', 'onnxruntime'),
    )
    # ROS node
    image_transport: str = setting(
        'raw', 'Input transport: raw (image) or compressed (image/compressed).',
        choices=('raw', 'compressed'),
    )
    qos_reliability: str = setting(
        'auto', 'Image subscription reliability; auto matches the publishers found.',
        choices=('auto', 'reliable', 'best_effort'),
    )
    publish_debug: bool = setting(
        True, 'Publish the colour mask and patch-attention images (when subscribed).',
        runtime=True,
    )
    latency_target_ms: float = setting(
        0.0, 'Adapt patch_budget to hold this latency (0 = off).',
        minimum=0.0, maximum=10000.0, runtime=True,
    )
    cameras: tuple[str, ...] = setting(
        (), 'Camera namespaces for one node serving several cameras (empty = one camera).'
    )
    sync_slop_s: float = setting(
        0.02, 'Cameras list: stamps within this window are batched together.',
        minimum=0.0, maximum=1.0,
    )
    diagnostics_period_s: float = setting(
        1.0, 'Period of the diagnostics message.', minimum=0.1, maximum=60.0
    )

    def check(self) -> None:
        """Check the cross-field rules."""
        if not self.patch_sizes:
            raise ConfigError('patch_sizes', 'give at least one size')
        if list(self.patch_sizes) != sorted(set(self.patch_sizes)):
            raise ConfigError('patch_sizes', 'sizes must be unique and ascending')
        if not _DEVICE_PATTERN.match(self.device):
            raise ConfigError('device', f'{self.device!r} is not auto, cpu, cuda or cuda:N')
        if self.weights and not self.weights.endswith('.safetensors'):
            raise ConfigError('weights', 'expected a .safetensors file')
        if len(set(self.cameras)) != len(self.cameras) or any(not c for c in self.cameras):
            raise ConfigError('cameras', 'names must be unique and non-empty')


@dataclass(frozen=True)
class TrainConfig(Validated):
    """Training recipe; YAML plus command-line overrides map onto it."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    method: str = setting('patchdrivenet', 'What to train.', choices=METHODS)
    data: tuple[str, ...] = setting(
        ('synthetic',), 'Data sources, KIND[:PATH][:WEIGHT] each: synthetic, '
        'cityscapes:ROOT, kitti-object:ROOT, folder:ROOT (training/data_spec.py).')
    init_weights: str = setting(
        '', 'Weights (.safetensors) to start from instead of a random init (fine-tuning); '
        'their model config must be this one.')
    seed: int = setting(0, 'Seed of weights init and sampling.', minimum=0, maximum=2**31 - 1)
    data_seeds: tuple[int, ...] = setting(
        tuple(range(1000, 1064)), 'Synthetic scene seeds used for training.', minimum=0
    )
    frame_width: int = setting(1242, 'Rendered frame width (the camera).', minimum=64,
                               maximum=4096)
    frame_height: int = setting(375, 'Rendered frame height (the camera).', minimum=64,
                                maximum=4096)
    crop_width: int = setting(
        624, "Width of the random crop trained on; pixel scale stays the camera's.",
        minimum=64, maximum=4096,
    )
    crop_height: int = setting(192, 'Height of the random crop trained on.', minimum=64,
                               maximum=4096)
    drive_length: int = setting(
        48, 'Frames of each synthetic training drive.', minimum=1, maximum=100_000
    )
    frame_stride: int = setting(
        3, 'Frames a batch slot advances along its drive per step.', minimum=1, maximum=1000
    )
    oracle_choice_fraction: float = setting(
        0.5, 'Share of steps whose patches are chosen by the oracle instead of the model.',
        minimum=0.0, maximum=1.0,
    )
    steps: int = setting(2000, 'Optimizer steps.', minimum=1, maximum=10_000_000)
    batch_size: int = setting(4, 'Frames per step (over all processes of a distributed run).',
                              minimum=1, maximum=1024)
    micro_batches: int = setting(
        1, 'Equal parts of the batch, each with its own share of the patch budget, batch-norm '
        'statistics and loss (gradients averaged). A torchrun run of N processes gives each '
        'process micro_batches / N parts, so one process with the same value is its reference.',
        minimum=1, maximum=1024)
    learning_rate: float = setting(2e-3, 'AdamW peak learning rate.', minimum=1e-7, maximum=1.0)
    weight_decay: float = setting(1e-4, 'AdamW weight decay.', minimum=0.0, maximum=1.0)
    warmup_steps: int = setting(50, 'Linear warm-up before cosine annealing.', minimum=0)
    global_scale: float = setting(0.25, 'Global stream scale while training.', minimum=0.05,
                                  maximum=1.0)
    patch_sizes: tuple[int, ...] = setting((64, 128, 256), 'Patch sizes while training.',
                                           minimum=16, maximum=2048)
    patch_budget: int = setting(6, 'Patch budget per crop while training.', minimum=0,
                                maximum=4096)
    sparsity_weight: float = setting(1e-3, 'Lambda of the patch-weight sparsity term.',
                                     minimum=0.0)
    priority_weight: float = setting(1.0, 'Weight of the oracle priority loss.', minimum=0.0)
    priority_target: str = setting(
        'prediction', 'Pixels the patch priority learns to seek, besides boundaries and thin '
        'classes: prediction (where the coarse prediction is wrong) or resolution (labels the '
        'global scale cannot represent: the label oracle that explores and that evaluation '
        'compares the learned choice with).', choices=('prediction', 'resolution'))
    detection_weight: float = setting(1.0, 'Weight of the detection losses.', minimum=0.0)
    boundary_weight: float = setting(1.0, 'Extra cross-entropy weight on boundaries.',
                                     minimum=0.0)
    freeze_global_steps: int = setting(0, 'Steps with the global stream frozen.', minimum=0)
    teacher: str = setting(
        '', 'Weights (.safetensors) of a network run at full resolution whose per-pixel class '
        'distribution the fused and global logits also learn (distillation); empty = none.')
    distill_weight: float = setting(1.0, 'Weight of the distillation loss (with a teacher).',
                                    minimum=0.0)
    adverse_fraction: float = setting(0.3, 'Share of drives with adverse conditions.',
                                      minimum=0.0, maximum=1.0)
    amp: bool = setting(True, 'Mixed precision on CUDA (ignored on CPU).')
    device: str = setting('auto', 'Torch device: auto, cpu, cuda or cuda:N.')
    checkpoint_every: int = setting(250, 'Steps between resumable checkpoints.', minimum=1)
    validate_every: int = setting(
        0, 'Steps between validation scores on held-out frames of each source (0 = none).',
        minimum=0)
    validation_frames: int = setting(8, 'Held-out frames per source scored at validation.',
                                     minimum=1, maximum=10_000)

    def check(self) -> None:
        """Check the cross-field rules."""
        if list(self.patch_sizes) != sorted(set(self.patch_sizes)) or not self.patch_sizes:
            raise ConfigError('patch_sizes', 'sizes must be unique, ascending and non-empty')
        if not _DEVICE_PATTERN.match(self.device):
            raise ConfigError('device', f'{self.device!r} is not auto, cpu, cuda or cuda:N')
        if self.crop_width > self.frame_width or self.crop_height > self.frame_height:
            raise ConfigError('crop_width', 'the crop must fit inside the rendered frame')
        if self.warmup_steps >= self.steps:
            raise ConfigError('warmup_steps', f'must be below steps ({self.steps})')
        if self.batch_size % self.micro_batches:
            raise ConfigError('micro_batches', f'must divide batch_size ({self.batch_size})')
        if not self.data:
            raise ConfigError('data', 'give at least one source, e.g. synthetic')
        for entry in self.data:
            try:
                parse_spec(entry)
            except DataError as error:
                raise ConfigError('data', str(error)) from None
        if self.init_weights and not self.init_weights.endswith('.safetensors'):
            raise ConfigError('init_weights', 'expected a .safetensors file')


ConfigT = TypeVar('ConfigT', bound=Validated)


def config_from_mapping(
    cls: type[ConfigT], mapping: Mapping[str, Any], prefix: str = ''
) -> ConfigT:
    """Build ``cls`` from a mapping of field names; unknown keys raise ConfigError."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - names)
    if unknown:
        known = ', '.join(sorted(names))
        raise ConfigError(prefix + unknown[0], f'unknown setting (known: {known})')
    try:
        return cls(**mapping)
    except ConfigError as error:
        if prefix and not error.field.startswith(prefix):
            raise ConfigError(prefix + error.field, error.reason) from None
        raise


def config_to_mapping(config: Validated) -> dict[str, Any]:
    """Return plain data (tuples as lists) for YAML and JSON."""
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return value
    return typing.cast(dict[str, Any], plain(config))


def with_changes(config: ConfigT, **changes: Any) -> ConfigT:
    """Return a validated copy of ``config`` with ``changes`` applied."""
    return config_from_mapping(type(config), {**_shallow(config), **changes})


def _shallow(config: Validated) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}  # type: ignore[arg-type]


def ros_parameters_section(document: Any, node_name: str = DEFAULT_NODE_NAME) -> dict[str, Any]:
    """Return the ``ros__parameters`` mapping of a ROS params document, or the document itself.

    Accepts ``/**: {ros__parameters: ...}``, ``<node_name>: {ros__parameters: ...}`` (also with a
    leading slash or namespace), or a plain mapping of settings. Both ``/**`` and the node's own
    section may be present; the node's section wins, as in ROS.
    """
    if not isinstance(document, Mapping):
        raise ConfigError('<file>', 'expected a mapping at the top level')
    sections = [v for v in document.values() if isinstance(v, Mapping) and 'ros__parameters' in v]
    if not sections:
        return dict(document)
    merged: dict[str, Any] = {}
    for key in sorted(document, key=lambda k: k != '/**'):
        value = document[key]
        matches = key == '/**' or str(key).rstrip('/').split('/')[-1] == node_name
        if matches and isinstance(value, Mapping) and 'ros__parameters' in value:
            merged.update(value['ros__parameters'] or {})
    return merged


def load_yaml(cls: type[ConfigT], path: str | Path, node_name: str = DEFAULT_NODE_NAME,
              **overrides: Any) -> ConfigT:
    """Load ``cls`` from a YAML file (ROS params layout or plain), then apply ``overrides``."""
    document = yaml.safe_load(Path(path).read_text(encoding='utf-8')) or {}
    values = ros_parameters_section(document, node_name)
    values.update(overrides)
    return config_from_mapping(cls, values)


def runtime_fields(cls: type[Validated]) -> tuple[str, ...]:
    """Names of the fields that may change while running."""
    return tuple(
        f.name for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if 'spec' in f.metadata and spec_of(f).runtime
    )


def field_types(cls: type[Validated]) -> dict[str, Any]:
    """Annotated type of each field of ``cls`` (resolved, for declaring ROS parameters)."""
    return typing.get_type_hints(cls)


__all__ = [
    'ConfigError', 'FieldSpec', 'ModelConfig', 'PerceptionConfig', 'TrainConfig', 'Validated',
    'config_from_mapping', 'config_to_mapping', 'field_types', 'load_yaml',
    'ros_parameters_section', 'runtime_fields', 'setting', 'spec_of', 'with_changes',
    'METHODS', 'REUSE_RULES', 'DEFAULT_NODE_NAME',
]
