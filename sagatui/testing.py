"""Helpers for a user's own test suite: assert that a recorded session still behaves the same,

    from sagatui.testing import replay_session

    def test_checkout_rollback_unchanged():
        replay_session("tests/sessions/checkout.json")

and run the engine with its events kept in memory (`MemorySink`), with no database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from sagatui.lab.replay import ReplayResult, recording_from_session, replay
from sagatui.model.effects import RowWrite
from sagatui.model.events import Event


def replay_session(path: str | Path) -> ReplayResult:
    """Re-execute a session file and compare; raises AssertionError showing the first divergence.
    For async tests, await `areplay_session` instead."""
    return asyncio.run(areplay_session(path))


async def areplay_session(path: str | Path) -> ReplayResult:
    result = await replay(recording_from_session(Path(path)))
    if not result.identical:
        assert result.divergence is not None
        raise AssertionError(f"{path} no longer replays identically\n{result.divergence.describe()}")
    return result


class MemorySink:
    """An EventSink that keeps events in a list, each durable at once: for engine tests and benchmarks."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.effects: list[RowWrite] = []

    def append(self, event: Event, effects: Sequence[RowWrite] = ()) -> None:
        self.events.append(event)
        self.effects.extend(effects)

    async def durable(self, seq: int) -> None:
        return None
