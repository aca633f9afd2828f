"""Running the real CLI in subprocesses on real SQLite files, and checking a run once it is over."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

from sagatui.lab.fuzz import check_stream, check_tables
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants
from sagatui.store.queries import get_run, read_events, run_pack_text

ROOT = Path(__file__).resolve().parents[2]
ECOMMERCE = ROOT / "scenarios" / "ecommerce.yaml"
LOAD = ("run", str(ECOMMERCE), "--scenario", "load_with_outages", "--quiet")

DUPLICATED = {  # what no run may show, whatever happened to it; each query returns the offending rows
    "effect applied twice for one idempotency key": (
        "SELECT json_extract(data, '$.key'), count(*) FROM events WHERE run_id = :run AND kind = 'service.effect'"
        " AND json_extract(data, '$.key') IS NOT NULL GROUP BY 1 HAVING count(*) > 1"),
    "two payments for one saga step": (
        "SELECT saga_id, step, count(*) FROM payments WHERE run_id = :run GROUP BY 1, 2 HAVING count(*) > 1"),
    "two reservations for one saga step": (
        "SELECT saga_id, step, count(DISTINCT reservation_id) FROM reservations WHERE run_id = :run"
        " GROUP BY 1, 2 HAVING count(DISTINCT reservation_id) > 1"),
    "two shipments for one saga step": (
        "SELECT saga_id, step, count(*) FROM shipments WHERE run_id = :run GROUP BY 1, 2 HAVING count(*) > 1"),
    "two messages of a kind for one saga step": (
        "SELECT saga_id, step, kind, count(*) FROM messages WHERE run_id = :run GROUP BY 1, 2, 3 HAVING count(*) > 1"),
    "a payment refunded twice": (
        "SELECT payment_id, count(*) FROM refunds WHERE run_id = :run GROUP BY 1 HAVING count(*) > 1"),
    "a compensation completed twice": (
        "SELECT saga_id, step, count(*) FROM events WHERE run_id = :run AND kind = 'compensation.ended'"
        " AND json_extract(data, '$.outcome') = 'completed' GROUP BY 1, 2 HAVING count(*) > 1"),
}


def sagatui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sagatui", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def start(*args: str) -> subprocess.Popen[str]:
    """Start the CLI in the background, Ctrl-C reaching it as it would from a terminal."""
    return subprocess.Popen([sys.executable, "-m", "sagatui", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for_events(db: Path, count: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Poll the run's committed events from outside until there are `count` of them."""
    deadline = time.monotonic() + timeout
    while committed_events(db) < count:
        assert process.poll() is None, f"the run ended early: {process.communicate()}"
        assert time.monotonic() < deadline, f"fewer than {count} events after {timeout}s"
        time.sleep(0.05)


def committed_events(db: Path) -> int:
    """How many events another process has committed so far (0 while the file or its schema is not
    there yet: the run creates them a moment after it starts)."""
    try:
        return int(query(db, "SELECT count(*) FROM events")[0][0]) if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def one_line_error(stderr: str, *words: str) -> bool:
    """Storage problems are reported in one line, never a traceback."""
    return (stderr.count("\n") == 1 and stderr.startswith("sagatui: storage error: ")
            and all(word in stderr for word in words))


def crash(spec: str, *args: str) -> None:
    """Run the CLI and SIGKILL it at `spec` (see tests/recovery/crashing.py); it must have died there."""
    done = subprocess.run([sys.executable, "-m", "tests.recovery.crashing", spec, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, f"{spec}: not killed (exit {done.returncode}): {done.stderr}"


def query(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Read with a separate read-only connection, as another process would."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute(sql, args).fetchall()


def unfinished_sagas(db: Path) -> list[str]:
    rows = query(db, "SELECT saga_id FROM sagas WHERE status IN ('running', 'compensating') ORDER BY saga_id")
    return [str(row[0]) for row in rows]


async def problems(db: Path, run_id: int = 1) -> list[str]:
    """What a run that ended must never show, one line each: empty when all is well. Gapless seq, run
    settled and nothing recorded after that, every saga terminal, invariants, the fuzz properties
    (compensations only of steps that took effect, at most once, newest first; no call through an open
    breaker; attempts within policy; tables equal to what the log implies), and no effect applied twice."""
    async with await Store.open(db, read_only=True) as store:
        events = await read_events(store, run_id, limit=None)
        run = await get_run(store, run_id)
        pack_text = await run_pack_text(store, run_id)
        assert run is not None and pack_text is not None
        found = [] if [event.seq for event in events] == list(range(1, len(events) + 1)) else ["seq has a gap"]
        if run.status != "settled":
            found.append(f"run status {run.status}")
        elif events[-1].kind != "run.settled":
            found.append(f"{events[-1].kind} after run.settled")
        found += check_stream(load_pack_text(pack_text, "run"), events)
        found += await check_tables(store, run_id, events)
        found += [f"invariant {result.name}: {result.details}" for result in await check_invariants(store, run_id)
                  if result.details]  # what sagas needing attention hold is `held`, not a broken rule
        for what, sql in DUPLICATED.items():
            rows = await store.reader_db.execute_fetchall(sql, {"run": run_id})
            found += [f"{what}: {tuple(row)}" for row in rows]
        return found


def undecided_pack(tmp_path: Path) -> Path:
    """resilience.yaml with manager_approval's `decisions:` taken out."""
    text = (ROOT / "scenarios" / "resilience.yaml").read_text(encoding="utf-8")
    start = text.index("    decisions:\n", text.index("  manager_approval:"))
    end = text.index("    expect:\n", start)
    pack = tmp_path / "undecided.yaml"
    pack.write_text(text[:start] + text[end:], encoding="utf-8")
    return pack


ORDERS = 50  # fifty_refunds_refused's orders


def fifty_refunds_refused(tmp_path: Path) -> Path:
    """ecommerce.yaml with refund_gateway_down starting ORDERS orders (cheap cables: enough stock for all)."""
    tree = yaml.safe_load(ECOMMERCE.read_text(encoding="utf-8"))
    scenario = tree["scenarios"]["refund_gateway_down"]
    [order] = scenario["inputs"]
    scenario["inputs"] = [{**order, "customer": f"customer{n}@example.com", "items": {"CABLE-001": 1}, "amount": 12.99}
                          for n in range(ORDERS)]
    scenario["expect"] = {"counts": {"needs_attention": ORDERS},
                          "invariants": {"nothing_leaked": "held", "charges_refunded": "held"}}
    pack = tmp_path / "fifty.yaml"
    pack.write_text(yaml.safe_dump(tree, sort_keys=False), encoding="utf-8")
    return pack
