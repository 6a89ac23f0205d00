# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""PerceptionEngine: the one runner of PatchDriveNet and its baselines (node, tools, tests).

One call of ``infer`` takes the frames of several cameras (one size, one shared patch budget):
optical flow per stream -> global stream (encoded, or its cached features moved along the flow
where the scene allows) -> patch choice -> patch reuse decision -> one batch of refined
patches -> fusion -> decoded masks, boxes and patch plans.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
import contextlib
import dataclasses
from pathlib import Path
import time

import numpy as np
import torch

from patchdrivenet_ros.config import ConfigError, ModelConfig, PerceptionConfig
from patchdrivenet_ros.model.baselines import IntervalHold, RunSettings, run_settings
from patchdrivenet_ros.model.candidates import candidate_grid
from patchdrivenet_ros.model.decode import Detections, decode_maps
from patchdrivenet_ros.model.factory import build_model, inference_model
from patchdrivenet_ros.model.outputs import GlobalFeatures, PatchOutputs
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet
from patchdrivenet_ros.model.weights import WeightsError, default_weights_path, load_weights
from patchdrivenet_ros.postprocess import frame_detections, frame_plan
from patchdrivenet_ros.preprocess import check_frames, frames_to_pixels, grey_thumbnail
from patchdrivenet_ros.result import FrameResult, MeasuredFlow, PatchState
from patchdrivenet_ros.temporal.flow import FlowEstimator, patch_motion
from patchdrivenet_ros.temporal.global_reuse import (
    CachedGlobal,
    FrameMotion,
    frame_motion,
    may_reuse_global,
    warp_global,
)
from patchdrivenet_ros.temporal.reuse import TemporalState, decide_reuse, reference_boxes

DEFAULT_STREAM = 'default'
PEAKS_PER_MAP = 100
"""Most heatmap peaks decoded per detection map (a frame or a patch) before NMS."""
MIN_FLOW_SIDE = 16
"""Low-resolution frames smaller than this (pixels, either side) get no flow and no reuse."""
REFINE_CHUNK_CPU = 4
"""Patches per refinement convolution batch on the CPU (cache-friendly; GPUs take all)."""
GLUE_THREADS = 1
"""torch CPU threads for the small operations between the convolutions (fusion, decoding,
and with ONNX Runtime everything torch runs): waking a second thread costs them more than it
saves (fusion at 1242x375 on 2 cores: 9.5 ms on one thread, 18 ms on two)."""
TORCH_DEFAULT_THREADS = torch.get_num_threads()
"""torch's own thread count, before any engine set it: ONNX Runtime's when threads is 0."""


@contextlib.contextmanager
def _glue_threads() -> Iterator[None]:
    """Run the enclosed torch CPU operations on GLUE_THREADS threads."""
    threads = torch.get_num_threads()
    torch.set_num_threads(GLUE_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def resolve_device(name: str) -> torch.device:
    """Return the torch device of a config value: auto = cuda when available, else cpu."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ConfigError('device', f'{name} requested but CUDA is not available')
    return device


def _measured(flow: np.ndarray | None, state: TemporalState, scale: float
              ) -> MeasuredFlow | None:
    """Return the flow a stream's state just measured, where it and the stamp gap exist."""
    if flow is None or state.interval_s is None:
        return None
    return MeasuredFlow(flow, scale, state.interval_s)


class StageTimer:
    """Wall-clock milliseconds per stage (synchronising CUDA at each stage's end)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Close ``stage``: add the time since the previous lap to it."""
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        self.times[stage] = self.times.get(stage, 0.0) + (now - self._last) * 1e3
        self._last = now


@dataclasses.dataclass
class _Stream:
    """Temporal state of one camera stream and the cache capacity it was made for."""

    state: TemporalState
    capacity: int
    last: FrameResult | None = None  # the stream's previous result
    last_config: PerceptionConfig | None = None  # the config it was computed with


@dataclasses.dataclass(frozen=True)
class _Moved:
    """One stream's frame after advancing its temporal state."""

    state: TemporalState
    flow: np.ndarray | None  # (h, w, 2) low-res flow from the previous frame; None: reset
    motion: FrameMotion | None  # measured only where the global stream may be reused


@dataclasses.dataclass(frozen=True)
class _Reuse:
    """The reuse decision of one call."""

    reuse: np.ndarray  # (K,) bool, True = take the cached payload
    boxes: np.ndarray  # (K, 4) int where each patch is written
    states: dict[int, TemporalState]  # frame index -> its stream's state (empty: rule off)
    payloads: list[PatchOutputs]  # cached payloads of the reused patches, in index order


class PerceptionEngine:
    """Run PatchDriveNet (or a baseline) on frames, with per-stream temporal patch reuse.

    The engine runs its own inference copy of the model (batch norm folded); ``model`` is that
    copy, whose ``flop_counter`` holds the counts of the last call.
    """

    def __init__(self, model: PatchDriveNet, config: PerceptionConfig,
                 device: str | None = None) -> None:
        self.device = resolve_device(device or config.device)
        self.model = inference_model(model).to(self.device)
        self.model.refine_chunk = REFINE_CHUNK_CPU if self.device.type == 'cpu' else None
        self.model_config = model.config
        self.config = config
        self.weights_loaded = False
        self._flow = FlowEstimator()
        self._streams: dict[str, _Stream] = {}
        self._forecast_states: dict[str, TemporalState] = {}  # flow for forecasts, reuse off
        self._hold = IntervalHold()
        names = self.model_config.classes
        self._class_ids = np.array([names.index(n) for n in self.model_config.detection_classes],
                                   dtype=np.int64)
        self._onnxruntime = config.backend == 'onnxruntime' and self.device.type == 'cpu'
        if self._onnxruntime:
            self._use_onnxruntime(config)
        self._apply_threads(config)

    def _use_onnxruntime(self, config: PerceptionConfig) -> None:
        """Export the convolution stages to ONNX Runtime (they run there for CPU tensors)."""
        try:
            from patchdrivenet_ros.model.onnx_stages import use_onnxruntime
            use_onnxruntime(self.model, config.threads or TORCH_DEFAULT_THREADS)
        except ImportError as error:
            raise ConfigError('backend', f'onnxruntime cannot be used: {error} (pip install '
                              'onnxruntime onnx)') from None

    @classmethod
    def from_config(cls, config: PerceptionConfig) -> PerceptionEngine:
        """Build an engine with config.weights, or the shipped default weights.

        A missing explicit weights file raises WeightsError; missing default weights give an
        untrained model with ``weights_loaded`` False, which the caller reports (once).
        """
        path = Path(config.weights) if config.weights else default_weights_path()
        if path.is_file() or config.weights:
            engine = cls(load_weights(path), config)
            engine.weights_loaded = True
            return engine
        return cls(build_model(ModelConfig()), config)

    def update(self, config: PerceptionConfig) -> None:
        """Apply a new config at runtime; the temporal state resets when it must."""
        if config.weights != self.config.weights:
            raise ConfigError('weights', 'cannot change while running; build a new engine')
        old = self.config
        self.config = config
        device = resolve_device(config.device)
        if device != self.device:
            self.device = device
            self.model.to(device)
            self.model.refine_chunk = REFINE_CHUNK_CPU if device.type == 'cpu' else None
            self.reset()
        elif (config.method, config.patch_sizes, config.global_scale,
              config.global_max_pixels) != (old.method, old.patch_sizes, old.global_scale,
                                            old.global_max_pixels):
            self.reset()
        self._apply_threads(config)

    def reset(self, stream: str | None = None) -> None:
        """Forget the temporal state (and held results) of ``stream``, or of every stream."""
        if stream is None:
            self._streams.clear()
            self._forecast_states.clear()
        else:
            self._streams.pop(stream, None)
            self._forecast_states.pop(stream, None)
        self._hold.reset(stream)

    def _apply_threads(self, config: PerceptionConfig) -> None:
        """Give torch config.threads, or GLUE_THREADS where ONNX Runtime runs the convolutions."""
        threads = GLUE_THREADS if self._onnxruntime else config.threads
        if threads > 0 and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def infer(self, frames: Sequence[np.ndarray], *, bgr: bool = False,
              stamps: Sequence[float] | None = None,
              streams: Sequence[str] | None = None,
              choice_scores: Sequence[np.ndarray] | None = None) -> list[FrameResult]:
        """Perceive frames (H, W, 3) uint8 of one size; one FrameResult per frame.

        The frames share one patch budget (top-K across them). ``streams`` names the camera of
        each frame (its temporal state; unique within a call), ``stamps`` are seconds (a jump
        resets that stream's cache). Frames may be non-contiguous views. ``choice_scores``
        (one (N,) array per frame over the candidate grid) choose the patches instead of the
        learned priority: for studies such as an oracle's choice.
        """
        height, width = check_frames(frames)
        count = len(frames)
        names = list(streams) if streams is not None else [DEFAULT_STREAM] * count
        times: list[float | None] = list(stamps) if stamps is not None else [None] * count
        scores: list[np.ndarray | None] = (list(choice_scores) if choice_scores is not None
                                           else [None] * count)
        if len(names) != count or len(times) != count or len(scores) != count:
            raise ValueError('give one stream name, stamp and choice score array per frame')
        if len(set(names)) != count:
            raise ValueError('each stream may appear once per call')
        if any(s is None for s in scores) and any(s is not None for s in scores):
            raise ValueError('give choice scores for every frame of a call or for none')
        config = self.config
        settings = run_settings(config, (width, height))
        if config.method != 'sf_interval':
            return self._run(frames, bgr, times, names, settings, scores)
        due = [self._hold.due(n, config.interval_k, t, (width, height), config.time_jump_s)
               for n, t in zip(names, times, strict=True)]
        run = [i for i in range(count) if due[i]]
        computed = iter(self._run([frames[i] for i in run], bgr, [times[i] for i in run],
                                  [names[i] for i in run], settings, [scores[i] for i in run])
                        if run else [])
        results = []
        for i in range(count):
            if due[i]:
                result = next(computed)
                self._hold.store(names[i], result, times[i])
            else:
                result = self._hold.hold(names[i], times[i])
            results.append(result)
        return results

    def _stream(self, name: str, capacity: int) -> TemporalState:
        """Return the temporal state of stream ``name`` with a cache of ``capacity`` patches."""
        stream = self._streams.get(name)
        if stream is None or stream.capacity != capacity:
            stream = _Stream(TemporalState(capacity), capacity)
            self._streams[name] = stream
        return stream.state

    def _run(self, frames: Sequence[np.ndarray], bgr: bool, stamps: Sequence[float | None],
             streams: Sequence[str], settings: RunSettings,
             choice_scores: Sequence[np.ndarray | None]) -> list[FrameResult]:
        """Run the model once on a batch of frames with the given settings."""
        model, config = self.model, self.config
        timer = StageTimer(self.device)
        height, width = frames[0].shape[:2]
        with torch.inference_mode():
            images = frames_to_pixels(frames, self.device, bgr)  # (B, 3, H, W) uint8
            timer.lap('preprocess')
            grid = candidate_grid(width, height, config.patch_sizes)
            moved = self._advance(frames, bgr, stamps, streams, settings, len(grid))
            timer.lap('flow')
            model.flop_counter.reset()
            encoded, global_reused, still = self._encode(images, settings, moved)
            priority_logits = model.candidate_priorities(encoded, grid)  # (B, N)
            given = [c for c in choice_scores if c is not None]
            if given:
                ranking = torch.from_numpy(np.stack(given).astype(np.float32))  # (B, N)
                if ranking.shape != priority_logits.shape:
                    raise ValueError(f'choice scores of shape {tuple(ranking.shape)}; the '
                                     f'candidate grid needs {tuple(priority_logits.shape)}')
            elif config.thin_priority > 0 and settings.patch_budget > 0:
                ranking = (torch.sigmoid(priority_logits)
                           + config.thin_priority * model.thin_prior(encoded, grid))
            else:
                ranking = priority_logits  # (B, N)
            chosen = model.choose(ranking, grid, settings.patch_budget)  # (K, 2)
            timer.lap('global')
            frame_of, cells = chosen[:, 0], chosen[:, 1]  # (K,) each
            boxes = grid.boxes[cells]  # (K, 4)
            decision = self._decide_reuse(moved, settings, frame_of, cells, boxes,
                                          (width, height))
            flows = self._flows(frames, bgr, stamps, streams, settings, moved)
            timer.lap('flow')
            unchanged = self._unchanged(streams, still, decision, frame_of, cells)
            if unchanged is not None:  # nothing encoded, refined or decoded: the choice's work
                flops = model.flop_counter.per_frame(len(frames), frame_of[:0], frame_of[:0])
                timer.lap('fusion')
                return [dataclasses.replace(
                    last, plan=dataclasses.replace(last.plan, states=np.full(
                        last.plan.chosen, PatchState.REUSED, np.uint8)),
                    flops=float(flops[b]), global_reused=True, timings_ms=dict(timer.times),
                    flow=flows[b])
                    for b, last in enumerate(unchanged)]
            patches = self._refine(images, encoded, decision, frame_of, cells, boxes)
            timer.lap('refine')
            global_logits, global_maps = model.decode_global(encoded, patches.mixed, frame_of)
            timer.lap('global')  # the global heads: model compute, not fusion
            with _glue_threads():
                masks = model.fuse_labels(global_logits, patches, frame_of, decision.boxes,
                                          (height, width)).cpu().numpy()  # (B, H, W) uint8
                timer.lap('fusion')
                detections = Detections.cat([
                    decode_maps(global_maps, PEAKS_PER_MAP, config.score_threshold),
                    decode_maps(model.patch_maps(patches, frame_of, decision.boxes),
                                PEAKS_PER_MAP, config.score_threshold),
                ])
            saliency = torch.sigmoid(encoded.priority[:, 0]).float().cpu().numpy()  # (B, h, w)
            priorities = torch.sigmoid(priority_logits).float().cpu().numpy()  # (B, N)
            flops = model.flop_counter.per_frame(len(frames), frame_of[~decision.reuse],
                                                 np.flatnonzero(~global_reused))
            states = decision.reuse.astype(np.uint8)
            results = []
            for b in range(len(frames)):
                boxes_b, scores_b, classes_b = frame_detections(
                    detections, b, self._class_ids, (height, width), config.nms_iou,
                    config.max_detections)
                plan = frame_plan(np.flatnonzero(frame_of == b), decision.boxes, cells,
                                  grid.sizes, priorities[b], states)
                results.append(FrameResult(
                    mask=masks[b], boxes=boxes_b, scores=scores_b, class_ids=classes_b,
                    plan=plan, saliency=saliency[b], flops=float(flops[b]),
                    global_reused=bool(global_reused[b]), flow=flows[b]))
            timer.lap('decode')
        for name, result in zip(streams, results, strict=True):
            stream = self._streams.get(name)
            if stream is not None:
                stream.last, stream.last_config = result, config
        return [dataclasses.replace(r, timings_ms=dict(timer.times)) for r in results]

    def _refine(self, images: torch.Tensor, encoded: GlobalFeatures, decision: _Reuse,
                frame_of: np.ndarray, cells: np.ndarray, boxes: np.ndarray) -> PatchOutputs:
        """Refine the patches not reused in one batch, cache them, and return all K in order."""
        fresh, kept = np.flatnonzero(~decision.reuse), np.flatnonzero(decision.reuse)
        cached = decision.payloads
        extra = torch.cat([p.token for p in cached]) if cached else None
        refined = self.model.refine_patches(images, encoded, frame_of[fresh], boxes[fresh],
                                            extra)
        states = decision.states
        for k, payload in zip(fresh.tolist(), refined.rows(), strict=True):
            state = states.get(int(frame_of[k]))
            if state is not None:
                state.cache.put(cells[k], boxes[k], payload, state.frame_index)
        for k in kept.tolist():
            states[int(frame_of[k])].cache.move(cells[k], decision.boxes[k])
        if not cached:
            return refined
        order = np.argsort(np.concatenate([fresh, kept]))  # back to the order chosen
        return PatchOutputs.cat([refined, *cached]).take(torch.from_numpy(order).to(self.device))

    def _advance(self, frames: Sequence[np.ndarray], bgr: bool,
                 stamps: Sequence[float | None], streams: Sequence[str],
                 settings: RunSettings, capacity: int) -> list[_Moved]:
        """Advance each stream's temporal state by its frame: the flow and the frame's motion.

        With the rule off (or frames too small for optical flow) the streams' states are
        dropped and the list is empty: nothing is reused.
        """
        height, width = frames[0].shape[:2]
        scale = settings.global_scale
        if settings.reuse_rule == 'off' or min(height, width) * scale < MIN_FLOW_SIDE:
            for name in streams:
                self._streams.pop(name, None)
            return []
        config = self.config
        moved = []
        for frame, stamp, name in zip(frames, stamps, streams, strict=True):
            state = self._stream(name, capacity)
            grey = grey_thumbnail(frame, scale, bgr)
            previous = state.previous
            flow = state.advance(grey, stamp, (width, height), config.time_jump_s, self._flow)
            motion = None
            if flow is not None and previous is not None and config.global_reuse_motion > 0:
                motion = frame_motion(previous, grey, flow, scale)
            moved.append(_Moved(state, flow, motion))
        return moved

    def _flows(self, frames: Sequence[np.ndarray], bgr: bool,
               stamps: Sequence[float | None], streams: Sequence[str], settings: RunSettings,
               moved: list[_Moved]) -> list[MeasuredFlow | None]:
        """Each frame's flow from its stream's previous frame, for forecasts (None: unknown).

        The reuse rule's flow where it ran; else, when forecasts are asked for, measured here
        on states of their own (the reuse caches stay off).
        """
        scale = settings.global_scale
        if moved:
            self._forecast_states.clear()
            return [_measured(m.flow, m.state, scale) for m in moved]
        height, width = frames[0].shape[:2]
        if self.config.forecast_s <= 0 or min(height, width) * scale < MIN_FLOW_SIDE:
            self._forecast_states.clear()
            return [None] * len(frames)
        flows = []
        for frame, stamp, name in zip(frames, stamps, streams, strict=True):
            state = self._forecast_states.setdefault(name, TemporalState(0))
            flow = state.advance(grey_thumbnail(frame, scale, bgr), stamp, (width, height),
                                 self.config.time_jump_s, self._flow)
            flows.append(_measured(flow, state, scale))
        return flows

    def _encode(self, images: torch.Tensor, settings: RunSettings, moved: list[_Moved]
                ) -> tuple[GlobalFeatures, np.ndarray, np.ndarray]:
        """Return the global features of every frame, and (B,) bool reused and still.

        Reused: not encoded; still: reused exactly as cached (the scene did not move). A
        stream whose cached features may stand in (temporal/global_reuse.py) takes them, moved
        along the flow; the other frames are encoded in one batch and cached.
        """
        config, scale = self.config, settings.global_scale
        count = images.shape[0]
        kept: dict[int, CachedGlobal] = {}
        still = np.zeros(count, dtype=bool)
        for b, stream in enumerate(moved):
            entry, motion = stream.state.global_entry, stream.motion
            if (entry is not None and stream.flow is not None and motion is not None
                    and may_reuse_global(entry, motion, stream.state.frame_index,
                                         config.global_reuse_motion,
                                         config.max_global_reuse_age)):
                warped = warp_global(entry.features, stream.flow, scale)
                still[b] = warped is entry.features  # not resampled: the scene did not move
                kept[b] = CachedGlobal(warped, entry.computed_at,
                                       entry.entered + motion.entering)
        parts = {b: entry.features for b, entry in kept.items()}
        reused = np.array([b in kept for b in range(count)], dtype=bool)
        fresh = np.flatnonzero(~reused)
        if len(fresh):
            batch = images if len(fresh) == count else images[torch.from_numpy(fresh)]
            encoded = self.model.encode_global(batch, scale)
            parts.update({int(b): encoded.frame(i) for i, b in enumerate(fresh)})
        for b, stream in enumerate(moved):
            state = stream.state
            state.global_entry = (None if config.global_reuse_motion <= 0
                                  else kept.get(b, CachedGlobal(parts[b], state.frame_index)))
        if count == 1:
            return parts[0], reused, still
        return GlobalFeatures.cat([parts[b] for b in range(count)]), reused, still

    def _unchanged(self, streams: Sequence[str], still: np.ndarray, decision: _Reuse,
                   frame_of: np.ndarray, cells: np.ndarray) -> list[FrameResult] | None:
        """Return each frame's previous result when nothing its outputs depend on changed.

        That is when every frame of the call took its global features as cached (a still
        scene), chose the patches of its previous result and reused each where it lay, under
        the config of that result; then fusion and decoding would give that result again.
        None otherwise.
        """
        if not still.all() or not decision.reuse.all():
            return None
        previous = []
        for b, name in enumerate(streams):
            stream = self._streams[name]  # a still frame's stream keeps its state
            members = np.flatnonzero(frame_of == b)
            last = stream.last
            if (last is None or stream.last_config != self.config
                    or not np.array_equal(last.plan.cell_ids, cells[members])
                    or not np.array_equal(last.plan.boxes, decision.boxes[members])):
                return None
            previous.append(last)
        return previous

    def _decide_reuse(self, moved: list[_Moved], settings: RunSettings, frame_of: np.ndarray,
                      cells: np.ndarray, boxes: np.ndarray, frame_size: tuple[int, int]
                      ) -> _Reuse:
        """Decide which chosen patches reuse, from each stream's flow.

        An empty ``moved`` (the rule is off) reuses nothing.
        """
        reuse = np.zeros(len(cells), dtype=bool)
        write_boxes = boxes.copy()
        if not moved:
            return _Reuse(reuse, write_boxes, {}, [])
        config = self.config
        states: dict[int, TemporalState] = {}
        for b, stream in enumerate(moved):
            state, flow = stream.state, stream.flow
            states[b] = state
            members = np.flatnonzero(frame_of == b)
            where = reference_boxes(cells[members], boxes[members], state.cache)
            motion = None if flow is None else patch_motion(flow, where, settings.global_scale)
            decision = decide_reuse(settings.reuse_rule, cells[members], boxes[members], motion,
                                    state.cache, state.frame_index, config.motion_threshold,
                                    config.max_reuse_age, frame_size)
            reuse[members] = decision.reuse
            write_boxes[members] = decision.boxes
        payloads = []
        for k in np.flatnonzero(reuse).tolist():
            entry = states[int(frame_of[k])].cache.get(cells[k])
            if entry is None:
                raise RuntimeError(f'cell {cells[k]} was reused but is not cached')
            payloads.append(entry.payload)
        return _Reuse(reuse, write_boxes, states, payloads)


__all__ = ['PerceptionEngine', 'StageTimer', 'WeightsError', 'resolve_device']
