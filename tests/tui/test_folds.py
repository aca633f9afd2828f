"""The dashboard's folds of the event stream, without Textual: saga rows, rates, filters, timelines."""

from __future__ import annotations

from typing import Any

import pytest

from sagatui.lab.commands import toggled
from sagatui.model.errors import ErrorKind
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import ONLINE, FaultProfile
from sagatui.model.status import SagaStatus
from sagatui.tui.event_filter import EventFilter, FilterError
from sagatui.tui.rate_history import RateHistory
from sagatui.tui.saga_board import SagaBoard
from sagatui.tui.timeline import build_timeline

_seq = iter(range(1, 1_000_000))


def event(kind: EventKind, time: float = 0.0, saga_id: str | None = "S-0001", **fields: Any) -> Event:
    return Event(run_id=1, seq=next(_seq), time=time, kind=kind, saga_id=saga_id, **fields)


def test_the_board_follows_a_saga_through_its_rollback() -> None:
    board = SagaBoard(lambda saga_id: "checkout")
    board.add(event(EventKind.SAGA_STARTED, 1.0))
    board.add(event(EventKind.STEP_STARTED, 1.0, step="charge"))
    board.add(event(EventKind.ATTEMPT_STARTED, 1.0, step="charge"))
    board.add(event(EventKind.SAGA_COMPENSATING, 2.0, step="charge"))
    board.add(event(EventKind.COMPENSATION_STARTED, 2.0, step="reserve"))
    board.add(event(EventKind.COMPENSATION_ENDED, 3.0, step="reserve", data={"outcome": "failed",
                                                                              "reason": "gateway down"}))
    board.add(event(EventKind.SAGA_NEEDS_ATTENTION, 3.0))
    row = board.get("S-0001")
    assert row is not None
    assert (row.scenario, row.status, row.step, row.undoing, row.attempts) == (
        "checkout", SagaStatus.NEEDS_ATTENTION, "reserve", True, 1)
    assert row.problem == "reserve: failed (gateway down)" and row.age(10.0) == 2.0
    assert board.needing_attention() == [row] and board.in_flight == 0

    board.add(event(EventKind.SAGA_RESOLVED, 4.0, data={"note": "refunded by hand", "status": "compensated"}))
    assert row.status is SagaStatus.COMPENSATED and board.needing_attention() == []
    assert board.counts[SagaStatus.COMPENSATED] == 1 and board.counts[SagaStatus.NEEDS_ATTENTION] == 0


def test_the_board_gives_a_resolved_saga_the_status_its_resolve_names() -> None:
    board = SagaBoard(lambda saga_id: "checkout")
    board.add(event(EventKind.SAGA_STARTED, 1.0))
    board.add(event(EventKind.SAGA_NEEDS_ATTENTION, 2.0))  # a completed saga's optional undo failed
    board.add(event(EventKind.SAGA_RESOLVED, 3.0, data={"note": "email resent", "status": "completed"}))
    assert board.counts[SagaStatus.COMPLETED] == 1 and board.counts[SagaStatus.COMPENSATED] == 0


def test_the_board_keeps_in_flight_sagas_and_only_the_newest_settled_ones() -> None:
    board = SagaBoard(lambda saga_id: "", keep_settled=3)
    for number in range(1, 11):
        board.add(event(EventKind.SAGA_STARTED, saga_id=f"S-{number:04d}"))
    for number in range(1, 9):
        board.add(event(EventKind.SAGA_COMPLETED, saga_id=f"S-{number:04d}"))
    assert [row.saga_id for row in board.rows()] == ["S-0006", "S-0007", "S-0008", "S-0009", "S-0010"]
    assert [row.saga_id for row in board.rows(SagaStatus.RUNNING)] == ["S-0009", "S-0010"]
    assert [row.saga_id for row in board.rows(limit=2)] == ["S-0009", "S-0010"]
    assert board.counts[SagaStatus.COMPLETED] == 8 and board.in_flight == 2


def test_rates_are_per_clock_second_with_quiet_seconds_as_zeros() -> None:
    history = RateHistory(seconds=4)
    history.add(event(EventKind.ATTEMPT_FAILED, 0.5))
    history.add(event(EventKind.ATTEMPT_SUCCEEDED, 0.7))
    history.add(event(EventKind.SAGA_COMPLETED, 0.9))
    history.add(event(EventKind.BREAKER_REJECTED, 2.1))
    assert history.throughput() == [1.0, 0.0, 0.0]
    assert history.failure_rate() == [0.5, 0.0, 1.0]
    history.add(event(EventKind.SAGA_FAILED, 100.0))  # a long jump keeps only the last `seconds`
    assert history.throughput() == [0.0, 0.0, 0.0, 1.0]


def test_a_filter_reads_kinds_families_services_and_saga_ids() -> None:
    chosen = EventFilter.parse("breaker compensation.ended payment s-0003", services=["payment", "shipping"])
    assert chosen == EventFilter(frozenset({"breaker", "compensation.ended"}), frozenset({"payment"}),
                                 frozenset({"S-0003"}))
    assert chosen.matches(event(EventKind.BREAKER_REJECTED, saga_id="S-0003", service="payment"))
    assert not chosen.matches(event(EventKind.BREAKER_REJECTED, saga_id="S-0003", service="shipping"))
    assert not chosen.matches(event(EventKind.RETRY_SCHEDULED, saga_id="S-0003", service="payment"))
    assert EventFilter.parse("", services=[]).everything
    assert EventFilter.parse("service:email", services=[]).services == {"email"}
    with pytest.raises(FilterError, match="bogus"):
        EventFilter.parse("bogus", services=["payment"])


def test_the_timeline_puts_forward_steps_compensations_and_the_ending_in_their_acts() -> None:
    timeline = build_timeline([
        event(EventKind.SAGA_STARTED, 0.0, data={"saga": "order", "input": {"sku": "A"}}),
        event(EventKind.STEP_STARTED, 0.0, step="charge", service="payment", operation="charge"),
        event(EventKind.ATTEMPT_FAILED, 0.3, step="charge", service="payment", operation="charge", attempt=1,
              error_kind=ErrorKind.TRANSIENT, message="503", data={"duration": 0.3}),
        event(EventKind.RETRY_SCHEDULED, 0.3, step="charge", attempt=2, data={"delay": 0.2}),
        event(EventKind.BREAKER_REJECTED, 0.5, step="charge", attempt=2, message="open",
              data={"breaker": "gateway"}),
        event(EventKind.STEP_FAILED, 0.5, step="charge", error_kind=ErrorKind.BREAKER_OPEN, message="open",
              data={"optional": False, "may_have_effect": False}),
        event(EventKind.SAGA_COMPENSATING, 0.5, step="charge", data={"to_undo": ["reserve"]}),
        event(EventKind.COMPENSATION_STARTED, 0.5, step="reserve", service="inventory", operation="release",
              data={"context": {"failed_step": "charge", "error_kind": "breaker_open", "error_message": "open",
                                "forward_result": {"reservation": "R1"}}}),
        event(EventKind.COMPENSATION_ENDED, 0.6, step="reserve", attempt=1, data={"outcome": "completed"}),
        event(EventKind.SAGA_COMPENSATED, 0.6, step="charge"),
    ])
    assert [entry.what for entry in timeline.forward] == ["started", "step", "attempt 1", "retry", "rejected",
                                                          "failed"]
    assert timeline.forward[3].detail == "attempt 2 after 200ms"
    assert [entry.what for entry in timeline.compensation] == ["roll back", "undo", "completed"]
    assert "saga failed at charge · breaker_open: open · forward result reservation=R1" in \
        timeline.compensation[1].detail
    assert [entry.what for entry in timeline.ending] == ["compensated"]


def test_a_switch_goes_offline_and_back_to_what_the_pack_configured() -> None:
    slow = FaultProfile(latency=0.3)
    assert toggled(slow, slow) == FaultProfile(mode="offline")
    assert toggled(FaultProfile(mode="degraded"), slow) == FaultProfile(mode="offline")
    assert toggled(FaultProfile(mode="offline"), slow) == slow
    assert toggled(FaultProfile(mode="offline"), FaultProfile(mode="offline")) == ONLINE


def test_a_service_word_shows_the_transitions_of_the_breaker_named_so() -> None:
    chosen = EventFilter.parse("payment", services=["payment"])
    opened = {"from": "closed", "to": "open"}
    assert chosen.matches(event(EventKind.BREAKER_TRANSITION, saga_id=None, data={"breaker": "payment", **opened}))
    assert not chosen.matches(event(EventKind.BREAKER_TRANSITION, saga_id=None, data={"breaker": "mail", **opened}))
