"""One readable line per event, and its colour: shared by the headless printer and the dashboard log."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sagatui.model import payloads
from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.model.status import BreakerState, CompensationOutcome
from sagatui.plain_text import plain

# Kinds a headless run prints by default; the rest (attempt starts, effects) are in the log on disk.
NOTABLE = frozenset({
    EventKind.RUN_STARTED, EventKind.RUN_SETTLED, EventKind.RUN_INTERRUPTED, EventKind.RUN_RESUMED,
    EventKind.SAGA_STARTED, EventKind.SAGA_COMPLETED, EventKind.SAGA_COMPLETED_PARTIAL, EventKind.SAGA_FAILED,
    EventKind.SAGA_COMPENSATING,
    EventKind.SAGA_COMPENSATED, EventKind.SAGA_NEEDS_ATTENTION, EventKind.SAGA_RESOLVED,
    EventKind.SAGA_CANCEL_REQUESTED, EventKind.SAGA_DEADLINE_PASSED, EventKind.SAGA_CANCELLED,
    EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_DECIDED,
    EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED, EventKind.STEP_SKIPPED, EventKind.GROUP_QUORUM,
    EventKind.BRANCH_CHOSEN, EventKind.FOR_EACH_EXPANDED, EventKind.ATTEMPT_FAILED,
    EventKind.RETRY_SCHEDULED,
    EventKind.FALLBACK_USED, EventKind.BREAKER_TRANSITION, EventKind.BREAKER_REJECTED,
    EventKind.BULKHEAD_REJECTED, EventKind.REMEDIATION_ENDED,
    EventKind.COMPENSATION_STARTED, EventKind.COMPENSATION_ENDED, EventKind.COMPENSATION_RETRY_SCHEDULED,
    EventKind.FAULT_CHANGED, EventKind.SERVICE_CHANGED, EventKind.COMMAND,
})

STYLES: dict[str, str] = {
    "run": "bold magenta",
    "saga": "bold",
    "step": "cyan",
    "group": "cyan",
    "branch": "bold cyan",
    "for_each": "cyan",
    "attempt": "dim",
    "retry": "yellow",
    "fallback": "bright_blue",
    "breaker": "bold red",
    "compensation": "magenta",
    "service": "dim green",
    "fault": "bold yellow",
    "command": "bold bright_white",
    "approval": "bold yellow",  # waiting for a person
    "remediation": "bold bright_blue",
    "bulkhead": "yellow",
}

_BREAKER_STYLES = {BreakerState.CLOSED: "bold green", BreakerState.HALF_OPEN: "bold yellow"}

_OUTCOME_STYLES = {
    EventKind.SAGA_COMPLETED: "bold green",
    EventKind.SAGA_COMPLETED_PARTIAL: "bold green",
    EventKind.SAGA_COMPENSATED: "bold yellow",
    EventKind.SAGA_FAILED: "bold red",
    EventKind.SAGA_NEEDS_ATTENTION: "bold white on red",
    EventKind.SAGA_CANCEL_REQUESTED: "bold yellow",
    EventKind.SAGA_DEADLINE_PASSED: "bold yellow",
    EventKind.SAGA_CANCELLED: "bold yellow",
    EventKind.STEP_SUCCEEDED: "green",
    EventKind.STEP_FAILED: "red",
    EventKind.ATTEMPT_FAILED: "red",
    EventKind.BREAKER_REJECTED: "red",
    EventKind.BULKHEAD_REJECTED: "red",
    EventKind.SERVICE_CHANGED: "bold yellow",  # a change of the world, as a fault change is
}


def shown(value: object) -> str:
    """A value from an event's data as a reader reads it: text as it is, anything else as JSON
    (`{"mode": "offline"}`, `true`), never a Python repr."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def names(values: Iterable[object]) -> str:
    """Names (SKUs, steps) as a reader lists them: `WIDGET, GADGET`, not a Python list."""
    return ", ".join(map(str, values))


def stopping_text(event: Event) -> str:
    """What a saga's stop says: the operator's note, or the deadline that passed; then what follows."""
    stopping = event.payload_as(payloads.SagaStopping)
    if event.kind is EventKind.SAGA_DEADLINE_PASSED:
        why = f"its deadline of {format_duration(stopping.deadline or 0)} passed"
    else:
        why = f"cancelled by an operator{': ' + stopping.note if stopping.note else ''}"
    return f"{why}; no further steps, what it did is undone"


def style_for(event: Event) -> str:
    if event.kind is EventKind.COMPENSATION_ENDED:
        completed = event.payload_as(payloads.CompensationEnded).outcome is CompensationOutcome.COMPLETED
        return "green" if completed else "bold red"
    if event.kind is EventKind.BREAKER_TRANSITION:
        return _BREAKER_STYLES.get(event.payload_as(payloads.BreakerTransition).to_state, "bold red")
    return _OUTCOME_STYLES.get(event.kind, STYLES.get(event.kind.family, ""))


def _where(event: Event) -> str:
    parts = [event.saga_id or ""]
    if event.step:
        parts.append(event.step)
    if event.service:
        parts.append(f"{event.service}.{event.operation}" if event.operation else event.service)
    if event.kind is EventKind.BREAKER_TRANSITION:  # names no service: a breaker may guard several
        parts.append(event.payload_as(payloads.BreakerTransition).breaker)
    return " ".join(part for part in parts if part)


def _detail(event: Event) -> str:
    kind = event.kind
    error = f"{event.error_kind}: {event.message}" if event.error_kind else (event.message or "")
    match kind:
        case EventKind.SAGA_STARTED:
            return event.payload_as(payloads.SagaStarted).saga
        case EventKind.STEP_SKIPPED:
            return event.payload_as(payloads.StepSkipped).why()
        case EventKind.FOR_EACH_EXPANDED:
            return event.payload_as(payloads.ForEachExpanded).summary()
        case EventKind.BRANCH_CHOSEN:
            return event.payload_as(payloads.BranchChosen).summary()
        case EventKind.GROUP_QUORUM:
            decided = event.payload_as(payloads.QuorumDecided)
            return f"{'met' if decided.met else 'missed'}: {decided.summary()}"
        case EventKind.SAGA_COMPLETED | EventKind.SAGA_COMPLETED_PARTIAL if event.data.get("output"):
            output = event.payload_as(payloads.SagaEnded).output or {}
            return "output " + ", ".join(f"{name}={shown(value)}" for name, value in output.items())
        case EventKind.RETRY_SCHEDULED | EventKind.COMPENSATION_RETRY_SCHEDULED:
            return f"attempt {event.attempt} in {format_duration(event.payload_as(payloads.RetryScheduled).delay)}"
        case EventKind.FALLBACK_USED:
            fallback = event.payload_as(payloads.FallbackUsed)
            return f"{fallback.from_action} -> {fallback.to_action}"
        case EventKind.BREAKER_TRANSITION:
            transition = event.payload_as(payloads.BreakerTransition)
            return f"{transition.from_state.value} -> {transition.to_state.value} ({event.message})"
        case EventKind.COMPENSATION_ENDED:
            ended = event.payload_as(payloads.CompensationEnded)
            extra = f", not undone: {names(ended.not_undone)}" if ended.not_undone else ""
            reason = f" ({ended.why()})" if ended.reason else ""
            return f"{ended.outcome.value} after {ended.tries(event.attempt or 0)}{reason}{extra}"
        case EventKind.FAULT_CHANGED:
            return event.message or event.payload_as(payloads.FaultChanged).profile.mode
        case EventKind.SERVICE_CHANGED:
            changed = event.payload_as(payloads.ServiceChanged)
            return f"{changed.summary()} ({changed.source})"
        case EventKind.COMMAND:
            return command_text(event)
        case EventKind.RUN_RESUMED:
            resumed = event.payload_as(payloads.RunResumed)
            return (f"after seq {resumed.after_seq}: {len(resumed.sagas)} saga(s) carried on, "
                    f"{len(resumed.resent)} call(s) sent again")
        case EventKind.RUN_INTERRUPTED:
            return f"{event.payload_as(payloads.RunInterrupted).unfinished} saga(s) left unfinished"
        case EventKind.SAGA_RESOLVED:
            return event.payload_as(payloads.SagaResolved).note
        case EventKind.SAGA_CANCEL_REQUESTED | EventKind.SAGA_DEADLINE_PASSED:
            return stopping_text(event)
        case EventKind.APPROVAL_REQUESTED:
            return event.payload_as(payloads.ApprovalRequested).summary()
        case EventKind.APPROVAL_DECIDED:
            return event.payload_as(payloads.ApprovalDecided).summary()
        case EventKind.REMEDIATION_ENDED if event.error_kind is None:
            return event.payload_as(payloads.RemediationEnded).summary()
        case EventKind.ATTEMPT_FAILED | EventKind.ATTEMPT_SUCCEEDED | EventKind.ATTEMPT_STARTED:
            return f"#{event.attempt} {error}".strip()
        case _:
            return error


def command_text(event: Event) -> str:
    """A `command` event as a reader reads it: `set_fault service=payment profile=offline`."""
    args = event.data.get("args", {})
    shown_args = " ".join(f"{key}={_fault_label(value) if key == 'profile' else shown(value)}"
                          for key, value in args.items())
    return f"{event.data.get('name')} {shown_args}".strip()


def _fault_label(value: object) -> str:
    """A fault profile by its label (`degraded 30% +100ms`); anything else as it is."""
    if isinstance(value, dict):
        try:
            return FaultProfile.model_validate(value).label()
        except ValueError:
            pass
    return shown(value)


def describe(event: Event) -> str:
    """`   12.345s compensation.ended           S-0003 charge_payment payment.refund  completed after 1 attempt(s)`"""
    text = "  ".join(part for part in (_where(event), _detail(event)) if part)
    return plain(f"{event.time:9.3f}s {event.kind.value:<28} {text}".rstrip())
