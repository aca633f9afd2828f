"""Forward execution, rollback order, error taxonomy, fallbacks, parallel groups, conditions."""

import pytest

from sagatui.model.conditions import Comparison, SagaFacts
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.policies import BreakerConfig
from sagatui.model.status import CompensationOutcome, SagaStatus, StepStatus
from tests.engine.harness import ORDER, Hang, permanent, rig, transient, validation

STEPS = ["reserve_inventory", "charge_payment", "create_shipment", "send_confirmation"]
ACTIONS = ["inventory.reserve", "payment.charge", "shipping.create_shipment", "email.send"]


async def test_happy_path_runs_every_step_once_and_completes():
    async with rig(ORDER) as r:
        saga = await r.engine.run("order", "S1", {"amount": 10})
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ACTIONS
    assert [e.step for e in r.events(EventKind.STEP_SUCCEEDED)] == STEPS
    assert r.events()[0].kind is EventKind.SAGA_STARTED and r.events()[-1].kind is EventKind.SAGA_COMPLETED
    assert [e.seq for e in r.events()] == list(range(1, len(r.events()) + 1))
    assert not r.events(EventKind.COMPENSATION_STARTED)


@pytest.mark.parametrize("failing", [1, 2, 3])
async def test_failure_at_each_position_compensates_completed_steps_newest_first(failing):
    async with rig(ORDER) as r:
        r.services.script(ACTIONS[failing], permanent())
        saga = await r.engine.run("order", "S1", {})
    done = STEPS[:failing]
    undoable = [s for s in done if s != "send_confirmation"]
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == list(reversed(undoable))
    assert ACTIONS[failing + 1:] == [] or ACTIONS[failing + 1] not in r.services.actions()
    assert saga.steps[STEPS[failing]].status is StepStatus.FAILED
    assert all(saga.steps[s].status is StepStatus.COMPENSATED for s in undoable)


async def test_failure_of_first_step_fails_the_saga_with_nothing_to_undo():
    async with rig(ORDER) as r:
        r.services.script("inventory.reserve", permanent())
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.FAILED
    assert r.compensated_steps() == []


async def test_validation_error_fails_fast_without_retry_or_compensation():
    async with rig(ORDER) as r:
        r.services.script("inventory.reserve", validation())
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.FAILED
    assert r.services.actions() == ["inventory.reserve"]
    assert not r.events(EventKind.RETRY_SCHEDULED)
    assert not r.events(EventKind.SAGA_COMPENSATING)


async def test_validation_error_later_undoes_only_what_was_done():
    async with rig(ORDER) as r:
        r.services.script("payment.charge", validation("amount must be positive"))
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["reserve_inventory"]
    assert r.services.actions().count("payment.charge") == 1


async def test_unexpected_exception_is_permanent_with_context_and_compensation_still_runs():
    async with rig(ORDER) as r:
        r.services.script("payment.charge", KeyError("card_token"))
        saga = await r.engine.run("order", "S1", {})
    failed = r.events(EventKind.ATTEMPT_FAILED)[0]
    assert failed.error_kind == "unexpected" and "KeyError" in failed.message
    assert "card_token" in failed.data["exception"]
    assert saga.status is SagaStatus.COMPENSATED and r.compensated_steps() == ["reserve_inventory"]
    assert r.services.actions().count("payment.charge") == 1


async def test_transient_errors_retry_then_compensate_when_exhausted():
    async with rig(ORDER) as r:
        r.services.script("payment.charge", *[transient()] * 3)
        saga = await r.engine.run("order", "S1", {})
    assert r.services.actions().count("payment.charge") == 3
    assert saga.status is SagaStatus.COMPENSATED
    assert saga.steps["charge_payment"].attempts == 3


async def test_optional_step_failure_is_noted_but_does_not_roll_back():
    saga_def = SagaDef.model_validate({"name": "o", "steps": [
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund"},
        {"name": "email", "action": "email.send", "optional": True},
    ]})
    async with rig(saga_def) as r:
        r.services.script("email.send", *[transient()] * 3)
        saga = await r.engine.run("o", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    failed = r.events(EventKind.STEP_FAILED)
    assert [e.step for e in failed] == ["email"] and failed[0].data["optional"] is True


async def test_timed_out_step_is_compensated_because_it_may_have_done_the_work():
    saga_def = SagaDef.model_validate({"name": "t", "steps": [
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund",
         "retry": {"max_attempts": 2, "attempt_timeout": "1s"}},
    ]})
    async with rig(saga_def) as r:
        r.services.script("payment.charge", Hang(5), Hang(5))
        saga = await r.engine.run("t", "S1", {})
    assert [e.error_kind for e in r.events(EventKind.ATTEMPT_FAILED)] == ["timeout", "timeout"]
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["charge"]


async def test_condition_skips_step_by_input_data():
    saga_def = SagaDef.model_validate({"name": "c", "steps": [
        {"name": "fraud_check", "action": "payment.check", "when": {"field": "amount", "greater_than": 500}},
        {"name": "charge", "action": "payment.charge"},
    ]})
    async with rig(saga_def) as r:
        await r.engine.run("c", "small", {"amount": 20})
        await r.engine.run("c", "big", {"amount": 900})
    skipped = r.events(EventKind.STEP_SKIPPED)
    assert [(e.saga_id, e.step) for e in skipped] == [("small", "fraud_check")]
    assert [c.saga_id for c in r.services.calls if c.operation == "check"] == ["big"]


@pytest.mark.parametrize(("comparison", "missing_holds"), [
    ({"equals": "premium"}, False), ({"not_equals": "premium"}, True), ({"in": ["gold", "premium"]}, False),
    ({"greater_than": 500}, False), ({"less_than": 500}, False),
])
@pytest.mark.parametrize("saga_input", [{}, {"customer": "ada"}, {"customer": {"name": "ada"}}])
def test_a_missing_field_equals_nothing(comparison, missing_holds, saga_input):
    condition = Comparison.model_validate({"field": "customer.tier", **comparison})
    assert condition.holds(SagaFacts({"input": saga_input, "steps": {}}, {})) is missing_holds


async def test_not_equals_runs_the_step_when_the_field_is_missing():
    saga_def = SagaDef.model_validate({"name": "c", "steps": [
        {"name": "upsell", "action": "notification.send", "when": {"field": "tier", "not_equals": "premium"}},
        {"name": "charge", "action": "payment.charge"},
    ]})
    async with rig(saga_def) as r:
        await r.engine.run("c", "premium", {"tier": "premium"})
        await r.engine.run("c", "basic", {"tier": "basic"})
        await r.engine.run("c", "unknown", {})
    assert [e.saga_id for e in r.events(EventKind.STEP_SKIPPED)] == ["premium"]


FALLBACK = SagaDef.model_validate({"name": "f", "steps": [
    {"name": "hold", "action": "ledger.debit", "compensation": "ledger.credit"},
    {"name": "charge", "action": "stripe.charge", "compensation": "stripe.refund",
     "retry": {"max_attempts": 2}, "fallbacks": ["adyen.charge", "paypal.charge"]},
    {"name": "ship", "action": "shipping.create_shipment"},
]})


async def test_fallback_to_secondary_and_compensation_goes_to_the_provider_that_did_the_work():
    async with rig(FALLBACK) as r:
        r.services.script("stripe.charge", transient(), transient())
        r.services.script("shipping.create_shipment", permanent("restricted delivery area"))
        saga = await r.engine.run("f", "S1", {})
    used = r.events(EventKind.FALLBACK_USED)
    assert [(e.data["from"], e.data["to"]) for e in used] == [("stripe.charge", "adyen.charge")]
    assert saga.status is SagaStatus.COMPENSATED
    assert "adyen.refund" in r.services.actions() and "stripe.refund" not in r.services.actions()
    assert r.services.actions()[-2:] == ["adyen.refund", "ledger.credit"]


async def test_fallback_chain_reaches_tertiary():
    async with rig(FALLBACK) as r:
        r.services.script("stripe.charge", transient(), transient())
        r.services.script("adyen.charge", transient(), transient())
        saga = await r.engine.run("f", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert saga.steps["charge"].provider.action == "paypal.charge"


async def test_permanent_error_does_not_fall_back():
    async with rig(FALLBACK) as r:
        r.services.script("stripe.charge", permanent())
        await r.engine.run("f", "S1", {})
    assert "adyen.charge" not in r.services.actions()


TRIP = SagaDef.model_validate({"name": "trip", "steps": [
    {"name": "pay", "action": "payment.charge", "compensation": "payment.refund"},
    {"name": "book", "parallel": [
        {"name": "flight", "action": "flights.book", "compensation": "flights.cancel"},
        {"name": "hotel", "action": "hotels.book", "compensation": "hotels.cancel"},
        {"name": "car", "action": "cars.book", "compensation": "cars.cancel"},
    ]},
]})


async def test_parallel_group_failure_compensates_every_completed_member():
    async with rig(TRIP) as r:
        r.services.script("hotels.book", Hang(2, then=permanent("no rooms")))
        saga = await r.engine.run("trip", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert sorted(r.compensated_steps()[:2]) == ["car", "flight"]
    assert r.compensated_steps()[-1] == "pay"
    assert "hotels.cancel" not in r.services.actions()


async def test_parallel_members_run_concurrently():
    async with rig(TRIP) as r:
        for action in ("flights.book", "hotels.book", "cars.book"):
            r.services.script(action, Hang(3))
        saga = await r.engine.run("trip", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.clock.now() == 3.0


async def test_parallel_group_with_cancel_stops_the_others():
    cancel_trip = TRIP.model_copy(update={"steps": (TRIP.steps[0], TRIP.steps[1].model_copy(
        update={"on_failure": "cancel"}))})
    async with rig(cancel_trip) as r:
        r.services.script("flights.book", Hang(10))
        r.services.script("hotels.book", Hang(1, then=permanent()))
        saga = await r.engine.run("trip", "S1", {})
    assert r.clock.now() < 10
    assert saga.steps["flight"].status is StepStatus.COMPENSATED  # it was in flight: it may have booked
    assert saga.status is SagaStatus.COMPENSATED


COMPENSATION_POLICY = {"max_attempts": 4, "initial_delay": "1s", "attempt_timeout": "2s"}


async def test_compensation_retries_then_fails_and_saga_needs_attention():
    saga_def = ORDER.model_copy(update={"steps": (
        ORDER.steps[0], ORDER.steps[1].model_copy(
            update={"compensation_retry": ORDER.steps[1].compensation_retry.model_copy(
                update={"max_attempts": 4, "initial_delay": 1.0})}),
        ORDER.steps[2], ORDER.steps[3])})
    async with rig(saga_def) as r:
        r.services.script("shipping.create_shipment", permanent("restricted delivery area"))
        r.services.script("payment.refund", *[transient("refund gateway down")] * 4)
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.NEEDS_ATTENTION
    assert saga.steps["charge_payment"].compensation is CompensationOutcome.FAILED
    assert r.services.actions().count("payment.refund") == 4
    # the rollback goes on past the failed compensation
    assert saga.steps["reserve_inventory"].status is StepStatus.COMPENSATED
    ended = r.events(EventKind.COMPENSATION_ENDED)
    assert [(e.step, e.data["outcome"]) for e in ended] == [
        ("charge_payment", "failed"), ("reserve_inventory", "completed")]


async def test_compensation_expires_after_its_ttl():
    saga_def = SagaDef.model_validate({"name": "e", "steps": [
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund",
         "compensation_retry": {"max_attempts": 100, "initial_delay": "10s", "multiplier": 1, "ttl": "1m"}},
        {"name": "ship", "action": "shipping.create_shipment"},
    ]})
    async with rig(saga_def) as r:
        r.services.script("shipping.create_shipment", permanent())
        r.services.script("payment.refund", *[transient()] * 100)
        saga = await r.engine.run("e", "S1", {})
    assert saga.steps["charge"].compensation is CompensationOutcome.EXPIRED
    assert saga.status is SagaStatus.NEEDS_ATTENTION
    assert r.clock.now() <= 60.0
    assert r.services.actions().count("payment.refund") < 100


async def test_partial_compensation_is_reported_with_what_was_not_undone():
    async with rig(ORDER) as r:
        r.services.script("payment.charge", permanent())
        r.services.script("inventory.release", {"outcome": "partial", "undone": ["MOUSE-001"],
                                                "not_undone": ["LAPTOP-001"]})
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.NEEDS_ATTENTION
    ended = r.events(EventKind.COMPENSATION_ENDED)[0]
    assert ended.data["outcome"] == "partial" and ended.data["not_undone"] == ["LAPTOP-001"]


async def test_compensation_receives_context_and_forward_result():
    async with rig(ORDER) as r:
        r.services.script("inventory.reserve", {"reservation_id": "R-1"})
        r.services.script("payment.charge", permanent("card declined"))
        await r.engine.run("order", "S1", {})
    release = next(c for c in r.services.calls if c.operation == "release")
    assert release.compensation.failed_step == "charge_payment"
    assert release.compensation.error_message == "card declined"
    assert release.compensation.forward_result == {"reservation_id": "R-1"}
    assert release.idempotency_key == "S1:reserve_inventory:undo"


async def test_partial_forward_result_is_compensated_unless_accepted():
    async with rig(ORDER) as r:
        r.services.script("inventory.reserve", {"partial": True, "short": {"KEYBOARD-001": 1}})
        saga = await r.engine.run("order", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["reserve_inventory"]
    assert "payment.charge" not in r.services.actions()


async def test_operator_retry_reruns_only_unfinished_compensations():
    saga_def = ORDER.model_copy(update={"steps": (
        ORDER.steps[0], ORDER.steps[1].model_copy(
            update={"compensation_retry": ORDER.steps[1].compensation_retry.model_copy(
                update={"max_attempts": 2})}),
        ORDER.steps[2], ORDER.steps[3])})
    async with rig(saga_def) as r:
        r.services.script("shipping.create_shipment", permanent())
        r.services.script("payment.refund", transient("refund gateway down"), transient("refund gateway down"))
        saga = await r.engine.run("order", "S1", {})
        assert saga.status is SagaStatus.NEEDS_ATTENTION
        await r.engine.retry_compensations(saga)
    assert saga.status is SagaStatus.COMPENSATED
    assert r.services.actions().count("payment.refund") == 3
    assert r.services.actions().count("inventory.release") == 1
    assert r.events()[-1].kind is EventKind.SAGA_COMPENSATED


async def test_a_lost_reply_then_breaker_rejection_still_compensates_the_step():
    saga_def = SagaDef.model_validate({"name": "t", "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release",
         "retry": {"max_attempts": 3, "attempt_timeout": "1s"}},
        {"name": "charge", "action": "payment.charge"},
    ]})
    async with rig(saga_def, breakers={"inventory": BreakerConfig(consecutive_failures=1, open_duration=5)}) as r:
        r.services.script("inventory.reserve", Hang(5))
        saga = await r.engine.run("t", "S1", {})
    kinds = [e.error_kind for e in r.events(EventKind.ATTEMPT_FAILED, EventKind.BREAKER_REJECTED)]
    assert kinds[0] == "timeout" and "breaker_open" in kinds
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["reserve"]


async def test_no_fallback_from_a_provider_that_may_have_done_the_work():
    async with rig(FALLBACK) as r:
        r.services.script("stripe.charge", transient(), ServiceError(ErrorKind.TIMEOUT, "reply lost"))
        saga = await r.engine.run("f", "S1", {})
    assert "adyen.charge" not in r.services.actions()
    assert saga.status is SagaStatus.COMPENSATED
    assert r.services.actions()[-2:] == ["stripe.refund", "ledger.credit"]
