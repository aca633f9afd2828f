"""A run's sagas as OpenTelemetry traces, in the OTLP JSON encoding that Jaeger's UI and the Collector's
`otlpjsonfile` receiver read: one trace per saga, one `ExportTraceServiceRequest` per saga.

The shape of a saga's trace:
- the saga is the root span (`saga order`), from `saga.started` to the event that ended it; its status is
  an error unless the saga completed;
- each step is a child span (`step charge_payment`), each of its attempts a child of the step
  (`attempt 2 payment.charge`), with an error status when the attempt failed;
- each compensation is a child span of the saga (`compensate charge_payment`), its attempts children of it;
- retries scheduled, fallbacks, breaker rejections and skipped steps are span events on the step (or
  compensation) span; a breaker's transition (which belongs to no saga) is a span event on the span of the
  call that saw it: the next call of a saga at the same clock time, or failing that the next call at all;
- spans of the orchestration are reported by the resource `sagatui <pack>`, attempts by the resource of
  the service they called, so a trace viewer shows the services side by side.

Times are the run's wall-clock start plus the run clock's seconds, so a virtual-clock run reads as the
minutes it modelled; a session file keeps no wall clock, so its runs start at the Unix epoch. Ids are
hashes of the seed, the pack and the span's place in the saga: the same run exports to the same bytes
however often it is read, and its session file to the same trees of spans with the same ids.
A span left open (an interrupted run) ends at its saga's last event and carries `sagatui.open = true`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sagatui.model.events import REFUSALS, Event, EventKind
from sagatui.model.payloads import (
    BreakerTransition,
    CompensationEnded,
    FallbackUsed,
    RetryScheduled,
    SagaEnded,
    SagaResolved,
    SagaStarted,
    StepSkipped,
)
from sagatui.model.status import CompensationOutcome, SagaStatus

SCOPE = {"name": "sagatui", "version": "1"}
_INTERNAL, _CLIENT = 1, 3  # Span.SpanKind
_ERROR = 2  # Status.StatusCode
_STEP_ENDS = {EventKind.STEP_SUCCEEDED: "succeeded", EventKind.STEP_FAILED: "failed",
              EventKind.STEP_SKIPPED: "skipped"}
_CALL_KINDS = frozenset({EventKind.ATTEMPT_STARTED, EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED,
                         EventKind.COMPENSATION_ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT,
                         *REFUSALS})


@dataclass
class SpanEvent:
    name: str
    time: float
    attributes: dict[str, Any]


@dataclass
class Span:
    """One span while a saga's events are read; `end` None while it is open."""

    span_id: bytes
    parent_id: bytes | None
    name: str
    resource: str  # the reporting service's name
    kind: int
    start: float
    end: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    error: str | None = None  # an error status's message


@dataclass
class SagaTrace:
    saga_id: str
    trace_id: bytes
    spans: list[Span]


class _TraceBuilder:
    """Reads one saga's events in order and opens and closes its spans."""

    def __init__(self, ids: _Ids, orchestrator: str, first: Event) -> None:
        self.saga_id = first.saga_id or ""
        self.ids = ids
        self.trace_id = ids.trace(self.saga_id)
        self.orchestrator = orchestrator
        self.spans: list[Span] = []
        self._paths: dict[str, int] = {}
        started = first.payload_as(SagaStarted)
        self.root = self._open(f"saga {started.saga}", None, _INTERNAL, first.time,
                               {"sagatui.saga_id": self.saga_id, "sagatui.saga": started.saga}, "saga")
        self.steps: dict[str, Span] = {}
        self.undos: dict[str, Span] = {}
        self.calls: dict[str, Span] = {}  # "step:<step>:<service>:<attempt>" or "undo:..." -> attempt span
        self.last_time = first.time

    def _open(self, name: str, parent: Span | None, kind: int, start: float, attributes: dict[str, Any],
              path: str, resource: str | None = None) -> Span:
        seen = self._paths[path] = self._paths.get(path, 0) + 1  # a retried rollback undoes a step again
        span = Span(self.ids.span(self.saga_id, path if seen == 1 else f"{path}#{seen}"),
                    parent.span_id if parent else None, name, resource or self.orchestrator, kind, start,
                    attributes=attributes)
        self.spans.append(span)
        return span

    def step_span(self, event: Event) -> Span:
        name = event.step or ""
        span = self.steps.get(name)
        if span is None:  # a step seen first by its skip (or a resumed run's later events)
            span = self._open(f"step {name}", self.root, _INTERNAL, event.time, {"sagatui.step": name}, f"step:{name}")
            self.steps[name] = span
        return span

    def undo_span(self, event: Event) -> Span:
        name = event.step or ""
        span = self.undos.get(name)
        if span is None or (span.end is not None and event.kind is EventKind.COMPENSATION_STARTED):
            span = self._open(f"compensate {name}", self.root, _INTERNAL, event.time,
                              {"sagatui.step": name, "sagatui.compensation": True}, f"undo:{name}")
            self.undos[name] = span
        return span

    def call_span(self, event: Event) -> Span | None:
        """The span of the call `event` is part of (None for a breaker rejection: no call was made)."""
        undo = event.kind in (EventKind.COMPENSATION_ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT)
        key = f"{'undo' if undo else 'step'}:{event.step}:{event.service}:{event.attempt}"
        span = self.calls.get(key)
        intent = event.kind in (EventKind.ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT_STARTED)
        if intent and (span is None or span.end is not None):  # resent after a crash: the open span goes on
            parent = self.undo_span(event) if undo else self.step_span(event)
            action = f"{event.service}.{event.operation}"
            span = self._open(f"{'undo ' if undo else ''}attempt {event.attempt} {action}", parent, _CLIENT,
                              event.time, {"sagatui.step": event.step, "sagatui.attempt": event.attempt,
                                           "sagatui.service": event.service, "sagatui.operation": event.operation},
                              key, resource=event.service)
            self.calls[key] = span
        return span

    def read(self, event: Event, transitions: list[Event]) -> None:
        """Take one event of the saga; `transitions` are breaker transitions this call is the first to see."""
        self.last_time = event.time
        kind = event.kind
        if kind in _CALL_KINDS:
            self._read_call(event, transitions)
        elif kind in (EventKind.STEP_STARTED, EventKind.COMPENSATION_STARTED):
            span = self.undo_span(event) if kind is EventKind.COMPENSATION_STARTED else self.step_span(event)
            span.attributes.update({"sagatui.service": event.service, "sagatui.operation": event.operation})
        elif kind in _STEP_ENDS:
            span = self.step_span(event)
            if kind is EventKind.STEP_SKIPPED:
                span.events.append(SpanEvent(kind.value, event.time,
                                             {"sagatui.reason": event.payload_as(StepSkipped).reason}))
            _close(span, event.time, event.message if kind is EventKind.STEP_FAILED else None,
                   {"sagatui.status": _STEP_ENDS[kind], "sagatui.error_kind": _error_kind(event)})
        elif kind is EventKind.COMPENSATION_ENDED:
            ended = event.payload_as(CompensationEnded)
            failed = ended.outcome is not CompensationOutcome.COMPLETED
            _close(self.undo_span(event), event.time, ended.why() if failed else None,
                   {"sagatui.outcome": ended.outcome.value})
        elif kind.ends_saga:
            status = (event.payload_as(SagaResolved).status if kind is EventKind.SAGA_RESOLVED
                      else event.payload_as(SagaEnded).status)
            self.root.end = None  # a retried rollback or a resolve ends the saga again: the last end counts
            went_on = status in (SagaStatus.COMPLETED, SagaStatus.COMPLETED_PARTIAL)
            _close(self.root, event.time, None if went_on else (event.message or status.value),
                   {"sagatui.status": status.value})
        elif kind is not EventKind.SERVICE_EFFECT:
            self._mark(event)

    def _read_call(self, event: Event, transitions: list[Event]) -> None:
        span = self.call_span(event)
        holder = span if span is not None else (self.undo_span(event) if _is_undo(event) else self.step_span(event))
        holder.events.extend(_transition_event(transition) for transition in transitions)
        if event.kind in REFUSALS:
            holder.events.append(SpanEvent(event.kind.value, event.time, {"sagatui.message": event.message}))
        elif span is not None and event.kind not in (EventKind.ATTEMPT_STARTED,
                                                     EventKind.COMPENSATION_ATTEMPT_STARTED):
            _close(span, event.time, event.message if event.error_kind else None,
                   {"sagatui.error_kind": _error_kind(event)})

    def _mark(self, event: Event) -> None:
        """Any other happening of the saga (a retry scheduled, a fallback, the rollback beginning) as a
        span event: on the compensation's span, the step's, or else the saga's."""
        kind = event.kind
        if kind.family == "compensation" and event.step is not None:
            holder = self.undo_span(event)
        elif event.step is not None and kind is not EventKind.SAGA_COMPENSATING and kind.family not in _SAGA_WIDE:
            holder = self.step_span(event)
        else:
            holder = self.root
        attributes: dict[str, Any] = {"sagatui.step": event.step, "sagatui.attempt": event.attempt,
                                      "sagatui.error_kind": _error_kind(event), "sagatui.message": event.message}
        if kind in (EventKind.RETRY_SCHEDULED, EventKind.COMPENSATION_RETRY_SCHEDULED):
            attributes["sagatui.delay"] = event.payload_as(RetryScheduled).delay
        elif kind is EventKind.FALLBACK_USED:
            hop = event.payload_as(FallbackUsed)
            attributes.update({"sagatui.from": hop.from_action, "sagatui.to": hop.to_action,
                               "sagatui.reason": hop.reason})
        holder.events.append(SpanEvent(kind.value, event.time, attributes))

    def finished(self) -> SagaTrace:
        for span in self.spans:
            if span.end is None:
                span.end = max(self.last_time, span.start)
                span.attributes["sagatui.open"] = True
        return SagaTrace(self.saga_id, self.trace_id, self.spans)


def _error_kind(event: Event) -> str | None:
    return event.error_kind.value if event.error_kind is not None else None


_SAGA_WIDE = frozenset({"group", "branch", "for_each"})  # a group's quorum, a switch's branch: the saga's, not a step's


def _is_undo(event: Event) -> bool:
    return event.refused_an_undo


def _close(span: Span, time: float, error: str | None, attributes: dict[str, Any]) -> None:
    if span.end is None:
        span.end = time
    span.error = error
    span.attributes.update({key: value for key, value in attributes.items() if value is not None})


def _transition_event(event: Event) -> SpanEvent:
    transition = event.payload_as(BreakerTransition)
    return SpanEvent("breaker.transition", event.time, {
        "sagatui.breaker": transition.breaker, "sagatui.from": transition.from_state.value,
        "sagatui.to": transition.to_state.value, "sagatui.reason": event.message})


@dataclass(frozen=True)
class _Ids:
    """Trace and span ids from the seed and the pack: stable for a run, apart between runs."""

    seed: int
    pack: str

    def trace(self, saga_id: str) -> bytes:
        return _digest(f"{self.pack}\0{self.seed}\0{saga_id}", 16)

    def span(self, saga_id: str, path: str) -> bytes:
        return _digest(f"{self.pack}\0{self.seed}\0{saga_id}\0{path}", 8)


def _digest(text: str, size: int) -> bytes:
    digest = hashlib.sha256(text.encode()).digest()[:size]
    return digest if any(digest) else b"\x01" * size  # an all-zero id is invalid in OTLP


def saga_traces(events: Iterable[Event], *, pack: str, seed: int) -> list[SagaTrace]:
    """Every saga of the run, in the order they started."""
    ids = _Ids(seed, pack)
    orchestrator = f"sagatui {pack}"
    builders: dict[str, _TraceBuilder] = {}
    transitions: list[Event] = []  # breaker transitions not yet given to a call
    for event in events:
        if event.kind is EventKind.BREAKER_TRANSITION:
            transitions.append(event)
            continue
        if event.saga_id is None:
            continue
        builder = builders.get(event.saga_id)
        if builder is None:
            if event.kind is not EventKind.SAGA_STARTED:
                continue  # a saga whose start is not in these events
            builder = builders[event.saga_id] = _TraceBuilder(ids, orchestrator, event)
            continue
        seen: list[Event] = []
        if transitions and event.kind in _CALL_KINDS:
            seen, transitions = transitions, []
        builder.read(event, seen)
    return [builder.finished() for builder in builders.values()]


# -- the OTLP JSON encoding -----------------------------------------------------------------------------
def export_request(trace: SagaTrace, *, base_time: float) -> dict[str, Any]:
    """One saga's trace as an ExportTraceServiceRequest in OTLP JSON (ids in hex, 64-bit integers as
    strings, enums as numbers), its spans grouped by the resource that reports them."""
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for span in trace.spans:
        by_resource.setdefault(span.resource, []).append(_span(trace.trace_id, span, base_time))
    return {"resourceSpans": [
        {"resource": {"attributes": _attributes({"service.name": resource})},
         "scopeSpans": [{"scope": SCOPE, "spans": spans}]}
        for resource, spans in by_resource.items()]}


def _span(trace_id: bytes, span: Span, base_time: float) -> dict[str, Any]:
    encoded: dict[str, Any] = {"traceId": trace_id.hex(), "spanId": span.span_id.hex()}
    if span.parent_id is not None:
        encoded["parentSpanId"] = span.parent_id.hex()
    encoded.update({
        "name": span.name, "kind": span.kind,
        "startTimeUnixNano": _nanos(base_time, span.start),
        "endTimeUnixNano": _nanos(base_time, span.end if span.end is not None else span.start),
        "attributes": _attributes(span.attributes),
    })
    if span.events:
        encoded["events"] = [{"timeUnixNano": _nanos(base_time, event.time), "name": event.name,
                              "attributes": _attributes(event.attributes)} for event in span.events]
    encoded["status"] = {"code": _ERROR, "message": span.error} if span.error is not None else {}
    return encoded


def _nanos(base_time: float, clock_time: float) -> str:
    """Each part rounded on its own: a wall-clock float has no room left for the clock's nanoseconds."""
    return str(round(base_time * 1e9) + round(clock_time * 1e9))


def _attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in values.items() if value is not None]


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def export_lines(events: list[Event], *, pack: str, seed: int) -> Iterator[tuple[str, str]]:
    """(saga id, one line of JSON) per saga: the `.jsonl` the Collector's file receiver reads."""
    base_time = (events[0].wall_time or 0.0) if events else 0.0
    for trace in saga_traces(events, pack=pack, seed=seed):
        yield trace.saga_id, json.dumps(export_request(trace, base_time=base_time), separators=(",", ":"))
