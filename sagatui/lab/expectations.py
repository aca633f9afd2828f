"""Checking a scenario's expectations against what the run did: statuses, counts, invariants,
retry limits, compensation order and breaker trips. Each check says what was expected and what came."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sagatui.engine.metrics import RunMetrics
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import SagaEnded
from sagatui.model.status import InvariantState, SagaStatus
from sagatui.packs.model import ALL_INVARIANTS, Expectations, TableExpectations
from sagatui.store.summaries import Resources


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    expected: Any
    actual: Any

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "expected": self.expected, "actual": self.actual}


class SagaOutcomes:
    """What expectations need of a run, folded event by event (a bus listener), so a long run's events
    are not all held in memory: each saga's last status, in start order, and the steps whose
    compensation ran, in the order they ran."""

    def __init__(self) -> None:
        self.statuses: dict[str, SagaStatus] = {}
        self.orders: dict[str, list[str]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}  # what each completed saga with an `output` returned

    def add(self, event: Event) -> None:
        if event.saga_id is None:
            return
        if event.kind is EventKind.SAGA_STARTED:
            self.statuses[event.saga_id] = SagaStatus.RUNNING
        elif (status := event.saga_status) is not None:
            self.statuses[event.saga_id] = status
            went_on = event.kind in (EventKind.SAGA_COMPLETED, EventKind.SAGA_COMPLETED_PARTIAL)
            if went_on and (output := event.payload_as(SagaEnded).output):
                self.outputs[event.saga_id] = output
        elif event.kind is EventKind.COMPENSATION_STARTED and event.step:
            self.orders.setdefault(event.saga_id, []).append(event.step)

    @classmethod
    def of(cls, events: Iterable[Event]) -> SagaOutcomes:
        outcomes = cls()
        for event in events:
            outcomes.add(event)
        return outcomes


def compensation_orders(events: Iterable[Event]) -> dict[str, list[str]]:
    """For each saga, the steps whose compensation ran, in the order they ran."""
    return SagaOutcomes.of(events).orders


def final_statuses(events: Iterable[Event]) -> dict[str, SagaStatus]:
    """Each saga's last status, in the order the sagas started."""
    return SagaOutcomes.of(events).statuses


def check_expectations(
    expect: Expectations, outcomes: SagaOutcomes, metrics: RunMetrics, invariants: dict[str, InvariantState],
    resources: Resources | None = None,
) -> list[Check]:
    checks: list[Check] = []
    statuses = outcomes.statuses
    if expect.statuses is not None:
        actual = [status.value for status in statuses.values()]
        expected = [status.value for status in expect.statuses]
        checks.append(Check("statuses", actual == expected, expected, actual))
    if expect.counts is not None:
        counted = Counter(status.value for status in statuses.values())
        expected_counts = {status.value: n for status, n in expect.counts.items()}
        actual_counts = {name: counted.get(name, 0) for name in expected_counts}
        checks.append(Check("counts", actual_counts == expected_counts, expected_counts, actual_counts))
    for name, expected_state in expect.invariants.items():
        state = invariants.get(name)
        label = f"invariant {name}" + ("" if expected_state is InvariantState.OK else f" {expected_state.value}")
        checks.append(Check(label, state is expected_state, expected_state.value,
                            state.value if state is not None else "not checked"))
    for own, state in invariants.items():  # the user's own (sagatui.code) must hold, as written nowhere
        if own not in expect.invariants and own not in ALL_INVARIANTS:
            checks.append(Check(f"invariant {own}", state is InvariantState.OK, InvariantState.OK.value,
                                state.value))
    if expect.max_retries is not None:
        checks.append(Check("max_retries", metrics.retries <= expect.max_retries, expect.max_retries,
                            metrics.retries))
    if expect.compensation_order is not None:
        expected_order = list(expect.compensation_order)
        rolled_back = [saga_id for saga_id, status in statuses.items()
                       if status in (SagaStatus.COMPENSATED, SagaStatus.NEEDS_ATTENTION, SagaStatus.CANCELLED)]
        orders = outcomes.orders
        wrong = {saga_id: orders.get(saga_id, []) for saga_id in rolled_back
                 if orders.get(saga_id, []) != expected_order}
        checks.append(Check("compensation_order", bool(rolled_back) and not wrong, expected_order,
                            wrong or (expected_order if rolled_back else "no saga was rolled back")))
    if expect.breaker_trips is not None:
        checks.append(Check("breaker_trips", metrics.breaker_trips >= expect.breaker_trips,
                            f">= {expect.breaker_trips}", metrics.breaker_trips))
    for metric, figure in expect.metrics.items():
        counted_figure = _counted(metrics, metric)
        checks.append(Check(f"metrics.{metric}", counted_figure == figure, figure, counted_figure))
    for saga_id, steps in expect.compensation_orders.items():
        order = outcomes.orders.get(saga_id, []) if saga_id in outcomes.statuses else "no such saga"
        checks.append(Check(f"compensation_orders.{saga_id}", order == list(steps), list(steps), order))
    if expect.tables is not None:
        checks.extend(_table_checks(expect.tables, resources))
    return checks


def _counted(metrics: RunMetrics, name: str) -> int:
    match name:
        case "sagas":
            return metrics.started
        case "attempts":
            return metrics.attempts
        case "retries":
            return metrics.retries
        case "breaker_trips":
            return metrics.breaker_trips
        case "rejected_calls":
            return metrics.rejected_calls
        case "fallbacks":
            return metrics.fallbacks
    raise AssertionError(name)  # pragma: no cover


def _table_checks(expect: TableExpectations, resources: Resources | None) -> list[Check]:
    """One check per row written: what it says against what the tables hold."""
    if resources is None:
        return [Check("tables", False, "the run's resource tables", "not read")]
    checks: list[Check] = []
    for sku, columns in expect.stock.items():
        held = resources.stock.get(sku)
        actual: Any = {column: held.get(column) for column in columns} if held is not None else "no such sku"
        checks.append(Check(f"tables.stock.{sku}", actual == dict(columns), dict(columns), actual))
    for account, balance in expect.balances.items():
        found = resources.balances.get(account)
        ok = found is not None and abs(found - balance) < 1e-6
        checks.append(Check(f"tables.balances.{account}", ok, balance,
                            found if found is not None else "no such account"))
    for service, units in expect.booked.items():
        booked = resources.booked.get(service)
        checks.append(Check(f"tables.booked.{service}", booked == units, units,
                            booked if booked is not None else "no such booking service"))
    for table, states in expect.rows.items():
        kept = resources.rows.get(table, {})
        counted = {state: kept.get(state, 0) for state in states}
        checks.append(Check(f"tables.rows.{table}", counted == dict(states), dict(states), counted))
    return checks
