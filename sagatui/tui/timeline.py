"""A saga's story in three acts, built from its events: the forward steps (attempts, retries with
their delays, fallback hops, breaker rejections), the compensation chain in the order it ran (with
each compensation's context and outcome), and how it ended."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sagatui.event_lines import names, shown, stopping_text
from sagatui.model import payloads
from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind
from sagatui.model.status import CompensationOutcome

_ENDING_STYLES = {
    EventKind.SAGA_COMPLETED: "bold ok",
    EventKind.SAGA_COMPLETED_PARTIAL: "bold ok",
    EventKind.SAGA_COMPENSATED: "bold warning",
    EventKind.SAGA_FAILED: "bold error",
    EventKind.SAGA_NEEDS_ATTENTION: "bold on error",
    EventKind.SAGA_RESOLVED: "bold ok",
    EventKind.SAGA_CANCELLED: "bold warning",
}


@dataclass(frozen=True)
class Entry:
    time: float
    step: str
    what: str
    detail: str
    style: str = ""  # roles (sagatui.tui.tones): "bold ok"


@dataclass
class Timeline:
    forward: list[Entry] = field(default_factory=list)
    compensation: list[Entry] = field(default_factory=list)
    ending: list[Entry] = field(default_factory=list)


def _error(event: Event) -> str:
    if event.error_kind is None:
        return event.message or ""
    return f"{event.error_kind.value}: {event.message}" if event.message else event.error_kind.value


def _call(event: Event) -> str:
    return f"{event.service}.{event.operation}" if event.operation else event.service or ""


def _took(event: Event) -> str:
    return f" ({format_duration(event.payload_as(payloads.CallOutcome).duration)})"


def _values(lead: str, values: dict[str, Any] | None) -> str:
    """`lead` then `name=value, ...`; nothing for no values."""
    if not values:
        return ""
    return lead + ", ".join(f"{name}={shown(value)}" for name, value in values.items())


def _context(context: dict[str, Any]) -> str:
    """The compensation context on one line: why the undo runs and what it is undoing."""
    parts = [f"saga failed at {context.get('failed_step')}"]
    if context.get("error_kind") or context.get("error_message"):
        parts.append(f"{context.get('error_kind')}: {context.get('error_message')}")
    if context.get("forward_result"):
        parts.append("forward result " + ", ".join(f"{k}={shown(v)}" for k, v in context["forward_result"].items()))
    return " · ".join(parts)


def _entry(event: Event) -> Entry | None:
    """How one event reads on the timeline; None for events the timeline leaves out."""
    kind, step = event.kind, event.step or ""
    match kind:
        case EventKind.SAGA_STARTED:
            started = event.payload_as(payloads.SagaStarted)
            inputs = ", ".join(f"{k}={shown(v)}" for k, v in started.input.items())
            return Entry(event.time, "", "started", f"saga {started.saga}: {inputs}", "bold")
        case EventKind.STEP_STARTED:
            read = event.payload_as(payloads.StepStarted).params
            return Entry(event.time, step, "step", f"calls {_call(event)}{_values(' with ', read)}", "info")
        case EventKind.STEP_SKIPPED:
            return Entry(event.time, step, "skipped", event.payload_as(payloads.StepSkipped).why(), "dim")
        case EventKind.ATTEMPT_SUCCEEDED:
            return Entry(event.time, step, f"attempt {event.attempt}", f"ok {_call(event)}{_took(event)}", "ok")
        case EventKind.ATTEMPT_FAILED:
            return Entry(event.time, step, f"attempt {event.attempt}", f"{_error(event)}{_took(event)}", "error")
        case EventKind.RETRY_SCHEDULED | EventKind.COMPENSATION_RETRY_SCHEDULED:
            scheduled = event.payload_as(payloads.RetryScheduled)
            policy = f" ({scheduled.policy.value} policy)" if scheduled.policy is not None else ""
            return Entry(event.time, step, "retry", f"attempt {event.attempt} after {format_duration(scheduled.delay)}"
                         f"{policy}", "warning")
        case EventKind.FALLBACK_USED:
            fallback = event.payload_as(payloads.FallbackUsed)
            reason = f" ({fallback.reason})" if fallback.reason else ""
            return Entry(event.time, step, "fallback", f"{fallback.from_action} -> {fallback.to_action}{reason}",
                         "hop")
        case EventKind.BREAKER_REJECTED:
            breaker = event.payload_as(payloads.BreakerRejected).breaker
            return Entry(event.time, step, "rejected", f"breaker {breaker}: {event.message}", "bold error")
        case EventKind.BULKHEAD_QUEUED:
            queued = event.payload_as(payloads.BulkheadQueued)
            return Entry(event.time, step, "queued", f"bulkhead {queued.bulkhead}: {queued.in_flight} in flight, "
                         f"{queued.ahead} waiting before it", "warning")
        case EventKind.REMEDIATION_STARTED:
            role = event.payload_as(payloads.RemediationStarted).role
            called = f"calls {event.service}.{event.operation} after attempt {event.attempt}"
            return Entry(event.time, step, role, called, "hop")
        case EventKind.REMEDIATION_ENDED:
            remedied = event.payload_as(payloads.RemediationEnded)
            if event.error_kind is not None:
                return Entry(event.time, step, remedied.role, f"{event.operation} failed: {_error(event)}", "error")
            return Entry(event.time, step, remedied.role, remedied.summary(), "ok")
        case EventKind.BULKHEAD_REJECTED:
            return Entry(event.time, step, "rejected", event.message or "bulkhead full", "bold error")
        case EventKind.STEP_SUCCEEDED:
            result = event.payload_as(payloads.StepSucceeded).result
            return Entry(event.time, step, "succeeded", f"after {event.attempt} attempt(s){_values(' -> ', result)}",
                         "bold ok")
        case EventKind.STEP_FAILED:
            effect = " (may have had an effect)" if event.payload_as(payloads.StepFailed).may_have_effect else ""
            return Entry(event.time, step, "failed", f"{_error(event)}{effect}", "bold error")
        case EventKind.SAGA_CANCEL_REQUESTED | EventKind.SAGA_DEADLINE_PASSED:
            return Entry(event.time, step, "cancel" if kind is EventKind.SAGA_CANCEL_REQUESTED else "deadline",
                         stopping_text(event), "bold warning")
        case EventKind.SAGA_COMPENSATING:
            to_undo = event.payload_as(payloads.SagaCompensating).to_undo
            return Entry(event.time, step, "roll back", "undo newest first: " + ", ".join(to_undo), "bold undo")
        case EventKind.COMPENSATION_STARTED:
            context = event.payload_as(payloads.CompensationStarted).context
            return Entry(event.time, step, "undo", f"{_call(event)} · {_context(context)}", "undo")
        case EventKind.COMPENSATION_ATTEMPT:
            if event.error_kind is None:
                return Entry(event.time, step, f"attempt {event.attempt}", f"ok{_took(event)}", "ok")
            return Entry(event.time, step, f"attempt {event.attempt}", f"{_error(event)}{_took(event)}", "error")
        case EventKind.COMPENSATION_ENDED:
            ended = event.payload_as(payloads.CompensationEnded)
            reason = f": {ended.reason}" if ended.reason else ""
            not_undone = f", not undone: {names(ended.not_undone)}" if ended.not_undone else ""
            return Entry(event.time, step, ended.outcome.value, f"after {event.attempt} attempt(s){reason}{not_undone}",
                         "bold ok" if ended.outcome is CompensationOutcome.COMPLETED else "bold error")
        case EventKind.COMPENSATION_SKIPPED:
            return Entry(event.time, step, "nothing to undo", event.payload_as(payloads.CompensationSkipped).reason,
                         "dim")
        case EventKind.SAGA_COMPLETED | EventKind.SAGA_COMPLETED_PARTIAL:
            output = event.payload_as(payloads.SagaEnded).output
            what = "completed" if kind is EventKind.SAGA_COMPLETED else "completed partially"
            return Entry(event.time, step, what, _values("output ", output).strip() or _error(event),
                         _ENDING_STYLES[kind])
        case EventKind.FOR_EACH_EXPANDED:
            return Entry(event.time, step, "for each", event.payload_as(payloads.ForEachExpanded).summary(), "info")
        case EventKind.BRANCH_CHOSEN:
            return Entry(event.time, step, "branch", event.payload_as(payloads.BranchChosen).summary(), "bold info")
        case EventKind.GROUP_QUORUM:
            decided = event.payload_as(payloads.QuorumDecided)
            return Entry(event.time, step, "quorum met" if decided.met else "quorum missed", decided.summary(),
                         "bold ok" if decided.met else "bold error")
        case kind if kind.ends_saga:
            detail = event.payload_as(payloads.SagaResolved).note if kind is EventKind.SAGA_RESOLVED else _error(event)
            return Entry(event.time, step, kind.value.removeprefix("saga."), detail, _ENDING_STYLES[kind])
        case _:
            return None


def build_timeline(events: Iterable[Event]) -> Timeline:
    timeline = Timeline()
    act = timeline.forward
    for event in events:
        if event.kind in (EventKind.SAGA_COMPENSATING, EventKind.COMPENSATION_STARTED):
            act = timeline.compensation
        elif event.kind.ends_saga:
            act = timeline.ending
        entry = _entry(event)
        if entry is not None:
            act.append(entry)
    return timeline
