"""SIGKILL a headless run of the ecommerce load (300 orders, two outages) at 20 moments, then `sagatui
resume` it: every saga ends terminal, the log has no gap, the invariants hold and nothing happened twice.

The moments are chosen by what the run is doing (see crashing.py): while steps go forward (before an
attempt, with an effect or an answer still in memory, between retries, at a breaker transition), while
it rolls back (before a compensation's intent, with its answer unrecorded, before its outcome), and
inside the writer's transactions (just before a COMMIT, just after one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagatui.lab.recovery.resume import resume_run, unfinished_runs
from sagatui.store.database import Store
from tests.recovery.helpers import (
    LOAD,
    crash,
    one_line_error,
    problems,
    query,
    sagatui,
    start,
    unfinished_sagas,
    wait_for_events,
)

MOMENTS = [
    # forward steps
    "emit:attempt.started:2",
    "emit:attempt.started:120",
    "emit:attempt.started:420",
    "emit:service.effect:300",
    "emit:attempt.succeeded:600",
    "emit:step.succeeded:500",
    "emit:retry.scheduled:150",
    "emit:saga.started:260",
    "emit:breaker.transition:4",
    # rolling back
    "emit:saga.compensating:40",
    "emit:compensation.attempt_started:1",
    "emit:compensation.attempt_started:110",
    "emit:compensation.attempt:180",
    "emit:compensation.ended:220",
    # commits
    "commit:20:before",
    "commit:300:after",
    "commit:550:before",
    "commit:700:after",
    "commit:800:before",
    "commit:850:after",  # the run makes about 890: one per quiet moment with sagas waiting, a few more
]


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_run_killed_at_any_moment_resumes_to_a_consistent_end(tmp_path: Path, moment: str) -> None:
    db = tmp_path / "killed.db"
    crash(moment, *LOAD, "--db", str(db))
    assert query(db, "SELECT status FROM runs") == [("running",)]
    unfinished = unfinished_sagas(db)

    resumed = sagatui("resume", "--db", str(db), "--quiet")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "PASS" in resumed.stdout
    assert await problems(db) == []
    ((carried_on,),) = query(db, "SELECT json_extract(data, '$.sagas') FROM events WHERE kind = 'run.resumed'")
    assert json.loads(str(carried_on)) == unfinished


async def test_the_dashboard_finds_and_resumes_an_unfinished_run(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    crash("emit:compensation.attempt:60", *LOAD, "--db", str(db))
    async with await Store.open(db) as store:
        (run,) = await unfinished_runs(store)
        report = await resume_run(store, run.id)
        assert report.ok and report.resumed and report.resent
        assert await unfinished_runs(store) == []
    assert await problems(db) == []


async def test_a_run_another_process_is_still_writing_is_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    live = start(*LOAD, "--realtime", "--db", str(db))
    try:
        wait_for_events(db, 100, live)
        assert "nothing to resume" in sagatui("resume", "--db", str(db)).stdout
        refused = sagatui("resume", "--db", str(db), "--run", "1")
        assert refused.returncode == 3 and one_line_error(refused.stderr, "being written by another process")
    finally:
        live.kill()  # SIGKILL: the run is free for resume at once
        live.communicate()
    assert sagatui("resume", "--db", str(db), "--quiet").returncode == 0
    assert await problems(db) == []
