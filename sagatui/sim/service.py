"""What every simulated service shares: rows held in memory and mirrored to the store, idempotency by
key, ids from a counter, and the index of what each saga step created (what its undo must find).

State lives in memory and is authoritative while a run is going; an operation checks and changes it
without awaiting, so concurrent calls can never interleave halfway (no oversold stock). Each change
is described as RowWrites that the store commits with the event recording the effect.

What a service remembers of one saga (its calls' recorded results, the rows its steps created) is
only looked up by that saga's own calls, so the lab `forget`s it once the saga can call no more: under
an endless load, memory holds the sagas still running or waiting for an operator, and the store has
the rest.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, TypeVar

from sagatui.engine.clock import VirtualClock
from sagatui.model.calls import Call
from sagatui.model.definitions import Definition
from sagatui.model.effects import RowWrite
from sagatui.model.errors import ErrorKind, ServiceError

Result = dict[str, Any]


@dataclass
class Row:
    """One resource row of a service, held in memory; `write()` mirrors it into its table."""

    table: ClassVar[str]
    key_columns: ClassVar[tuple[str, ...]]  # with `service`, what names the row
    id_prefix: ClassVar[str | None] = None  # rows named by a counter id (`PAY-000001`) give its prefix

    def write(self, service: str) -> RowWrite:
        values = {name: getattr(self, name) for name in _columns(type(self))}
        key = {"service": service, **{name: values.pop(name) for name in self.key_columns}}
        return RowWrite(self.table, key, values)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        return cls(**{name: row[name] for name in _columns(cls)})


_COLUMNS: dict[type[Row], tuple[str, ...]] = {}  # a dataclass type, hashed as a type (its rows are not)


def _columns(row_type: type[Row]) -> tuple[str, ...]:
    columns = _COLUMNS.get(row_type)
    if columns is None:
        columns = _COLUMNS[row_type] = tuple(field.name for field in fields(row_type))
    return columns


@dataclass
class StepRow(Row):
    """A row created by one step of one saga: the thing that step's compensation undoes."""

    saga_id: str
    step: str
    # The statuses in which the row still holds what a rollback must give back (a charge, a reservation);
    # a record of what was done (a refund; a ledger entry, which the balance tells) holds nothing.
    holding: ClassVar[tuple[str, ...]] = ()

    def holds(self) -> bool:
        return getattr(self, "status", None) in self.holding


@dataclass
class Recorded(Row):
    """The result of a call, by idempotency key: a repeated key gets it back, nothing re-applied."""

    table: ClassVar[str] = "idempotency"
    key_columns: ClassVar[tuple[str, ...]] = ("key",)
    key: str
    saga_id: str
    step: str
    operation: str
    result: str
    at: float


@dataclass
class SagaMemory:
    """What a service remembers of one saga: the result of each of its calls, by idempotency key (a
    repeated key gets it back), and the rows each of its steps created, by step."""

    recorded: dict[str, str] = field(default_factory=dict)
    created: dict[str, list[StepRow]] = field(default_factory=dict)


Handler = Callable[[Call], tuple[Result, list[Row]]]
StepRowT = TypeVar("StepRowT", bound=StepRow)


class SimService(ABC):
    """Base of the simulated services. Subclasses map operation names to handlers that validate first,
    then change rows and return (result, rows changed); a handler that raises has changed nothing."""

    kind: ClassVar[str]
    row_types: ClassVar[tuple[type[Row], ...]] = ()  # what `restore` rebuilds, besides idempotency

    def __init__(self, name: str, options: Definition, rng: random.Random, clock: VirtualClock) -> None:
        self.name = name
        self.options = options
        self.rng = rng
        self.clock = clock
        self._last_id: dict[str, int] = {}
        self._sagas: dict[str, SagaMemory] = {}
        self._handlers = self.handlers()

    @abstractmethod
    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler, for every operation of this kind in the catalog."""

    def initial_rows(self) -> list[Row]:
        """Rows that exist before any call (stock, capacity, balances)."""
        return []

    def change(self, options: Definition, restock: Mapping[str, int]) -> list[Row]:
        """Take `options` (the whole of them, validated) from a scenario's scheduled change, and `restock`
        units where the kind has stock; the rows that changed with them. Subclasses whose options seed
        rows change those rows too."""
        assert not restock, f"{self.kind} has no stock to restock"
        self.options = options
        return []

    def perform(self, call: Call) -> tuple[Result, list[RowWrite]]:
        """Run the operation, or return the recorded result of its key; no writes means no effect."""
        memory = self._sagas.get(call.saga_id)
        recorded = memory.recorded.get(call.idempotency_key) if memory is not None else None
        if recorded is not None:
            return json.loads(recorded), []
        handler = self._handlers.get(call.operation)
        if handler is None:
            raise ServiceError(ErrorKind.VALIDATION, f"{self.name} ({self.kind}) has no operation {call.operation!r}")
        result, changed = handler(call)
        text = json.dumps(result, separators=(",", ":"))
        self._memory(call.saga_id).recorded[call.idempotency_key] = text
        record = Recorded(call.idempotency_key, call.saga_id, call.step, call.operation, text, self.clock.now())
        return result, [row.write(self.name) for row in (*changed, record)]

    def forget(self, saga_id: str) -> None:
        """Drop what this service remembers of a saga that will make no more calls (it ended, and no
        operator can retry its rollback); its rows stay in the store."""
        self._sagas.pop(saga_id, None)

    @property
    def sagas_remembered(self) -> int:
        """How many sagas this service holds records of in memory."""
        return len(self._sagas)

    def _memory(self, saga_id: str) -> SagaMemory:
        memory = self._sagas.get(saga_id)
        if memory is None:
            memory = self._sagas[saga_id] = SagaMemory()
        return memory

    # -- helpers for subclasses --------------------------------------------------------------------
    def new_id(self, row_type: type[Row]) -> str:
        prefix = row_type.id_prefix
        assert prefix is not None, f"{row_type.__name__} rows are not named by a counter"
        number = self._last_id.get(prefix, 0) + 1
        self._last_id[prefix] = number
        return f"{prefix}-{number:06d}"

    def created(self, row: StepRow) -> None:
        """Index a new row under the saga step that created it."""
        self._memory(row.saga_id).created.setdefault(row.step, []).append(row)

    def created_by(self, call: Call, row_type: type[StepRowT]) -> list[StepRowT]:
        """The rows of `row_type` the call's saga step created (what its compensation must undo)."""
        memory = self._sagas.get(call.saga_id)
        rows = memory.created.get(call.step, ()) if memory is not None else ()
        return [row for row in rows if isinstance(row, row_type)]

    # -- rebuilding from the store ---------------------------------------------------------------------
    def restore(self, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Rebuild the in-memory state from this service's rows, table by table (crash recovery)."""
        for recorded in rows.get(Recorded.table, ()):
            self._memory(recorded["saga_id"]).recorded[recorded["key"]] = recorded["result"]
        for row_type in self.row_types:
            self.load([row_type.from_row(row) for row in rows.get(row_type.table, ())])

    def load(self, rows: Iterable[Row]) -> None:
        """Take back rows read from the store; subclasses add them to their own indexes."""
        for row in rows:
            if isinstance(row, StepRow):
                self.created(row)
            if row.id_prefix is not None:
                number = int(str(getattr(row, row.key_columns[0])).rpartition("-")[2])
                self._last_id[row.id_prefix] = max(self._last_id.get(row.id_prefix, 0), number)
