"""What README promises for arguments, unknown runs and damaged databases: exit 2 for bad input, 3 for
a storage problem, each with one line that says what is wrong (never a traceback)."""

import copy
import json
import shutil
import sqlite3

import pytest

TOO_BIG = str(2**63)


def _one_line(result, code: int, *words: str) -> None:
    assert result.code == code, result
    assert "Traceback" not in result.err and "Error:" not in result.err.replace("error:", ""), result.err
    last = result.err.splitlines()[-1]
    assert last.startswith("sagatui: "), result.err
    for word in words:
        assert word in last, result.err


@pytest.mark.parametrize("command", [
    ("run", "payments", "--seed", TOO_BIG), ("run", "payments", "--seed", "-1"), ("--seed", TOO_BIG),
    ("fuzz", "payments", "--scenario", "carrier_failing", "--start-seed", TOO_BIG),
    ("fuzz", "payments", "--scenario", "carrier_failing", "--start-seed", str(2**63 - 1), "--runs", "2"),
])
def test_a_seed_sqlite_cannot_hold_is_refused(sagatui, command):
    _one_line(sagatui(*command, timeout=60), 2, "seed")


@pytest.mark.parametrize("command", [
    ("events", "--run", TOO_BIG), ("events", "--run", "0"), ("replay", "{db}", "--run", "0"),
    ("replay", "{db}", "--run", "-3"), ("export", "{db}", "--run", "0", "-o", "x.json"),
    ("attention", "list", "--run", "0"),
])
def test_a_run_id_that_cannot_be_one_is_refused(sagatui, small_db, command):
    args = [arg.format(db=small_db) for arg in command]
    if args[0] in ("events", "attention"):
        args += ["--db", str(small_db)]
    result = sagatui(*args)
    _one_line(result, 2, "not a run id")
    assert "has no runs" not in result.err


@pytest.mark.parametrize("command", [("events",), ("attention", "list"), ("replay",), ("export", "-o", "x.json")])
def test_an_unknown_run_is_bad_input(sagatui, small_db, command):
    args = ([command[0], str(small_db), *command[1:]] if command[0] in ("replay", "export")
            else [*command, "--db", str(small_db)])
    _one_line(sagatui(*args, "--run", "999999"), 2, "has no run 999999")


@pytest.mark.parametrize("command", [
    ("events", "--db", "{db}", "--limit", "-5"), ("fuzz", "payments", "--scenario", "carrier_failing", "--runs", "-5"),
    ("fuzz", "payments", "--scenario", "carrier_failing", "--runs", "0"),
    ("--speed", "nan"), ("--speed", "inf"), ("--speed", "-inf"), ("--speed", "0"),
])
def test_counts_and_speeds_out_of_range_are_refused(sagatui, small_db, command):
    _one_line(sagatui(*[arg.format(db=small_db) for arg in command], timeout=60), 2)


def _empty(path):
    path.write_bytes(b"")


def _other_program(path):
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE contacts (name TEXT)")
    raw.commit()
    raw.close()


@pytest.mark.parametrize("make", [_empty, _other_program])
@pytest.mark.parametrize("command", [("events", "--db", "{db}"), ("replay", "{db}"), ("export", "{db}", "-o", "x.json"),
                                     ("attention", "list", "--db", "{db}")])
def test_a_file_that_is_not_ours_is_not_a_sagatui_database(sagatui, tmp_path, make, command):
    db = tmp_path / "other.db"
    make(db)
    _one_line(sagatui(*[arg.format(db=db) for arg in command]), 3, "not a sagatui database")


def _truncated(path):
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size // 3)


def _page_overwritten(path):
    with open(path, "r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\xff" * 16384)


@pytest.mark.parametrize("damage", [_truncated, _page_overwritten])
@pytest.mark.parametrize("command", [("events", "--db", "{db}"), ("replay", "{db}"),
                                     ("export", "{db}", "-o", "x.json")])
def test_a_damaged_database_is_a_storage_error_that_says_so(sagatui, load_db, tmp_path, damage, command):
    db = tmp_path / "damaged.db"
    shutil.copy(load_db, db)
    damage(db)
    result = sagatui(*[arg.format(db=db) for arg in command])
    _one_line(result, 3, "damaged")
    assert "not a sagatui database" not in result.err


def _set(field, value):
    def change(document):
        document[field] = value
        return document
    return change


def _cut(document):
    document["events"] = document["events"][:len(document["events"]) // 2]
    return document


def _bad_event(document):
    document["events"][3]["kind"] = "saga.exploded"
    return document


@pytest.mark.parametrize(("change", "field"), [
    (lambda _: [], "object"), (lambda _: "str", "object"), (lambda _: None, "object"),
    (_set("pack_text", 123), "pack_text"), (_set("seed", 2**70), "seed"), (_set("seed", 1.5), "seed"),
    (_set("seed", -1), "seed"), (_set("seed", "1"), "seed"), (_set("pack_name", None), "pack_name"),
    (_set("events", []), "events"), (_cut, "event"), (_bad_event, "events[3].kind"),
    (_set("pack_hash", "0" * 64), "pack_hash"),
])
def test_a_broken_session_file_is_one_line_naming_the_field(sagatui, small_session, tmp_path, change, field):
    session = tmp_path / "broken.json"
    session.write_text(json.dumps(change(copy.deepcopy(small_session))))
    result = sagatui("replay", str(session))
    _one_line(result, 2, str(session), field)
    assert len(result.err.splitlines()) == 1, result.err


def test_a_session_counts_its_events_and_still_replays(sagatui, small_session, tmp_path):
    assert small_session["event_count"] == len(small_session["events"]) > 0
    session = tmp_path / "whole.json"
    session.write_text(json.dumps(small_session))
    assert sagatui("replay", str(session)).code == 0
