"""What one run left in the world, read from its resource tables: the rows no saga owns (stock, capacity,
balances), and each row a saga's step created that still holds something a rollback must give back (a
charge, a reservation, a sent message). `sagatui prove` compares them before and after a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sagatui.sim.account import Account
from sagatui.sim.booking import Booking, Capacity
from sagatui.sim.inventory import ReservationLine, Stock
from sagatui.sim.ledger import Balance, Entry
from sagatui.sim.notification import Message
from sagatui.sim.orders import Order
from sagatui.sim.payment import Payment, Refund
from sagatui.sim.service import Row, StepRow
from sagatui.sim.shipping import Shipment
from sagatui.store.database import Store
from sagatui.store.queries import resource_rows

SHARED_ROWS: tuple[type[Row], ...] = (Stock, Capacity, Balance)
"""The rows no saga owns: counters every saga moves, which a rolled-back saga must leave as it found them."""

STEP_ROWS: tuple[type[StepRow], ...] = (ReservationLine, Payment, Refund, Shipment, Booking, Account, Order, Message,
                                        Entry)
"""The rows a saga's step creates (see StepRow.holds for which still hold something)."""


def _timeless(row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A row without its clock times (when a row was last touched is no part of what it holds)."""
    return tuple(sorted((name, value) for name, value in row.items() if name != "at" and not name.endswith("_at")))


@dataclass(frozen=True)
class Holding:
    """A row saga `saga_id`'s step `step` created that still holds something."""

    saga_id: str
    step: str
    table: str
    service: str
    name: str  # the row's key: PAY-000001, or RES-000001 LAPTOP-001
    status: str | None

    def __str__(self) -> str:
        status = f" {self.status}" if self.status else ""
        return f"{self.step}: {self.service} {self.table} {self.name}{status}"

    @property
    def what(self) -> tuple[str, str, str, str | None]:
        """What it is, whatever its id: two runs that did the same hold the same."""
        return self.step, self.table, self.service, self.status


@dataclass(frozen=True)
class World:
    shared: dict[str, tuple[tuple[tuple[str, Any], ...], ...]]  # table -> its rows, without clock times
    holdings: tuple[Holding, ...]

    @classmethod
    async def read(cls, store: Store, run_id: int) -> World:
        shared = {row_type.table: tuple(sorted(_timeless(row) for row in await resource_rows(store, run_id,
                                                                                              row_type.table)))
                  for row_type in SHARED_ROWS}
        holdings = []
        for row_type in STEP_ROWS:
            for row in await resource_rows(store, run_id, row_type.table):
                if row_type.from_row(row).holds():
                    name = " ".join(str(row[column]) for column in row_type.key_columns)
                    holdings.append(Holding(row["saga_id"], row["step"], row_type.table, row["service"], name,
                                            row.get("status")))
        return cls(shared, tuple(holdings))

    def shared_changes(self, before: World) -> list[str]:
        """How the rows no saga owns differ from `before`'s, one line a row."""
        changes = []
        for table, rows in self.shared.items():
            was = before.shared.get(table, ())
            changes += [f"{table}: {dict(row)} was {_nearest(row, was)}" for row in rows if row not in was]
            changes += [f"{table}: {dict(row)} is gone" for row in was if row not in rows and not
                        any(_same_key(row, now) for now in rows)]
        return changes

    def same_as(self, other: World) -> list[str]:
        """How this world differs from `other`'s (ids aside), one line a difference."""
        changes = self.shared_changes(other)
        mine, theirs = sorted(h.what for h in self.holdings), sorted(h.what for h in other.holdings)
        if mine != theirs:
            changes.append(f"holds {', '.join(map(str, self.holdings)) or 'nothing'}; the run never killed held "
                           f"{', '.join(map(str, other.holdings)) or 'nothing'}")
        return changes


def _same_key(row: tuple[tuple[str, Any], ...], other: tuple[tuple[str, Any], ...]) -> bool:
    """Rows of the same thing (the same service and SKU, account...): every text column alike."""
    return [item for item in row if isinstance(item[1], str)] == [item for item in other if isinstance(item[1], str)]


def _nearest(row: tuple[tuple[str, Any], ...], was: tuple[tuple[tuple[str, Any], ...], ...]) -> str:
    for other in was:
        if _same_key(row, other):
            return str({name: value for name, value in other if (name, value) not in row})
    return "not there"
