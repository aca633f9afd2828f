"""A saga's final status tells the truth about what was undone: `compensated` only when every effect was
undone, and an optional step that may have done its work is undone too when the saga completes."""

from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.status import CompensationOutcome, SagaStatus
from tests.engine.harness import Hang, permanent, rig, transient

UNDOABLE_OPTIONAL = SagaDef.model_validate({"name": "trip", "steps": [
    {"name": "flight", "action": "airline.book", "compensation": "airline.cancel"},
    {"name": "car", "action": "cars.book", "compensation": "cars.cancel", "optional": True,
     "retry": {"max_attempts": 1, "attempt_timeout": "1s"}},
    {"name": "confirm", "action": "email.send"},
]})


async def test_an_optional_step_that_timed_out_is_undone_when_the_saga_completes():
    async with rig(UNDOABLE_OPTIONAL) as r:
        r.services.script("cars.book", Hang(5))  # no answer within 1s: the car may be booked
        saga = await r.engine.run("trip", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.compensated_steps() == ["car"]  # the flight, which the saga kept, is not undone
    assert "cars.cancel" in r.services.actions() and "airline.cancel" not in r.services.actions()
    assert saga.steps["car"].compensation is CompensationOutcome.COMPLETED
    assert r.events()[-1].kind is EventKind.SAGA_COMPLETED


async def test_an_optional_step_that_failed_before_its_effect_is_not_undone():
    async with rig(UNDOABLE_OPTIONAL) as r:
        r.services.script("cars.book", permanent("no cars"))
        saga = await r.engine.run("trip", "S1", {})
    assert saga.status is SagaStatus.COMPLETED and r.compensated_steps() == []


async def test_an_optional_steps_undo_that_fails_leaves_the_saga_needing_attention_then_retry_completes_it():
    async with rig(UNDOABLE_OPTIONAL) as r:
        r.services.script("cars.book", Hang(5))
        r.services.script("cars.cancel", *[permanent("cancel refused")])
        saga = await r.engine.run("trip", "S1", {})
        assert saga.status is SagaStatus.NEEDS_ATTENTION
        await r.engine.retry_compensations(saga)
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions().count("airline.cancel") == 0  # the kept flight is never undone


NO_UNDO = SagaDef.model_validate({"name": "n", "steps": [
    {"name": "reserve", "action": "inventory.reserve"},  # no compensation
    {"name": "charge", "action": "payment.charge", "compensation": "payment.refund"},
    {"name": "ship", "action": "shipping.create_shipment"},
]})


async def test_a_saga_whose_effect_has_no_undo_is_not_called_compensated():
    async with rig(NO_UNDO) as r:
        r.services.script("shipping.create_shipment", permanent("restricted"))
        saga = await r.engine.run("n", "S1", {})
    assert saga.status is SagaStatus.FAILED
    [ended] = r.events(EventKind.SAGA_FAILED)
    assert ended.data["not_undone"] == ["reserve"]
    assert r.compensated_steps() == ["charge"]


async def test_every_effect_undone_is_compensated():
    saga_def = NO_UNDO.model_copy(update={"steps": [NO_UNDO.steps[1], NO_UNDO.steps[2]]})
    async with rig(saga_def) as r:
        r.services.script("shipping.create_shipment", *[transient()] * 3)
        saga = await r.engine.run("n", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED


async def test_an_undo_refused_by_the_open_breaker_reports_calls_refusals_and_the_real_error():
    from sagatui.model.policies import BreakerConfig

    saga_def = SagaDef.model_validate({"name": "b", "steps": [
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund",
         "compensation_retry": {"max_attempts": 10, "initial_delay": "100ms", "multiplier": 1}},
        {"name": "ship", "action": "shipping.create_shipment"},
    ]})
    breakers = {"payment": BreakerConfig.model_validate({"consecutive_failures": 5, "open_duration": "1h"})}
    async with rig(saga_def, breakers=breakers) as r:
        r.services.script("shipping.create_shipment", permanent("restricted"))
        r.services.script("payment.refund", *[transient()] * 10)
        saga = await r.engine.run("b", "S1", {})
    assert saga.status is SagaStatus.NEEDS_ATTENTION
    assert r.services.actions().count("payment.refund") == 5
    [ended] = r.events(EventKind.COMPENSATION_ENDED)
    assert (ended.attempt, ended.data["calls"], ended.data["rejected"]) == (10, 5, 5)
    assert ended.data["reason"] == "503 service unavailable"
    assert "breaker" in ended.data["then"] and "open" in ended.data["then"]

    from sagatui.event_lines import describe
    line = describe(ended)
    assert "failed after 5 call(s) and 5 refused by the breaker" in line
    assert "last error: 503 service unavailable; then" in line


async def test_average_attempts_counts_tries_the_breaker_refused():
    from sagatui.engine.metrics import RunMetrics
    from sagatui.model.policies import BreakerConfig

    saga_def = SagaDef.model_validate({"name": "c", "steps": [
        {"name": "charge", "action": "payment.charge", "retry": {"max_attempts": 1}}]})
    breakers = {"payment": BreakerConfig.model_validate({"consecutive_failures": 1, "open_duration": "1h"})}
    async with rig(saga_def, breakers=breakers) as r:
        r.services.script("payment.charge", transient())
        for number in range(4):
            await r.engine.run("c", f"S{number}", {})
    metrics = RunMetrics().extend(r.events())
    assert metrics.attempts == 1 and metrics.rejected_calls == 3
    assert metrics.average_attempts == 1.0
