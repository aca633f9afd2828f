"""Aggregate reads for the dashboard's resource panel: rows per status with their totals, and the
reservations still held. Aggregates in SQL, so the panel costs the same after a million sagas."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sagatui.store.database import Store

# table -> (the column that says what state a row is in, the column worth summing), None where none
ACTIVITY_TABLES: dict[str, tuple[str | None, str | None]] = {
    "reservations": ("status", "quantity"),
    "payments": ("status", "amount"),
    "refunds": (None, "amount"),
    "shipments": ("status", None),
    "bookings": ("status", "quantity"),
    "accounts": ("status", None),
    "orders": ("status", "amount"),
    "messages": ("kind", None),
    "ledger_entries": ("kind", "amount"),
}


class ActivityTotal(BaseModel):
    table: str
    service: str
    state: str  # the status (or kind) of the rows; the table name when it has none
    rows: int
    total: float | None  # sum of the table's amount or quantity, when it has one


async def activity(store: Store, run_id: int) -> list[ActivityTotal]:
    """Row counts (and totals) per resource table, service and status, e.g. payments/charged."""
    totals: list[ActivityTotal] = []
    for table, (state, measure) in ACTIVITY_TABLES.items():
        state_sql = state or f"'{table}'"
        measure_sql = f"sum({measure})" if measure else "NULL"
        rows = await store.reader_db.execute_fetchall(
            f"SELECT service, {state_sql}, count(*), {measure_sql} FROM {table} WHERE run_id = ?"
            f" GROUP BY service, {state_sql} ORDER BY service, {state_sql}", (run_id,))
        totals.extend(ActivityTotal(table=table, service=row[0], state=row[1], rows=row[2], total=row[3])
                      for row in rows)
    return totals


class Resources(BaseModel):
    """What the resource tables hold at a moment, summed over the services that keep each."""

    stock: dict[str, dict[str, int]]  # sku -> available, reserved, shipped
    balances: dict[str, float]  # account -> balance
    booked: dict[str, int]  # booking service -> units booked
    rows: dict[str, dict[str, int]]  # table -> state (or `all`) -> rows


async def resources(store: Store, run_id: int) -> Resources:
    stock = {row[0]: {"available": row[1], "reserved": row[2], "shipped": row[3]}
             for row in await store.reader_db.execute_fetchall(
                 "SELECT sku, sum(available), sum(reserved), sum(shipped) FROM stock WHERE run_id = ?"
                 " GROUP BY sku ORDER BY sku", (run_id,))}
    balances = {row[0]: row[1] for row in await store.reader_db.execute_fetchall(
        "SELECT account, sum(balance) FROM balances WHERE run_id = ? GROUP BY account ORDER BY account", (run_id,))}
    booked = {row[0]: row[1] for row in await store.reader_db.execute_fetchall(
        "SELECT service, booked FROM capacity WHERE run_id = ? ORDER BY service", (run_id,))}
    rows: dict[str, dict[str, int]] = {}
    for total in await activity(store, run_id):
        states = rows.setdefault(total.table, {"all": 0})
        states["all"] += total.rows
        if total.state != total.table:  # a table with no state column counts only `all`
            states[total.state] = states.get(total.state, 0) + total.rows
    return Resources(stock=stock, balances=balances, booked=booked, rows=rows)


async def held_reservations(store: Store, run_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Reservations still holding stock, newest first: what a rollback must release."""
    rows = await store.reader_db.execute_fetchall(
        "SELECT service, reservation_id, sku, quantity, saga_id FROM reservations WHERE run_id = ?"
        " AND status = 'reserved' ORDER BY updated_at DESC, reservation_id DESC LIMIT ?", (run_id, limit))
    return [dict(row) for row in rows]
