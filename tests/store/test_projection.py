"""Saga and step rows projected from events in the writer's transaction."""

from typing import Any

from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.store.queries import saga_timeline
from tests.store.conftest import Run


def retried_then_rolled_back(saga_id: str) -> list[dict[str, Any]]:
    """The events (as emit arguments) of a saga whose second step fails after a retry and is rolled back."""
    transient = {"error_kind": ErrorKind.TRANSIENT, "message": "503"}
    return [{"saga_id": saga_id, **event} for event in [
        {"kind": EventKind.SAGA_STARTED, "data": {"saga": "order", "input": {"amount": 5}}},
        {"kind": EventKind.STEP_STARTED, "step": "reserve", "service": "inventory", "operation": "reserve"},
        {"kind": EventKind.ATTEMPT_STARTED, "step": "reserve", "service": "inventory", "operation": "reserve",
         "attempt": 1},
        {"kind": EventKind.ATTEMPT_SUCCEEDED, "step": "reserve", "attempt": 1},
        {"kind": EventKind.STEP_SUCCEEDED, "step": "reserve", "service": "inventory", "operation": "reserve",
         "attempt": 1},
        {"kind": EventKind.STEP_STARTED, "step": "pay", "service": "payment", "operation": "charge"},
        {"kind": EventKind.ATTEMPT_STARTED, "step": "pay", "service": "payment", "operation": "charge", "attempt": 1},
        {"kind": EventKind.ATTEMPT_FAILED, "step": "pay", "attempt": 1, **transient},
        {"kind": EventKind.RETRY_SCHEDULED, "step": "pay", "attempt": 2},
        {"kind": EventKind.ATTEMPT_STARTED, "step": "pay", "service": "payment", "operation": "charge", "attempt": 2},
        {"kind": EventKind.ATTEMPT_FAILED, "step": "pay", "attempt": 2, **transient},
        {"kind": EventKind.STEP_FAILED, "step": "pay", "attempt": 2, **transient},
        {"kind": EventKind.SAGA_COMPENSATING, "step": "pay", **transient},
        {"kind": EventKind.COMPENSATION_STARTED, "step": "reserve", "service": "inventory", "operation": "release"},
        {"kind": EventKind.COMPENSATION_ATTEMPT, "step": "reserve", "attempt": 1, "error_kind": ErrorKind.TIMEOUT,
         "message": "no answer"},
        {"kind": EventKind.COMPENSATION_ATTEMPT, "step": "reserve", "attempt": 2},
        {"kind": EventKind.COMPENSATION_ENDED, "step": "reserve", "attempt": 2, "data": {"outcome": "completed"}},
        {"kind": EventKind.SAGA_COMPENSATED, "step": "pay", "data": {"status": "compensated"}, **transient},
    ]]


def emit_all(run: Run, events: list[dict[str, Any]]) -> None:
    for event in events:
        run.recorder.emit(event.pop("kind"), **event)


async def test_a_rolled_back_saga_is_projected(run: Run) -> None:
    emit_all(run, retried_then_rolled_back("s1"))
    await run.writer.flush()
    timeline = await saga_timeline(run.store, run.id, "s1")
    assert timeline is not None
    saga = timeline.saga
    assert (saga.saga, saga.status, saga.failed_step, saga.current_step, saga.input) == (
        "order", "compensated", "pay", None, {"amount": 5})
    assert (saga.attempts, saga.retries, saga.compensations, saga.error_kind) == (3, 1, 1, "transient")
    assert saga.last_seq == len(timeline.events)
    reserve, pay = timeline.steps
    assert (reserve.step, reserve.status, reserve.attempts, reserve.compensation_outcome,
            reserve.compensation_attempts) == ("reserve", "compensated", 1, "completed", 2)
    assert (pay.step, pay.status, pay.attempts, pay.service, pay.error_kind) == (
        "pay", "failed", 2, "payment", "transient")


async def test_a_saga_is_projected_the_same_whatever_the_batches(run: Run) -> None:
    emit_all(run, retried_then_rolled_back("whole"))
    await run.writer.flush()
    for event in retried_then_rolled_back("pieces"):  # one transaction per event
        emit_all(run, [event])
        await run.writer.flush()
    whole = await saga_timeline(run.store, run.id, "whole")
    pieces = await saga_timeline(run.store, run.id, "pieces")
    assert whole is not None and pieces is not None
    strip = {"saga_id", "last_seq"}
    assert pieces.saga.model_dump(exclude=strip) == whole.saga.model_dump(exclude=strip)
    assert pieces.steps == whole.steps


async def test_an_event_for_a_settled_saga_reloads_it(run: Run) -> None:
    emit = run.recorder.emit
    emit(EventKind.SAGA_STARTED, saga_id="s1", data={"saga": "order", "input": {}})
    emit(EventKind.SAGA_NEEDS_ATTENTION, saga_id="s1", data={"status": "needs_attention"})
    await run.writer.flush()
    emit(EventKind.SAGA_RESOLVED, saga_id="s1", data={"note": "", "status": "compensated"})
    await run.writer.flush()
    timeline = await saga_timeline(run.store, run.id, "s1")
    assert timeline is not None and (timeline.saga.status, timeline.saga.saga) == ("compensated", "order")
    assert run.writer._projector.held == 0  # reloaded, settled again, forgotten again


async def test_only_sagas_still_in_flight_are_held_in_memory(run: Run) -> None:
    emit = run.recorder.emit
    for saga_id in ("s1", "s2", "s3"):
        emit(EventKind.SAGA_STARTED, saga_id=saga_id, data={"saga": "order", "input": {}})
    await run.writer.flush()
    assert run.writer._projector.held == 3
    emit(EventKind.SAGA_COMPLETED, saga_id="s2")
    emit(EventKind.SAGA_FAILED, saga_id="s3", data={"status": "failed"})
    emit(EventKind.STEP_STARTED, saga_id="s1", step="reserve")
    await run.writer.flush()
    assert run.writer._projector.held == 1
    emit(EventKind.SAGA_COMPLETED, saga_id="s1")
    await run.writer.flush()
    assert run.writer._projector.held == 0
