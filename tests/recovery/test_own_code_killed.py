"""SIGKILL while the user's real call is in flight, then `sagatui resume --code`: the call goes again with
the same idempotency key, and the user's own database shows its effect once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

APP = '''
import asyncio
import sqlite3
from pathlib import Path

import sagatui
from sagatui import ref, saga, scenario, step

ledger = sagatui.Service("ledger")


@ledger.operation
async def credit(ctx: sagatui.CallContext, amount: int) -> dict:
    own = sqlite3.connect(ctx.run.database.parent / "own.sqlite")
    own.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT, attempt INTEGER)")
    own.execute("CREATE TABLE IF NOT EXISTS credits (key TEXT PRIMARY KEY, amount INTEGER)")
    own.execute("INSERT INTO calls VALUES (?, ?)", (ctx.idempotency_key, ctx.attempt))
    done = own.execute("SELECT amount FROM credits WHERE key = ?", (ctx.idempotency_key,)).fetchone()
    if done is None:
        own.execute("INSERT INTO credits VALUES (?, ?)", (ctx.idempotency_key, amount))
    own.commit()
    first = own.execute("SELECT count(*) FROM calls").fetchone()[0] == 1
    own.close()
    if first:  # the effect is committed; the reply never leaves: the test kills the process now
        (ctx.run.database.parent / "in_flight").touch()
        await asyncio.sleep(120)
    return {"credited": amount}


app = sagatui.App("credits", services=[ledger],
                  sagas=[saga("credit_once", step("credit", credit, params={"amount": ref("input.amount")}))],
                  scenarios={"one": scenario("credit_once", inputs=[{"amount": 7}])})
'''


def sagatui(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sagatui", *args], cwd=folder, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def test_a_real_call_killed_in_flight_is_sent_again_and_takes_effect_once(tmp_path: Path) -> None:
    (tmp_path / "credits.py").write_text(APP, encoding="utf-8")
    running = subprocess.Popen([sys.executable, "-m", "sagatui", "run", "credits.py:app", "--db", "runs.db"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "NO_COLOR": "1"})
    deadline = time.monotonic() + 60
    while not (tmp_path / "in_flight").exists():
        assert running.poll() is None, running.stderr.read() if running.stderr else ""
        assert time.monotonic() < deadline, "the call never started"
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=30)

    refused = sagatui(tmp_path, "resume", "--db", "runs.db")
    assert refused.returncode == 2
    assert "run 1 ran the user's own code (credits.py:app): give it again with --code credits.py:app" in refused.stderr

    resumed = sagatui(tmp_path, "resume", "--db", "runs.db", "--code", "credits.py:app")
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    own = sqlite3.connect(tmp_path / "own.sqlite")
    assert own.execute("SELECT key, attempt FROM calls").fetchall() == [("S-0001:credit", 1), ("S-0001:credit", 1)]
    assert own.execute("SELECT key, amount FROM credits").fetchall() == [("S-0001:credit", 7)]
    assert "S-0001" in resumed.stdout and "completed" in resumed.stdout
