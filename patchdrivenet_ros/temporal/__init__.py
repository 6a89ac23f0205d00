# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Temporal patch reuse: optical flow, patch cache and reuse rules."""
