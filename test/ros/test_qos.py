# Copyright 2026 The patchdrivenet_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Reliability matching of the image subscription."""

import pytest

pytest.importorskip('rclpy')

from rclpy.qos import DurabilityPolicy, HistoryPolicy, ReliabilityPolicy  # noqa: E402

from patchdrivenet_ros.ros.qos import (  # noqa: E402
    choose_reliability,
    image_qos,
    latched_qos,
)

RELIABLE, BEST_EFFORT = ReliabilityPolicy.RELIABLE, ReliabilityPolicy.BEST_EFFORT


@pytest.mark.parametrize(
    ('publishers', 'expected', 'known'),
    [
        ([], BEST_EFFORT, False),
        ([RELIABLE], RELIABLE, True),
        ([RELIABLE, RELIABLE], RELIABLE, True),
        ([BEST_EFFORT], BEST_EFFORT, True),
        ([RELIABLE, BEST_EFFORT], BEST_EFFORT, True),
    ],
)
def test_auto_matches_the_publishers(publishers: list, expected: object, known: bool) -> None:
    choice = choose_reliability(publishers)
    assert choice.reliability == expected
    assert choice.publishers_known is known
    assert choice.reason


@pytest.mark.parametrize(('override', 'expected'), [('reliable', RELIABLE),
                                                     ('best_effort', BEST_EFFORT)])
def test_override_wins(override: str, expected: object) -> None:
    assert choose_reliability([BEST_EFFORT, RELIABLE], override).reliability == expected
    assert choose_reliability([], override).reliability == expected


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ValueError, match='qos_reliability'):
        choose_reliability([], 'sometimes')


def test_profiles() -> None:
    profile = image_qos(RELIABLE)
    assert (profile.depth, profile.history, profile.reliability) == (
        1, HistoryPolicy.KEEP_LAST, RELIABLE)
    assert latched_qos().durability == DurabilityPolicy.TRANSIENT_LOCAL
