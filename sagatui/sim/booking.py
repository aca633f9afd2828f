"""Booking: units of a limited capacity (seats on a flight, hotel rooms, cars).

- `book(quantity=1)`: more than the capacity left fails permanently ("fully booked").
- `cancel` (undoes book): gives that step's booked units back.
- A scenario's change of `capacity` to n sets the capacity row to n. Nothing booked is ever taken
  back: with more than n units booked then, the capacity stays at what is booked (so nothing can be
  booked) and shrinks to n as cancellations give units back. Booked never exceeds the capacity.
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
from sagatui.sim.catalog import BookingOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Capacity(Row):
    table: ClassVar[str] = "capacity"
    key_columns: ClassVar[tuple[str, ...]] = ()
    capacity: int
    booked: int


@dataclass
class Booking(StepRow):
    table: ClassVar[str] = "bookings"
    key_columns: ClassVar[tuple[str, ...]] = ("booking_id",)
    holding: ClassVar[tuple[str, ...]] = ("booked",)
    id_prefix: ClassVar[str | None] = "BKG"
    booking_id: str
    quantity: int
    status: str  # booked | cancelled
    booked_at: float


class BookingService(SimService):
    kind = "booking"
    row_types = (Capacity, Booking)
    options: BookingOptions

    def __init__(self, name: str, options: BookingOptions, rng: random.Random, clock: VirtualClock) -> None:
        super().__init__(name, options, rng, clock)
        self.capacity = Capacity(options.capacity, 0)

    def handlers(self) -> dict[str, Handler]:
        return {"book": self.book, "cancel": self.cancel}

    def initial_rows(self) -> list[Row]:
        return [self.capacity]

    def load(self, rows: Iterable[Row]) -> None:
        loaded = list(rows)
        super().load(loaded)
        for row in loaded:
            if isinstance(row, Capacity):
                self.capacity = row

    def book(self, call: Call) -> tuple[Result, list[Row]]:
        quantity = params.count(call.params, "quantity", 1)
        left = max(0, self.capacity.capacity - self.capacity.booked)
        if quantity > left:
            raise ServiceError(ErrorKind.PERMANENT, f"fully booked ({left} left, {quantity} wanted)",
                               code="fully_booked")
        self.capacity.booked += quantity
        booking = Booking(call.saga_id, call.step, self.new_id(Booking), quantity, "booked", self.clock.now())
        self.created(booking)
        return {"booking_id": booking.booking_id, "quantity": quantity}, [self.capacity, booking]

    def cancel(self, call: Call) -> tuple[Result, list[Row]]:
        bookings: list[Booking] = self.created_by(call, Booking)
        changed: list[Row] = []
        for booking in bookings:
            if booking.status == "booked":
                booking.status = "cancelled"
                self.capacity.booked -= booking.quantity
                self._shrink()
                changed += [self.capacity, booking]
        return {"outcome": "completed", "booking_id": bookings[-1].booking_id if bookings else None}, changed

    def change(self, options: Definition, restock: Mapping[str, int]) -> list[Row]:
        """A scenario's change: a new `capacity` is the capacity row's, but never below what is booked."""
        super().change(options, restock)
        if self.options.capacity == self.capacity.capacity:
            return []
        self.capacity.capacity = max(self.options.capacity, self.capacity.booked)
        return [self.capacity]

    def _shrink(self) -> None:
        """A capacity held above its option by the bookings of a change's moment comes down as they go."""
        if self.capacity.capacity > self.options.capacity:
            self.capacity.capacity = max(self.options.capacity, self.capacity.booked)
