# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Console tools: train, evaluate, benchmark, synth and demo."""
