# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Console tools: train, evaluate, benchmark, synth and demo.

OpenMP threads that spin while waiting made torch take seconds a frame once another process
shared the cores (1600x900: 1.8 s against 46 ms on 2 cores), so the tools default
OMP_WAIT_POLICY to PASSIVE, as the node does, before they load torch. Set it to choose
otherwise.
"""

import os

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
