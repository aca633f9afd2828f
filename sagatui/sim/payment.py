"""Payment: charges and their refunds.

- `charge(amount, card)`: declined cards (and amounts over `decline_over`) fail permanently;
  `flaky_cards` fail transiently on a charge's first attempt; `processing_error_rate` makes a seeded
  share of charges fail transiently ("payment processing error"). Result `{"payment_id", "amount"}`.
- `refund` (undoes charge): refunds what that step charged, once. Nothing charged -> completed with
  `refund_id: null`; already refunded -> the existing refund. A refund gateway outage is a fault
  profile on the service that targets compensations. With `refund_does_nothing` (a bug planted on
  purpose) it answers the same and refunds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim import params
from sagatui.sim.catalog import PaymentOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Payment(StepRow):
    table: ClassVar[str] = "payments"
    key_columns: ClassVar[tuple[str, ...]] = ("payment_id",)
    holding: ClassVar[tuple[str, ...]] = ("charged",)
    id_prefix: ClassVar[str | None] = "PAY"
    payment_id: str
    card: str
    amount: float
    status: str  # charged | refunded
    charged_at: float


@dataclass
class Refund(StepRow):
    table: ClassVar[str] = "refunds"
    key_columns: ClassVar[tuple[str, ...]] = ("refund_id",)
    id_prefix: ClassVar[str | None] = "REF"
    refund_id: str
    payment_id: str
    amount: float
    refunded_at: float


class PaymentService(SimService):
    kind = "payment"
    row_types = (Payment, Refund)
    options: PaymentOptions

    def handlers(self) -> dict[str, Handler]:
        return {"charge": self.charge, "refund": self.refund}

    def charge(self, call: Call) -> tuple[Result, list[Row]]:
        amount = params.amount(call.params)
        card = params.text(call.params, "card", "")
        if card in self.options.declined_cards:
            raise ServiceError(ErrorKind.PERMANENT, "card declined", code="card_declined")
        if self.options.decline_over is not None and amount > self.options.decline_over:
            raise ServiceError(ErrorKind.PERMANENT, "card declined: amount over limit", code="card_declined")
        if (card in self.options.flaky_cards and call.attempt == 1) or (
            self.options.processing_error_rate and self.rng.random() < self.options.processing_error_rate
        ):
            raise ServiceError(ErrorKind.TRANSIENT, "payment processing error", code="processing_error")
        payment = Payment(call.saga_id, call.step, self.new_id(Payment), card, amount, "charged", self.clock.now())
        self.created(payment)
        return {"payment_id": payment.payment_id, "amount": amount}, [payment]

    def refund(self, call: Call) -> tuple[Result, list[Row]]:
        changed: list[Row] = []
        refunds: list[Refund] = self.created_by(call, Refund)  # refunded before: never twice
        if self.options.refund_does_nothing:
            return {"outcome": "completed", "refund_id": None, "amount": 0.0}, changed
        for payment in self.created_by(call, Payment):
            if payment.status != "charged":
                continue
            payment.status = "refunded"
            refund = Refund(call.saga_id, call.step, self.new_id(Refund), payment.payment_id, payment.amount,
                            self.clock.now())
            self.created(refund)
            refunds.append(refund)
            changed += [payment, refund]
        return {"outcome": "completed", "refund_id": refunds[-1].refund_id if refunds else None,
                "amount": sum(refund.amount for refund in refunds)}, changed
