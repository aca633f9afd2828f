"""What-if forks: re-execute a recorded run exactly up to a point, then apply other commands there (a
service offline, a breaker isolated) and let it go on, as a new run that records where it forked from.

The fork re-executes the recording's pack, seed and commands, so up to the fork point its events are the
recorded ones. At the point it records a `forked` command naming its source, then applies its own
commands; the recorded commands after the point come at their recorded clock times. A recording that ran
to its end (a headless run) is concluded the same way; an interactive session stops where it stopped:
at the recording's last clock time, interrupted. The same fork twice gives the same run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sagatui.lab import Lab
from sagatui.lab.command_desk import Moment
from sagatui.lab.commands import Forked, RecordedCommand, parse_recorded
from sagatui.lab.recorded_answers import code_services
from sagatui.lab.replay import Recording, first_of, recording_from_store
from sagatui.lab.run_diff import RunDiff, diff_runs
from sagatui.model.durations import format_duration
from sagatui.model.events import Event
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store


class ForkError(ValueError):
    """A fork point the recording never reached."""


@dataclass(frozen=True)
class ForkPoint:
    """After event `seq` (the first quiet moment once it is recorded), or at clock time `time`."""

    seq: int | None = None
    time: float | None = None

    def label(self) -> str:
        return f"seq {self.seq}" if self.seq is not None else format_duration(self.time or 0.0)

    def holds_before(self, event: Event) -> bool:
        """Whether a recorded event comes before the fork point."""
        return event.seq <= self.seq if self.seq is not None else event.time <= (self.time or 0.0)

    @property
    def moment(self) -> Moment:
        return Moment(after_seq=self.seq) if self.seq is not None else Moment(time=self.time)


@dataclass(frozen=True)
class Fork:
    run_id: int
    events: int


def _check_reached(recording: Recording, point: ForkPoint) -> None:
    last = recording.events[-1] if recording.events else None
    if last is None:
        raise ForkError(f"{recording.source} has no events to fork from")
    if point.seq is not None and point.seq > last.seq:
        raise ForkError(f"{recording.source} ends at seq {last.seq}: it never reached seq {point.seq}")
    if point.time is not None and point.time > last.time:
        raise ForkError(f"{recording.source} ends at {format_duration(last.time)}: "
                        f"it never reached {format_duration(point.time)}")


def check_forkable(recording: Recording) -> None:
    """ForkError for a run of the user's own code: a fork would call it again from the fork on, which it does
    not do yet."""
    if code_services(recording.pack_text):
        raise ForkError(f"{recording.source} ran the user's own code: a fork calls it again from the fork on, which "
                        f"sagatui does not do yet (replay --code re-executes such a run, answered as recorded)")


async def fork_run(recording: Recording, point: ForkPoint, changes: list[RecordedCommand], store: Store) -> Fork:
    """Re-execute `recording` into a new run of `store` up to `point`, apply `changes` there, go on."""
    _check_reached(recording, point)
    check_forkable(recording)
    pack = load_pack_text(recording.pack_text, recording.source)
    lab = Lab(pack, recording.pack_text, store, seed=recording.seed,
              label=f"fork of {recording.source} at {point.label()}")
    before = [event for event in recording.commands if point.holds_before(event)]
    after = [(Moment(time=event.time), parse_recorded(event.data))
             for event in recording.commands if not point.holds_before(event)]
    at_fork: list[RecordedCommand] = [Forked(source=recording.source, at=point.label()), *changes]
    lab.follow_script(before, [*((point.moment, command) for command in at_fork), *after])
    counted = _Counter()
    lab.bus.add_listener(counted)
    try:
        await lab.open()
        await first_of(lab.script_finished.wait(), lab.clock.wait_idle())
        if recording.settled:
            await lab.conclude()
        else:
            end = recording.events[-1].time
            reached = asyncio.Event()
            lab.clock.call_later(max(0.0, end - lab.clock.now()), reached.set)
            await first_of(reached.wait(), lab.clock.wait_idle())
            await lab.interrupt()
    finally:
        await lab.close()
    return Fork(lab.run_id, counted.events)


@dataclass(frozen=True)
class WhatIf:
    """A fork of a stored run, and how it differs from the run (A: the run, B: the fork)."""

    fork: Fork
    target: Path  # the database the fork went into
    diff: RunDiff


def forks_beside(db: Path) -> Path:
    """Where the dashboard puts the forks of a database's runs: a database of their own beside it
    (`sagatui.db` -> `sagatui.forks.db`), so a fork never writes where a live run does."""
    return db.with_name(f"{db.stem}.forks{db.suffix or '.db'}")


async def what_if(source: Path, run_id: int, point: ForkPoint, changes: list[RecordedCommand],
                  target: Path) -> WhatIf:
    """Fork run `run_id` of `source` (as far as it is committed: a live run too) into `target` at `point`
    with `changes`, and compare the two. Run it on an event loop of its own (a thread's), never beside a
    live lab: each clock moves time at its loop's quiet moments."""
    async with await Store.open(source, read_only=True) as store:
        original = await recording_from_store(store, run_id)
    async with await Store.open(target) as store:
        fork = await fork_run(original, point, changes, store)
        forked = await recording_from_store(store, fork.run_id)
    return WhatIf(fork, target, diff_runs(original, forked))


class _Counter:
    def __init__(self) -> None:
        self.events = 0

    def __call__(self, event: Event) -> None:
        self.events += 1

