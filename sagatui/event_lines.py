"""One readable line per event, and its colour: shared by the headless printer and the dashboard log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind
from sagatui.plain_text import plain

# Kinds a headless run prints by default; the rest (attempt starts, effects) are in the log on disk.
NOTABLE = frozenset({
    EventKind.RUN_STARTED, EventKind.RUN_SETTLED, EventKind.RUN_INTERRUPTED, EventKind.RUN_RESUMED,
    EventKind.SAGA_STARTED, EventKind.SAGA_COMPLETED, EventKind.SAGA_FAILED, EventKind.SAGA_COMPENSATING,
    EventKind.SAGA_COMPENSATED, EventKind.SAGA_NEEDS_ATTENTION, EventKind.SAGA_RESOLVED,
    EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED, EventKind.STEP_SKIPPED, EventKind.ATTEMPT_FAILED,
    EventKind.RETRY_SCHEDULED,
    EventKind.FALLBACK_USED, EventKind.BREAKER_TRANSITION, EventKind.BREAKER_REJECTED,
    EventKind.COMPENSATION_STARTED, EventKind.COMPENSATION_ENDED, EventKind.COMPENSATION_RETRY_SCHEDULED,
    EventKind.FAULT_CHANGED, EventKind.COMMAND,
})

STYLES: dict[str, str] = {
    "run": "bold magenta",
    "saga": "bold",
    "step": "cyan",
    "attempt": "dim",
    "retry": "yellow",
    "fallback": "bright_blue",
    "breaker": "bold red",
    "compensation": "magenta",
    "service": "dim green",
    "fault": "bold yellow",
    "command": "bold bright_white",
}

_OUTCOME_STYLES = {
    EventKind.SAGA_COMPLETED: "bold green",
    EventKind.SAGA_COMPENSATED: "bold yellow",
    EventKind.SAGA_FAILED: "bold red",
    EventKind.SAGA_NEEDS_ATTENTION: "bold white on red",
    EventKind.STEP_SUCCEEDED: "green",
    EventKind.STEP_FAILED: "red",
    EventKind.ATTEMPT_FAILED: "red",
    EventKind.BREAKER_REJECTED: "red",
}


def shown(value: object) -> str:
    """A value from an event's data as a reader reads it: text as it is, anything else as JSON
    (`{"mode": "offline"}`, `true`), never a Python repr."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def names(values: Iterable[object]) -> str:
    """Names (SKUs, steps) as a reader lists them: `WIDGET, GADGET`, not a Python list."""
    return ", ".join(map(str, values))


def style_for(event: Event) -> str:
    if event.kind is EventKind.COMPENSATION_ENDED:
        return "green" if event.data.get("outcome") == "completed" else "bold red"
    if event.kind is EventKind.BREAKER_TRANSITION:
        return {"closed": "bold green", "half_open": "bold yellow"}.get(str(event.data.get("to")), "bold red")
    return _OUTCOME_STYLES.get(event.kind, STYLES.get(event.kind.family, ""))


def _where(event: Event) -> str:
    parts = [event.saga_id or ""]
    if event.step:
        parts.append(event.step)
    if event.service:
        parts.append(f"{event.service}.{event.operation}" if event.operation else event.service)
    return " ".join(part for part in parts if part)


def _detail(event: Event) -> str:
    data, kind = event.data, event.kind
    error = f"{event.error_kind}: {event.message}" if event.error_kind else (event.message or "")
    match kind:
        case EventKind.SAGA_STARTED:
            return str(data.get("saga", ""))
        case EventKind.RETRY_SCHEDULED | EventKind.COMPENSATION_RETRY_SCHEDULED:
            return f"attempt {event.attempt} in {format_duration(data.get('delay', 0))}"
        case EventKind.FALLBACK_USED:
            return f"{data.get('from')} -> {data.get('to')}"
        case EventKind.BREAKER_TRANSITION:
            return f"{data.get('from')} -> {data.get('to')} ({event.message})"
        case EventKind.COMPENSATION_ENDED:
            extra = f", not undone: {names(data['not_undone'])}" if data.get("not_undone") else ""
            reason = f" ({compensation_reason(data)})" if data.get("reason") else ""
            return f"{data.get('outcome')} after {compensation_tries(event.attempt or 0, data)}{reason}{extra}"
        case EventKind.FAULT_CHANGED:
            return event.message or str(data.get("profile", {}).get("mode", ""))
        case EventKind.COMMAND:
            args = " ".join(f"{k}={shown(v)}" for k, v in data.get("args", {}).items())
            return f"{data.get('name')} {args}".strip()
        case EventKind.RUN_RESUMED:
            return (f"after seq {data.get('after_seq')}: {len(data.get('sagas', []))} saga(s) carried on, "
                    f"{len(data.get('resent', []))} call(s) sent again")
        case EventKind.RUN_INTERRUPTED:
            return f"{data.get('unfinished')} saga(s) left unfinished"
        case EventKind.SAGA_RESOLVED:
            return str(data.get("note", ""))
        case EventKind.ATTEMPT_FAILED | EventKind.ATTEMPT_SUCCEEDED | EventKind.ATTEMPT_STARTED:
            return f"#{event.attempt} {error}".strip()
        case _:
            return error


def compensation_tries(attempts: int, data: dict[str, Any]) -> str:
    """`5 attempt(s)`, or `5 call(s) and 5 refused by the breaker` when an open breaker turned tries away."""
    rejected = int(data.get("rejected", 0))
    if not rejected:
        return f"{attempts} attempt(s)"
    return f"{data.get('calls', attempts - rejected)} call(s) and {rejected} refused by the breaker"


def compensation_reason(data: dict[str, Any]) -> str:
    """The last error a call returned, then what refused the tries after it (an open breaker)."""
    reason = str(data.get("reason", ""))
    return f"last error: {reason}; then {data['then']}" if data.get("then") else reason


def describe(event: Event) -> str:
    """`   12.345s compensation.ended           S-0003 charge_payment payment.refund  completed after 1 attempt(s)`"""
    text = "  ".join(part for part in (_where(event), _detail(event)) if part)
    return plain(f"{event.time:9.3f}s {event.kind.value:<28} {text}".rstrip())
