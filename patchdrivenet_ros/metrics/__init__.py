# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Evaluation metrics as pure numpy functions and small accumulators; fractions in [0, 1]."""

from patchdrivenet_ros.metrics.detection import DetectionEvaluator
from patchdrivenet_ros.metrics.kitti import KittiEvaluator
from patchdrivenet_ros.metrics.segmentation import SegmentationEvaluator

__all__ = ['DetectionEvaluator', 'KittiEvaluator', 'SegmentationEvaluator']
