"""Record and replay: a run is its pack text, its seed and the user commands in its event stream.

Replay re-executes a recording on the virtual clock, applying each recorded command at the place
it was recorded (same sequence number, same clock time), and compares the new stream with the
recorded one event by event (ignoring `run_id` and `wall_time`). A session file holds a recording
on its own, so a test suite can keep one and check that the behaviour has not changed.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sagatui import __version__
from sagatui.lab import Lab, pack_hash
from sagatui.model.events import Event, EventKind
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import get_run, latest_run_id, read_events, run_pack_text
from sagatui.store.schema import MAX_INTEGER

SESSION_FORMAT = "sagatui-session/1"


class RecordingError(Exception):
    """A recording that cannot be replayed (no such run, a malformed session file)."""


@dataclass(frozen=True)
class Recording:
    pack_name: str
    pack_text: str
    seed: int
    events: list[Event]
    source: str  # where it came from, for messages: "run 3 of sagatui.db" or a session file
    clock_mode: str = "virtual"

    @property
    def commands(self) -> list[Event]:
        return [event for event in self.events if event.kind is EventKind.COMMAND]

    @property
    def settled(self) -> bool:
        """Did the run end by running to completion (headless) rather than by the user quitting?"""
        return bool(self.events) and self.events[-1].kind is EventKind.RUN_SETTLED

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


def replayable(events: list[Event]) -> list[Event]:
    """The part of a stored run that one process produced from its inputs: up to its settling, or to
    where it was interrupted or resumed after a crash (a new process, whose stream cannot match)."""
    for index, event in enumerate(events):
        if event.kind is EventKind.RUN_SETTLED:
            return events[:index + 1]
        if event.kind in (EventKind.RUN_INTERRUPTED, EventKind.RUN_RESUMED):
            return events[:index]
    return events


# -- loading recordings --------------------------------------------------------------------------------
async def recording_from_store(store: Store, run_id: int | None = None) -> Recording:
    run_id = run_id if run_id is not None else await latest_run_id(store)
    run = await get_run(store, run_id) if run_id is not None else None
    pack_text = await run_pack_text(store, run_id) if run_id is not None else None
    if run is None or pack_text is None:
        raise RecordingError(f"{store.path} has no run {run_id}" if run_id is not None else f"{store.path} has no runs")
    events = replayable(await read_events(store, run.id, limit=None))
    return Recording(run.pack_name, pack_text, run.seed, events, f"run {run.id} of {store.path}", run.clock_mode)


class SessionFile(BaseModel):
    """A session file as written by `as_session` (`commands` is derived from `events`, so not read).
    `pack_hash` and `event_count` are checked when present (older files have no count)."""

    model_config = ConfigDict(strict=True)

    format: str
    pack_name: str
    pack_text: str
    pack_hash: str | None = None
    seed: int = Field(ge=0, le=MAX_INTEGER)
    clock_mode: str = "virtual"
    event_count: int | None = None
    events: list[dict[str, Any]] = Field(min_length=1)


def recording_from_session(path: Path) -> Recording:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecordingError(f"{path} is not a readable sagatui session file: {error}") from None
    if not isinstance(document, dict):
        raise RecordingError(f"{path} is not a sagatui session file (a JSON object, not {type(document).__name__})")
    if document.get("format") != SESSION_FORMAT:
        raise RecordingError(f"{path} is not a sagatui session file (format {document.get('format')!r})")
    session = _validated(path, "", SessionFile, document)
    if session.pack_hash is not None and session.pack_hash != pack_hash(session.pack_text):
        raise RecordingError(f"{path}: pack_hash does not match pack_text (to replay an edited pack, remove "
                             "pack_hash)")
    if session.event_count is not None and session.event_count != len(session.events):
        raise RecordingError(f"{path}: events: {len(session.events)} events, but event_count says "
                             f"{session.event_count} (cut or edited?)")
    events = [_validated(path, f"events[{index}].", Event, {**event, "run_id": 0})
              for index, event in enumerate(session.events)]
    return Recording(session.pack_name, session.pack_text, session.seed, events, str(path), session.clock_mode)


M = TypeVar("M", bound=BaseModel)


def _validated(path: Path, prefix: str, model: type[M], fields: dict[str, Any]) -> M:
    """`model(**fields)`, or a RecordingError of one line naming the first wrong field."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise RecordingError(f"{path}: {prefix}{where}: {first['msg']}{more}") from None


async def load_recording(source: Path, run_id: int | None = None) -> Recording:
    """A session file (JSON), or a run of a sagatui database."""
    if source.suffix == ".json":
        return recording_from_session(source)
    store = await Store.open(source, read_only=True)
    try:
        return await recording_from_store(store, run_id)
    finally:
        await store.close()


# -- replaying ---------------------------------------------------------------------------------------------
def first_divergence(expected: list[Event], got: list[Event]) -> Divergence | None:
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        want_fields, have_fields = want.comparable(), have.comparable()
        if want_fields != have_fields:
            return Divergence(index, want_fields, have_fields)
    if len(got) < len(expected):
        return Divergence(len(got), expected[len(got)].comparable(), None)
    return None


async def reexecute(recording: Recording, store: Store) -> list[Event]:
    """Run the recording again in a new run of `store`, on the virtual clock, and return its events
    (as many as were recorded, or fewer when the replay ended sooner)."""
    pack = load_pack_text(recording.pack_text, recording.source)
    lab = Lab(pack, recording.pack_text, store, seed=recording.seed, label=f"replay of {recording.source}")
    events: list[Event] = []
    lab.bus.add_listener(events.append)
    lab.follow_script(recording.commands)
    await lab.open()
    try:
        if recording.settled:
            # A headless run settled once its scenario's sagas ended: do the same at the same place.
            await _first_of(lab.script_finished.wait(), lab.clock.wait_idle())
            await lab.conclude()
        else:
            # An interactive session ends where the user quit: stop once as many events as were
            # recorded exist, or when nothing more can happen.
            reached = asyncio.Event()
            lab.bus.add_listener(lambda _: reached.set() if len(events) >= len(recording.events) else None)
            await _first_of(reached.wait(), lab.clock.wait_idle())
    finally:
        await lab.close()
    return events[:len(recording.events)]


async def _first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def replay(recording: Recording, workdir: Path | None = None) -> ReplayResult:
    """Re-execute into a scratch database and compare."""
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        store = await Store.open(Path(scratch) / "replay.db")
        try:
            events = await reexecute(recording, store)
        finally:
            await store.close()
    return ReplayResult(recording, events, first_divergence(recording.events, events))


def write_session(recording: Recording, path: Path) -> None:
    """Write the session whole or not at all: into a temporary file beside `path`, then renamed over it."""
    text = json.dumps(recording.as_session(), indent=1, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it, not mkstemp's owner-only 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
