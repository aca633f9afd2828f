"""Metrics are a fold of the event stream."""

import pytest

from sagatui.engine.metrics import EXACT_LATENCIES, Latencies, RunMetrics, percentile
from sagatui.model.events import Event, EventKind
from tests.engine.harness import ORDER, permanent, rig, transient


def test_percentile_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([], 0.5) is None


async def test_metrics_from_a_mixed_run():
    async with rig(ORDER) as r:
        r.services.script("payment.charge", transient(), {"payment_id": "P1"}, permanent())
        await r.engine.run("order", "ok", {})
        await r.engine.run("order", "declined", {})
    metrics = RunMetrics().extend(r.events())
    assert metrics.started == 2 and metrics.finished == 2
    assert metrics.success_rate == 0.5
    assert metrics.retries == 1
    assert metrics.compensations == {"completed": 1}
    assert metrics.as_dict()["by_status"] == {"completed": 1, "compensated": 1}
    assert metrics.attempts == 4 + 1 + 2


async def test_a_retried_rollback_moves_the_saga_out_of_needs_attention_once():
    saga_def = ORDER.model_copy(update={"steps": (
        ORDER.steps[0], ORDER.steps[1].model_copy(
            update={"compensation_retry": ORDER.steps[1].compensation_retry.model_copy(update={"max_attempts": 2})}),
        ORDER.steps[2], ORDER.steps[3])})
    async with rig(saga_def) as r:
        r.services.script("shipping.create_shipment", permanent())
        r.services.script("payment.refund", transient("refund gateway down"), transient("refund gateway down"))
        saga = await r.engine.run("order", "S1", {})
        await r.engine.retry_compensations(saga)
    metrics = RunMetrics().extend(r.events())
    assert metrics.as_dict()["by_status"] == {"compensated": 1}
    assert metrics.in_flight == 0 and len(metrics.latencies) == 1


async def test_retry_rate_is_a_share_of_tries_even_when_the_breaker_turns_retries_away():
    async with rig(ORDER) as r:
        r.engine.breakers.get("payment").isolate()  # every try of the charge is rejected before any attempt
        await r.engine.run("order", "S1", {})
    metrics = RunMetrics().extend(r.events())
    assert (metrics.calls, metrics.attempts, metrics.rejected_calls, metrics.retries) == (2, 1, 3, 2)
    # 4 tries (the inventory's one attempt, the charge's three rejections), 2 of them retries; retries
    # per attempt would say 200%.
    assert metrics.retry_rate == 0.5


def test_latency_percentiles_are_exact_up_to_the_limit():
    latencies = Latencies()
    values = [float((n * 7919) % 1009) / 100 for n in range(EXACT_LATENCIES)]
    for value in values:
        latencies.add(value)
    for fraction in (0.0, 0.5, 0.95, 1.0):
        assert latencies.percentile(fraction) == percentile(sorted(values), fraction)


def test_past_the_limit_latencies_fold_into_a_bounded_histogram_within_half_a_percent():
    latencies = Latencies()
    values = [0.0] * 1000 + [0.05 + ((n * 7919) % 100_003) / 1000 for n in range(5 * EXACT_LATENCIES)]
    for value in values:
        latencies.add(value)
    ordered = sorted(values)
    assert len(latencies) == len(values) and latencies._values == []  # no value is kept one by one
    assert latencies._buckets is not None and len(latencies._buckets) < 1000
    assert latencies.percentile(0.01) == 0.0
    for fraction in (0.5, 0.9, 0.95, 0.99):
        assert latencies.percentile(fraction) == pytest.approx(percentile(ordered, fraction), rel=0.005)
    assert latencies.percentile(1.0) == ordered[-1]  # clamped to the largest seen


def test_a_resolved_saga_counts_with_the_status_its_resolve_gives() -> None:
    # A completed saga whose optional step's undo failed needs attention; resolved, it is completed again.
    def event(seq: int, kind: EventKind, **data: object) -> Event:
        return Event(run_id=1, seq=seq, time=float(seq), kind=kind, saga_id="S1", data=data)

    metrics = RunMetrics().extend([
        event(1, EventKind.SAGA_STARTED, saga="order", input={}),
        event(2, EventKind.SAGA_NEEDS_ATTENTION, status="needs_attention", duration=2.0),
        event(3, EventKind.SAGA_RESOLVED, note="email resent by hand", status="completed"),
    ])
    assert metrics.as_dict()["by_status"] == {"completed": 1}
    assert metrics.success_rate == 1.0 and metrics.needing_attention == set()
