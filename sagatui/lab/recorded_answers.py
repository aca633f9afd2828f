"""Replaying a run of the user's own code (sagatui.code): each real call is answered with what it answered
in the recording (`code.answered`), at the clock time it came, and nothing is called (the way Temporal
replays activity results); the App's own invariants are read from the recording's `run.settled` too. The
orchestration runs again from the App's current definitions, so a changed saga shows as a divergence.

A live replay (`--live`) calls the real functions again instead; their answers take real time, so it
compares the streams without clock times and durations."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Protocol

import yaml

from sagatui.engine.clock import VirtualClock
from sagatui.model.calls import Call
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import CodeAnswered, RunSettled
from sagatui.packs.references import CODE_KIND
from sagatui.sim.directory import Perform
from sagatui.store.invariants import InvariantResult


class _Recording(Protocol):
    def pages(self) -> AsyncIterator[list[Event]]: ...


class RecordedAnswers:
    """The answers a recording's real calls got, by (idempotency key, attempt), in the order they came; and
    the results of the App's own invariants at its end."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, int], deque[Event]] = {}
        self._settled: RunSettled | None = None

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

    def performer(self, clock: VirtualClock) -> Perform:
        """A user service's calls answered from the recording, on `clock`."""
        async def perform(call: Call) -> dict[str, Any]:
            waiting = self._answers.get((call.idempotency_key, call.attempt))
            if not waiting:
                await asyncio.get_running_loop().create_future()  # it never answered (timed out): nor now
            event = waiting.popleft() if waiting else None
            assert event is not None
            await clock.sleep_until(event.time)
            answer = event.payload_as(CodeAnswered)
            error = answer.error()
            if error is not None:
                raise error
            return dict(answer.result or {})

        return perform

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


def same_but_timing(want: Event, have: Event) -> bool:
    """The events match but for clock times and the durations and metrics that follow from them."""
    return _untimed(want) == _untimed(have)


def _untimed(event: Event) -> dict[str, Any]:
    shown = event.comparable()
    shown.pop("time", None)
    shown["data"] = {key: value for key, value in (shown.get("data") or {}).items()
                     if key not in ("duration", "metrics")}
    return shown
