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
