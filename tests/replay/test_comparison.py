"""Replay compares every event of a run: `Event.same_as` answers what comparing `comparable()` would,
without dumping both events when their fields are equal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagatui.model.errors import ErrorKind
from sagatui.model.events import Event, EventKind

BASE = Event(run_id=1, seq=7, time=1.5, kind=EventKind.ATTEMPT_FAILED, saga_id="S-0001", step="charge",
             service="payment", operation="charge", attempt=2, error_kind=ErrorKind.TRANSIENT, message="503",
             data={"delay": 0.2, "writes": [["payments", {"id": "P-1"}, {"amount": 12.99}]]}, wall_time=100.0)

CHANGES: dict[str, Any] = {
    "seq": 8, "time": 1.6, "kind": EventKind.ATTEMPT_SUCCEEDED, "saga_id": "S-0002", "step": "ship",
    "service": "shipping", "operation": "refund", "attempt": 3, "error_kind": ErrorKind.PERMANENT, "message": "504",
    "data": {"delay": 0.4, "writes": []},
}


def test_every_field_but_wall_time_and_run_id_is_compared() -> None:
    assert set(CHANGES) == {spec.name for spec in dataclasses.fields(Event)} - {"wall_time", "run_id"}


def test_events_that_differ_only_in_run_id_and_wall_time_are_the_same() -> None:
    assert BASE.same_as(dataclasses.replace(BASE, run_id=2, wall_time=200.0))


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_in_any_compared_field_is_a_difference(name: str) -> None:
    changed = dataclasses.replace(BASE, **{name: CHANGES[name]})
    assert not BASE.same_as(changed) and not changed.same_as(BASE)
    assert BASE.comparable() != changed.comparable()


def test_a_tuple_in_data_is_the_same_as_the_list_read_back_from_a_file() -> None:
    """As in comparable(), whose JSON dump makes both a list."""
    with_tuple = dataclasses.replace(BASE, data={"delay": 0.2, "writes": [("payments", {"id": "P-1"},
                                                                          {"amount": 12.99})]})
    assert with_tuple.same_as(BASE) and BASE.same_as(with_tuple)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.0, 1.0, 0.5]) | st.sampled_from("ab"),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children)
    | st.dictionaries(st.sampled_from("xy"), children, max_size=2),
    max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from("pq"), JSON, max_size=2), st.dictionaries(st.sampled_from("pq"), JSON,
                                                                                     max_size=2),
       st.sampled_from([None, "a", "b"]), st.sampled_from([None, "a", "b"]), st.sampled_from([1.0, 1, 2.0]))
def test_same_as_says_what_comparing_comparable_says(
    one: dict[str, Any], other: dict[str, Any], message: str | None, other_message: str | None, time: float,
) -> None:
    left = dataclasses.replace(BASE, data=one, message=message)
    right = dataclasses.replace(BASE, data=other, message=other_message, time=time)
    assert left.same_as(right) == (left.comparable() == right.comparable())
