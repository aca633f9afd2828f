"""Ctrl-C during `sagatui run` (or SIGTERM from a container or service manager, or SIGHUP when the terminal
closes): no new sagas, the sagas in flight stop where they stand (a call without an answer stays an intent
without a result), everything is flushed, the run is marked interrupted, exit 128 + the signal (130 for
Ctrl-C); `sagatui resume` then finishes it."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.recovery.helpers import LOAD, problems, query, sagatui, start, wait_for_events


@pytest.mark.parametrize(("stop", "code", "said"), [
    (signal.SIGINT, 130, "interrupted"),
    (signal.SIGTERM, 143, "interrupted by SIGTERM"),
    (signal.SIGHUP, 129, "interrupted by SIGHUP"),
], ids=["SIGINT", "SIGTERM", "SIGHUP"])
async def test_a_stop_signal_interrupts_the_run_and_resume_finishes_it(
    tmp_path: Path, stop: signal.Signals, code: int, said: str,
) -> None:
    db = tmp_path / "interrupted.db"
    run = start(*LOAD, "--realtime", "--db", str(db))
    wait_for_events(db, 400, run)
    run.send_signal(stop)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == code
    assert stderr == f"sagatui: {said}; the database is consistent\n"
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    ((last_seq, events, kind),) = query(db, "SELECT max(seq), count(*), (SELECT kind FROM events ORDER BY seq DESC"
                                            " LIMIT 1) FROM events")
    assert last_seq == events and kind == "run.interrupted"
    in_flight = query(db, "SELECT count(*) FROM sagas WHERE status IN ('running', 'compensating')")[0][0]
    assert query(db, "SELECT json_extract(data, '$.unfinished') FROM events WHERE seq = ?", last_seq) == [(in_flight,)]

    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
