"""A failure off the sagas' own path (a timer callback, an event listener, a saga task) never goes
unnoticed and never hangs the run: the run fails with the error, and is left interrupted, every event it
made durable, resumable."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from sagatui.lab import Lab
from sagatui.model.events import Event
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store
from tests.recovery.helpers import ROOT, problems, query, sagatui

HANG_GUARD = 120  # seconds: bounds a hang, not speed


@asynccontextmanager
async def load_lab(db: Path) -> AsyncIterator[Lab]:
    """The ecommerce load started on a lab whose store is `db`; the lab, then the store, closed on the way out."""
    source = read_pack("ecommerce")
    async with await Store.open(db) as store, Lab(source.pack, source.text, store, seed=1) as lab:
        lab.start_scenario("load_with_outages")
        yield lab


async def fails(lab: Lab, error: type[BaseException]) -> None:
    with pytest.raises(error):
        await asyncio.wait_for(lab.conclude(), HANG_GUARD)


def left_interrupted(db: Path) -> None:
    """What a closed lab left of a run that failed: interrupted, last mark run.interrupted."""
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    kinds = [row[0] for row in query(db, "SELECT kind FROM events ORDER BY seq")]
    assert kinds[-1] == "run.interrupted" and "run.settled" not in kinds


async def test_a_timer_callback_that_raises_fails_the_run_instead_of_stopping_its_clock(tmp_path: Path) -> None:
    db = tmp_path / "timer.db"

    def broken() -> None:
        raise RuntimeError("a timer went wrong")

    async with load_lab(db) as lab:
        lab.clock.call_later(2.0, broken)
        await fails(lab, RuntimeError)
    left_interrupted(db)


async def test_a_listener_that_raises_fails_the_run_and_every_event_stays_durable(tmp_path: Path) -> None:
    db = tmp_path / "listener.db"
    seen: list[Event] = []

    def reader(event: Event) -> None:
        seen.append(event)
        if len(seen) == 200:
            raise OSError(28, "No space left on device")

    async with load_lab(db) as lab:
        lab.bus.add_listener(reader)
        await fails(lab, OSError)
    left_interrupted(db)
    stored = {row[0] for row in query(db, "SELECT seq FROM events")}
    assert {event.seq for event in seen} <= stored


async def test_a_saga_task_that_raises_fails_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "saga.db"
    calls = 0
    async with load_lab(db) as lab:
        ended = lab.workload._ended

        def broken(saga: object) -> None:
            nonlocal calls
            calls += 1
            if calls == 20:
                raise ValueError("bookkeeping went wrong")
            ended(saga)  # type: ignore[arg-type]

        monkeypatch.setattr(lab.workload, "_ended", broken)
        await fails(lab, ValueError)
    left_interrupted(db)


def test_run_piped_into_head_leaves_its_run_interrupted_and_resumable(tmp_path: Path) -> None:
    db = tmp_path / "piped.db"
    command = (f"{sys.executable} -m sagatui run {ROOT / 'scenarios' / 'ecommerce.yaml'} --scenario load_with_outages"
               f" --db {db} | head -3")
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True,
                          timeout=HANG_GUARD)
    assert len(done.stdout.splitlines()) == 3
    assert "Traceback" not in done.stderr, done.stderr
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert asyncio.run(problems(db)) == []


@pytest.mark.parametrize("turns", [0, 1, 2, 5])
async def test_a_stop_while_the_run_is_being_created_leaves_it_interrupted(tmp_path: Path, turns: int) -> None:
    """A Ctrl-C or SIGTERM (a cancellation) that comes while the lab creates its run (a fuzz worker between
    two seeds) lets the run be created, then records it interrupted: never a run left `running`."""
    db = tmp_path / "runs.db"
    source = read_pack("ecommerce")
    async with await Store.open(db) as store:
        entered = asyncio.Event()

        async def open_lab() -> None:
            async with Lab(source.pack, source.text, store, seed=1):
                entered.set()
                await asyncio.sleep(HANG_GUARD)

        task = asyncio.ensure_future(open_lab())
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    if turns:  # the run was being created when the stop came
        left_interrupted(db)
    assert [status for (status,) in query(db, "SELECT status FROM runs")] in ([], ["interrupted"])
