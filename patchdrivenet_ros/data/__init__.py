# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Data: synthetic driving world, dataset loaders, exporters and bags."""
