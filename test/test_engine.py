# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import copy
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from patchdrivenet_ros import engine as engine_module
from patchdrivenet_ros.config import ModelConfig, PerceptionConfig, with_changes
from patchdrivenet_ros.engine import PerceptionEngine
from patchdrivenet_ros.model import PatchDriveNet, build_model
from patchdrivenet_ros.model.candidates import candidate_grid
from patchdrivenet_ros.preprocess import frames_to_pixels, pixels_to_float
from patchdrivenet_ros.result import PatchState

SMALL = ModelConfig(width=8, refine_width=8, patch_canonical=32, token_dim=16, attention_heads=2)
HEIGHT, WIDTH = 192, 320
MARGIN = 24
# Small frames where a budget of 100 takes every candidate (60 of 32 px, 15 of 64 px).
REUSE = PerceptionConfig(global_scale=0.5, patch_sizes=(32, 64), patch_budget=100,
                         motion_threshold=3.0, max_reuse_age=4, score_threshold=0.2,
                         device='cpu')


@pytest.fixture(scope='module')
def model() -> PatchDriveNet:
    torch.manual_seed(0)
    return build_model(SMALL).eval()


@pytest.fixture(scope='module')
def texture() -> np.ndarray:
    """Return a smooth random texture larger than a frame (shifted crops are translations)."""
    noise = np.random.default_rng(0).integers(0, 256, (HEIGHT + 2 * MARGIN, WIDTH + 2 * MARGIN, 3))
    blurred = cv2.GaussianBlur(noise.astype(np.uint8), (0, 0), 2.0)
    return cv2.normalize(blurred, None, 0, 255, cv2.NORM_MINMAX)


def frame(texture: np.ndarray, shift: int = 0) -> np.ndarray:
    """Crop a view whose content moved ``shift`` px to the right (a non-contiguous view)."""
    return texture[MARGIN:MARGIN + HEIGHT, MARGIN - shift:MARGIN - shift + WIDTH]


def engine(model: PatchDriveNet, **changes: object) -> PerceptionEngine:
    return PerceptionEngine(model, with_changes(REUSE, **changes))


@pytest.mark.parametrize(('width', 'height'), [(1242, 375), (1600, 900), (333, 217)])
def test_frame_results_have_input_shapes(model: PatchDriveNet, width: int, height: int) -> None:
    runner = PerceptionEngine(model, PerceptionConfig(device='cpu', score_threshold=0.05))
    image = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    result = runner.infer([image], bgr=True)[0]
    assert result.mask.shape == (height, width) and result.mask.dtype == np.uint8
    assert result.mask.max() < len(SMALL.classes)
    assert result.boxes.shape == (len(result.scores), 4) and result.boxes.dtype == np.float32
    assert result.class_ids.shape == result.scores.shape
    if len(result.boxes):
        assert set(result.class_ids.tolist()) <= {SMALL.classes.index(c)
                                                  for c in SMALL.detection_classes}
        assert (result.boxes[:, 2] <= width).all() and (result.boxes[:, 3] <= height).all()
    assert result.plan.chosen == 12 and result.plan.recomputed == 12
    assert result.saliency.ndim == 2 and 0.0 <= result.saliency.min() <= 1.0
    assert result.flops > 0
    assert {'preprocess', 'global', 'refine', 'fusion', 'decode'} <= set(result.timings_ms)


def test_identical_frames_reuse_every_patch_and_equal_recomputing(
        model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='displacement')
    first = runner.infer([frame(texture)])[0]
    second = runner.infer([frame(texture)])[0]
    fresh = engine(model, reuse_rule='off').infer([frame(texture)])[0]
    assert second.plan.chosen == len(candidate_grid(WIDTH, HEIGHT, REUSE.patch_sizes))
    assert second.plan.reused == second.plan.chosen and first.plan.reused == 0
    np.testing.assert_array_equal(second.mask, fresh.mask)
    np.testing.assert_allclose(second.boxes, fresh.boxes, atol=1e-5)
    np.testing.assert_allclose(second.scores, fresh.scores, atol=1e-5)
    np.testing.assert_array_equal(second.class_ids, fresh.class_ids)
    assert second.global_reused and not first.global_reused
    heads_only = runner.model.flop_counter.totals['global']  # nothing encoded, nothing refined
    assert second.flops == pytest.approx(heads_only) and second.flops < 0.05 * first.flops


def test_a_still_scene_repeats_its_outputs_until_the_config_changes(
        model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', patch_budget=6, score_threshold=0.0)
    first, second = (runner.infer([frame(texture)])[0] for _ in range(2))
    # Nothing the outputs depend on changed: fusion and decoding are not run again.
    assert 'refine' not in second.timings_ms and 'decode' not in second.timings_ms
    np.testing.assert_array_equal(second.mask, first.mask)
    np.testing.assert_array_equal(second.boxes, first.boxes)
    assert (second.plan.states == PatchState.REUSED).all() and second.global_reused
    runner.update(with_changes(runner.config, score_threshold=0.9))
    stricter = runner.infer([frame(texture)])[0]
    assert 'decode' in stricter.timings_ms and len(stricter.boxes) < len(first.boxes)
    assert (stricter.scores >= 0.9).all()


def test_global_features_move_with_the_scene(model: PatchDriveNet, texture: np.ndarray) -> None:
    # The untrained model's priorities barely vary; scaled up, their moves can be seen.
    contrasted = copy.deepcopy(model)
    with torch.no_grad():
        contrasted.priority_head.out.weight.mul_(1e5)
        contrasted.priority_head.out.bias.zero_()
    runner = engine(contrasted, reuse_rule='compensated', global_reuse_motion=16.0)
    first = runner.infer([frame(texture)])[0]
    moved = runner.infer([frame(texture, 8)])[0]  # half a global cell (16 px) to the right
    assert moved.global_reused
    between = 0.5 * (first.saliency[:, 1:] + first.saliency[:, :-1])  # half a cell on
    assert np.abs(first.saliency[:, 1:] - between).max() > 0.1
    np.testing.assert_allclose(moved.saliency[:, 1:], between, atol=0.05)


def test_a_moving_object_in_a_still_scene_is_followed(model: PatchDriveNet,
                                                      texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', global_reuse_motion=16.0)
    look = np.ascontiguousarray(texture[::-1, ::-1, ::-1])
    def scene(x0: int) -> np.ndarray:
        picture = np.array(frame(texture))
        picture[32:160, x0:x0 + 128] = look[:128, :128]  # the object moves, not its look
        return picture
    runner.infer([scene(112)])
    result = runner.infer([scene(124)])[0]  # the object moved 12 px right
    plan = result.plan
    assert result.global_reused  # the still scene keeps its global features, moved
    grid = candidate_grid(WIDTH, HEIGHT, REUSE.patch_sizes).boxes[plan.cell_ids]
    reused = plan.states == PatchState.REUSED
    x1, y1, x2, y2 = (grid[:, i] for i in range(4))
    inside = (x1 >= 112 + 24) & (x2 <= 112 + 128 - 24) & (y1 >= 32 + 24) & (y2 <= 160 - 24)
    edge = (x1 <= 112 - 8) & (x2 >= 112 + 8) & (y1 >= 32) & (y2 <= 160)  # its left side
    still = (x1 >= 112 + 128 + 32) | (x2 <= 112 - 32)
    assert inside.any() and edge.any() and still.any()
    assert reused[inside].all() and reused[still].all()
    assert not reused[edge].any()  # recomputed where it moves against the background
    np.testing.assert_array_equal(plan.boxes[inside], grid[inside] + [12, 0, 12, 0])
    np.testing.assert_array_equal(plan.boxes[still], grid[still])


def test_global_stream_encodes_again_on_a_cut_a_jump_large_motion_and_age(
        model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', global_reuse_motion=8.0,
                    max_global_reuse_age=2)
    other = np.ascontiguousarray(texture[::-1, ::-1])
    def reused(picture: np.ndarray, stamp: float) -> bool:
        return runner.infer([picture], stamps=[stamp])[0].global_reused
    still = frame(texture)
    assert [reused(still, 0.1 * i) for i in range(4)] == [False, True, True, False]
    assert not reused(frame(other), 0.4)  # a cut: the flow cannot explain it
    assert reused(frame(other), 0.5)
    assert not reused(frame(other), 5.0)  # a time jump
    assert reused(frame(other), 5.1)
    assert not reused(frame(other, 20), 5.2)  # 20 px of motion, above 8
    off = engine(model, reuse_rule='compensated', global_reuse_motion=0.0)
    assert not any(r.global_reused for _ in range(3) for r in off.infer([still]))


def test_content_entering_while_panning_adds_up_until_the_stream_encodes(
        model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', global_reuse_motion=16.0)
    # 6 px a frame: about 3% of the frame enters each time; twice is more than MAX_ENTERING.
    pan = [runner.infer([frame(texture, 6 * i)])[0].global_reused for i in range(4)]
    assert pan == [False, True, False, True]


def test_streams_reuse_their_global_features_apart(model: PatchDriveNet,
                                                    texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', patch_budget=4)
    still, other = frame(texture), np.ascontiguousarray(frame(texture)[::-1, ::-1])
    runner.infer([still, still], streams=['a', 'b'])
    pair = runner.infer([still, other], streams=['a', 'b'])  # b cut to another view
    assert [r.global_reused for r in pair] == [True, False]
    alone = engine(model, reuse_rule='off', patch_budget=4).infer([other])[0]
    np.testing.assert_allclose(pair[1].saliency, alone.saliency, atol=1e-5)
    assert pair[0].flops < 0.5 * pair[1].flops  # the encoding counts for b alone


@pytest.mark.parametrize('rule', ['displacement', 'compensated'])
def test_two_pixel_shift_reuses_under_both_rules(model: PatchDriveNet, texture: np.ndarray,
                                                 rule: str) -> None:
    runner = engine(model, reuse_rule=rule)
    runner.infer([frame(texture)])
    plan = runner.infer([frame(texture, 2)])[0].plan
    reused = plan.states == PatchState.REUSED
    if rule == 'displacement':
        assert reused.all()
        return
    interior = plan.boxes[:, 2] <= WIDTH - 2
    assert reused[interior].all() and not reused[~interior].any()
    grid = candidate_grid(WIDTH, HEIGHT, REUSE.patch_sizes).boxes[plan.cell_ids]
    np.testing.assert_array_equal(plan.boxes[reused], grid[reused] + [2, 0, 2, 0])


def test_ten_pixel_shift_recomputes_under_displacement_reuses_compensated(
        model: PatchDriveNet, texture: np.ndarray) -> None:
    displacement = engine(model, reuse_rule='displacement')
    displacement.infer([frame(texture)])
    assert displacement.infer([frame(texture, 10)])[0].plan.reused == 0
    compensated = engine(model, reuse_rule='compensated')
    compensated.infer([frame(texture)])
    plan = compensated.infer([frame(texture, 10)])[0].plan
    reused = plan.states == PatchState.REUSED
    grid = candidate_grid(WIDTH, HEIGHT, REUSE.patch_sizes).boxes[plan.cell_ids]
    interior = grid[:, 2] <= WIDTH - 12
    assert reused[interior].all() and not reused[grid[:, 2] > WIDTH - 8].any()
    np.testing.assert_array_equal(plan.boxes[reused], grid[reused] + [10, 0, 10, 0])


def test_cache_ageing(model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='compensated', max_reuse_age=1)
    reused = [runner.infer([frame(texture)])[0].plan.reused for _ in range(5)]
    everything = len(candidate_grid(WIDTH, HEIGHT, REUSE.patch_sizes))
    assert reused == [0, everything, 0, everything, 0]
    never = engine(model, reuse_rule='compensated', max_reuse_age=0)
    assert [never.infer([frame(texture)])[0].plan.reused for _ in range(3)] == [0, 0, 0]


def test_cache_resets_on_size_change_time_jump_and_request(model: PatchDriveNet,
                                                           texture: np.ndarray) -> None:
    runner = engine(model, reuse_rule='displacement', time_jump_s=1.0)
    image = frame(texture)
    def reused(picture: np.ndarray, stamp: float) -> int:
        return runner.infer([picture], stamps=[stamp])[0].plan.reused
    assert reused(image, 0.0) == 0 and reused(image, 0.1) > 0
    assert reused(image[:, :256], 0.2) == 0 and reused(image[:, :256], 0.3) > 0
    assert reused(image, 0.4) == 0 and reused(image, 0.5) > 0
    assert reused(image, 2.0) == 0 and reused(image, 2.1) > 0
    assert reused(image, 1.9) == 0 and reused(image, 2.0) > 0
    runner.reset()
    assert reused(image, 2.1) == 0


@pytest.mark.parametrize('change', [{'global_scale': 0.25}, {'global_max_pixels': 10_000},
                                    {'score_threshold': 0.5}])
def test_changing_the_global_stream_scale_resets_reuse(model: PatchDriveNet, texture: np.ndarray,
                                                       change: dict[str, object]) -> None:
    runner = engine(model, reuse_rule='displacement')
    image = frame(texture)
    assert runner.infer([image], stamps=[0.0])[0].plan.reused == 0
    runner.update(with_changes(runner.config, **change))
    reused = runner.infer([image], stamps=[0.1])[0].plan.reused
    assert (reused == 0) == ('score_threshold' not in change)


def test_frames_share_one_budget(model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, patch_budget=10, reuse_rule='compensated')
    pictures = [frame(texture), np.ascontiguousarray(frame(texture, 7)[:, ::-1])]
    first, second = runner.infer(pictures, streams=['left', 'right'])
    assert first.plan.chosen + second.plan.chosen == 10
    assert first.flops + second.flops == pytest.approx(runner.model.flop_counter.total())
    again = runner.infer(pictures, streams=['left', 'right'])
    assert sum(r.plan.reused for r in again) == 10


def test_choice_scores_choose_the_patches(model: PatchDriveNet, texture: np.ndarray) -> None:
    runner = engine(model, patch_budget=3, reuse_rule='off', patch_sizes=(64,))
    grid = candidate_grid(WIDTH, HEIGHT, (64,))
    scores = np.zeros(len(grid), np.float32)
    wanted = [0, 7, len(grid) - 1]  # far apart: no overlap defers any of them
    scores[wanted] = [0.9, 0.8, 0.7]
    (result,) = runner.infer([frame(texture)], choice_scores=[scores])
    assert sorted(result.plan.cell_ids.tolist()) == wanted
    with pytest.raises(ValueError, match='candidate grid needs'):
        runner.infer([frame(texture)], choice_scores=[scores[:-1]])
    with pytest.raises(ValueError, match='every frame of a call or for none'):
        runner.infer([frame(texture), frame(texture)], streams=['a', 'b'],
                     choice_scores=[scores, None])  # type: ignore[list-item]


def test_thin_prior_is_the_coarse_thin_class_probability(texture: np.ndarray) -> None:
    torch.manual_seed(0)
    net = build_model(SMALL).eval()
    thin = [SMALL.classes.index(n) for n in ('lane_marking', 'pole', 'traffic_sign')]
    images = pixels_to_float(frames_to_pixels([frame(texture)], torch.device('cpu')))
    grid = candidate_grid(WIDTH, HEIGHT, (32, 64))
    with torch.no_grad():
        net.segment_head.out.weight.zero_()
        net.segment_head.out.bias.fill_(-20.0)
        net.segment_head.out.bias[thin[1]] = 20.0  # every cell: a pole
        encoded = net.encode_global(images, 0.5)
        assert torch.allclose(net.thin_prior(encoded, grid), torch.ones(1, len(grid)))
        net.segment_head.out.bias[thin[1]] = -20.0
        net.segment_head.out.bias[SMALL.classes.index('road')] = 20.0  # every cell: road
        assert float(net.thin_prior(encoded, grid).max()) < 1e-6


def test_thin_priority_steers_the_choice(model: PatchDriveNet, texture: np.ndarray,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    grid = candidate_grid(WIDTH, HEIGHT, (64,))
    wanted = [0, 7, len(grid) - 1]
    prior = torch.zeros(1, len(grid))
    prior[0, wanted] = 1.0
    steered = engine(model, patch_budget=3, reuse_rule='off', patch_sizes=(64,),
                     thin_priority=5.0)
    monkeypatch.setattr(steered.model, 'thin_prior', lambda encoded, grid: prior)
    (result,) = steered.infer([frame(texture)])
    assert sorted(result.plan.cell_ids.tolist()) == wanted
    learned_only = engine(model, patch_budget=3, reuse_rule='off', patch_sizes=(64,),
                          thin_priority=0.0)
    monkeypatch.setattr(learned_only.model, 'thin_prior', lambda encoded, grid: prior)
    (plain,) = learned_only.infer([frame(texture)])
    images = pixels_to_float(frames_to_pixels([frame(texture)], torch.device('cpu')))
    with torch.inference_mode():
        logits = learned_only.model.candidate_priorities(
            learned_only.model.encode_global(images, 0.5), grid)  # (1, N)
    assert int(logits[0].argmax()) in plain.plan.cell_ids.tolist()


def test_sf_interval_holds_results_between_runs(model: PatchDriveNet,
                                                texture: np.ndarray) -> None:
    runner = engine(model, method='sf_interval', interval_k=3)
    results = [runner.infer([frame(texture, i)])[0] for i in range(4)]
    assert [r.flops > 0 for r in results] == [True, False, False, True]
    assert results[1].mask is results[0].mask
    assert results[1].plan.reused == results[1].plan.chosen


def test_sf_interval_forecasts_only_from_computed_frames(model: PatchDriveNet,
                                                        texture: np.ndarray) -> None:
    runner = engine(model, method='sf_interval', interval_k=3, forecast_s=0.1)
    results = [runner.infer([frame(texture, i)], stamps=[0.1 * i])[0] for i in range(4)]
    assert [r.flow is not None for r in results] == [False, False, False, True]
    assert results[3].flow is not None
    assert results[3].flow.interval_s == pytest.approx(0.3)  # from the last computed frame


def test_missing_default_weights_give_an_untrained_engine_without_logging(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # The node reports missing weights once; the engine used to log the same warning again.
    missing = tmp_path / 'none.safetensors'
    monkeypatch.setattr(engine_module, 'default_weights_path', lambda: missing)
    with caplog.at_level(logging.DEBUG):
        untrained = PerceptionEngine.from_config(PerceptionConfig(device='cpu'))
    assert not untrained.weights_loaded
    assert caplog.records == []
