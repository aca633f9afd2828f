"""Two fresh runs of a scenario with the same seed leave the same rows in the events table, whole: every
column but `wall_time`, to the last row, with nothing written after the run's last mark."""

import sqlite3
import time

import pytest

from sagatui.lab.headless import run_scenario
from sagatui.packs.bundled import bundled_pack_names, read_pack
from sagatui.store.database import Store

SCENARIOS = [(name, scenario) for name in bundled_pack_names() for scenario in read_pack(name).pack.scenarios]


async def stored_events(path, pack_name: str, scenario: str) -> list[tuple]:
    source = read_pack(pack_name)
    async with await Store.open(path) as store:
        report = await run_scenario(source.pack, source.text, store, scenario, seed=1)
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(events)") if row[1] != "wall_time"]
        return connection.execute(
            f"SELECT {', '.join(columns)} FROM events WHERE run_id = ? ORDER BY seq", (report.run_id,)).fetchall()


@pytest.mark.parametrize(("pack_name", "scenario"), SCENARIOS)
async def test_two_fresh_runs_store_byte_identical_streams(tmp_path, pack_name, scenario):
    first = await stored_events(tmp_path / "a.db", pack_name, scenario)
    second = await stored_events(tmp_path / "b.db", pack_name, scenario)
    assert first == second
    kinds = [row[3] for row in first]
    assert kinds[-1] == "run.settled" and kinds.count("run.settled") == 1


@pytest.mark.parametrize("commit_seconds", [0.0, 0.02])
async def test_nothing_is_written_after_run_settled_however_slow_the_disk(tmp_path, monkeypatch, commit_seconds):
    """refund_gateway_down settles with the payment breaker's cooldown still pending (due at 11.3 s): the
    flush while the run closes must not let that timer fire after run.settled."""
    from sagatui.store import writer

    transaction = writer._transaction

    def slow(connection, statements):
        time.sleep(commit_seconds)
        return transaction(connection, statements)

    monkeypatch.setattr(writer, "_transaction", slow)
    rows = await stored_events(tmp_path / "a.db", "ecommerce", "refund_gateway_down")
    assert rows[-1][3] == "run.settled"
