"""Metrics are a fold of the event stream."""

from sagatui.engine.metrics import RunMetrics, percentile
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
