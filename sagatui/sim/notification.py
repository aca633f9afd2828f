"""Notification (email): messages cannot be unsent, so the undo of a send is a correction.

- `send(customer?, template?)`: records a message to `customer` (default "customer") using
  `template` (default the step name). `failure_rate` makes a seeded share fail transiently.
- `send_correction` (undoes send): sends one correction referring to the message that step sent;
  nothing was sent -> completed, nothing to correct. Used as an action, it sends a standalone one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim import params
from sagatui.sim.catalog import NotificationOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Message(StepRow):
    table: ClassVar[str] = "messages"
    key_columns: ClassVar[tuple[str, ...]] = ("message_id",)
    id_prefix: ClassVar[str | None] = "MSG"
    message_id: str
    recipient: str
    template: str
    kind: str  # message | correction
    corrects: str | None
    sent_at: float

    def holds(self) -> bool:
        """A message sent stays sent: nothing gives it back (a correction is one more message)."""
        return True


class NotificationService(SimService):
    kind = "notification"
    row_types = (Message,)
    options: NotificationOptions

    def handlers(self) -> dict[str, Handler]:
        return {"send": self.send, "send_correction": self.send_correction}

    def send(self, call: Call) -> tuple[Result, list[Row]]:
        message = self._message(call, "message", None)
        return {"message_id": message.message_id}, [message]

    def send_correction(self, call: Call) -> tuple[Result, list[Row]]:
        if not call.is_compensation:
            message = self._message(call, "correction", None)
            return {"message_id": message.message_id, "corrects": None}, [message]
        sent: list[Message] = self.created_by(call, Message)
        originals = [message for message in sent if message.kind == "message"]
        done = [message for message in sent if message.kind == "correction"]
        if not originals or done:
            return {"outcome": "completed", "message_id": done[-1].message_id if done else None,
                    "corrects": originals[-1].message_id if originals else None}, []
        correction = self._message(call, "correction", originals[-1].message_id)
        return {"outcome": "completed", "message_id": correction.message_id, "corrects": correction.corrects}, [
            correction]

    def _message(self, call: Call, kind: str, corrects: str | None) -> Message:
        recipient = params.text(call.params, "customer", "customer")
        template = params.text(call.params, "template", call.step)
        if self.options.failure_rate and self.rng.random() < self.options.failure_rate:
            raise ServiceError(ErrorKind.TRANSIENT, "email service temporarily unavailable", code="email_unavailable")
        message = Message(call.saga_id, call.step, self.new_id(Message), recipient, template, kind, corrects,
                          self.clock.now())
        self.created(message)
        return message
