"""Metrics labels stay bounded: whatever a client calls, the series are a fixed set."""

from __future__ import annotations

from scscp.gateway.metrics import OTHER, OUTCOMES, GatewayMetrics, ProcedureLabels
from scscp.protocol import TRANSIENT_CD
from scscp.special import SCSCP2


def test_a_procedure_not_offered_is_labelled_other() -> None:
    labels = ProcedureLabels([(TRANSIENT_CD, "Gnu"), (SCSCP2, "get_allowed_heads")])
    assert labels(TRANSIENT_CD, "Gnu") == "Gnu"
    assert labels(SCSCP2, "get_allowed_heads") == "get_allowed_heads"
    assert labels(TRANSIENT_CD, "SCSCPStartTracing") == OTHER
    assert labels("some_cd", "Gnu") == OTHER  # the name alone is not enough


def test_calls_to_many_unknown_names_add_no_series() -> None:
    metrics = GatewayMetrics("gap")
    metrics.offer([(TRANSIENT_CD, "Gnu")])
    before = _series(metrics)
    for n in range(500):
        metrics.call_done(TRANSIENT_CD, f"Made_up_{n}", "rejected", 0.0001)
    metrics.call_done(TRANSIENT_CD, "Gnu", "completed", 0.002)
    assert _series(metrics) == before
    value = metrics.registry.get_sample_value
    labels = {"backend": "gap", "outcome": "rejected"}
    assert value("scscp_calls_total", {**labels, "procedure": OTHER}) == 500
    assert value("scscp_calls_total", {**labels, "procedure": "Gnu"}) == 0
    assert value("scscp_calls_total", {**labels, "outcome": "completed", "procedure": "Gnu"}) == 1
    for outcome in OUTCOMES:  # every outcome exists from the start, for rates
        assert (
            value("scscp_calls_total", {**labels, "outcome": outcome, "procedure": "Gnu"})
            is not None
        )


def _series(metrics: GatewayMetrics) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (s.name, tuple(sorted(s.labels.items())))
        for family in metrics.registry.collect()
        for s in family.samples
        if family.name.startswith("scscp_call")
    }
