"""Reading a session file (as `sagatui export` writes it) an event at a time: a long session is checked
and replayed without holding its events. Every problem is a RecordingError of one line naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sagatui.lab import pack_hash
from sagatui.lab.json_stream import JsonStream
from sagatui.model.events import Event, EventKind
from sagatui.store.schema import MAX_INTEGER

SESSION_FORMAT = "sagatui-session/1"
PAGE = 5_000  # events handed on at a time


class RecordingError(Exception):
    """A recording that cannot be replayed (no such run, a malformed session file)."""


class SessionFile(BaseModel):
    """A session file as written by `as_session` (`commands` is derived from `events`, so not read).
    `pack_hash` and `event_count` are checked when present (older files have no count). Only the
    events' count is checked here (at least one); each event is checked on its own as it is read."""

    model_config = ConfigDict(strict=True)

    format: str
    pack_name: str
    pack_text: str
    pack_hash: str | None = None
    seed: int = Field(ge=0, le=MAX_INTEGER)
    clock_mode: str = "virtual"
    event_count: int | None = None
    events: list[dict[str, Any]] = Field(min_length=1)


@dataclass
class SessionSurvey:
    """What one reading of a session file found: its header, its commands, how many events and how it
    ends; its events too when they were kept."""

    header: SessionFile
    commands: list[Event]
    event_count: int
    settled: bool  # the last event is run.settled
    events: list[Event] | None = None


@dataclass
class _Tally:
    keep: bool
    count: int = 0
    commands: list[Event] = field(default_factory=list)
    last: Event | None = None
    problem: RecordingError | None = None  # the first event that is not one
    events: list[Event] = field(default_factory=list)

    def add(self, path: Path, fields: Any) -> None:
        index, self.count = self.count, self.count + 1
        try:
            event = _event(path, index, fields)
        except RecordingError as problem:
            self.problem = self.problem or problem
            return
        self.last = event
        if event.kind is EventKind.COMMAND:
            self.commands.append(event)
        if self.keep:
            self.events.append(event)


def survey_session(path: Path, *, keep_events: bool = False) -> SessionSurvey:
    """Read the whole file once and check it: the header, then the count, then each event."""
    tally = _Tally(keep_events)
    header: dict[str, Any] = {}
    try:
        with path.open(encoding="utf-8") as file:
            stream = JsonStream(file)
            if stream.peek() != "{":
                document = stream.value()
                stream.end()
                raise RecordingError(f"{path} is not a sagatui session file (a JSON object, not "
                                     f"{type(document).__name__})")
            for key in stream.members():
                if key == "events" and stream.peek() == "[":
                    for fields in stream.elements():
                        tally.add(path, fields)
                    header[key] = [{}] * min(tally.count, 1)  # its length checked here, its events by tally
                else:
                    header[key] = stream.value()
            stream.end()
    except (OSError, ValueError) as error:
        raise RecordingError(f"{path} is not a readable sagatui session file: {error}") from None
    if header.get("format") != SESSION_FORMAT:
        raise RecordingError(f"{path} is not a sagatui session file (format {header.get('format')!r})")
    session = _validated(path, "", SessionFile.model_validate, header)
    if session.pack_hash is not None and session.pack_hash != pack_hash(session.pack_text):
        raise RecordingError(f"{path}: pack_hash does not match pack_text (to replay an edited pack, remove "
                             "pack_hash)")
    if session.event_count is not None and session.event_count != tally.count:
        raise RecordingError(f"{path}: events: {tally.count} events, but event_count says "
                             f"{session.event_count} (cut or edited?)")
    if tally.problem is not None:
        raise tally.problem
    settled = tally.last is not None and tally.last.kind is EventKind.RUN_SETTLED
    return SessionSurvey(session, tally.commands, tally.count, settled, tally.events if keep_events else None)


def session_pages(path: Path) -> Iterator[list[Event]]:
    """The file's events in order, a page at a time (read again: check it with survey_session first)."""
    try:
        with path.open(encoding="utf-8") as file:
            stream = JsonStream(file)
            for key in stream.members():
                if key != "events":
                    stream.value()
                    continue
                page: list[Event] = []
                for index, fields in enumerate(stream.elements()):
                    page.append(_event(path, index, fields))
                    if len(page) == PAGE:
                        yield page
                        page = []
                if page:
                    yield page
                return
    except (OSError, ValueError) as error:
        raise RecordingError(f"{path} is not a readable sagatui session file: {error}") from None


def _event(path: Path, index: int, fields: Any) -> Event:
    if not isinstance(fields, dict):
        raise RecordingError(f"{path}: events[{index}]: Input should be a valid dictionary")
    return _validated(path, f"events[{index}].", Event.validated, {**_in_todays_vocabulary(fields), "run_id": 0})


def _in_todays_vocabulary(fields: dict[str, Any]) -> dict[str, Any]:
    """An event as an earlier sagatui exported it, as this one writes it (the schema 3 migration does the
    same to a database): a breaker transition named its breaker in `service`, now in its payload."""
    data = fields.get("data")
    if (fields.get("kind") == "breaker.transition" and fields.get("service") and isinstance(data, dict)
            and "breaker" not in data):
        return {**fields, "service": None, "data": {"breaker": fields["service"], **data}}
    return fields


M = TypeVar("M")


def _validated(path: Path, prefix: str, validate: Callable[[dict[str, Any]], M], fields: dict[str, Any]) -> M:
    """`validate(fields)`, or a RecordingError of one line naming the first wrong field."""
    try:
        return validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise RecordingError(f"{path}: {prefix}{where}: {first['msg']}{more}") from None
