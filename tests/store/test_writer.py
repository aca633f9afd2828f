"""The group-commit writer: order, atomicity, batching, durability waits, failures."""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from sagatui.engine.clock import VirtualClock
from sagatui.model.effects import RowWrite
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.store import writer as writer_module
from sagatui.store.database import Store
from sagatui.store.errors import StorageError, StorageProblem
from sagatui.store.queries import get_run, read_events, resource_rows
from sagatui.store.write_connection import WriteConnection
from sagatui.store.writer import EventWriter
from tests.store.conftest import Run, start_run


def stock(available: int) -> RowWrite:
    return RowWrite("stock", {"service": "inventory", "sku": "A"},
                    {"initial": 100, "available": available, "reserved": 100 - available, "shipped": 0})


async def test_events_come_back_as_they_were_emitted(run: Run) -> None:
    emitted = [
        run.recorder.emit(EventKind.SAGA_STARTED, saga_id="s1", data={"saga": "order", "input": {"n": 1}}),
        run.recorder.emit(EventKind.ATTEMPT_FAILED, saga_id="s1", step="pay", service="payment", operation="charge",
                          attempt=1, error_kind=ErrorKind.TRANSIENT, message="503", data={"retry_after": 1.5}),
        run.recorder.emit(EventKind.FAULT_CHANGED, service="payment", data={"tags": {"b", "a"}}),
    ]
    await run.writer.flush()
    stored = await read_events(run.store, run.id)
    assert [event.comparable() for event in stored[:2]] == [event.comparable() for event in emitted[:2]]
    assert stored[2].data == {"tags": ["a", "b"]}  # odd values become JSON, never a failed commit
    assert all(event.wall_time is not None for event in stored)


async def test_many_appends_make_few_transactions(run: Run) -> None:
    for number in range(2000):
        run.recorder.emit(EventKind.SERVICE_EFFECT, service="inventory", effects=[stock(number % 100)])
    await run.writer.flush()
    assert run.writer.transactions == 1
    for _ in range(12_000):
        run.recorder.emit(EventKind.COMMAND)
    await run.writer.flush()
    assert run.writer.transactions == 1 + 3  # at most 5000 events per transaction
    assert len(await read_events(run.store, run.id)) == 14_000  # no limit unless one is asked for


async def test_a_commit_is_one_hop_to_the_write_thread(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events, effects, projections and the run's row: one function queued on the write connection's
    thread, not a hop per statement (each hop costs the engine a wake-up of the event loop)."""
    hops = 0
    run_on_thread = WriteConnection.run

    async def counted(self: WriteConnection, *args: Any) -> Any:
        nonlocal hops
        hops += 1
        return await run_on_thread(self, *args)

    monkeypatch.setattr(WriteConnection, "run", counted)
    for number in range(50):
        saga_id = f"s{number}"
        run.recorder.emit(EventKind.SAGA_STARTED, saga_id=saga_id, data={"saga": "order", "input": {}})
        run.recorder.emit(EventKind.STEP_STARTED, saga_id=saga_id, step="reserve", service="inventory")
        run.recorder.emit(EventKind.SERVICE_EFFECT, saga_id=saga_id, service="inventory", effects=[stock(number)])
    await run.writer.flush()
    assert (run.writer.transactions, hops) == (1, 1)
    assert (await get_run(run.store, run.id)).last_seq == 150  # type: ignore[union-attr]


async def test_the_background_task_commits_without_being_asked(run: Run) -> None:
    event = run.recorder.emit(EventKind.COMMAND)
    for _ in range(100):
        if run.writer.committed_seq >= event.seq:
            break
        await asyncio.sleep(0.01)
    assert run.writer.committed_seq == event.seq


async def test_durable_releases_waiters_in_seq_order_once_committed(run: Run) -> None:
    resumed: list[tuple[int, int]] = []

    async def saga(number: int) -> None:
        await run.clock.sleep(number % 3)
        event = run.recorder.emit(EventKind.SAGA_STARTED, saga_id=f"s{number}", data={"saga": "x", "input": {}})
        await run.recorder.durable(event)
        resumed.append((event.seq, run.writer.committed_seq))

    await asyncio.gather(*(saga(number) for number in range(60)))
    assert [seq for seq, _ in resumed] == sorted(seq for seq, _ in resumed)
    assert all(committed >= seq for seq, committed in resumed)
    assert run.writer.transactions <= 6


async def test_durable_waits_for_a_quiet_moment_even_when_already_committed(run: Run) -> None:
    event = run.recorder.emit(EventKind.COMMAND)
    await run.writer.flush()
    order: list[str] = []

    async def waiter() -> None:
        await run.recorder.durable(event)
        order.append("durable")

    async def busy() -> None:
        for _ in range(5):
            await asyncio.sleep(0)
            order.append("busy")

    await asyncio.gather(waiter(), busy())
    assert order == ["busy"] * 5 + ["durable"]


async def test_a_scratch_store_releases_waiters_at_the_quiet_moment_without_a_commit(
        tmp_path: Path, clock: VirtualClock) -> None:
    """Scratch (fuzz's throwaway file): the same quiet moments release the waiters, but nobody waits for
    the disk; what is queued is committed in the background and at close."""
    async with await Store.open(tmp_path / "scratch.db", durability="scratch") as store:
        run = await start_run(store, clock)
        released: list[int] = []

        async def saga(number: int) -> None:
            await run.clock.sleep(number % 3)
            event = run.recorder.emit(EventKind.SAGA_STARTED, saga_id=f"s{number}", data={"saga": "x", "input": {}})
            await run.recorder.durable(event)
            released.append(event.seq)

        await asyncio.gather(*(saga(number) for number in range(60)))
        assert released == sorted(released) and len(released) == 60
        await run.writer.close()
        assert run.writer.committed_seq == 60
        assert len(await read_events(store, run.id)) == 60


async def test_a_scratch_store_commits_a_long_backlog_at_the_quiet_moment(
        tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that never waits for the disk outruns the background commits: past the backlog bound a
    quiet moment commits first, so memory stays bounded (a 6,000-saga replay held 300 MB without it)."""
    monkeypatch.setattr(writer_module, "_SCRATCH_BACKLOG", 50)
    async with await Store.open(tmp_path / "scratch.db", durability="scratch") as store:
        run = await start_run(store, clock)
        events = [run.recorder.emit(EventKind.COMMAND) for _ in range(51)]
        await run.recorder.durable(events[-1])
        assert run.writer.committed_seq == events[-1].seq
        await run.writer.close()


async def test_an_effect_is_committed_with_its_event(run: Run) -> None:
    for available in (90, 80, 70):
        run.recorder.emit(EventKind.SERVICE_EFFECT, service="inventory", effects=[stock(available)])
    await run.writer.flush()
    assert len(await read_events(run.store, run.id, kinds=[EventKind.SERVICE_EFFECT])) == 3
    assert (await resource_rows(run.store, run.id, "stock"))[0]["available"] == 70


@pytest.mark.parametrize(("write", "message"), [
    (RowWrite("secrets", {"service": "x"}, {}), "not a resource table"),
    (RowWrite("stock", {"service": "x"}, {"available": 1}), "named by"),
    (RowWrite("stock", {"service": "x", "sku": "A"}, {"colour": "red"}), "no column colour"),
])
async def test_a_bad_row_write_fails_its_caller_at_once(run: Run, write: RowWrite, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run.writer.append(run.recorder.emit(EventKind.COMMAND), [write])


async def test_a_writer_continues_a_run_after_its_last_committed_event(store: Store, clock: VirtualClock) -> None:
    first = await start_run(store, clock)
    for _ in range(5):
        first.recorder.emit(EventKind.COMMAND)
    await first.writer.close()
    resumed = await EventWriter.start(store, first.id, clock)
    assert resumed.committed_seq == 5
    await resumed.close()


async def test_run_settled_marks_the_run(run: Run) -> None:
    run.recorder.emit(EventKind.RUN_SETTLED, data={"status": "settled"})
    await run.writer.flush()
    info = await get_run(run.store, run.id)
    assert info is not None and (info.status, info.last_seq) == ("settled", 1) and info.ended_at is not None


async def test_losing_the_write_lock_mid_run_is_a_storage_error_not_a_hang(tmp_path: Path,
                                                                          clock: VirtualClock) -> None:
    async with await Store.open(tmp_path / "lock.db", lock_timeout=0.05) as store:
        run = await start_run(store, clock)
        other = sqlite3.connect(tmp_path / "lock.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            event = run.recorder.emit(EventKind.COMMAND)
            with pytest.raises(StorageError) as raised:
                await run.recorder.durable(event)
            assert raised.value.problem is StorageProblem.LOCKED
            with pytest.raises(StorageError):
                run.recorder.emit(EventKind.COMMAND)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await run.writer.close()


CRASHING_WRITER = textwrap.dedent("""
    import asyncio, sys
    from sagatui.engine.clock import VirtualClock
    from sagatui.engine.recorder import EventRecorder
    from sagatui.model.effects import RowWrite
    from sagatui.model.events import EventKind
    from sagatui.store.database import Store
    from sagatui.store.writer import EventWriter

    async def main():
        store = await Store.open(sys.argv[1])
        run_id = await store.create_run(pack_name="crash", pack_text="", seed=1, clock_mode="virtual")
        clock = VirtualClock()
        clock.start()
        writer = await EventWriter.start(store, run_id, clock)
        recorder = EventRecorder(run_id, clock, writer)
        number, told = 0, False
        while True:
            for _ in range(50):
                number += 1
                recorder.emit(EventKind.SERVICE_EFFECT, service="inventory", data={"n": number}, effects=[
                    RowWrite("stock", {"service": "inventory", "sku": "A"},
                             {"initial": 0, "available": number, "reserved": 0, "shipped": 0}),
                    RowWrite("orders", {"service": "orders", "order_id": f"ORD-{number}"},
                             {"saga_id": "s", "step": "x", "status": "created", "created_at": 0.0})])
            await asyncio.sleep(0.001)
            if writer.committed_seq and not told:
                print("writing", flush=True)
                told = True

    asyncio.run(main())
""")


async def test_after_a_crash_there_is_never_an_effect_without_its_event_or_the_reverse(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    child = subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, str(path)], stdout=subprocess.PIPE,
                             cwd=Path(__file__).parents[2], env={**os.environ, "PYTHONPATH": "."})
    assert child.stdout is not None and child.stdout.readline() == b"writing\n"
    await asyncio.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    store = await Store.open(path)
    effects = await read_events(store, 1, kinds=[EventKind.SERVICE_EFFECT], limit=None)
    [row] = await resource_rows(store, 1, "stock")
    orders = await resource_rows(store, 1, "orders")
    await store.close()
    assert len(effects) > 500
    assert [event.seq for event in effects] == list(range(1, len(effects) + 1))
    assert row["available"] == effects[-1].data["n"] == len(orders)


async def test_cancelling_a_flush_never_cancels_the_commit(run: Run) -> None:
    for _ in range(3000):
        run.recorder.emit(EventKind.COMMAND)
    flushing = asyncio.ensure_future(run.writer.flush())
    await asyncio.sleep(0)
    flushing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flushing
    await run.writer.flush()
    assert run.writer.committed_seq == 3000
    assert len(await read_events(run.store, run.id, limit=None)) == 3000
