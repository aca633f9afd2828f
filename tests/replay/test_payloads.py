"""Every event's data reads through its kind's payload model, and the model writes it back unchanged."""

import json
from pathlib import Path

import pytest

from sagatui.lab.replay import recording_from_session, replay
from sagatui.model.events import PAYLOAD_MODELS, SAGA_ENDINGS, Event, EventKind
from sagatui.model.payloads import BreakerTransition, RetryScheduled, SagaEnded
from sagatui.model.status import BreakerState, SagaStatus

SESSIONS_DIR = Path(__file__).parent.parent / "sessions"
SESSIONS = sorted(SESSIONS_DIR.glob("*.json"))


@pytest.mark.parametrize("path", SESSIONS, ids=lambda path: path.stem)
def test_every_recorded_event_validates_into_its_model_and_back_to_the_same_data(path: Path) -> None:
    recording = recording_from_session(path)
    kinds = set()
    for event in recording.events:
        payload = event.payload
        if event.kind in PAYLOAD_MODELS:
            assert isinstance(payload, PAYLOAD_MODELS[event.kind]), event
            assert payload.as_data() == event.data, event
            kinds.add(event.kind)
        else:
            assert payload is None
            assert event.kind is EventKind.COMMAND or event.data == {}, event
    assert {EventKind.SAGA_STARTED, EventKind.STEP_SUCCEEDED, EventKind.SERVICE_EFFECT} <= kinds


def test_the_sessions_together_hold_most_kinds() -> None:
    kinds = {event.kind for path in SESSIONS for event in recording_from_session(path).events}
    assert {EventKind.BREAKER_TRANSITION, EventKind.COMPENSATION_ENDED, EventKind.FAULT_CHANGED,
            EventKind.RUN_SETTLED, EventKind.RETRY_SCHEDULED} <= kinds


def _event(kind: EventKind, **data: object) -> Event:
    return Event(run_id=1, seq=1, time=0.0, kind=kind, saga_id="S1", data=data)


def test_the_kinds_that_end_a_saga_and_the_status_each_gives() -> None:
    ends = [kind for kind in EventKind if kind.ends_saga]
    assert ends == [EventKind.SAGA_COMPLETED, EventKind.SAGA_COMPLETED_PARTIAL, EventKind.SAGA_FAILED,
                    EventKind.SAGA_COMPENSATED, EventKind.SAGA_NEEDS_ATTENTION, EventKind.SAGA_RESOLVED,
                    EventKind.SAGA_CANCELLED]
    assert set(ends) == SAGA_ENDINGS
    assert _event(EventKind.SAGA_FAILED, status="failed", duration=1.0).saga_status is SagaStatus.FAILED
    partial = _event(EventKind.SAGA_COMPLETED_PARTIAL, status="completed_partial", duration=1.0)
    assert partial.saga_status is SagaStatus.COMPLETED_PARTIAL
    assert _event(EventKind.SAGA_RESOLVED, note="", status="completed").saga_status is SagaStatus.COMPLETED
    assert _event(EventKind.SAGA_RESOLVED, note="", status="compensated").saga_status is SagaStatus.COMPENSATED
    cancelled = _event(EventKind.SAGA_CANCELLED, status="cancelled", duration=1.0)
    assert cancelled.saga_status is SagaStatus.CANCELLED
    assert _event(EventKind.SAGA_CANCEL_REQUESTED, note="").saga_status is None
    assert _event(EventKind.SAGA_COMPENSATING, to_undo=[]).saga_status is None
    assert not EventKind.SAGA_STARTED.ends_saga and not EventKind.SAGA_COMPENSATING.ends_saga


def test_a_payload_is_read_as_its_kinds_model_only() -> None:
    event = _event(EventKind.RETRY_SCHEDULED, delay=0.25)
    assert event.payload_as(RetryScheduled).delay == 0.25
    assert event.payload_as(RetryScheduled) is event.payload  # validated once
    with pytest.raises(TypeError, match=r"retry\.scheduled event's payload is RetryScheduled, not SagaEnded"):
        event.payload_as(SagaEnded)


def test_a_breaker_transition_writes_its_json_names() -> None:
    payload = BreakerTransition(breaker="gateway", from_state=BreakerState.CLOSED, to_state=BreakerState.OPEN)
    assert payload.as_data() == {"breaker": "gateway", "from": "closed", "to": "open"}
    assert BreakerTransition.model_validate(payload.as_data()) == payload


async def test_a_session_exported_before_breakers_had_their_own_field_still_replays(tmp_path: Path) -> None:
    """Sessions written before schema 3 named a transition's breaker in `service`: read in today's
    vocabulary, such a file replays identical (the breaker-cycle session, written back in the old form)."""
    document = json.loads((SESSIONS_DIR / "resilience-breaker-cycle.json").read_text())
    old = 0
    for fields in document["events"]:
        if fields["kind"] == "breaker.transition":
            fields["service"] = fields["data"].pop("breaker")
            old += 1
    assert old >= 5
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    result = await replay(recording_from_session(path))
    assert result.identical, result.divergence.describe()
