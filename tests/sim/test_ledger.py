import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from tests.sim.conftest import Lab


@pytest.fixture
async def ledger(lab: Lab) -> Lab:
    lab.add("bank", "ledger", balances={"alice": 100.0, "bob": 0.0})
    lab.directory.start()
    return lab


async def balances(lab: Lab) -> dict[str, float]:
    return {row["account"]: row["balance"] for row in await lab.rows("balances")}


async def test_a_transfer_and_its_rollback(ledger: Lab) -> None:
    debit = await ledger.invoke("bank", "debit", step="withdraw", account="alice", amount=30.0)
    assert debit == {"entry_id": "ENT-000001", "account": "alice", "amount": 30.0, "balance": 70.0}
    await ledger.invoke("bank", "credit", step="deposit", account="bob", amount=30.0)
    assert await balances(ledger) == {"alice": 70.0, "bob": 30.0}
    # Rollback, newest first: debit undoes the credit, credit undoes the debit.
    assert (await ledger.invoke("bank", "debit", step="deposit", undo=True))["outcome"] == "completed"
    assert await ledger.invoke("bank", "credit", step="withdraw", undo=True) == {
        "outcome": "completed", "entry_id": "ENT-000004"}
    assert await balances(ledger) == {"alice": 100.0, "bob": 0.0}
    entries = await ledger.rows("ledger_entries")
    assert [(row["entry_id"], row["amount"], row["kind"], row["reverses"]) for row in entries] == [
        ("ENT-000001", -30.0, "debit", None), ("ENT-000002", 30.0, "credit", None),
        ("ENT-000003", -30.0, "debit", "ENT-000002"), ("ENT-000004", 30.0, "credit", "ENT-000001")]


async def test_a_reversal_happens_once(ledger: Lab) -> None:
    await ledger.invoke("bank", "debit", account="alice", amount=10.0)
    await ledger.invoke("bank", "credit", undo=True)
    await ledger.invoke("bank", "credit", undo=True, key="a-second-key")
    assert await balances(ledger) == {"alice": 100.0, "bob": 0.0}


async def test_insufficient_funds_and_unknown_accounts(ledger: Lab) -> None:
    with pytest.raises(ServiceError) as poor:
        await ledger.invoke("bank", "debit", account="bob", amount=1.0)
    assert poor.value.kind is ErrorKind.PERMANENT
    with pytest.raises(ServiceError) as unknown:
        await ledger.invoke("bank", "credit", account="carol", amount=1.0)
    assert unknown.value.kind is ErrorKind.VALIDATION
    assert await ledger.rows("ledger_entries") == []


async def test_reversing_a_credit_already_spent_fails_and_changes_nothing(ledger: Lab) -> None:
    await ledger.invoke("bank", "credit", saga="a", account="bob", amount=5.0)
    await ledger.invoke("bank", "debit", saga="b", account="bob", amount=5.0)
    with pytest.raises(ServiceError) as raised:
        await ledger.invoke("bank", "debit", saga="a", undo=True)
    assert raised.value.kind is ErrorKind.PERMANENT
    assert (await balances(ledger))["bob"] == 0.0


async def test_nothing_posted_means_nothing_to_reverse(ledger: Lab) -> None:
    assert await ledger.invoke("bank", "credit", undo=True) == {"outcome": "completed", "entry_id": None}
