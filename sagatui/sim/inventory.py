"""Inventory: stock per SKU and reservations of it.

- `reserve(items: {SKU: qty})`: each SKU is reserved whole or not at all. Nothing reservable ->
  validation error "insufficient inventory" (nothing done); some SKUs short -> a partial result
  `{"reservation_id", "reserved", "short", "partial": true}` (the step decides if that is enough).
- `release` (undoes reserve): puts that step's reserved lines back. Lines already committed cannot
  be released: some -> outcome "partial"; all -> permanent error "reservation already committed".
- `commit(skus?)`: the lines the saga holds reserved here (only those SKUs, when `skus` lists some)
  move to shipped.
- `restock` (undoes commit): the lines that commit moved go back to reserved.
- A scenario's change `restock: {SKU: n}` (not an operation: no saga calls it) adds n new units to the
  SKU: its initial and available grow by n (a SKU not stocked before starts with n).
Every stock row keeps initial = available + reserved + shipped.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from sagatui.engine.clock import VirtualClock
from sagatui.model.calls import Call
from sagatui.model.definitions import Definition
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim import params
from sagatui.sim.catalog import InventoryOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Stock(Row):
    table: ClassVar[str] = "stock"
    key_columns: ClassVar[tuple[str, ...]] = ("sku",)
    sku: str
    initial: int
    available: int
    reserved: int
    shipped: int


@dataclass
class ReservationLine(StepRow):
    """One SKU of one reservation: reserved, then released or committed."""

    table: ClassVar[str] = "reservations"
    key_columns: ClassVar[tuple[str, ...]] = ("reservation_id", "sku")
    holding: ClassVar[tuple[str, ...]] = ("reserved", "committed")
    id_prefix: ClassVar[str | None] = "RES"
    reservation_id: str
    sku: str
    quantity: int
    status: str  # reserved | released | committed
    committed_by: str | None
    updated_at: float


class InventoryService(SimService):
    kind = "inventory"
    row_types = (Stock, ReservationLine)
    options: InventoryOptions

    def __init__(self, name: str, options: InventoryOptions, rng: random.Random, clock: VirtualClock) -> None:
        super().__init__(name, options, rng, clock)
        self.stock = {sku: Stock(sku, units, units, 0, 0) for sku, units in self.options.stock.items()}
        self._lines_of_saga: dict[str, list[ReservationLine]] = {}

    def handlers(self) -> dict[str, Handler]:
        return {"reserve": self.reserve, "release": self.release, "commit": self.commit, "restock": self.restock}

    def initial_rows(self) -> list[Row]:
        return list(self.stock.values())

    def load(self, rows: Iterable[Row]) -> None:
        loaded = list(rows)
        super().load(loaded)
        for row in loaded:
            if isinstance(row, Stock):
                self.stock[row.sku] = row
            elif isinstance(row, ReservationLine):
                self._lines_of_saga.setdefault(row.saga_id, []).append(row)

    def forget(self, saga_id: str) -> None:
        super().forget(saga_id)
        self._lines_of_saga.pop(saga_id, None)

    def reserve(self, call: Call) -> tuple[Result, list[Row]]:
        wanted = params.items(call.params)
        reserved = {sku: qty for sku, qty in wanted.items() if sku in self.stock and self.stock[sku].available >= qty}
        short = {sku: qty for sku, qty in wanted.items() if sku not in reserved}
        if not reserved:
            detail = ", ".join(f"{sku} ({self._available(sku)} of {qty} available)" for sku, qty in short.items())
            raise ServiceError(ErrorKind.VALIDATION, f"insufficient inventory: {detail}", code="insufficient_inventory")
        reservation_id = self.new_id(ReservationLine)
        changed: list[Row] = []
        for sku, qty in reserved.items():
            stock = self.stock[sku]
            stock.available -= qty
            stock.reserved += qty
            line = ReservationLine(call.saga_id, call.step, reservation_id, sku, qty, "reserved", None,
                                   self.clock.now())
            self.created(line)
            self._lines_of_saga.setdefault(call.saga_id, []).append(line)
            changed += [stock, line]
        result: Result = {"reservation_id": reservation_id, "reserved": reserved, "partial": bool(short)}
        if short:
            result["short"] = short
        if self.options.prices:  # an unpriced SKU is worth 0
            result["value"] = round(sum(self.options.prices.get(sku, 0.0) * qty for sku, qty in reserved.items()), 2)
        return result, changed

    def release(self, call: Call) -> tuple[Result, list[Row]]:
        lines: list[ReservationLine] = self.created_by(call, ReservationLine)
        releasable = [line for line in lines if line.status == "reserved"]
        committed = [line for line in lines if line.status == "committed"]
        if committed and not releasable:
            raise ServiceError(ErrorKind.PERMANENT, "reservation already committed", code="already_committed")
        changed = self._move(releasable, "released", None)
        released = _by_sku(releasable)
        if not committed:
            return {"outcome": "completed", "released": released}, changed
        return {"outcome": "partial", "released": released, "undone": sorted(released),
                "not_undone": sorted({line.sku for line in committed})}, changed

    def commit(self, call: Call) -> tuple[Result, list[Row]]:
        skus = call.params.get("skus")
        if skus is not None and not (isinstance(skus, list) and all(isinstance(sku, str) for sku in skus)):
            raise params.invalid(f"skus must be a list of SKUs, not {skus!r}")
        lines = [line for line in self._lines_of_saga.get(call.saga_id, ())
                 if line.status == "reserved" and (skus is None or line.sku in skus)]
        if not lines:
            raise ServiceError(ErrorKind.VALIDATION, "nothing reserved to commit", code="nothing_reserved")
        return {"committed": _by_sku(lines)}, self._move(lines, "committed", call.step)

    def restock(self, call: Call) -> tuple[Result, list[Row]]:
        lines = [line for line in self._lines_of_saga.get(call.saga_id, ())
                 if line.status == "committed" and line.committed_by == call.step]
        return {"outcome": "completed", "restocked": _by_sku(lines)}, self._move(lines, "reserved", None)

    def change(self, options: Definition, restock: Mapping[str, int]) -> list[Row]:
        """A scenario's change: `restock` adds new units (initial and available grow alike, so the stock
        stays conserved). `stock` seeds the rows at the start only: a change may not set it (the pack
        check refuses it), so the options kept are the ones the rows began from."""
        super().change(options, {})
        changed: list[Row] = []
        for sku, units in restock.items():
            stock = self.stock.get(sku)
            if stock is None:
                stock = self.stock[sku] = Stock(sku, 0, 0, 0, 0)
            stock.initial += units
            stock.available += units
            changed.append(stock)
        return changed

    def _move(self, lines: list[ReservationLine], status: str, committed_by: str | None) -> list[Row]:
        """Move lines to `status`, shifting their units between the stock columns to match."""
        changed: list[Row] = []
        for line in lines:
            stock = self.stock[line.sku]
            setattr(stock, _COLUMN[line.status], getattr(stock, _COLUMN[line.status]) - line.quantity)
            setattr(stock, _COLUMN[status], getattr(stock, _COLUMN[status]) + line.quantity)
            line.status, line.committed_by, line.updated_at = status, committed_by, self.clock.now()
            changed += [stock, line]
        return changed

    def _available(self, sku: str) -> int:
        return self.stock[sku].available if sku in self.stock else 0


_COLUMN = {"reserved": "reserved", "released": "available", "committed": "shipped"}


def _by_sku(lines: list[ReservationLine]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return totals
