"""Account: user accounts by username.

- `create(username)`: a reserved username is invalid input; one held by an active account fails
  permanently ("username taken").
- `delete` (undoes create): deletes the account that step created, freeing the username.
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
from sagatui.sim.catalog import AccountOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Account(StepRow):
    table: ClassVar[str] = "accounts"
    key_columns: ClassVar[tuple[str, ...]] = ("account_id",)
    holding: ClassVar[tuple[str, ...]] = ("active",)
    id_prefix: ClassVar[str | None] = "ACC"
    account_id: str
    username: str
    status: str  # active | deleted
    created_at: float


class AccountService(SimService):
    kind = "account"
    row_types = (Account,)
    options: AccountOptions

    def __init__(self, name: str, options: AccountOptions, rng: random.Random, clock: VirtualClock) -> None:
        super().__init__(name, options, rng, clock)
        self._active: dict[str, Account] = {}

    def handlers(self) -> dict[str, Handler]:
        return {"create": self.create, "delete": self.delete}

    def load(self, rows: Iterable[Row]) -> None:
        loaded = list(rows)
        super().load(loaded)
        for row in loaded:
            if isinstance(row, Account) and row.status == "active":
                self._active[row.username] = row

    def create(self, call: Call) -> tuple[Result, list[Row]]:
        username = params.text(call.params, "username")
        if username in self.options.reserved_usernames:
            raise ServiceError(ErrorKind.VALIDATION, f"username reserved: {username}", code="username_reserved")
        if username in self._active:
            raise ServiceError(ErrorKind.PERMANENT, f"username taken: {username}", code="username_taken")
        account = Account(call.saga_id, call.step, self.new_id(Account), username, "active", self.clock.now())
        self.created(account)
        self._active[username] = account
        return {"account_id": account.account_id, "username": username}, [account]

    def delete(self, call: Call) -> tuple[Result, list[Row]]:
        accounts: list[Account] = self.created_by(call, Account)
        changed: list[Row] = []
        for account in accounts:
            if account.status == "active":
                account.status = "deleted"
                del self._active[account.username]
                changed.append(account)
        return {"outcome": "completed", "account_id": accounts[-1].account_id if accounts else None}, changed
