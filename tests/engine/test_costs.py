"""Per-provider cost (issue 16 item 5): each call of a provider costs what it says; the metrics add up
what the calls cost, what the retries and the fallbacks cost; a pack that names no cost reports none
(and its reports keep the keys they had)."""

from sagatui.engine.metrics import RunMetrics
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from tests.engine.harness import rig, transient

PRICED = SagaDef.model_validate({"name": "sms", "steps": [
    {"name": "send", "action": "sms_a.send", "cost": 0.05, "retry": {"max_attempts": 3, "initial_delay": "10ms"},
     "fallbacks": [{"action": "sms_b.send", "cost": 0.2}]},
]})


async def test_retries_and_fallbacks_are_priced():
    async with rig(PRICED) as r:
        r.services.script("sms_a.send", transient(), transient(), transient())
        r.services.script("sms_b.send", transient())
        await r.engine.run("sms", "S1", {})
    metrics = RunMetrics().extend(r.events())
    # three tries at 0.05 (two of them retries), then two at 0.2 on the fallback (one a retry)
    assert (round(metrics.cost, 6), round(metrics.retry_cost, 6), round(metrics.fallback_cost, 6)) == (0.55, 0.3, 0.4)
    summary = metrics.summary()
    assert (summary.cost, summary.retry_cost, summary.fallback_cost) == (0.55, 0.3, 0.4)
    assert [event.data["cost"] for event in r.events(EventKind.ATTEMPT_STARTED)] == [0.05] * 3 + [0.2] * 2


async def test_a_pack_without_costs_reports_none():
    plain = SagaDef.model_validate({"name": "p", "steps": [{"name": "send", "action": "sms_a.send"}]})
    async with rig(plain) as r:
        await r.engine.run("p", "S1", {})
    dumped = RunMetrics().extend(r.events()).as_dict()
    assert "cost" not in dumped and "retry_cost" not in dumped
    assert r.events(EventKind.ATTEMPT_STARTED)[0].data == {}
