"""Ctrl-C during `sagatui run` (or SIGTERM from a container or service manager, or SIGHUP when the terminal
closes): no new sagas, the sagas in flight stop where they stand (a call without an answer stays an intent
without a result), everything is flushed, the run is marked interrupted, exit 128 + the signal (130 for
Ctrl-C); `sagatui resume` then finishes it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.recovery.helpers import ECOMMERCE, LOAD, ROOT, problems, query, sagatui, start, wait_for_events
from tests.recovery.test_attention import holds


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


def start_paced(*args: str) -> subprocess.Popen[str]:
    """`start`, with the runs the command reopens paced to real time (tests/recovery/paced.py)."""
    return subprocess.Popen([sys.executable, "-m", "tests.recovery.paced", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(db: Path, sql: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Poll from outside until `sql` counts something."""
    deadline = time.monotonic() + timeout
    while not query(db, sql)[0][0]:
        assert process.poll() is None, f"it ended early: {process.communicate()}"
        assert time.monotonic() < deadline, f"nothing for {sql} after {timeout}s"
        time.sleep(0.05)


def stopped_by(process: subprocess.Popen[str], stop: signal.Signals, db: Path, run_id: int = 1) -> None:
    """Stop `process` with `stop`: exit 128 + the signal, one line, the run recorded interrupted last."""
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + stop, stderr
    assert stderr == f"sagatui: interrupted by {stop.name}; the database is consistent\n"
    assert query(db, "SELECT status FROM runs WHERE id = ?", run_id) == [("interrupted",)]
    assert query(db, "SELECT kind FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1", run_id) == [
        ("run.interrupted",)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_stop_signal_interrupts_a_resume_and_the_next_resume_finishes_it(
    tmp_path: Path, stop: signal.Signals,
) -> None:
    db = tmp_path / "resumed.db"
    run = start(*LOAD, "--realtime", "--db", str(db))
    wait_for_events(db, 400, run)
    run.send_signal(signal.SIGINT)
    run.communicate(timeout=60)

    resuming = start_paced("resume", "--db", str(db), "--quiet")
    wait_for(db, "SELECT count(*) FROM events WHERE kind = 'run.resumed'", resuming)
    stopped_by(resuming, stop, db)

    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []


async def test_a_stop_signal_cuts_an_attention_retry_short_and_leaves_the_saga_in_the_inbox(tmp_path: Path) -> None:
    pack = yaml.safe_load(ECOMMERCE.read_text(encoding="utf-8"))
    pack["services"]["payment"]["fault"] = {"mode": "offline", "target": "compensations"}  # refunds keep failing
    path = tmp_path / "no_refunds.yaml"
    path.write_text(yaml.safe_dump(pack, sort_keys=False), encoding="utf-8")
    db = tmp_path / "inbox.db"
    assert sagatui("run", str(path), "--scenario", "refund_gateway_down", "--quiet", "--db", str(db)).returncode == 0

    retrying = start_paced("attention", "retry", "S-0001", "--db", str(db))
    wait_for(db, "SELECT count(*) FROM events WHERE kind = 'compensation.retry_scheduled' AND seq > (SELECT seq"
                 " FROM events WHERE kind = 'command' AND json_extract(data, '$.name') = 'retry_compensation')",
             retrying)
    stopped_by(retrying, signal.SIGTERM, db)
    assert query(db, "SELECT status FROM sagas") == [("needs_attention",)]  # its retry cut short: still the operator's

    assert sagatui("resume", "--db", str(db), "--quiet").returncode == 0  # settles the run again
    retried = sagatui("attention", "retry", "S-0001", "--db", str(db))
    assert retried.returncode == 1 and "S-0001: needs_attention" in retried.stdout
    refunds = query(db, "SELECT json_extract(data, '$.outcome'), attempt FROM events WHERE kind = 'compensation.ended'"
                        " AND step = 'charge_payment' ORDER BY seq")
    assert refunds == [("failed", 5), ("failed", 5)]  # the stopped retry ended nothing; the next had its full policy
    assert sagatui("attention", "resolve", "S-0001", "--db", str(db), "--note", "refunded by hand").returncode == 0
    await holds(db)


def test_a_stop_signal_interrupts_fuzzing_with_its_run_recorded(tmp_path: Path) -> None:
    db = tmp_path / "fuzz.db"
    fuzzing = start("fuzz", str(ECOMMERCE), "--scenario", "load_with_outages", "--runs", "1000", "--db", str(db),
                    "--jobs", "1")  # one file; tests/cli/test_fuzz_campaign.py stops worker processes
    wait_for_events(db, 400, fuzzing)
    run_id = int(query(db, "SELECT max(id) FROM runs")[0][0])  # type: ignore[arg-type]
    stopped_by(fuzzing, signal.SIGTERM, db, run_id)
