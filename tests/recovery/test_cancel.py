"""`sagatui saga cancel` on a run a SIGKILL left unfinished: the sagas named stop before another step, undo
what they did (a call left open is undone, never sent again) and end `cancelled`; the others stay for
`sagatui resume`, which settles the run with every invariant holding. Killed again during the cancelled
sagas' rollback, `resume` finishes it: they still end `cancelled`."""

from __future__ import annotations

from pathlib import Path

from tests.recovery.helpers import LOAD, ROOT, crash, problems, query, sagatui

RESILIENCE = ROOT / "scenarios" / "resilience.yaml"


def _running(db: Path) -> list[str]:
    return [str(row[0]) for row in query(db, "SELECT saga_id FROM sagas WHERE status = 'running' ORDER BY saga_id")]


def _status(db: Path, saga_id: str) -> str:
    return str(query(db, "SELECT status FROM sagas WHERE saga_id = ?", saga_id)[0][0])


async def test_cancel_after_a_crash_then_resume_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "cancel.db"
    crash("emit:attempt.started:400", *LOAD, "--db", str(db))
    running = _running(db)
    assert len(running) >= 3, running
    chosen = running[:2]
    done = sagatui("saga", "cancel", *chosen, "--db", str(db), "--note", "customer called")
    assert done.returncode == 0, done.stdout + done.stderr
    for saga_id in chosen:
        assert f"{saga_id}: cancelled" in done.stdout
        assert _status(db, saga_id) == "cancelled"
    assert "other saga(s) left unfinished" in done.stdout
    assert query(db, "SELECT status FROM runs")[0][0] == "interrupted"
    # recorded: one command per saga, and the saga's own mark
    commands = query(db, "SELECT json_extract(data, '$.args.saga_id'), json_extract(data, '$.args.note') FROM events"
                         " WHERE kind = 'command' AND json_extract(data, '$.name') = 'cancel_saga' ORDER BY seq")
    assert commands == [(saga_id, "customer called") for saga_id in chosen]
    assert len(query(db, "SELECT 1 FROM events WHERE kind = 'saga.cancel_requested'")) == 2
    # nothing more went forward after the cancel: no step started or succeeded after its cancel
    for saga_id in chosen:
        (cancel_seq,) = query(db, "SELECT seq FROM events WHERE kind = 'saga.cancel_requested' AND saga_id = ?",
                              saga_id)[0]
        later = query(db, "SELECT kind FROM events WHERE saga_id = ? AND seq > ? AND kind IN"
                          " ('step.started', 'step.succeeded', 'attempt.started')", saga_id, cancel_seq)
        assert later == [], (saga_id, later)

    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
    assert [_status(db, saga_id) for saga_id in chosen] == ["cancelled", "cancelled"]


async def test_cancel_killed_during_its_rollback_is_finished_by_resume(tmp_path: Path) -> None:
    db = tmp_path / "cancel.db"
    crash("emit:attempt.started:400", *LOAD, "--db", str(db))
    chosen = [saga_id for saga_id in _running(db)
              if query(db, "SELECT 1 FROM steps WHERE saga_id = ? AND status = 'succeeded'", saga_id)][:1]
    assert chosen, "a running saga that did something to undo"
    crash("emit:compensation.attempt:1", "saga", "cancel", *chosen, "--db", str(db))
    assert _status(db, chosen[0]) in ("running", "compensating")
    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
    assert _status(db, chosen[0]) == "cancelled"
    # undone once each: one completed compensation per step that took effect
    twice = query(db, "SELECT step, count(*) FROM events WHERE saga_id = ? AND kind = 'compensation.ended'"
                      " GROUP BY step HAVING count(*) > 1", chosen[0])
    assert twice == []


def test_what_cannot_be_cancelled_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "cancel.db"
    done = sagatui(*LOAD, "--db", str(db))
    assert done.returncode == 0, done.stderr
    ended = str(query(db, "SELECT saga_id FROM sagas ORDER BY saga_id LIMIT 1")[0][0])
    before = query(db, "SELECT count(*) FROM events")
    refused = sagatui("saga", "cancel", ended, "--db", str(db))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"sagatui: error: saga {ended} already ended (")
    assert "Traceback" not in refused.stderr
    unknown = sagatui("saga", "cancel", "S-9999", "--db", str(db))
    assert unknown.returncode == 2 and "has no saga S-9999" in unknown.stderr
    assert query(db, "SELECT count(*) FROM events") == before  # nothing written
    missing = sagatui("saga", "cancel", ended, "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


async def test_a_scripted_cancel_still_due_after_a_crash_comes_when_the_scenario_says(tmp_path: Path) -> None:
    db = tmp_path / "cancel.db"
    arguments = ("run", str(RESILIENCE), "--scenario", "operator_cancel", "--quiet", "--db", str(db))
    crash("emit:attempt.started:2", *arguments)  # the reservation's call, at 300ms; the cancel is due at 700ms
    assert query(db, "SELECT count(*) FROM events WHERE kind = 'saga.cancel_requested'") == [(0,)]
    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _status(db, "S-0001") == "cancelled"
    requested = "SELECT time, json_extract(data, '$.scenario') FROM events WHERE kind = 'saga.cancel_requested'"
    never_killed = tmp_path / "never_killed.db"
    assert sagatui(*arguments[:-1], str(never_killed)).returncode == 0
    assert query(db, requested) == query(never_killed, requested)  # at 700ms, to the last bit, as if never killed
    assert [scenario for _, scenario in query(db, requested)] == ["operator_cancel"]
    assert await problems(db) == []
