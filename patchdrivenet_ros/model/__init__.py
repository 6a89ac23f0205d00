# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""PatchDriveNet: the model, its factory, its outputs and its weights."""

from patchdrivenet_ros.model.factory import build_model
from patchdrivenet_ros.model.outputs import DetectionMaps, PatchDriveNetOutput, PatchOutputs
from patchdrivenet_ros.model.patchdrivenet import PatchDriveNet
from patchdrivenet_ros.model.weights import (
    WeightsError,
    default_weights_path,
    load_weights,
    save_weights,
)

__all__ = [
    'DetectionMaps', 'PatchDriveNet', 'PatchDriveNetOutput', 'PatchOutputs', 'WeightsError',
    'build_model', 'default_weights_path', 'load_weights', 'save_weights',
]
