"""The dashboard on start, after asking, carries on a run that a crash or a quit left with sagas
unfinished, live; `q` while sagas are in flight leaves the run interrupted, for the next start to offer.
The real app, the real lab on the virtual clock, real SQLite in tmp_path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from sagatui.lab import Lab
from sagatui.lab.recovery.resume import runs_with_sagas_left
from sagatui.model.status import SagaStatus
from sagatui.packs.loader import load_pack
from sagatui.store.database import Store
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.dialogs import ResumePrompt
from tests.recovery.helpers import ECOMMERCE, problems, query, sagatui, unfinished_sagas
from tests.tui.conftest import lab_of, lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import shown_text


async def interrupt_a_load(db: Path) -> int:
    """Run the ecommerce load (300 orders, two outages) and interrupt it with sagas in flight, as Ctrl-C
    does; returns its run id."""
    async with await Store.open(db) as store:
        lab = Lab(load_pack(ECOMMERCE), ECOMMERCE.read_text(encoding="utf-8"), store, seed=3,
                  label="load_with_outages")
        await lab.open()
        lab.start_scenario("load_with_outages")
        while lab.metrics.started < 120:
            await asyncio.sleep(0.01)
        await lab.interrupt()
        await lab.close()
        return lab.run_id


async def open_prompt(app: SagaDashboard, pilot) -> str:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, ResumePrompt), "the resume prompt")
    return " ".join(shown_text(label) for label in app.screen.query("Label"))


async def test_yes_carries_on_the_interrupted_run_live_until_it_settles(
    make_app: Callable[..., SagaDashboard], tmp_path: Path,
) -> None:
    db = tmp_path / "dashboard.db"
    run_id = await interrupt_a_load(db)
    left = unfinished_sagas(db)
    assert left
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        question = await open_prompt(app, pilot)
        assert f"Run {run_id} (ecommerce, {len(left)} sagas unfinished) was interrupted. Resume it?" in question
        assert lab_of(app) is None  # nothing runs until the user answers
        await pilot.press("y")
        await lab_ready(pilot)
        assert lab_of(app) is not None and lab_of(app).run_id == run_id  # the same run goes on, no new one
        await settled(pilot)
        board = refresher_of(app).board
        assert all(row is not None and row.status.terminal for row in map(board.get, left))
        assert board.in_flight == 0 and board.counts[SagaStatus.RUNNING] == 0
        await pilot.press("q")
    assert query(db, "SELECT id, status FROM runs") == [(run_id, "settled")]
    assert unfinished_sagas(db) == []
    assert await problems(db, run_id) == []  # gapless, invariants, nothing done twice
    ((carried_on,),) = query(db, "SELECT json_extract(data, '$.sagas') FROM events WHERE kind = 'run.resumed'")
    assert json.loads(str(carried_on)) == left
    async with await Store.open(db, read_only=True) as store:
        assert await runs_with_sagas_left(store) == []


async def test_yes_after_the_run_was_settled_elsewhere_starts_a_new_run_instead(
    make_app: Callable[..., SagaDashboard], tmp_path: Path,
) -> None:
    db = tmp_path / "dashboard.db"
    run_id = await interrupt_a_load(db)
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await open_prompt(app, pilot)
        resumed = await asyncio.to_thread(sagatui, "resume", "--db", str(db), "--quiet")  # another terminal
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        await pilot.press("y")
        await lab_ready(pilot)
        assert lab_of(app) is not None
        assert lab_of(app).run_id == run_id + 1  # a new run: the settled one is not reopened
        await pilot.press("q")
    assert query(db, "SELECT id, status FROM runs") == [(run_id, "settled"), (run_id + 1, "running")]
    ((settled, settled_seq, last_seq, resumed_marks),) = query(
        db, "SELECT count(*) FILTER (WHERE kind = 'run.settled'), max(seq) FILTER (WHERE kind = 'run.settled'),"
            " max(seq), count(*) FILTER (WHERE kind = 'run.resumed') FROM events WHERE run_id = ?", run_id)
    assert (settled, settled_seq, resumed_marks) == (1, last_seq, 1)  # nothing after run.settled; one resume
    assert await problems(db, run_id) == []


async def test_quitting_mid_run_interrupts_it_and_the_next_start_offers_it(
    make_app: Callable[..., SagaDashboard], tmp_path: Path,
) -> None:
    db = tmp_path / "dashboard.db"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await lab_ready(pilot)
        await pilot.press("l")  # the load generator: sagas keep arriving
        lab = lab_of(app)
        assert lab is not None
        await wait_for(pilot, lambda: lab.metrics.started >= 40 and lab.metrics.in_flight, "sagas in flight")
        await pilot.press("q")
    assert query(db, "SELECT id, status FROM runs") == [(1, "interrupted")]
    ((last_seq, events, kind, unfinished),) = query(
        db, "SELECT max(seq), count(*), (SELECT kind FROM events ORDER BY seq DESC LIMIT 1),"
            " (SELECT json_extract(data, '$.unfinished') FROM events ORDER BY seq DESC LIMIT 1) FROM events")
    assert (last_seq, kind) == (events, "run.interrupted")
    left = unfinished_sagas(db)
    assert unfinished == len(left) > 0

    again = make_app()
    async with again.run_test(size=(80, 24)) as pilot:
        question = await open_prompt(again, pilot)
        assert f"Run 1 (ecommerce, {len(left)} sagas unfinished) was interrupted" in question
        await pilot.press("n")
        await lab_ready(pilot)
        assert again.refresher is not None and again.refresher.view.run_id == 2
        await pilot.press("q")
    assert query(db, "SELECT id, status FROM runs") == [(1, "interrupted"), (2, "running")]
    assert unfinished_sagas(db) == left  # still there for `sagatui resume` or the next start


async def test_with_several_unfinished_runs_the_newest_is_highlighted_and_the_others_stay(
    make_app: Callable[..., SagaDashboard], tmp_path: Path,
) -> None:
    db = tmp_path / "dashboard.db"
    older, newer = await interrupt_a_load(db), await interrupt_a_load(db)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        question = await open_prompt(app, pilot)
        assert "2 runs were left with sagas unfinished. Resume the highlighted one?" in question
        await pilot.press("y")
        await lab_ready(pilot)
        assert lab_of(app) is not None and lab_of(app).run_id == newer
        await settled(pilot)
        await pilot.press("q")
    assert query(db, "SELECT id, status FROM runs ORDER BY id") == [(older, "interrupted"), (newer, "settled")]
    async with await Store.open(db, read_only=True) as store:
        assert [offered.run.id for offered in await runs_with_sagas_left(store)] == [older]
