"""Replaying a run of the user's own code (sagatui.code): each real call is answered with what it answered
in the recording (`code.answered`), at the clock time it came, and nothing is called (the way Temporal
replays activity results); the App's own invariants are read from the recording's `run.settled` too. The
orchestration runs again from the App's current definitions, so a changed saga shows as a divergence.

A live replay (`--live`) calls the real functions again instead; their answers take real time, so it
compares the streams without clock times and durations."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import yaml

from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.model.calls import Call
from sagatui.model.definition_base import Definition
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import CodeAnswered, RunSettled
from sagatui.packs.references import CODE_KIND
from sagatui.sim.catalog import ServiceKind
from sagatui.sim.directory import Perform
from sagatui.store.invariants import InvariantResult


class _Recording(Protocol):
    def pages(self) -> AsyncIterator[list[Event]]: ...


class RecordedAnswers:
    """The answers a recording's real calls got, by (idempotency key, attempt), in the order they came; and
    the results of the App's own invariants at its end.

    A replayed call waits for its answer as a real one does, and it comes as a recorded command does
    (sagatui.lab.command_desk): at the quiet moment the replay reaches its place in the stream (the seq
    the answer was recorded at) and its clock time, never before a timer due earlier."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, int], deque[Event]] = {}
        self._settled: RunSettled | None = None
        self._waiting: list[tuple[Event, asyncio.Future[None]]] = []

    @classmethod
    async def read(cls, recording: _Recording) -> RecordedAnswers:
        answers = cls()
        async for page in recording.pages():
            for event in page:
                answers.add(event)
        return answers

    def add(self, event: Event) -> None:
        if event.kind is EventKind.CODE_ANSWERED:
            key = event.payload_as(CodeAnswered).key
            self._answers.setdefault((key, event.attempt or 1), deque()).append(event)
        elif event.kind is EventKind.RUN_SETTLED:
            self._settled = event.payload_as(RunSettled)

    def performer(self) -> Perform:
        """A user service's calls, answered from the recording (give `on_quiet_moment` to the clock)."""
        async def perform(call: Call) -> dict[str, Any]:
            waiting = self._answers.get((call.idempotency_key, call.attempt))
            arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if not waiting:  # it never answered (it timed out, it was cancelled): nor does it now
                await arrived
            assert waiting
            event = waiting.popleft()
            self._waiting.append((event, arrived))
            await arrived
            answer = event.payload_as(CodeAnswered)
            error = answer.error()
            if error is not None:
                raise error
            return dict(answer.result or {})

        return perform

    def hook(self, clock: VirtualClock, recorder: EventRecorder) -> Callable[[], Awaitable[bool]]:
        """The clock's idle hook that lets the next recorded answer arrive at its place."""
        async def on_quiet_moment() -> bool:
            for index, (event, arrived) in enumerate(self._waiting):
                if arrived.done():  # the call was given up (its timeout): the answer comes to nobody
                    del self._waiting[index]
                    return True
                if event.seq != recorder.next_seq:
                    continue
                due = clock.next_due()
                if due is not None and due < event.time:
                    return False  # a timer fired before the answer in the recording
                clock.advance_to(event.time)
                del self._waiting[index]
                arrived.set_result(None)
                return True
            return False

        return on_quiet_moment

    def invariants(self, names: list[str]) -> list[InvariantResult]:
        """The recorded results of the App's invariants `names` (one missing from the recording: not
        checked then, which the comparison of run.settled shows)."""
        recorded = {result["name"]: result for result in (self._settled.invariants if self._settled else [])}
        return [InvariantResult(name=name, details=recorded[name].get("details", []),
                                held=recorded[name].get("held", []), accepted=recorded[name].get("accepted", []))
                for name in names if name in recorded]


def code_services(pack_text: str) -> list[str]:
    """The services of a recorded pack that are the user's own code."""
    try:
        data = yaml.safe_load(pack_text)
    except yaml.YAMLError:
        return []
    services = data.get("services") if isinstance(data, dict) else None
    return [name for name, service in (services or {}).items()
            if isinstance(service, dict) and service.get("kind") == CODE_KIND]


def code_stand_ins(pack_text: str) -> dict[str, ServiceKind]:
    """For a recorded pack of the user's own code watched without that code: each of its code services as a
    kind whose operations are those the pack names (nothing is called: a recording's events play back)."""
    owned = code_services(pack_text)
    named: dict[str, set[str]] = {name: set() for name in owned}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, str) and value.count(".") == 1:
            service, operation = value.split(".")
            if service in named:
                named[service].add(operation)

    walk(yaml.safe_load(pack_text))
    return {name: ServiceKind(name, "the user's own code, not loaded", dict.fromkeys(sorted(operations)), Definition,
                              {}) for name, operations in named.items()}


def same_but_timing(want: Event, have: Event) -> bool:
    """The events match but for clock times and the durations and metrics that follow from them."""
    return _untimed(want) == _untimed(have)


def _untimed(event: Event) -> dict[str, Any]:
    shown = event.comparable()
    shown.pop("time", None)
    shown["data"] = {key: value for key, value in (shown.get("data") or {}).items()
                     if key not in ("duration", "metrics")}
    return shown
