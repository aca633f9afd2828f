"""Replay reads a recording while it replays it: the recorded events a page at a time (from the database or
the session file), each replayed event compared as it is emitted, and the first divergence found as when
both streams were held whole."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagatui.lab import replay as replay_module
from sagatui.lab.headless import run_scenario
from sagatui.lab.json_stream import JsonStream
from sagatui.lab.replay import (
    RecordedStream,
    Recording,
    open_recorded,
    recording_from_store,
    replay,
    replay_recorded,
    write_session,
)
from sagatui.model.events import Event
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8")),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON, max_size=4), st.lists(JSON, max_size=6),
       st.integers(1, 9), st.integers(0, 2))
def test_a_document_read_a_value_at_a_time_in_any_window_reads_as_a_whole(
    members: dict[str, Any], elements: list[Any], chunk: int, indent: int,
) -> None:
    document = {**members, "events": elements}
    stream = JsonStream(io.StringIO(json.dumps(document, indent=indent or None)), chunk=chunk)
    read: dict[str, Any] = {}
    for key in stream.members():
        read[key] = list(stream.elements()) if key == "events" else stream.value()
    stream.end()
    assert read == json.loads(json.dumps(document))


def test_a_number_at_the_edge_of_the_window_is_read_whole() -> None:
    stream = JsonStream(io.StringIO('{"seed": 123456789, "n": 7}'), chunk=3)
    assert [(key, stream.value()) for key in stream.members()] == [("seed", 123456789), ("n", 7)]


async def stored(tmp_path: Path, scenario: str = "load_with_outages") -> tuple[Path, Recording]:
    db = tmp_path / "runs.db"
    source = read_pack("ecommerce")
    async with await Store.open(db) as store:
        report = await run_scenario(source.pack, source.text, store, scenario, seed=2)
        return db, await recording_from_store(store, report.run_id)


@pytest.mark.parametrize("from_session", [False, True], ids=["database", "session file"])
async def test_the_recording_is_read_while_it_is_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_session: bool,
) -> None:
    db, recording = await stored(tmp_path)
    source = db
    if from_session:
        source = tmp_path / "run.json"
        write_session(recording, source)
    page = 200
    monkeypatch.setattr(replay_module, "PAGE", page)
    monkeypatch.setattr("sagatui.lab.session_file.PAGE", page)
    replayed = 0

    def count(_: Event) -> None:
        nonlocal replayed
        replayed += 1

    async with open_recorded(source) as opened:
        read_when: list[int] = []  # how many events had been replayed when each page was read
        pages = opened.read_pages

        async def watched() -> AsyncIterator[list[Event]]:
            async for events in pages():
                read_when.append(replayed)
                yield events

        watching = RecordedStream(opened.pack_name, opened.pack_text, opened.seed, opened.source, opened.commands,
                                  opened.settled, watched)
        compared = await replay_recorded(watching, on_event=count)
    assert compared.divergence is None and compared.events == len(recording.events)
    assert len(read_when) == -(-len(recording.events) // page) > 10
    # a page is read once the one before is being compared, never all of them up front
    assert all(when >= (number - 1) * page for number, when in enumerate(read_when))


async def test_a_streamed_divergence_is_the_one_found_on_whole_streams(tmp_path: Path) -> None:
    db, recording = await stored(tmp_path, "payment_outage")
    changed = recording.pack_text.replace("max_attempts: 3", "max_attempts: 2", 1)
    whole = await replay(Recording(recording.pack_name, changed, recording.seed, recording.events, "changed"))
    assert whole.divergence is not None

    async with open_recorded(db) as opened:
        streamed = await replay_recorded(RecordedStream(opened.pack_name, changed, opened.seed, "changed",
                                                        opened.commands, opened.settled, opened.read_pages))
    assert streamed.divergence == whole.divergence


async def test_a_replay_that_ends_before_the_recording_diverges_at_its_end(tmp_path: Path) -> None:
    _, recording = await stored(tmp_path, "payment_outage")
    last = recording.events[-1]
    extra = dataclasses.replace(last, seq=last.seq + 1)  # settled twice: the replay settles once
    longer = Recording(recording.pack_name, recording.pack_text, recording.seed, [*recording.events, extra], "longer")
    result = await replay(longer)
    assert result.divergence is not None
    assert (result.divergence.index, result.divergence.expected, result.divergence.got) == (
        len(recording.events), extra.comparable(), None)
