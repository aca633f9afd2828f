"""Ctrl-C during `sagatui run`: no new sagas, the sagas in flight stop where they stand (a call without an
answer stays an intent without a result), everything is flushed, the run is marked interrupted, exit 130;
`sagatui resume` then finishes it."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.recovery.helpers import LOAD, problems, query, sagatui, start, wait_for_events


async def test_ctrl_c_interrupts_the_run_and_resume_finishes_it(tmp_path: Path) -> None:
    db = tmp_path / "interrupted.db"
    run = start(*LOAD, "--realtime", "--db", str(db))
    wait_for_events(db, 400, run)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)

    assert run.returncode == 130
    assert stderr == "sagatui: interrupted; the database is consistent\n"
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    ((last_seq, events, kind),) = query(db, "SELECT max(seq), count(*), (SELECT kind FROM events ORDER BY seq DESC"
                                            " LIMIT 1) FROM events")
    assert last_seq == events and kind == "run.interrupted"
    in_flight = query(db, "SELECT count(*) FROM sagas WHERE status IN ('running', 'compensating')")[0][0]
    assert query(db, "SELECT json_extract(data, '$.unfinished') FROM events WHERE seq = ?", last_seq) == [(in_flight,)]

    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
