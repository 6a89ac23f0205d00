# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The work of a perception node: camera images in; mask, detections, attention, diagnostics out.

Both node kinds run one ``PerceptionPipeline``. Building it loads the model (in the engine
thread) and creates the output publishers and the diagnostics timer; ``activate`` publishes the
class map and subscribes the cameras; ``deactivate`` removes the subscriptions and skips any
frame still waiting, keeping the model; ``close`` stops the engine thread, frees the model and
removes everything the pipeline created. The plain node builds and activates it at once; the
managed node (lifecycle_node.py) does so on its configure and activate transitions.

Threads: the executor runs the subscription callbacks (they only stamp the arrival and hand the
newest frame set to the engine thread), parameter services and the timers; the engine thread
(engine_thread.py) builds the engine, decodes, runs it and publishes. A frame set replaced before
the engine thread took it counts as dropped, so a slow node always works on the newest frame and
never builds a queue. Parameter changes reach the engine in its own thread before the next frame.

Several cameras: with ``cameras: [front, left]`` the pipeline subscribes ``front/image`` and
``left/image``, groups frames whose stamps lie within ``sync_slop_s`` and runs them through the
engine in one call, so they share one patch budget; outputs go to ``front/segmentation/mask``
and so on. Without ``cameras``, run one node per camera namespace (the launch file's
``namespace`` argument).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import partial
import gc
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import cv2
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.timer import Timer
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from patchdrivenet_ros.classes import colorize
from patchdrivenet_ros.config import PerceptionConfig, with_changes
from patchdrivenet_ros.result import FrameResult
from patchdrivenet_ros.ros.budget_controller import BudgetController
from patchdrivenet_ros.ros.conversions import (
    Frame,
    ImageError,
    bgr_to_image,
    compressed_to_frame,
    image_to_frame,
    mask_to_image,
)
from patchdrivenet_ros.ros.detections import detections_to_msg, label_info_msg
from patchdrivenet_ros.ros.diagnostics import FrameStats, diagnostic_array, diagnostic_status
from patchdrivenet_ros.ros.engine_thread import EngineThread
from patchdrivenet_ros.ros.image_input import ImageInput
from patchdrivenet_ros.ros.outputs import CameraOutputs
from patchdrivenet_ros.ros.params import ConfigParameters
from patchdrivenet_ros.ros.qos import output_qos
from patchdrivenet_ros.ros.sync import Stamped, StampSynchronizer
from patchdrivenet_ros.temporal.forecast import forecast
from patchdrivenet_ros.visualize import render_patch_attention

if TYPE_CHECKING:  # torch is imported when the engine is built, after main() set OpenMP up
    from patchdrivenet_ros.engine import PerceptionEngine

_THROTTLE_S = 5.0
_QOS_RECHECK_S = 0.5


def _steady_clock() -> Clock:
    """Return the clock of the pipeline's own timers: steady time, even with use_sim_time.

    A bag that is not playing (no /clock yet, or paused) then cannot stall the input re-check
    or the diagnostics.
    """
    return Clock(clock_type=ClockType.STEADY_TIME)


@dataclass(frozen=True)
class Received:
    """A message as it arrived: the raw message and its arrival time (time.perf_counter)."""

    msg: Any
    received_s: float


@dataclass(frozen=True)
class _Decoded:
    camera: str
    header: Header
    frame: Frame
    received_s: float


def build_engine(config: PerceptionConfig) -> PerceptionEngine:
    """Build the engine (importing torch on first use)."""
    from patchdrivenet_ros.engine import PerceptionEngine

    return PerceptionEngine.from_config(config)


def stamp_seconds(header: Header) -> float:
    """Return a header's stamp in seconds."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9


def header_ahead(header: Header, seconds: float) -> Header:
    """Return a copy of ``header`` stamped ``seconds`` later (same frame_id)."""
    total = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec) + round(
        seconds * 1e9)
    later = Header(frame_id=header.frame_id)
    later.stamp.sec, later.stamp.nanosec = divmod(total, 1_000_000_000)
    return later


def changed_fields(old: PerceptionConfig, new: PerceptionConfig) -> dict[str, object]:
    """Return the fields whose value differs between two configs, with the new values."""
    return {f.name: getattr(new, f.name) for f in fields(new)
            if getattr(new, f.name) != getattr(old, f.name)}


def _release_memory() -> None:
    """Collect the freed model now and hand cached GPU memory back (when torch uses CUDA)."""
    gc.collect()
    torch = sys.modules.get('torch')
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


class PerceptionPipeline:
    """Run the PerceptionEngine on a node's camera images and publish its results."""

    def __init__(self, node: Node, parameters: ConfigParameters) -> None:
        """Load the model and create the publishers (raises the engine's error, e.g. weights)."""
        self._node = node
        self._parameters = parameters
        config = parameters.config
        self._controller = BudgetController(config.latency_target_ms, config.patch_budget)
        self._stats = FrameStats()
        self._active = False
        self._inputs: list[ImageInput] = []
        self._outputs: dict[str, CameraOutputs] = {}
        self._timers: list[Timer] = []
        self._qos_timer: Timer | None = None
        self._diagnostics: Publisher[DiagnosticArray] | None = None
        self._engine_thread: EngineThread[PerceptionEngine, list[Stamped[Received]]] | None = (
            EngineThread(partial(build_engine, config), self._process, self._on_failure))
        engine = self._engine_thread.start()
        try:
            self._device = str(engine.device)
            self._weights_loaded = engine.weights_loaded
            self._classes = tuple(engine.model_config.classes)
            self._cameras = config.cameras or ('',)
            self._sync: StampSynchronizer[Received] = StampSynchronizer(
                self._cameras, config.sync_slop_s)
            self._sync_lock = threading.Lock()
            self._outputs = {camera: CameraOutputs(node, camera) for camera in self._cameras}
            self._diagnostics = node.create_publisher(
                DiagnosticArray, '/diagnostics', output_qos(depth=10))
            self._timers.append(
                node.create_timer(config.diagnostics_period_s, self._publish_diagnostics,
                                  clock=_steady_clock()))
        except BaseException:
            self.close()
            raise
        if not self._weights_loaded:
            self._logger.warning(
                'NO TRAINED WEIGHTS: running a randomly initialised network; outputs are '
                'meaningless. Set the weights parameter or install the shipped weights.'
            )
        self._logger.info(
            f'model loaded: method {config.method}, device {self._device}, '
            f'weights {config.weights or "(shipped default)"}, '
            f'patch budget {config.patch_budget}, cameras {list(config.cameras) or ["(one)"]}'
        )

    @property
    def _logger(self) -> Any:
        return self._node.get_logger()

    @property
    def active(self) -> bool:
        """Whether the pipeline subscribes its cameras and answers frames."""
        return self._active

    # Transitions (executor thread) ---------------------------------------------------------

    def activate(self) -> None:
        """Publish the class map and subscribe the cameras."""
        if self._active or self._engine_thread is None:
            return
        config = self._parameters.config
        self._active = True
        self._publish_label_info(config)
        self._inputs = [
            ImageInput(
                self._node,
                camera,
                compressed=config.image_transport == 'compressed',
                override=config.qos_reliability,
                callback=self._on_image,
                on_lost=partial(self._stats.count, 'lost'),
            )
            for camera in self._cameras
        ]
        self._qos_timer = self._node.create_timer(_QOS_RECHECK_S, self._refresh_inputs,
                                                  clock=_steady_clock())

    def deactivate(self) -> None:
        """Unsubscribe the cameras; a frame set still waiting is skipped. The model stays."""
        self._active = False
        if self._qos_timer is not None:
            self._node.destroy_timer(self._qos_timer)
            self._qos_timer = None
        for image_input in self._inputs:
            image_input.destroy()
        self._inputs = []

    def close(self) -> None:
        """Deactivate, stop the engine thread, free the model and remove the publishers."""
        self.deactivate()
        engine_thread, self._engine_thread = self._engine_thread, None
        if engine_thread is not None:
            engine_thread.stop()
        for timer in self._timers:
            self._node.destroy_timer(timer)
        self._timers = []
        for outputs in self._outputs.values():
            outputs.destroy()
        self._outputs = {}
        if self._diagnostics is not None:
            self._node.destroy_publisher(self._diagnostics)
            self._diagnostics = None
        if engine_thread is not None:
            del engine_thread
            _release_memory()

    def on_config_change(self, old: PerceptionConfig, new: PerceptionConfig) -> None:
        """Queue an accepted runtime parameter change for the engine thread."""
        if self._engine_thread is not None:
            self._engine_thread.update(partial(self._apply_config, new))
        if self._active and new.score_threshold != old.score_threshold:
            self._publish_label_info(new)

    # Executor thread -----------------------------------------------------------------------

    def _on_image(self, camera: str, msg: Any, received_s: float) -> None:
        """Group the frame with the other cameras' and post complete sets to the worker."""
        self._stats.count('received')
        with self._sync_lock:
            before = self._sync.dropped
            group = self._sync.push(camera, stamp_seconds(msg.header), Received(msg, received_s))
            self._stats.count('dropped', self._sync.dropped - before)
        if group is not None and self._engine_thread is not None:
            replaced = self._engine_thread.submit(group)
            if replaced is not None:
                self._stats.count('dropped', len(replaced))

    def _refresh_inputs(self) -> None:
        """Follow the publishers' reliability (a publisher may appear after the node)."""
        for image_input in self._inputs:
            image_input.refresh()

    def _effective(self, config: PerceptionConfig) -> PerceptionConfig:
        """Return ``config`` with the budget the latency controller chose."""
        return with_changes(config, patch_budget=self._controller.budget)

    def _publish_label_info(self, config: PerceptionConfig) -> None:
        """Publish the class map (transient local: late subscribers get it too)."""
        header = Header(stamp=self._node.get_clock().now().to_msg())
        msg = label_info_msg(self._classes, header, config.score_threshold)
        for outputs in self._outputs.values():
            outputs.label_info.publish(msg)

    def _publish_diagnostics(self) -> None:
        """Publish the node's DiagnosticArray on /diagnostics."""
        if self._diagnostics is None:
            return
        config = self._parameters.config
        extra: dict[str, object] = {
            'state': 'active' if self._active else 'inactive',
            'patch_budget': self._controller.budget,
            'patch_budget_ceiling': config.patch_budget,
            'method': config.method,
            'reuse_rule': config.reuse_rule,
            'device': self._device,
            'cameras': ','.join(self._cameras) or '(one)',
            'qos_reliability': ','.join(i.reliability for i in self._inputs) or 'none',
        }
        status = diagnostic_status(
            self._stats.snapshot(),
            name=f'{self._node.get_fully_qualified_name()}: perception',
            hardware_id=self._device,
            extra=extra,
            latency_target_ms=config.latency_target_ms,
            weights_loaded=self._weights_loaded,
        )
        now = self._node.get_clock().now().to_msg()
        self._diagnostics.publish(diagnostic_array([status], now))

    # Engine thread -------------------------------------------------------------------------

    def _apply_config(self, config: PerceptionConfig, engine: PerceptionEngine) -> None:
        """Apply a runtime change to the latency controller and the engine."""
        self._controller.configure(config.latency_target_ms, config.patch_budget)
        engine.update(self._effective(config))

    def _on_failure(self, error: Exception, group: list[Stamped[Received]] | None) -> None:
        """Count and log a failure; the node keeps serving (quietly when shutting down)."""
        if not self._node.context.ok():
            return
        if group is not None:
            self._stats.count('failed', len(group))
        what = 'processing a frame' if group is not None else 'applying parameters'
        self._logger.error(f'{what} failed: {type(error).__name__}: {error}',
                           throttle_duration_sec=_THROTTLE_S)

    def _decode(self, item: Stamped[Received]) -> _Decoded | None:
        """Decode one message; count and log a bad frame and return None."""
        msg = item.item.msg
        try:
            frame = image_to_frame(msg) if isinstance(msg, Image) else compressed_to_frame(msg)
        except ImageError as error:
            self._stats.count('bad')
            where = item.camera or (self._inputs[0].resolved_topic if self._inputs else 'image')
            self._logger.warning(f'dropping a frame from {where}: {error}',
                                 throttle_duration_sec=_THROTTLE_S)
            return None
        return _Decoded(item.camera, msg.header, frame, item.item.received_s)

    def _process(self, engine: PerceptionEngine, group: list[Stamped[Received]]) -> None:
        """Run the engine on a set of frames (one call per frame size) and publish."""
        if not self._active:  # deactivated after the set was posted
            self._stats.count('dropped', len(group))
            return
        decoded = [d for d in (self._decode(item) for item in group) if d is not None]
        batches: dict[tuple[int, int, bool], list[_Decoded]] = {}
        for item in decoded:
            batches.setdefault((*item.frame.size, item.frame.bgr), []).append(item)
        for batch in batches.values():
            results = engine.infer(
                [d.frame.pixels for d in batch],
                bgr=batch[0].frame.bgr,
                stamps=[stamp_seconds(d.header) for d in batch],
                streams=[d.camera or 'default' for d in batch],
            )
            for item, result in zip(batch, results, strict=True):
                self._publish(engine, item, result)

    def _publish(self, engine: PerceptionEngine, item: _Decoded, result: FrameResult) -> None:
        """Publish one frame's outputs with its header; record latency; adapt the budget."""
        outputs = self._outputs.get(item.camera)
        if outputs is None:  # closed meanwhile
            return
        header = item.header
        config = self._parameters.config
        outputs.mask.publish(mask_to_image(result.mask, header))
        outputs.detections.publish(detections_to_msg(result, header))
        ahead = forecast(result, config.forecast_s) if config.forecast_s > 0 else None
        if ahead is not None:
            later = header_ahead(header, ahead.ahead_s)
            outputs.mask_forecast.publish(mask_to_image(ahead.mask, later))
            outputs.detections_forecast.publish(
                detections_to_msg(replace(result, boxes=ahead.boxes), later))
        if config.publish_debug:
            if outputs.color.get_subscription_count() > 0:
                outputs.color.publish(bgr_to_image(colorize(result.mask), header))
            if outputs.attention.get_subscription_count() > 0:
                image = item.frame.pixels
                bgr = image if item.frame.bgr else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
                picture = render_patch_attention(np.ascontiguousarray(bgr), result, self._classes)
                outputs.attention.publish(bgr_to_image(picture, header))
        latency_ms = (time.perf_counter() - item.received_s) * 1000.0
        self._stats.published(latency_ms, result.plan.chosen, result.plan.reused,
                              self._age_ms(header), result.global_reused)
        new_budget = self._controller.observe(latency_ms)
        if new_budget is not None:
            self._logger.info(f'latency target: patch budget now {new_budget}',
                              throttle_duration_sec=_THROTTLE_S)
            engine.update(self._effective(self._parameters.config))

    def _age_ms(self, header: Header) -> float:
        """Return now - stamp in ms on the wall clock; NaN under use_sim_time."""
        if self._node.get_parameter('use_sim_time').value:
            return float('nan')
        return (time.time() - stamp_seconds(header)) * 1000.0


__all__ = ['PerceptionPipeline', 'Received', 'build_engine', 'changed_fields', 'header_ahead',
           'stamp_seconds']
