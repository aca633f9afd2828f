"""A saga carried on after a crash: the undo of a step whose resent forward call failed gets its own
durable intent and its own full budget, never the forward call's resume record."""

from sagatui.engine.saga_state import InterruptedCall, ResumePoint, SagaRun, StepRecord
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus, StepStatus
from tests.engine.harness import Hang, rig

SAGA = SagaDef.model_validate({"name": "o", "steps": [
    {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
    {"name": "charge", "action": "payment.charge", "compensation": "payment.refund",
     "retry": {"max_attempts": 3, "initial_delay": "100ms", "attempt_timeout": "1s"},
     "compensation_retry": {"max_attempts": 3, "initial_delay": "100ms"}},
]})


def stopped_at_the_charge(status: StepStatus, attempts: int) -> SagaRun:
    """The saga as rebuilt from a stopped run: reserved, its charge under way after `attempts` attempts."""
    saga = SagaRun("S1", SAGA, {}, started_at=0.0, status=SagaStatus.RUNNING,
                   steps={step.name: StepRecord(step) for step in SAGA.all_steps()})
    reserve, charge = saga.steps["reserve"], saga.steps["charge"]
    reserve.status, reserve.provider = StepStatus.SUCCEEDED, SAGA.steps[0].providers[0]
    saga.effects.append("reserve")
    charge.status, charge.attempts = status, attempts
    return saga


async def test_the_undo_after_a_failed_resend_has_its_own_intent_numbering_and_budget():
    async with rig(SAGA) as r:
        saga = stopped_at_the_charge(StepStatus.RUNNING, 2)  # attempt 3 of 3 was in flight at the crash
        saga.steps["charge"].provider = SAGA.steps[1].providers[0]
        point = ResumePoint(calls={"charge": InterruptedCall(attempt=3, resend=True)})
        r.services.script("payment.charge", Hang(5))  # the resend times out: the charge may be made
        await r.engine.continue_saga(saga, point)
    assert saga.status is SagaStatus.COMPENSATED
    intents = (EventKind.COMPENSATION_STARTED, EventKind.COMPENSATION_ATTEMPT_STARTED)
    undo = [(e.kind, e.step, e.attempt) for e in r.events() if e.kind in intents and e.step == "charge"]
    assert undo == [(EventKind.COMPENSATION_STARTED, "charge", None),
                    (EventKind.COMPENSATION_ATTEMPT_STARTED, "charge", 1)]
    refunds = [call for call in r.services.calls if call.operation == "refund"]
    assert [call.attempt for call in refunds] == [1]
    assert r.compensated_steps() == ["charge", "reserve"]


async def test_a_call_resumed_during_its_backoff_waits_out_the_rest_of_it():
    from sagatui.model.errors import ErrorKind, ServiceError

    async with rig(SAGA) as r:
        saga = stopped_at_the_charge(StepStatus.WAITING_RETRY, 1)
        limited = ServiceError(ErrorKind.RATE_LIMITED, "429 too many requests", retry_after=3.0)
        point = ResumePoint(calls={"charge": InterruptedCall(attempt=2, last_error=limited, retry_at=3.0)})
        await r.engine.continue_saga(saga, point)
    assert saga.status is SagaStatus.COMPLETED
    [second] = r.events(EventKind.ATTEMPT_STARTED)
    assert (second.attempt, second.time) == (2, 3.0)


async def test_an_undo_resumed_with_no_attempt_left_fails_without_a_try_and_tells_no_counts():
    from sagatui.model.errors import ErrorKind, ServiceError
    from sagatui.model.status import CompensationOutcome

    async with rig(SAGA) as r:
        saga = stopped_at_the_charge(StepStatus.FAILED, 3)
        charge = saga.steps["charge"]
        charge.provider, charge.error = SAGA.steps[1].providers[0], ServiceError(ErrorKind.TIMEOUT, "no answer")
        saga.effects.append("charge")
        saga.status, saga.failed_step, saga.failed_at = SagaStatus.COMPENSATING, "charge", 0.0
        down = ServiceError(ErrorKind.TRANSIENT, "refund gateway down")
        point = ResumePoint(undos={"charge": InterruptedCall(attempt=4, last_error=down)})  # 3 of 3 failed
        await r.engine.continue_saga(saga, point)
    assert "payment.refund" not in r.services.actions()
    ended = {e.step: e for e in r.events(EventKind.COMPENSATION_ENDED)}
    assert (ended["charge"].attempt, ended["charge"].data) == (3, {
        "outcome": "failed", "reason": "refund gateway down", "error_kind": "transient"})
    assert ended["reserve"].data["calls"] == 1  # a try made here is counted
    assert charge.compensation is CompensationOutcome.FAILED
    assert saga.status is SagaStatus.NEEDS_ATTENTION
