"""The shape of a scenario pack: services, breakers, saga definitions and scenarios. Data only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, NonNegativeInt, PositiveInt, field_validator, model_validator

from sagatui.model.definitions import Definition, SagaDef
from sagatui.model.durations import Duration
from sagatui.model.faults import FaultProfile
from sagatui.model.policies import BreakerConfig, BulkheadConfig
from sagatui.model.saga_ids import saga_number
from sagatui.model.status import InvariantState, SagaStatus

InvariantName = Literal["stock_conserved", "nothing_leaked", "charges_refunded", "all_terminal"]
ALL_INVARIANTS: tuple[InvariantName, ...] = ("stock_conserved", "nothing_leaked", "charges_refunded", "all_terminal")


class ServiceDef(Definition):
    """One simulated service: its kind, kind-specific options, normal latency and starting fault."""

    kind: str
    description: str = ""
    options: dict[str, Any] = Field(default_factory=dict)
    fault: FaultProfile = FaultProfile()
    breaker: str | None = None  # a named breaker from the pack; default: the service's own
    bulkhead: BulkheadConfig | None = None  # a limit on calls in flight to it; default: none


class WeightedInput(Definition):
    weight: float = Field(1.0, gt=0, le=1_000_000)  # weights are summed: a sum must stay finite
    input: dict[str, Any]


class Workload(Definition):
    """Many sagas arriving at `rate` per clock second, each input drawn (seeded) from `variations`."""

    count: int = Field(ge=1, le=100_000)
    rate: float = Field(50.0, ge=0.001, le=1_000_000)  # 1 / rate is the clock time between arrivals
    variations: tuple[WeightedInput, ...] = Field(min_length=1)


class FaultChange(Definition):
    """At clock time `at`, set `service` to `profile`."""

    at: Duration
    service: str
    profile: FaultProfile


class ServiceChange(Definition):
    """At clock time `at`, update `service`'s options with the keys given (the rest kept), and add units to
    an inventory's stock (`restock`). Checked against the service's kind when the pack loads."""

    at: Duration
    service: str
    options: dict[str, Any] = Field(default_factory=dict)
    restock: dict[str, PositiveInt] = Field(default_factory=dict)  # inventory: SKU -> units added

    @model_validator(mode="after")
    def _changes_something(self) -> ServiceChange:
        if not self.options and not self.restock:
            raise ValueError("a change needs options to set or a restock (or both)")
        return self


ActivityTable = Literal["reservations", "payments", "refunds", "shipments", "bookings", "accounts", "orders",
                        "messages", "ledger_entries"]
StockColumn = Literal["available", "reserved", "shipped"]
CountedMetric = Literal["sagas", "attempts", "retries", "breaker_trips", "rejected_calls", "fallbacks"]


class TableExpectations(Definition):
    """The end state of the resource tables, each summed over the services that keep it."""

    stock: dict[str, dict[StockColumn, NonNegativeInt]] = Field(default_factory=dict)  # sku -> columns
    balances: dict[str, float] = Field(default_factory=dict)  # account -> balance
    booked: dict[str, NonNegativeInt] = Field(default_factory=dict)  # booking service -> units booked
    # table -> rows by their status (or kind), or `all` of them: payments: {refunded: 1}, refunds: {all: 1}
    rows: dict[ActivityTable, dict[str, NonNegativeInt]] = Field(default_factory=dict)


class Expectations(Definition):
    statuses: tuple[SagaStatus, ...] | None = None  # the final status of each saga, in start order
    counts: dict[SagaStatus, NonNegativeInt] | None = None  # how many sagas end in each status
    # The state each named invariant must end in: a list names those that must be ok; a mapping may also
    # say `held` (what sagas needing attention still hold) or `fail`. Default: all four ok.
    invariants: dict[InvariantName, InvariantState] = Field(
        default_factory=lambda: dict.fromkeys(ALL_INVARIANTS, InvariantState.OK))
    max_retries: NonNegativeInt | None = None  # retries (attempts beyond the first) summed over the run
    compensation_order: tuple[str, ...] | None = None  # steps compensated, in order, for each rolled-back saga
    breaker_trips: NonNegativeInt | None = None  # at least this many breaker openings
    # Exact figures of the run's metrics (`breaker_trips: 2` here means exactly two).
    metrics: dict[CountedMetric, NonNegativeInt] = Field(default_factory=dict)
    compensation_orders: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # saga id -> steps, in order
    tables: TableExpectations | None = None

    @field_validator("invariants", mode="before")
    @classmethod
    def _listed_means_ok(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and all(isinstance(name, str) for name in value):
            return dict.fromkeys(value, InvariantState.OK.value)
        return value  # anything else is for the schema to refuse, with the field it is in


class TimedInput(Definition):
    """A fixed input started at clock time `at` rather than when the scenario starts."""

    at: Duration
    input: dict[str, Any]


def _saga_id(value: str) -> str:
    """A saga id as a scenario names one: S-0001 is the run's first saga."""
    if saga_number(value) is None:
        raise ValueError(f"{value!r} is not a saga id: write S-0001 for a run's first saga")
    return value


SagaId = Annotated[str, AfterValidator(_saga_id)]


class ScriptedCancel(Definition):
    """At clock time `at` after its scenario starts, an operator cancels saga `saga` (as the dashboard's
    ctrl+k does): it takes no further step, undoes what it did and ends cancelled. A saga that is not
    going forward then (ended, rolling back) is left as it is."""

    at: Duration
    saga: SagaId
    note: str = ""



class ScriptedDecision(Definition):
    """At clock time `at` after its scenario starts, an operator decides the approval saga `saga` waits at
    (as `sagatui saga approve|reject` does). A saga not waiting at an approval then is left as it is."""

    at: Duration
    saga: SagaId
    approve: bool
    note: str = ""



class Scenario(Definition):
    description: str = ""
    saga: str
    # Each an input started at once, or `{at: 2s, input: {...}}` started then.
    inputs: tuple[TimedInput | dict[str, Any], ...] = ()
    workload: Workload | None = None
    faults: tuple[FaultChange, ...] = ()
    changes: tuple[ServiceChange, ...] = ()  # scheduled changes of the services' options and rows
    decisions: tuple[ScriptedDecision, ...] = ()  # an operator's decisions on approval steps, scripted
    cancels: tuple[ScriptedCancel, ...] = ()  # an operator's cancels, scripted
    expect: Expectations = Expectations()

    def fixed_inputs(self) -> list[TimedInput]:
        """The fixed inputs, each with the clock time it starts at (0: when the scenario starts)."""
        return [written if isinstance(written, TimedInput) else TimedInput(at=0.0, input=written)
                for written in self.inputs]

    @model_validator(mode="after")
    def _inputs_or_workload(self) -> Scenario:
        if bool(self.inputs) == (self.workload is not None):
            raise ValueError("a scenario needs either inputs or a workload (exactly one)")
        return self


class Pack(Definition):
    name: str
    description: str = ""
    default_scenario: str | None = None
    services: dict[str, ServiceDef] = Field(min_length=1)
    breakers: dict[str, BreakerConfig] = Field(default_factory=dict)
    sagas: dict[str, SagaDef] = Field(min_length=1)
    scenarios: dict[str, Scenario] = Field(min_length=1)
