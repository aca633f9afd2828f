"""The small protocols through which the engine reaches a store and services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sagatui.model.calls import Call
from sagatui.model.effects import RowWrite
from sagatui.model.events import Event


class EventSink(Protocol):
    """Where events go to become durable, in the order appended."""

    def append(self, event: Event, effects: Sequence[RowWrite] = ()) -> None:
        """Queue the event (and the row writes of the effect it records) for one atomic commit."""

    async def durable(self, seq: int) -> None:
        """Return once the event `seq` and every one before it are committed."""


class Services(Protocol):
    """The services a saga calls: raise ServiceError on failure, return the operation's result."""

    async def invoke(self, call: Call) -> dict[str, Any]: ...
