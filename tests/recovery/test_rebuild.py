"""Sagas rebuilt from their events: where each call stood when the process stopped."""

from __future__ import annotations

from typing import Any

from sagatui.lab.recovery.rebuild import rebuild_sagas
from sagatui.model.errors import ErrorKind
from sagatui.model.events import Event, EventKind
from sagatui.model.status import SagaStatus, StepStatus
from sagatui.packs.loader import load_pack
from tests.recovery.helpers import ECOMMERCE

SAGAS = load_pack(ECOMMERCE).sagas


_CALL_ENDS = {EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED, EventKind.COMPENSATION_ATTEMPT}


def log(*entries: tuple[EventKind, dict[str, Any]]) -> list[Event]:
    """Events of saga S-1, numbered in order; each entry is (kind, fields). A call's end without data took 0.1s."""
    started = Event(run_id=1, seq=1, time=0.0, kind=EventKind.SAGA_STARTED, saga_id="S-1",
                    data={"saga": "order", "input": {"amount": 5}})
    return [started, *(Event(run_id=1, seq=seq, time=seq / 10, kind=kind, saga_id="S-1",
                             **{**({"data": {"duration": 0.1}} if kind in _CALL_ENDS else {}), **fields})
                       for seq, (kind, fields) in enumerate(entries, start=2))]


RESERVED = [
    (EventKind.STEP_STARTED, {"step": "reserve_inventory"}),
    (EventKind.ATTEMPT_STARTED, {"step": "reserve_inventory", "attempt": 1}),
    (EventKind.ATTEMPT_SUCCEEDED, {"step": "reserve_inventory", "attempt": 1}),
    (EventKind.STEP_SUCCEEDED, {"step": "reserve_inventory", "attempt": 1, "data": {"result": {"id": "R1"}}}),
    (EventKind.STEP_STARTED, {"step": "charge_payment"}),
]


def test_an_intent_without_an_answer_is_sent_again_under_its_number() -> None:
    rebuilt = rebuild_sagas(SAGAS, log(*RESERVED, (EventKind.ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 1}),
                                       (EventKind.ATTEMPT_FAILED, {"step": "charge_payment", "attempt": 1,
                                                                   "error_kind": ErrorKind.TRANSIENT}),
                                       (EventKind.ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 2})))["S-1"]
    call = rebuilt.point.calls["charge_payment"]
    assert (call.attempt, call.resend, call.last_error) == (2, True, None)
    record = rebuilt.saga.steps["charge_payment"]
    assert record.attempts == 1  # the resend counts attempt 2
    assert record.provider is not None  # it may have done the work: compensated if the step fails
    assert rebuilt.saga.effects == ["reserve_inventory"] and rebuilt.resent == ["S-1:charge_payment"]


def test_after_a_timeout_the_next_attempt_follows_and_the_step_may_have_an_effect() -> None:
    rebuilt = rebuild_sagas(SAGAS, log(*RESERVED, (EventKind.ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 1}),
                                       (EventKind.ATTEMPT_FAILED, {"step": "charge_payment", "attempt": 1,
                                                                   "error_kind": ErrorKind.TIMEOUT})))["S-1"]
    call = rebuilt.point.calls["charge_payment"]
    assert (call.attempt, call.resend) == (2, False)
    assert call.last_error is not None and call.last_error.kind is ErrorKind.TIMEOUT
    assert rebuilt.saga.steps["charge_payment"].provider is not None


def test_a_rollback_goes_on_after_the_compensations_that_settled() -> None:
    events = log(
        *RESERVED,
        (EventKind.ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 1}),
        (EventKind.ATTEMPT_SUCCEEDED, {"step": "charge_payment", "attempt": 1}),
        (EventKind.STEP_SUCCEEDED, {"step": "charge_payment", "attempt": 1, "data": {"result": {"id": "P1"}}}),
        (EventKind.STEP_STARTED, {"step": "create_shipment"}),
        (EventKind.ATTEMPT_STARTED, {"step": "create_shipment", "attempt": 1}),
        (EventKind.ATTEMPT_FAILED, {"step": "create_shipment", "attempt": 1, "error_kind": ErrorKind.PERMANENT}),
        (EventKind.STEP_FAILED, {"step": "create_shipment", "attempt": 1, "error_kind": ErrorKind.PERMANENT,
                                 "data": {"optional": False, "may_have_effect": False}}),
        (EventKind.SAGA_COMPENSATING, {"step": "create_shipment"}),
        (EventKind.COMPENSATION_STARTED, {"step": "charge_payment"}),
        (EventKind.COMPENSATION_ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 1}),
        (EventKind.COMPENSATION_ATTEMPT, {"step": "charge_payment", "attempt": 1}),
        (EventKind.COMPENSATION_ENDED, {"step": "charge_payment", "attempt": 1, "data": {"outcome": "completed"}}),
        (EventKind.COMPENSATION_STARTED, {"step": "reserve_inventory"}),
        (EventKind.COMPENSATION_ATTEMPT_STARTED, {"step": "reserve_inventory", "attempt": 1}),
    )
    rebuilt = rebuild_sagas(SAGAS, events)["S-1"]
    saga = rebuilt.saga
    assert saga.status is SagaStatus.COMPENSATING and saga.failed_step == "create_shipment"
    assert rebuilt.point.undone == 1  # charge_payment is refunded: never again
    assert set(rebuilt.point.undos) == {"reserve_inventory"} and rebuilt.point.undos["reserve_inventory"].resend
    assert not rebuilt.point.calls
    assert saga.steps["reserve_inventory"].status is StepStatus.COMPENSATING
    assert rebuilt.resent == ["S-1:reserve_inventory:undo"]


def test_a_call_stopped_while_waiting_for_its_retry_keeps_the_retry_due_time() -> None:
    events = log(*RESERVED, (EventKind.ATTEMPT_STARTED, {"step": "charge_payment", "attempt": 1}),
                 (EventKind.ATTEMPT_FAILED, {"step": "charge_payment", "attempt": 1,
                                             "error_kind": ErrorKind.RATE_LIMITED,
                                             "data": {"duration": 0.1, "retry_after": 3.0}}),
                 (EventKind.RETRY_SCHEDULED, {"step": "charge_payment", "attempt": 2, "data": {"delay": 3.0}}))
    call = rebuild_sagas(SAGAS, events)["S-1"].point.calls["charge_payment"]
    assert (call.attempt, call.resend) == (2, False)
    assert call.retry_at == events[-1].time + 3.0
