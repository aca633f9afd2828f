"""Replay of a run of the user's own code: each call answered as it was recorded (no call made), the
definitions of now run again (a changed saga is a divergence), or `live`, the functions called again."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sagatui.code.app import App
from sagatui.lab.replay import Compared, RecordingError, open_recorded, replay_recorded
from sagatui.lab.trial import run_trial
from tests.code.own_services import Bank, wallet_app

QUICK = {"max_attempts": 3, "initial_delay": "100ms", "multiplier": 1, "jitter": "none"}


async def replayed(db: Path, code: App | None, *, live: bool = False) -> Compared:
    async with open_recorded(db) as recording:
        return await replay_recorded(recording, db.parent, code=code, live=live)


@pytest.mark.parametrize(("scenario", "bank", "faults"), [
    ("pay", Bank(), None),
    ("restricted", Bank(), None),  # a real charge, then its real refund
    ("declined", Bank(), None),  # the user's exception, replayed as the error it was
    ("pay", Bank(fail_first=2), None),  # transient errors, then an answer
    ("pay", Bank(takes=0.2), None),  # an answer that took real time comes at the same clock time
    ("pay", Bank(hang=True), None),  # never answered: the timeout fires at the same clock time
    ("pay", Bank(), {"wallet": {"mode": "lost_reply", "error_rate": 1.0, "operations": ["charge"]}}),
], ids=["completed", "compensated", "declined", "retried", "slow", "hung", "lost_replies"])
async def test_a_recorded_run_replays_identically_without_calling(
        tmp_path: Path, scenario: str, bank: Bank, faults: dict[str, Any] | None) -> None:
    app = wallet_app(bank, retry={**QUICK, "attempt_timeout": "300ms"})
    await run_trial(app, scenario, tmp_path / "d.db", faults=faults)
    calls = dict(bank.calls)
    started = time.monotonic()
    compared = await replayed(tmp_path / "d.db", app)
    assert compared.divergence is None, compared.divergence.describe()
    assert compared.events > 5
    assert dict(bank.calls) == calls  # nothing was called again
    assert time.monotonic() - started < 5  # the hung and the slow calls took no real time


async def test_real_calls_in_flight_together_replay_identically(tmp_path: Path) -> None:
    """Answers that come while others are out are taken in at quiet moments, clock time moved to when each
    came: the places a replay puts them back at, whatever the order the real calls ended in."""
    for attempt in range(3):
        bank = Bank(takes=0.02)
        app = wallet_app(bank, inputs=8)
        db = tmp_path / f"{attempt}.db"
        await run_trial(app, "pay", db, faults={"wallet": {"mode": "degraded", "error_rate": 0.3}})
        compared = await replayed(db, app)
        assert compared.divergence is None, compared.divergence.describe()


async def test_a_changed_definition_is_the_first_divergence(tmp_path: Path) -> None:
    await run_trial(wallet_app(Bank()), "pay", tmp_path / "d.db")
    compared = await replayed(tmp_path / "d.db", wallet_app(Bank(), notify=True))
    assert compared.divergence is not None
    assert compared.divergence.got is not None and compared.divergence.got["step"] == "notify"


async def test_live_replay_calls_the_functions_again(tmp_path: Path) -> None:
    bank = Bank(takes=0.05)
    app = wallet_app(bank)
    await run_trial(app, "restricted", tmp_path / "d.db")
    compared = await replayed(tmp_path / "d.db", app, live=True)
    assert compared.divergence is None, compared.divergence.describe()
    assert bank.calls == {"charge": 2, "refund": 2}  # once recorded, once again live


async def test_a_recording_of_code_needs_its_code(tmp_path: Path) -> None:
    await run_trial(wallet_app(Bank()), "pay", tmp_path / "d.db")
    with pytest.raises(RecordingError, match=r"ran the user's own code \(wallet\): give it with --code"):
        await replayed(tmp_path / "d.db", None)


async def test_a_session_file_of_code_replays_with_the_helper(tmp_path: Path) -> None:
    from sagatui.lab.replay import recording_from_store, write_session
    from sagatui.store.database import Store
    from sagatui.testing import areplay_session

    bank = Bank()
    await run_trial(wallet_app(bank), "restricted", tmp_path / "d.db")
    async with await Store.open(tmp_path / "d.db") as store:
        write_session(await recording_from_store(store, 1), tmp_path / "restricted.json")
    result = await areplay_session(tmp_path / "restricted.json", wallet_app(bank))
    assert result.identical and bank.calls == {"charge": 1, "refund": 1}  # nothing called again
    with pytest.raises(AssertionError, match="no longer replays identically"):
        await areplay_session(tmp_path / "restricted.json", wallet_app(bank, notify=True))
