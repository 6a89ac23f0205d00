# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""PatchDriveNet: patch-based efficient perception for ROS 2 driving stacks."""
