"""Ledger: balances of named accounts, changed only by entries (a debit is a negative entry).

- `debit(account, amount)` / `credit(account, amount)`: an unknown account is invalid input; a debit
  beyond the balance fails permanently ("insufficient funds") unless `allow_overdraft`.
- As a compensation, each reverses what that step posted (credit undoes a debit, debit undoes a
  credit) with an entry pointing at the one it reverses, once. Nothing posted -> completed.
Every balance equals its initial value plus the sum of its entries.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from sagatui.engine.clock import VirtualClock
from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim import params
from sagatui.sim.catalog import LedgerOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Balance(Row):
    table: ClassVar[str] = "balances"
    key_columns: ClassVar[tuple[str, ...]] = ("account",)
    account: str
    initial: float
    balance: float


@dataclass
class Entry(StepRow):
    table: ClassVar[str] = "ledger_entries"
    key_columns: ClassVar[tuple[str, ...]] = ("entry_id",)
    id_prefix: ClassVar[str | None] = "ENT"
    entry_id: str
    account: str
    amount: float  # signed
    kind: str  # debit | credit
    reverses: str | None
    at: float


class LedgerService(SimService):
    kind = "ledger"
    row_types = (Balance, Entry)
    options: LedgerOptions

    def __init__(self, name: str, options: LedgerOptions, rng: random.Random, clock: VirtualClock) -> None:
        super().__init__(name, options, rng, clock)
        self.balances = {account: Balance(account, amount, amount) for account, amount in options.balances.items()}

    def handlers(self) -> dict[str, Handler]:
        return {"debit": self.debit, "credit": self.credit}

    def initial_rows(self) -> list[Row]:
        return list(self.balances.values())

    def load(self, rows: Iterable[Row]) -> None:
        loaded = list(rows)
        super().load(loaded)
        for row in loaded:
            if isinstance(row, Balance):
                self.balances[row.account] = row

    def debit(self, call: Call) -> tuple[Result, list[Row]]:
        return self._reverse(call, "credit") if call.is_compensation else self._post(call, "debit")

    def credit(self, call: Call) -> tuple[Result, list[Row]]:
        return self._reverse(call, "debit") if call.is_compensation else self._post(call, "credit")

    def _post(self, call: Call, kind: str) -> tuple[Result, list[Row]]:
        account = params.text(call.params, "account")
        amount = params.amount(call.params)
        if account not in self.balances:
            raise ServiceError(ErrorKind.VALIDATION, f"unknown account: {account}", code="unknown_account")
        change = amount if kind == "credit" else -amount
        self._check_funds(account, change)
        entry = self._entry(call, account, change, kind, None)
        balance = self.balances[account]
        return {"entry_id": entry.entry_id, "account": account, "amount": amount, "balance": balance.balance}, [
            balance, entry]

    def _reverse(self, call: Call, original_kind: str) -> tuple[Result, list[Row]]:
        entries: list[Entry] = self.created_by(call, Entry)
        reversed_ids = {entry.reverses for entry in entries}
        pending = [entry for entry in entries if entry.kind == original_kind and entry.entry_id not in reversed_ids]
        changes: dict[str, float] = {}
        for original in pending:
            changes[original.account] = changes.get(original.account, 0.0) - original.amount
        for account, change in changes.items():
            self._check_funds(account, change)
        changed: list[Row] = []
        for original in pending:
            kind = "credit" if original_kind == "debit" else "debit"
            entry = self._entry(call, original.account, -original.amount, kind, original.entry_id)
            changed += [self.balances[original.account], entry]
        done = [entry for entry in self.created_by(call, Entry) if entry.reverses is not None]
        return {"outcome": "completed", "entry_id": done[-1].entry_id if done else None}, changed

    def _entry(self, call: Call, account: str, amount: float, kind: str, reverses: str | None) -> Entry:
        self.balances[account].balance += amount
        entry = Entry(call.saga_id, call.step, self.new_id(Entry), account, amount, kind, reverses, self.clock.now())
        self.created(entry)
        return entry

    def _check_funds(self, account: str, change: float) -> None:
        if change < 0 and not self.options.allow_overdraft and self.balances[account].balance + change < 0:
            raise ServiceError(ErrorKind.PERMANENT, f"insufficient funds in {account}", code="insufficient_funds")
