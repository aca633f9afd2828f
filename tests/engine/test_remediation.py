"""Remediation between retries (issue 16 item 6): after an attempt fails with a kind `remediate.errors` names,
the step's diagnosis runs, its result routes (by a condition reading `diagnosis`) to remedies, each an event
between the failed attempt and the next, inside the backoff's wait; nothing undoes a remedy."""

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus
from tests.engine.harness import Hang, permanent, rig, transient

STUCK = {"mode": "stuck", "healthy": False}


def payment(remediate: dict[str, object], retry: dict[str, object] | None = None) -> SagaDef:
    return SagaDef.model_validate({"name": "pay", "steps": [
        {"name": "hold", "action": "deposits.charge", "compensation": "deposits.refund"},
        {"name": "settle", "action": "gateway.create", "compensation": "gateway.cancel",
         "retry": retry or {"max_attempts": 3, "initial_delay": "1s", "multiplier": 1},
         "remediate": remediate},
    ]})


ROUTED = {"diagnose": "gateway.diagnose", "routes": [
    {"when": {"ref": "diagnosis.mode", "equals": "overloaded"}, "run": ["gateway.scale_up"]},
    {"when": {"ref": "diagnosis.mode", "equals": "stuck"}, "run": ["gateway.reset", "gateway.scale_up"]},
]}


async def test_a_diagnosis_routes_to_its_remedies_between_the_attempts():
    async with rig(payment(ROUTED)) as r:
        r.services.script("gateway.create", transient("503 workers stuck"))
        r.services.script("gateway.diagnose", STUCK)
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["deposits.charge", "gateway.create", "gateway.diagnose", "gateway.reset",
                                    "gateway.scale_up", "gateway.create"]
    settle = [(e.kind.value, e.operation, e.time) for e in r.events() if e.step == "settle" and e.kind in (
        EventKind.ATTEMPT_STARTED, EventKind.ATTEMPT_FAILED, EventKind.RETRY_SCHEDULED,
        EventKind.REMEDIATION_STARTED, EventKind.REMEDIATION_ENDED, EventKind.STEP_SUCCEEDED)]
    assert settle == [
        ("attempt.started", "create", 0), ("attempt.failed", "create", 0), ("retry.scheduled", "create", 0),
        ("remediation.started", "diagnose", 0), ("remediation.ended", "diagnose", 0),
        ("remediation.started", "reset", 0), ("remediation.ended", "reset", 0),
        ("remediation.started", "scale_up", 0), ("remediation.ended", "scale_up", 0),
        ("attempt.started", "create", 1), ("step.succeeded", "create", 1)]
    diagnosed = r.events(EventKind.REMEDIATION_ENDED)[0]
    assert diagnosed.data == {"role": "diagnose", "duration": 0, "result": STUCK, "route": 1,
                              "remedies": ["gateway.reset", "gateway.scale_up"]}
    assert diagnosed.attempt == 1  # after the first attempt
    assert r.compensated_steps() == []


async def test_a_remediation_that_takes_time_shortens_the_wait_but_never_lengthens_it():
    remediate = {"run": ["gateway.reset"]}
    async with rig(payment(remediate)) as r:
        r.services.script("gateway.create", transient(), transient())
        r.services.script("gateway.reset", Hang(0.4), Hang(1.5))
        await r.engine.run("pay", "S1", {})
    starts = [e.time for e in r.events(EventKind.ATTEMPT_STARTED) if e.step == "settle"]
    assert starts == [0, 1, 2.5]  # 0.4 s of a 1 s wait; then a 1.5 s reset past the 1 s wait


async def test_no_route_matching_calls_no_remedy_and_kinds_not_named_call_none():
    async with rig(payment({**ROUTED, "errors": ["timeout"]})) as r:
        r.services.script("gateway.create", transient(), transient(), transient())
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert "gateway.diagnose" not in r.services.actions()  # transient is not in `on`
    async with rig(payment(ROUTED)) as r:
        r.services.script("gateway.create", transient(), transient(), transient())
        r.services.script("gateway.diagnose", *[{"mode": "offline", "healthy": False}] * 2)
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    ended = r.events(EventKind.REMEDIATION_ENDED)
    assert [(e.data.get("route"), e.data["remedies"]) for e in ended] == [(None, [])] * 2
    assert r.compensated_steps() == ["hold"]  # the remedies undo nothing: only the deposit is refunded


async def test_no_remediation_after_the_last_attempt_or_a_final_error():
    async with rig(payment({"run": ["gateway.reset"]}, retry={"max_attempts": 2, "initial_delay": "1s"})) as r:
        r.services.script("gateway.create", transient(), transient())
        await r.engine.run("pay", "S1", {})
    assert r.services.actions().count("gateway.reset") == 1  # between the two attempts, not after the last
    async with rig(payment({"run": ["gateway.reset"], "errors": ["transient", "timeout"]})) as r:
        r.services.script("gateway.create", permanent())
        await r.engine.run("pay", "S1", {})
    assert "gateway.reset" not in r.services.actions()


async def test_a_failing_remedy_is_told_and_the_retry_goes_on():
    async with rig(payment({"run": ["gateway.reset", "gateway.scale_up"]})) as r:
        r.services.script("gateway.create", transient())
        r.services.script("gateway.reset", ServiceError(ErrorKind.TRANSIENT, "management API down"))
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert "gateway.scale_up" not in r.services.actions()  # the rest of the route is not called
    (ended,) = r.events(EventKind.REMEDIATION_ENDED)
    assert (ended.error_kind, ended.message) == (ErrorKind.TRANSIENT, "management API down")
