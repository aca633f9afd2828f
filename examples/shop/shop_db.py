"""The shop's own database (SQLite through aiosqlite): its orders, each created once per idempotency key.

An order is `pending` when created, `confirmed` once it is paid and shipped, `cancelled` when the checkout
was rolled back. Every write is idempotent: creating again with the same key answers the order made the
first time, confirming a confirmed order or cancelling a cancelled one changes nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiosqlite

OrderStatus = Literal["pending", "confirmed", "cancelled"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id        TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    saga_id         TEXT NOT NULL,
    customer        TEXT NOT NULL,
    amount          REAL NOT NULL CHECK (amount > 0),
    address         TEXT NOT NULL,
    region          TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    charge_id       TEXT,
    shipment_id     TEXT,
    cancel_reason   TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_saga ON orders (saga_id);
"""


class OrderNotFound(LookupError):
    """No order with that id (or for that saga)."""


class OrderClosed(Exception):
    """The order cannot go where it was asked to (confirming a cancelled order)."""


@dataclass(frozen=True)
class Order:
    order_id: str
    saga_id: str
    customer: str
    amount: float
    address: str
    region: str | None
    status: OrderStatus
    charge_id: str | None
    shipment_id: str | None
    cancel_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class ShopDB:
    """The orders table of one shop database. `await ShopDB.open(path)`, then `close()`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._writing = asyncio.Lock()  # one connection: a transaction at a time

    @classmethod
    async def open(cls, path: Path) -> ShopDB:
        db = await aiosqlite.connect(path, isolation_level=None)
        db.row_factory = aiosqlite.Row
        await db.execute("PRAGMA journal_mode = WAL")
        await db.executescript(SCHEMA)
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def create_order(self, key: str, saga_id: str, *, customer: str, amount: float, address: str,
                           region: str | None) -> Order:
        """A new pending order, or the one created with `key` before (its first values kept)."""
        async with self._writing:
            await self._db.execute(
                "INSERT INTO orders (order_id, idempotency_key, saga_id, customer, amount, address, region, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (idempotency_key) DO NOTHING",
                (f"ord_{uuid.uuid4().hex[:10]}", key, saga_id, customer, amount, address, region))
        found = await self._one("SELECT * FROM orders WHERE idempotency_key = ?", key)
        assert found is not None, "an insert or its conflict leaves the row"
        return found

    async def confirm_order(self, order_id: str, *, charge_id: str, shipment_id: str) -> Order:
        """Mark it paid and shipped. OrderClosed if it was cancelled meanwhile."""
        async with self._writing:
            order = await self.order(order_id)
            if order.status == "cancelled":
                raise OrderClosed(f"order {order_id} was cancelled: it cannot be confirmed")
            await self._db.execute("UPDATE orders SET status = 'confirmed', charge_id = ?, shipment_id = ?"
                                   " WHERE order_id = ?", (charge_id, shipment_id, order_id))
        return await self.order(order_id)

    async def cancel_order(self, order_id: str, reason: str) -> Order:
        """Cancel it (confirmed too: the checkout that confirmed it is being rolled back); once only."""
        async with self._writing:
            await self._db.execute("UPDATE orders SET status = 'cancelled', cancel_reason = ?"
                                   " WHERE order_id = ? AND status != 'cancelled'", (reason, order_id))
        return await self.order(order_id)

    async def order(self, order_id: str) -> Order:
        found = await self._one("SELECT * FROM orders WHERE order_id = ?", order_id)
        if found is None:
            raise OrderNotFound(f"no order {order_id}")
        return found

    async def order_by_key(self, key: str) -> Order | None:
        """The order created with idempotency key `key` (None: none was)."""
        return await self._one("SELECT * FROM orders WHERE idempotency_key = ?", key)

    async def orders(self) -> list[Order]:
        async with self._db.execute("SELECT * FROM orders ORDER BY rowid") as cursor:
            return [_order(row) for row in await cursor.fetchall()]

    async def _one(self, sql: str, *parameters: Any) -> Order | None:
        async with self._db.execute(sql, parameters) as cursor:
            row = await cursor.fetchone()
        return _order(row) if row is not None else None


def _order(row: aiosqlite.Row) -> Order:
    values = dict(row)
    values.pop("idempotency_key")
    return Order(**values)
