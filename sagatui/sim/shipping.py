"""Shipping: shipments that can be cancelled until they are dispatched.

- `create_shipment(region, address?, items?)`: a region in `restricted_regions` fails permanently
  ("restricted delivery area"); `transient_error_rate` makes a seeded share fail transiently
  ("address validation failed" or "carrier unavailable"). Result `{"shipment_id", "tracking_number"}`.
- `cancel_shipment` (undoes create): cancels what that step created. A shipment older than
  `dispatch_after` has left: permanent error "already dispatched", nothing changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim import params
from sagatui.sim.catalog import ShippingOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow

_TRANSIENT_FAILURES = ("address validation failed", "carrier unavailable")


@dataclass
class Shipment(StepRow):
    table: ClassVar[str] = "shipments"
    key_columns: ClassVar[tuple[str, ...]] = ("shipment_id",)
    holding: ClassVar[tuple[str, ...]] = ("created",)
    id_prefix: ClassVar[str | None] = "SHP"
    shipment_id: str
    tracking_number: str
    region: str
    address: str | None  # JSON, as given
    items: str | None  # JSON, as given
    status: str  # created | cancelled
    created_at: float
    cancelled_at: float | None


class ShippingService(SimService):
    kind = "shipping"
    row_types = (Shipment,)
    options: ShippingOptions

    def handlers(self) -> dict[str, Handler]:
        return {"create_shipment": self.create_shipment, "cancel_shipment": self.cancel_shipment}

    def create_shipment(self, call: Call) -> tuple[Result, list[Row]]:
        region = params.text(call.params, "region", "")
        if region in self.options.restricted_regions:
            raise ServiceError(ErrorKind.PERMANENT, f"restricted delivery area: {region}", code="restricted_area")
        if self.options.transient_error_rate and self.rng.random() < self.options.transient_error_rate:
            raise ServiceError(ErrorKind.TRANSIENT, self.rng.choice(_TRANSIENT_FAILURES), code="shipping_unavailable")
        shipment_id = self.new_id(Shipment)
        shipment = Shipment(call.saga_id, call.step, shipment_id, f"TRK{shipment_id.rpartition('-')[2]:0>9}",
                            region, _json_or_none(call.params.get("address")), _json_or_none(call.params.get("items")),
                            "created", self.clock.now(), None)
        self.created(shipment)
        return {"shipment_id": shipment_id, "tracking_number": shipment.tracking_number}, [shipment]

    def cancel_shipment(self, call: Call) -> tuple[Result, list[Row]]:
        shipments = [shipment for shipment in self.created_by(call, Shipment) if shipment.status == "created"]
        if any(self._dispatched(shipment) for shipment in shipments):
            raise ServiceError(ErrorKind.PERMANENT, "already dispatched", code="already_dispatched")
        for shipment in shipments:
            shipment.status, shipment.cancelled_at = "cancelled", self.clock.now()
        cancelled = self.created_by(call, Shipment)
        written: list[Row] = list(shipments)
        return {"outcome": "completed", "shipment_id": cancelled[-1].shipment_id if cancelled else None}, written

    def _dispatched(self, shipment: Shipment) -> bool:
        after = self.options.dispatch_after
        return after is not None and self.clock.now() - shipment.created_at >= after


def _json_or_none(value: object) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))
