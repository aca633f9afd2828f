"""What users read: durations in one format everywhere, names joined rather than shown as Python lists,
unit counts as whole numbers and only money with cents."""

from __future__ import annotations

import pytest

from sagatui.event_lines import describe
from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind
from sagatui.store.summaries import ActivityTotal
from sagatui.tui.timeline import build_timeline
from sagatui.tui.widgets.resources import ResourcePanel


def event(kind: EventKind, **fields: object) -> Event:
    return Event(run_id=1, seq=1, time=1.0, kind=kind, saga_id="S-0001", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.25, "250ms"), (0.0004, "0ms"), (0.9999, "1s"), (1.0, "1s"), (2.5, "2.5s"), (59.9, "59.9s"),
    (59.97, "1m"), (90, "1m30s"), (119.7, "2m"), (3600, "1h0m"), (3599.7, "1h0m"), (5460, "1h31m"),
])
def test_durations_read_the_same_everywhere(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_event_lines_and_timeline_write_delays_and_names_as_people_do() -> None:
    retry = event(EventKind.RETRY_SCHEDULED, step="charge", attempt=23, data={"delay": 3600.0})
    assert describe(retry).endswith("attempt 23 in 1h0m")
    assert build_timeline([retry]).forward[0].detail == "attempt 23 after 1h0m"
    ended = event(EventKind.COMPENSATION_ENDED, step="reserve", attempt=1,
                  data={"outcome": "partial", "not_undone": ["WIDGET", "GADGET"]})
    assert describe(ended).endswith("partial after 1 attempt(s), not undone: WIDGET, GADGET")
    assert build_timeline([ended]).forward[0].detail.endswith("not undone: WIDGET, GADGET")
    took = event(EventKind.ATTEMPT_SUCCEEDED, step="charge", attempt=1, service="payment", operation="charge",
                 data={"duration": 0.25})
    assert build_timeline([took]).forward[0].detail == "ok payment.charge (250ms)"


def test_resource_counts_are_whole_numbers_and_only_amounts_are_money() -> None:
    shown: dict[str, dict[str, tuple[object, ...]]] = {}
    panel = ResourcePanel()
    panel._section = lambda key, rows: shown.__setitem__(key, rows)  # type: ignore[method-assign]
    panel.show({"stock": [{"service": "inventory", "sku": "WIDGET", "initial": 5.0, "available": 4.0,
                           "reserved": 1.0, "shipped": 0.0}],
                "capacity": [{"service": "hotel", "capacity": 10.0, "booked": 2.0}],
                "balances": [{"service": "bank", "account": "A", "initial": 1000.0, "balance": 999.5}]},
               [ActivityTotal(table="reservations", service="inventory", state="reserved", rows=2, total=3),
                ActivityTotal(table="payments", service="payment", state="charged", rows=1, total=1299.99)],
               [{"reservation_id": "R1", "sku": "WIDGET", "quantity": 1.0, "saga_id": "S-0001"}])
    assert [str(cell) for cell in shown["stock"]["inventory/WIDGET"][2:]] == ["5", "4", "1", "0"]
    assert [str(cell) for cell in shown["capacity"]["hotel"][1:]] == ["10", "2", "8"]
    assert [str(cell) for cell in shown["balances"]["bank/A"][2:]] == ["1,000.00", "999.50"]
    assert str(shown["held"]["0"][2]) == "1"
    assert [str(cell) for cell in shown["activity"]["reservations/inventory/reserved"][3:]] == ["2", "3"]
    assert [str(cell) for cell in shown["activity"]["payments/payment/charged"][3:]] == ["1", "1,299.99"]


def test_values_in_event_lines_and_timeline_are_never_python_reprs() -> None:
    command = event(EventKind.COMMAND, data={"name": "set_fault",
                                             "args": {"service": "payment", "profile": {"mode": "offline"}}})
    assert describe(command).endswith("set_fault service=payment profile=offline")  # the profile's label
    degraded = event(EventKind.COMMAND, data={"name": "set_fault", "args": {
        "service": "payment", "profile": {"mode": "degraded", "error_rate": 0.3, "latency": 0.1}}})
    assert describe(degraded).endswith("set_fault service=payment profile=degraded 30% +100ms")
    odd = event(EventKind.COMMAND, data={"name": "other", "args": {"profile": {"mode": "nonsense"}}})
    assert describe(odd).endswith('other profile={"mode": "nonsense"}')
    started = event(EventKind.SAGA_STARTED, data={"saga": "order", "input": {"items": {"LAPTOP-001": 1},
                                                                             "gift": True}})
    assert build_timeline([started]).forward[0].detail == 'saga order: items={"LAPTOP-001": 1}, gift=true'
