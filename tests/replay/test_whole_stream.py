"""Two fresh runs of a scenario with the same seed leave the same rows in the events table, whole: every
column but `wall_time`, to the last row, with nothing written after the run's last mark."""

import json
import sqlite3
import time

import pytest

from sagatui.lab import Lab
from sagatui.lab.commands import SetFault
from sagatui.lab.fuzz import fuzz_one
from sagatui.lab.headless import run_scenario
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.packs.bundled import bundled_pack_names, read_pack
from sagatui.store.database import Durability, Store
from sagatui.store.queries import read_events

SCENARIOS = [(name, scenario) for name in bundled_pack_names() for scenario in read_pack(name).pack.scenarios]


async def stored_events(path, pack_name: str, scenario: str, durability: Durability = "normal") -> list[tuple]:
    source = read_pack(pack_name)
    async with await Store.open(path, durability=durability) as store:
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


@pytest.mark.parametrize(("pack_name", "scenario"), SCENARIOS)
async def test_a_scratch_store_stores_the_same_stream(tmp_path, pack_name, scenario):
    """A scratch database (fuzz's) never makes a saga wait for the disk, yet the stream is the same: a
    saga waits for a quiet moment, never for a commit."""
    durable = await stored_events(tmp_path / "a.db", pack_name, scenario)
    assert await stored_events(tmp_path / "b.db", pack_name, scenario, durability="scratch") == durable


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


async def test_a_command_still_queued_when_the_run_settles_is_not_applied_after_it(tmp_path):
    """A command submitted as the last saga ends (a fuzz schedule's fault change due at that very moment)
    finds its quiet moment only once run.settled is recorded: it must not be applied then, while the run
    closes, where the disk's speed decides whether it lands in the log."""
    source = read_pack("travel")
    path = tmp_path / "a.db"
    async with await Store.open(path) as store:
        lab = Lab(source.pack, source.text, store, seed=1)
        async with lab:
            def fault_change_at_the_end(event: Event) -> None:
                if event.kind is EventKind.SAGA_COMPLETED:
                    lab.submit(SetFault(service="hotel_backup", profile=FaultProfile(mode="hang")))

            lab.bus.add_listener(fault_change_at_the_end)
            lab.start_scenario("no_cars_anywhere")
            await lab.conclude()
            await lab.clock.wait_idle()  # the quiet moments a closing run's I/O gives the clock
    kinds = [kind for kind, in sqlite3.connect(path).execute("SELECT kind FROM events ORDER BY seq")]
    assert kinds[-2:] == ["saga.completed", "run.settled"]


async def test_a_fuzz_seed_stores_the_same_stream_every_time(tmp_path):
    """travel / no_cars_anywhere seed 20: its one fault change falls due as the trip completes."""
    source = read_pack("travel")
    streams = set()
    async with await Store.open(tmp_path / "a.db") as store:
        for _ in range(6):
            outcome = await fuzz_one(source.pack, source.text, store, "no_cars_anywhere", 20)
            assert outcome.schedule[0].at == 0.7
            events = await read_events(store, outcome.run_id, limit=None)
            streams.add(json.dumps([event.comparable() for event in events]))
    assert len(streams) == 1

