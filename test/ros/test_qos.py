# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Reliability matching of the image subscription.

Marked ``ros`` (needs rclpy): policies are named by strings in the parameters and rclpy is
imported inside the tests, so the file imports anywhere and test/conftest.py skips or fails it
with the reason.
"""

from typing import Any

import pytest

pytestmark = pytest.mark.ros


def _reliability(name: str) -> Any:
    """Return rclpy's ReliabilityPolicy member of that name."""
    from rclpy.qos import ReliabilityPolicy

    return ReliabilityPolicy[name]


@pytest.mark.parametrize(
    ('publishers', 'expected', 'known'),
    [
        ([], 'BEST_EFFORT', False),
        (['RELIABLE'], 'RELIABLE', True),
        (['RELIABLE', 'RELIABLE'], 'RELIABLE', True),
        (['BEST_EFFORT'], 'BEST_EFFORT', True),
        (['RELIABLE', 'BEST_EFFORT'], 'BEST_EFFORT', True),
    ],
)
def test_auto_matches_the_publishers(publishers: list[str], expected: str, known: bool) -> None:
    from patchdrivenet_ros.ros.qos import choose_reliability

    choice = choose_reliability([_reliability(p) for p in publishers])
    assert choice.reliability == _reliability(expected)
    assert choice.publishers_known is known
    assert choice.reason


@pytest.mark.parametrize(('override', 'expected'), [('reliable', 'RELIABLE'),
                                                     ('best_effort', 'BEST_EFFORT')])
def test_override_wins(override: str, expected: str) -> None:
    from patchdrivenet_ros.ros.qos import choose_reliability

    publishers = [_reliability('BEST_EFFORT'), _reliability('RELIABLE')]
    assert choose_reliability(publishers, override).reliability == _reliability(expected)
    assert choose_reliability([], override).reliability == _reliability(expected)


def test_unknown_override_is_refused() -> None:
    from patchdrivenet_ros.ros.qos import choose_reliability

    with pytest.raises(ValueError, match='qos_reliability'):
        choose_reliability([], 'sometimes')


def test_profiles() -> None:
    from rclpy.qos import DurabilityPolicy, HistoryPolicy

    from patchdrivenet_ros.ros.qos import image_qos, latched_qos

    reliable = _reliability('RELIABLE')
    profile = image_qos(reliable)
    assert (profile.depth, profile.history, profile.reliability) == (
        1, HistoryPolicy.KEEP_LAST, reliable)
    assert latched_qos().durability == DurabilityPolicy.TRANSIENT_LOCAL
