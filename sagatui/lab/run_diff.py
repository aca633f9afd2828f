"""What differs between two recorded runs: the first event where their streams part, then a summary of
what that changed (sagas by status, each saga whose outcome changed, compensation orders, the metrics,
and the commands only one run received). Runs of one database, of two, or session files alike."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sagatui.engine.metrics import MetricsSummary, RunMetrics
from sagatui.event_lines import command_text
from sagatui.lab import pack_hash
from sagatui.lab.replay import Recording
from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind


@dataclass(frozen=True)
class FirstDifference:
    """The first event index where the streams part; an event is None where that run had ended."""

    index: int
    a: dict[str, Any] | None
    b: dict[str, Any] | None

    @property
    def fields(self) -> list[str]:
        if self.a is None or self.b is None:
            return []
        return sorted(key for key in self.a.keys() | self.b.keys() if self.a.get(key) != self.b.get(key))


@dataclass(frozen=True)
class Changed:
    """One thing with a value in each run (None: absent from that run)."""

    name: str
    a: Any
    b: Any


@dataclass(frozen=True)
class RunDiff:
    a: str  # each run's source, for messages: "run 3 of sagatui.db" or a session file
    b: str
    seeds: tuple[int, int]
    packs: tuple[str, str]  # each run's pack name and hash
    events: tuple[int, int]
    first: FirstDifference | None
    statuses: list[Changed] = field(default_factory=list)  # saga status -> count
    sagas: list[Changed] = field(default_factory=list)  # saga id -> its final status
    compensation_orders: list[Changed] = field(default_factory=list)  # saga id -> steps undone, in order
    metrics: list[Changed] = field(default_factory=list)
    commands: list[Changed] = field(default_factory=list)  # a command -> when each run received it

    @property
    def identical(self) -> bool:
        return self.first is None

    def as_dict(self) -> dict[str, Any]:
        def changes(items: list[Changed]) -> list[dict[str, Any]]:
            return [{"name": item.name, "a": item.a, "b": item.b} for item in items]

        return {
            "identical": self.identical,
            "a": {"source": self.a, "seed": self.seeds[0], "pack": self.packs[0], "events": self.events[0]},
            "b": {"source": self.b, "seed": self.seeds[1], "pack": self.packs[1], "events": self.events[1]},
            "first_divergence": None if self.first is None else {
                "index": self.first.index, "a": self.first.a, "b": self.first.b, "fields": self.first.fields},
            "sagas_by_status": changes(self.statuses),
            "saga_outcomes": changes(self.sagas),
            "compensation_orders": changes(self.compensation_orders),
            "metrics": changes(self.metrics),
            "commands": changes(self.commands),
        }

    def divergence_lines(self) -> list[str]:
        """`A: <event>` and `B: <event>` where the runs part (none when they are identical)."""
        if self.first is None:
            return []
        return [f"{label}: {_event_text(event, self.first.fields)}"
                for label, event in (("A", self.first.a), ("B", self.first.b))]

    def describe(self) -> list[str]:
        """The report as lines of text."""
        lines = [f"A: {self.a} (pack {self.packs[0]}, seed {self.seeds[0]}, {self.events[0]} events)",
                 f"B: {self.b} (pack {self.packs[1]}, seed {self.seeds[1]}, {self.events[1]} events)"]
        if self.first is None:
            return [*lines, "identical: the same events, in the same order"]
        first = self.first
        lines.append(f"first divergence at event index {first.index}:")
        lines.extend(f"  {line}" for line in self.divergence_lines())
        if first.fields:
            lines.append(f"  differing fields: {', '.join(first.fields)}")
        for title, items in (("sagas by status", self.statuses), ("metrics", self.metrics)):
            if items:
                lines.append(f"{title}: " + ", ".join(f"{item.name} {_text(item.a)} -> {_text(item.b)}"
                                                      for item in items))
        for title, items in (("sagas whose outcome changed", self.sagas),
                             ("compensation orders that changed", self.compensation_orders),
                             ("commands received differently", self.commands)):
            if items:
                lines.append(f"{title} ({len(items)}):")
                lines.extend(f"  {item.name}: {_text(item.a)} -> {_text(item.b)}" for item in items[:_SHOWN])
                if len(items) > _SHOWN:
                    lines.append(f"  ... and {len(items) - _SHOWN} more (--format json lists them all)")
        return lines


_SHOWN = 20


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(format_duration(item) if isinstance(item, float) else str(item)
                         for item in value) or "(nothing)"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _event_text(event: dict[str, Any] | None, differing: list[str]) -> str:
    """`kind at 1.2s saga_id=S-0003 step=charge_payment`, then the differing fields' values (cut short)."""
    if event is None:
        return "(the run had ended)"
    where = " ".join(f"{key}={event[key]}" for key in ("saga_id", "step", "service", "attempt") if event.get(key))
    shown = "; ".join(f"{key}={json.dumps(event.get(key), sort_keys=True)}" for key in differing
                      if key not in ("kind", "time"))
    if len(shown) > _WIDTH:
        shown = shown[:_WIDTH - 3] + "..."
    return " ".join(part for part in (f"{event['kind']} at {event['time']:.4g}s", where, shown and f"({shown})")
                    if part)


_WIDTH = 160


def first_difference(a: list[Event], b: list[Event]) -> FirstDifference | None:
    for index, (left, right) in enumerate(zip(a, b, strict=False)):
        if not left.same_as(right):
            return FirstDifference(index, left.comparable(), right.comparable())
    if len(a) == len(b):
        return None
    index = min(len(a), len(b))
    return FirstDifference(index, a[index].comparable() if index < len(a) else None,
                           b[index].comparable() if index < len(b) else None)


@dataclass
class _Digest:
    """What the summary compares, folded from one run's events."""

    metrics: MetricsSummary
    outcomes: dict[str, str]  # saga id -> its last status
    undone: dict[str, list[str]]  # saga id -> steps whose compensation started, in order
    commands: dict[str, list[float]]  # a command as text -> the clock times it was received

    @classmethod
    def of(cls, events: Iterable[Event]) -> _Digest:
        metrics = RunMetrics()
        outcomes: dict[str, str] = {}
        undone: dict[str, list[str]] = {}
        commands: dict[str, list[float]] = {}
        for event in events:
            metrics.add(event)
            status = event.saga_status
            if status is not None and event.saga_id is not None:
                outcomes[event.saga_id] = status.value
            elif event.kind is EventKind.SAGA_STARTED and event.saga_id is not None:
                outcomes[event.saga_id] = "running"
            elif event.kind is EventKind.COMPENSATION_STARTED and event.saga_id is not None:
                undone.setdefault(event.saga_id, []).append(event.step or "")
            elif event.kind is EventKind.COMMAND:
                commands.setdefault(command_text(event), []).append(round(event.time, 6))
        return cls(metrics.summary(), outcomes, undone, commands)


def _changed(a: dict[str, Any], b: dict[str, Any]) -> list[Changed]:
    return [Changed(key, a.get(key), b.get(key)) for key in sorted(a.keys() | b.keys()) if a.get(key) != b.get(key)]


def diff_runs(a: Recording, b: Recording) -> RunDiff:
    first = first_difference(a.events, b.events)
    left, right = _Digest.of(a.events), _Digest.of(b.events)
    metrics_a = left.metrics.model_dump(exclude={"by_status", "compensations"})
    metrics_b = right.metrics.model_dump(exclude={"by_status", "compensations"})
    compensations_a = {f"compensations {outcome}": count for outcome, count in left.metrics.compensations.items()}
    compensations_b = {f"compensations {outcome}": count for outcome, count in right.metrics.compensations.items()}
    return RunDiff(
        a=a.source, b=b.source, seeds=(a.seed, b.seed),
        packs=(f"{a.pack_name} {pack_hash(a.pack_text)[:12]}", f"{b.pack_name} {pack_hash(b.pack_text)[:12]}"),
        events=(len(a.events), len(b.events)), first=first,
        statuses=_changed(left.metrics.by_status, right.metrics.by_status),
        sagas=_changed(left.outcomes, right.outcomes),
        compensation_orders=_changed(left.undone, right.undone),
        metrics=_changed({**metrics_a, **compensations_a}, {**metrics_b, **compensations_b}),
        commands=_changed(left.commands, right.commands),
    )
