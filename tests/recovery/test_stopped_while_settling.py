"""A stop that comes after the last saga ended but before the run made its mark (while the invariants are
checked) leaves the run interrupted, never `running` with nobody running it (a fuzz worker, on Ctrl-C)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import sagatui.lab.run as run_module
from sagatui.lab.run import Lab
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store
from sagatui.store.queries import get_run


async def test_a_stop_while_the_invariants_are_checked_interrupts_the_run(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    checking = asyncio.Event()

    async def slow_check(store: Store, run_id: int) -> list[object]:
        checking.set()
        await asyncio.sleep(30)
        return []

    monkeypatch.setattr(run_module, "check_invariants", slow_check)
    source = read_pack("ecommerce")
    async with await Store.open(tmp_path / "d.db") as store:
        lab = Lab(source.pack, source.text, store)

        async def run() -> None:
            async with lab:
                lab.start_scenario("successful_order")
                await lab.conclude()

        task = asyncio.ensure_future(run())
        await checking.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        stored = await get_run(store, lab.run_id)
    assert stored is not None and stored.status == "interrupted"
