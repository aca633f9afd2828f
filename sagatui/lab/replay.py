"""Record and replay: a run is its pack text, its seed and the user commands in its event stream.

Replay re-executes a recording on the virtual clock, applying each recorded command at the place
it was recorded (same sequence number, same clock time), and compares the new stream with the
recorded one event by event (ignoring `run_id` and `wall_time`). A session file holds a recording
on its own, so a test suite can keep one and check that the behaviour has not changed.

`sagatui replay` holds neither stream whole: the recorded events are read a page at a time (from the
database, or the session file walked an event at a time) and each replayed event is compared as it is
emitted, so a run of any length replays in the memory of a page or two (bench/memory.py).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sagatui import __version__
from sagatui.code.app import App
from sagatui.lab import Lab, pack_hash
from sagatui.lab.recorded_answers import RecordedAnswers, code_services, same_but_timing
from sagatui.lab.session_file import PAGE, SESSION_FORMAT, RecordingError, session_pages, survey_session
from sagatui.model.events import Event, EventKind
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import get_run, iter_events, latest_run_id, read_events, run_pack_text
from sagatui.whole_files import write_whole

__all__ = ["SESSION_FORMAT", "RecordingError"]  # at home in sagatui.lab.session_file, and named here too


@dataclass(frozen=True)
class Recording:
    pack_name: str
    pack_text: str
    seed: int
    events: list[Event]
    source: str  # where it came from, for messages: "run 3 of sagatui.db" or a session file
    clock_mode: str = "virtual"
    run_id: int | None = None  # its run in the database it came from (none for a session file)

    @property
    def commands(self) -> list[Event]:
        return [event for event in self.events if event.kind is EventKind.COMMAND]

    @property
    def settled(self) -> bool:
        """Did the run end by running to completion (headless) rather than by the user quitting?"""
        return bool(self.events) and self.events[-1].kind is EventKind.RUN_SETTLED

    async def pages(self) -> AsyncIterator[list[Event]]:
        yield self.events

    def as_session(self) -> dict[str, Any]:
        return {
            "format": SESSION_FORMAT,
            "sagatui_version": __version__,
            "pack_name": self.pack_name,
            "pack_hash": pack_hash(self.pack_text),
            "pack_text": self.pack_text,
            "seed": self.seed,
            "clock_mode": self.clock_mode,
            "commands": [event.comparable() for event in self.commands],
            "events": [event.comparable() for event in self.events],
            "event_count": len(self.events),
        }


@dataclass(frozen=True)
class Divergence:
    index: int
    expected: dict[str, Any] | None  # None: the replay produced more events than were recorded
    got: dict[str, Any] | None  # None: the replay ended before the recording did

    def describe(self) -> str:
        expected = json.dumps(self.expected, sort_keys=True) if self.expected else "(end of recording)"
        got = json.dumps(self.got, sort_keys=True) if self.got else "(end of replay)"
        lines = [f"first divergence at event index {self.index}:", f"  expected: {expected}", f"  got:      {got}"]
        if self.expected and self.got:
            fields = sorted(key for key in self.expected.keys() | self.got.keys()
                            if self.expected.get(key) != self.got.get(key))
            lines.append(f"  differing fields: {', '.join(fields)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ReplayResult:
    recording: Recording
    events: list[Event]
    divergence: Divergence | None

    @property
    def identical(self) -> bool:
        return self.divergence is None


class Replayable(Protocol):
    """A recording as replay reads it: its pack, seed and commands at hand, its events page by page."""

    @property
    def pack_text(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def commands(self) -> list[Event]: ...
    @property
    def settled(self) -> bool: ...
    def pages(self) -> AsyncIterator[list[Event]]: ...


@dataclass(frozen=True)
class RecordedStream:
    """A recording whose events stay where they are (a database, a session file) until replay reads
    them, a page at a time."""

    pack_name: str
    pack_text: str
    seed: int
    source: str
    commands: list[Event]
    settled: bool
    read_pages: Callable[[], AsyncIterator[list[Event]]]

    def pages(self) -> AsyncIterator[list[Event]]:
        return self.read_pages()


_ENDS_OF_A_PROCESS = (EventKind.RUN_SETTLED, EventKind.RUN_INTERRUPTED, EventKind.RUN_RESUMED)


def _last_replayable_seq(end: Event) -> int:
    """What one process produced from its inputs ends with its settling, or before it was interrupted
    or resumed after a crash (a new process, whose stream cannot match)."""
    return end.seq if end.kind is EventKind.RUN_SETTLED else end.seq - 1


def replayable(events: list[Event]) -> list[Event]:
    """The part of a stored run that one process produced from its inputs (_last_replayable_seq)."""
    end = next((event for event in events if event.kind in _ENDS_OF_A_PROCESS), None)
    return events if end is None else [event for event in events if event.seq <= _last_replayable_seq(end)]


# -- loading recordings --------------------------------------------------------------------------------
async def recording_from_store(store: Store, run_id: int | None = None) -> Recording:
    run_id = run_id if run_id is not None else await latest_run_id(store)
    run = await get_run(store, run_id) if run_id is not None else None
    pack_text = await run_pack_text(store, run_id) if run_id is not None else None
    if run is None or pack_text is None:
        raise RecordingError(f"{store.path} has no run {run_id}" if run_id is not None else f"{store.path} has no runs")
    events = replayable(await read_events(store, run.id, limit=None))
    return Recording(run.pack_name, pack_text, run.seed, events, f"run {run.id} of {store.path}", run.clock_mode,
                     run.id)


def recording_from_session(path: Path) -> Recording:
    survey = survey_session(path, keep_events=True)
    assert survey.events is not None
    header = survey.header
    return Recording(header.pack_name, header.pack_text, header.seed, survey.events, str(path), header.clock_mode)


async def load_recording(source: Path, run_id: int | None = None) -> Recording:
    """A session file (JSON), or a run of a sagatui database."""
    if source.suffix == ".json":
        return recording_from_session(source)
    async with await Store.open(source, read_only=True) as store:
        return await recording_from_store(store, run_id)


@asynccontextmanager
async def open_recorded(source: Path, run_id: int | None = None) -> AsyncIterator[RecordedStream]:
    """A session file (JSON) or a run of a sagatui database, to replay without reading its events
    whole: they are read while the replay runs, a page at a time (the database stays open till then)."""
    if source.suffix == ".json":
        survey = survey_session(source)
        header = survey.header

        async def pages() -> AsyncIterator[list[Event]]:
            for page in session_pages(source):
                yield page

        yield RecordedStream(header.pack_name, header.pack_text, header.seed, str(source), survey.commands,
                             survey.settled, pages)
        return
    async with await Store.open(source, read_only=True) as store:
        yield await _stored_stream(store, run_id)


async def _stored_stream(store: Store, run_id: int | None) -> RecordedStream:
    run_id = run_id if run_id is not None else await latest_run_id(store)
    run = await get_run(store, run_id) if run_id is not None else None
    pack_text = await run_pack_text(store, run_id) if run_id is not None else None
    if run is None or pack_text is None:
        raise RecordingError(f"{store.path} has no run {run_id}" if run_id is not None else f"{store.path} has no runs")
    ends = await read_events(store, run.id, kinds=_ENDS_OF_A_PROCESS, limit=1)
    last_seq = _last_replayable_seq(ends[0]) if ends else None
    commands = [command for command in await read_events(store, run.id, kinds=[EventKind.COMMAND], limit=None)
                if last_seq is None or command.seq <= last_seq]

    async def pages() -> AsyncIterator[list[Event]]:
        async for page in iter_events(store, run.id, page=PAGE):
            kept = [event for event in page if last_seq is None or event.seq <= last_seq]
            if kept:
                yield kept
            if len(kept) < len(page):
                return

    settled = bool(ends) and ends[0].kind is EventKind.RUN_SETTLED
    return RecordedStream(run.pack_name, pack_text, run.seed, f"run {run.id} of {store.path}", commands, settled,
                          pages)


# -- replaying ---------------------------------------------------------------------------------------------
class _Comparison:
    """The replayed events, as the bus hands them on, against the recorded ones, read a page ahead: only
    a window of either stream is held. `finished` is set at the first divergence, or once every recorded
    event was matched (what the replay emits after that is not compared, as the recording ended there)."""

    def __init__(self, pages: AsyncIterator[list[Event]], same: Callable[[Event, Event], bool]) -> None:
        self._pages = pages
        self._same = same
        self._window: deque[Event] = deque()  # recorded, not yet matched
        self._backlog: deque[Event] = deque()  # replayed before the reader had the recorded ones to match
        self._exhausted = False
        self._stopping = False
        self._wanted = asyncio.Event()
        self.compared = 0
        self.divergence: Divergence | None = None
        self.finished = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    def replayed(self, event: Event) -> None:
        if self.finished.is_set():
            return
        if self._window and not self._backlog:
            self._compare(self._window.popleft(), event)
        else:
            self._backlog.append(event)
        if len(self._window) < PAGE:
            self._wanted.set()

    async def conclude(self) -> Divergence | None:
        """Once the replay has ended: compare what is still waiting; recorded events never replayed are a
        divergence (the replay ended sooner)."""
        self._stopping = True
        self._wanted.set()
        await self._reader
        while self._backlog and not self.finished.is_set() and await self._fill():
            self._catch_up()
        if self.divergence is None and not self.finished.is_set() and (self._window or await self._fill()):
            self.divergence = Divergence(self.compared, self._window[0].comparable(), None)
        return self.divergence

    def abandon(self) -> None:
        """The replay failed: stop reading the recording."""
        self._reader.cancel()

    async def _read(self) -> None:
        try:
            while not self.finished.is_set() and not self._stopping:
                if len(self._window) >= PAGE:
                    self._wanted.clear()
                    await self._wanted.wait()
                elif await self._fill():
                    self._catch_up()
                else:
                    self._catch_up()
                    return
        except BaseException:
            self.finished.set()  # the replay need not go on: the recording cannot be read
            raise

    async def _fill(self) -> bool:
        """Read the next page into the window (False: there is none)."""
        page = None if self._exhausted else await anext(self._pages, None)
        if page is None:
            self._exhausted = True
            if not self._window and not self.finished.is_set() and self.divergence is None:
                self._check_matched()
            return False
        self._window.extend(page)
        return True

    def _catch_up(self) -> None:
        while self._backlog and self._window and not self.finished.is_set():
            self._compare(self._window.popleft(), self._backlog.popleft())
        self._check_matched()

    def _compare(self, want: Event, have: Event) -> None:
        if not self._same(want, have):
            self.divergence = Divergence(self.compared, want.comparable(), have.comparable())
            self.finished.set()
            return
        self.compared += 1
        self._check_matched()

    def _check_matched(self) -> None:
        if self._exhausted and not self._window:
            self._backlog.clear()
            self.finished.set()


@dataclass(frozen=True)
class Compared:
    events: int  # recorded events the replay matched
    divergence: Divergence | None


async def reexecute(recording: Replayable, store: Store,
                    on_event: Callable[[Event], None] | None = None, *, code: App | None = None,
                    live: bool = False) -> Compared:
    """Run the recording again in a new run of `store`, on the virtual clock, comparing its events with
    the recorded ones as they come (`on_event` sees each of them too). A recording of the user's own code
    needs `code`: its definitions run again, each call answered as recorded (sagatui.lab.recorded_answers),
    or, `live`, made again."""
    owned = code_services(recording.pack_text)
    if owned and code is None:
        raise RecordingError(f"{recording.source} ran the user's own code ({', '.join(owned)}): "
                             f"give it with --code MODULE:APP")
    if code is not None:
        pack, pack_text = code.pack, code.pack_text
        answers = None if live else await RecordedAnswers.read(recording)
    else:
        pack, pack_text, answers = load_pack_text(recording.pack_text, recording.source), recording.pack_text, None
    lab = Lab(pack, pack_text, store, seed=recording.seed, label=f"replay of {recording.source}", code=code,
              answers=answers)
    comparison = _Comparison(recording.pages(), same_but_timing if live else Event.same_as)
    lab.bus.add_listener(comparison.replayed)
    if on_event is not None:
        lab.bus.add_listener(on_event)
    lab.follow_script(recording.commands)
    try:
        await lab.open()
        if recording.settled:
            # A headless run settled once its scenario's sagas ended: do the same at the same place.
            await first_of(lab.script_finished.wait(), lab.clock.wait_idle())
            await lab.conclude()
        else:
            # An interactive session ends where the user quit: stop once every recorded event was
            # matched (or one was not), or when nothing more can happen.
            await first_of(comparison.finished.wait(), lab.clock.wait_idle())
    except BaseException:
        comparison.abandon()
        raise
    finally:
        await lab.close()
    return Compared(comparison.compared, await comparison.conclude())


async def first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait for whichever of `waits` ends first; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def replay_recorded(recording: Replayable, workdir: Path | None = None,
                          on_event: Callable[[Event], None] | None = None, *, code: App | None = None,
                          live: bool = False) -> Compared:
    """Re-execute into a scratch database (thrown away: nothing waits for its disk) and compare, as the
    events come."""
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        async with await Store.open(Path(scratch) / "replay.db", durability="scratch") as store:
            return await reexecute(recording, store, on_event, code=code, live=live)


async def replay(recording: Recording, workdir: Path | None = None, *, code: App | None = None,
                 live: bool = False) -> ReplayResult:
    """Re-execute into a scratch database and compare; the replayed events are kept (as many as were
    recorded), for a test to look at."""
    events: list[Event] = []
    compared = await replay_recorded(recording, workdir, events.append, code=code, live=live)
    return ReplayResult(recording, events[:len(recording.events)], compared.divergence)


def write_session(recording: Recording, path: Path) -> None:
    """Write the session whole or not at all."""
    write_whole(path, json.dumps(recording.as_session(), indent=1, sort_keys=True) + "\n")
