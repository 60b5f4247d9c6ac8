"""The scaling rule, driven with numbers: no processes, no clock."""

from __future__ import annotations

import pytest

from scscp.gateway.autoscaler import Autoscaler


def test_a_burst_scales_up_at_once_within_the_maximum() -> None:
    scaler = Autoscaler(minimum=1, maximum=4, scale_down_after=60)
    assert scaler.desired(load=1, current=1, now=0) == 1
    assert scaler.desired(load=16, current=1, now=1) == 4  # capped
    assert scaler.desired(load=3, current=1, now=2) == 3


def test_a_fall_waits_for_the_stabilisation_window() -> None:
    scaler = Autoscaler(minimum=1, maximum=4, scale_down_after=60)
    assert scaler.desired(load=16, current=1, now=0) == 4
    assert scaler.desired(load=0, current=4, now=10) == 4
    assert scaler.desired(load=0, current=4, now=59) == 4
    assert scaler.desired(load=0, current=4, now=61) == 1  # the burst left the window
    assert scaler.desired(load=0, current=1, now=62) == 1


def test_the_tolerance_band_keeps_the_count() -> None:
    scaler = Autoscaler(minimum=1, maximum=100, scale_down_after=0, tolerance=0.1)
    assert scaler.desired(load=21, current=20, now=0) == 20  # 5 % over: no change
    assert scaler.desired(load=23, current=20, now=1) == 23


def test_scale_to_zero_and_a_cold_start() -> None:
    scaler = Autoscaler(minimum=0, maximum=2, scale_down_after=5)
    assert scaler.desired(load=0, current=1, now=0) == 1  # within the window of its start
    assert scaler.desired(load=0, current=1, now=100) == 0
    assert scaler.desired(load=1, current=0, now=101) == 1  # the first call starts one


@pytest.mark.parametrize(("minimum", "maximum"), [(-1, 2), (3, 2), (0, 0)])
def test_bad_bounds(minimum: int, maximum: int) -> None:
    with pytest.raises(ValueError, match="minimum"):
        Autoscaler(minimum=minimum, maximum=maximum)
