# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Where the shipped node parameters (config/perception.yaml) live."""

from __future__ import annotations

import logging
from pathlib import Path

LOGGER = logging.getLogger('patchdrivenet_params')


def default_params_file() -> Path:
    """Return config/perception.yaml: the installed share's, else the repository's."""
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = Path(get_package_share_directory('patchdrivenet_ros'))
        if (installed / 'config' / 'perception.yaml').is_file():
            return installed / 'config' / 'perception.yaml'
    except Exception:  # not installed, or no ament index: use the checkout
        LOGGER.debug('no installed share; using the repository config')
    return Path(__file__).resolve().parents[2] / 'config' / 'perception.yaml'
