"""Every fault profile wraps the user's real call: what reaches their function, what it answers, and what
the saga makes of it (tests/code/own_services.py counts the calls)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sagatui.lab.trial import run_trial
from sagatui.model.events import EventKind
from sagatui.model.payloads import CallOutcome, CodeAnswered
from tests.code.own_services import Bank, wallet_app

QUICK = {"max_attempts": 3, "initial_delay": "100ms", "multiplier": 1, "jitter": "none"}


async def test_online_calls_once_and_records_the_answer(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank), "pay", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "completed"}
    assert bank.calls["charge"] == 1 and bank.charges == {"S-0001:charge": 12.5}
    answers = [event for event in outcome.events if event.kind is EventKind.CODE_ANSWERED]
    assert [(event.operation, event.payload_as(CodeAnswered).result) for event in answers] == [
        ("charge", {"charge_id": "CH-S-0001", "amount": 12.5})]
    outcome.assert_passed()


async def test_offline_never_calls_the_function(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank, retry=QUICK), "pay", tmp_path / "d.db",
                              faults={"wallet": {"mode": "offline"}})
    assert outcome.statuses == {"S-0001": "failed"}
    assert bank.calls["charge"] == 0
    failed = [event for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED]
    assert [event.message for event in failed] == ["503 service unavailable"] * 3


async def test_a_lost_reply_is_a_real_call_and_the_retry_carries_the_same_key(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank, retry=QUICK), "pay", tmp_path / "d.db",
                              faults={"wallet": {"mode": "lost_reply", "error_rate": 1.0, "operations": ["charge"]}})
    assert bank.calls["charge"] == 3  # each try reached the function...
    assert bank.charges == {"S-0001:charge": 12.5}  # ...and the user's idempotency record charged once
    assert outcome.statuses == {"S-0001": "compensated"}
    assert bank.calls["refund"] == 1  # a reply lost may have taken effect: its undo runs
    assert bank.refunded == ["S-0001:charge"]  # found by the step's key, though no reply told a charge id


async def test_degraded_raises_seeded_errors_instead_of_calling(tmp_path: Path) -> None:
    bank = Bank()
    await run_trial(wallet_app(bank, retry=QUICK), "pay", tmp_path / "d.db",
                    faults={"wallet": {"mode": "degraded", "error_rate": 1.0, "permanent_share": 0.0}})
    assert bank.calls["charge"] == 0


async def test_hang_lets_the_callers_timeout_fire(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank, retry={**QUICK, "attempt_timeout": "2s"}), "pay", tmp_path / "d.db",
                              faults={"wallet": {"mode": "hang"}})
    assert bank.calls["charge"] == 0
    kinds = [event.error_kind for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED]
    assert kinds == ["timeout"] * 3


async def test_latency_delays_the_call_on_the_clock(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank), "pay", tmp_path / "d.db",
                              faults={"wallet": {"mode": "online", "latency": "5s"}})
    succeeded = next(event for event in outcome.events if event.kind is EventKind.ATTEMPT_SUCCEEDED)
    assert bank.calls["charge"] == 1
    assert succeeded.time >= 5.0


async def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank, inputs=2), "pay", tmp_path / "d.db",
                              faults={"wallet": {"mode": "rate_limit", "rate": 0.5, "burst": 1}})
    assert outcome.statuses == {"S-0001": "completed", "S-0002": "completed"}
    limited = [event for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED]
    assert [event.error_kind for event in limited] == ["rate_limited"]
    assert bank.calls["charge"] == 2  # the refused try never reached the function


async def test_user_exceptions_map_to_error_kinds(tmp_path: Path) -> None:
    bank = Bank()
    declined = await run_trial(wallet_app(bank), "declined", tmp_path / "d.db")
    assert declined.statuses == {"S-0001": "failed"}
    failed = next(event for event in declined.events if event.kind is EventKind.ATTEMPT_FAILED)
    assert (failed.error_kind, failed.message) == ("permanent", "Declined: card declined by the bank")


async def test_an_unexpected_exception_keeps_its_traceback(tmp_path: Path) -> None:
    outcome = await run_trial(wallet_app(Bank()), "broken", tmp_path / "d.db")
    failed = next(event for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED)
    assert failed.error_kind == "unexpected" and failed.message == "KeyError: 'card'"
    assert 'raise KeyError("card")' in failed.payload_as(CallOutcome).exception  # the user's own line, in the log


async def test_a_step_that_fails_after_a_real_charge_refunds_it(tmp_path: Path) -> None:
    bank = Bank()
    outcome = await run_trial(wallet_app(bank), "restricted", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "compensated"}
    assert bank.refunded == ["S-0001:charge"]
    assert outcome.compensation_orders == {"S-0001": ["charge"]}


async def test_a_hanging_real_call_times_out_in_real_time_and_is_cancelled(tmp_path: Path) -> None:
    bank = Bank(hang=True)
    started = time.monotonic()
    retry = {**QUICK, "max_attempts": 2, "attempt_timeout": "300ms"}
    outcome = await run_trial(wallet_app(bank, retry=retry), "pay", tmp_path / "d.db")
    elapsed = time.monotonic() - started
    assert bank.cancelled == ["S-0001:charge", "S-0001:charge"]  # each try abandoned: cancelled
    kinds = [event.error_kind for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED]
    assert kinds == ["timeout", "timeout"]
    assert elapsed < 20  # two 300 ms timeouts, not the function's 30 s sleep
    failed = [event for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED]
    # the clock went at real time meanwhile
    assert [event.payload_as(CallOutcome).duration for event in failed] == pytest.approx([0.3, 0.3])


async def test_a_real_call_takes_its_real_time_on_the_clock(tmp_path: Path) -> None:
    outcome = await run_trial(wallet_app(Bank(takes=0.25)), "pay", tmp_path / "d.db")
    succeeded = next(event for event in outcome.events if event.kind is EventKind.ATTEMPT_SUCCEEDED)
    answered = next(event for event in outcome.events if event.kind is EventKind.CODE_ANSWERED)
    assert 0.25 <= succeeded.payload_as(CallOutcome).duration < 10
    assert answered.time == succeeded.time  # the answer is recorded at the time it came


async def test_virtual_time_still_skips_the_backoff_between_real_calls(tmp_path: Path) -> None:
    bank = Bank(fail_first=2)
    started = time.monotonic()
    retry = {**QUICK, "initial_delay": "10m", "max_delay": "1h"}
    outcome = await run_trial(wallet_app(bank, retry=retry), "pay", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "completed"}
    ended = next(event for event in outcome.events if event.kind is EventKind.SAGA_COMPLETED)
    assert ended.time >= 1200  # two 10-minute waits on the clock...
    assert time.monotonic() - started < 20  # ...that passed at once


@pytest.mark.parametrize("mode", ["offline", "flapping"])
async def test_the_same_seed_and_faults_give_the_same_calls(tmp_path: Path, mode: str) -> None:
    runs = []
    for index in range(2):
        bank = Bank()
        await run_trial(wallet_app(bank, retry=QUICK, inputs=3), "pay", tmp_path / f"{index}.db", seed=5,
                        faults={"wallet": {"mode": mode, "period": "1s"}})
        runs.append(dict(bank.calls))
    assert runs[0] == runs[1]
