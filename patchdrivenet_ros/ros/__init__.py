# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ROS 2 layer: the perception node, its parameters, QoS, conversions and diagnostics."""
