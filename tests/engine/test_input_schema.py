"""A saga's declared input is checked before its first step: a bad input fails it with nothing done."""

import pytest

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.model.input_schema import InputField
from sagatui.model.status import SagaStatus
from tests.engine.harness import rig

ORDER = SagaDef.model_validate({"name": "order", "input": {
    "items": {"type": "mapping"},
    "amount": {"type": "number", "minimum": 0.01, "maximum": 10000},
    "region": {"type": "text", "required": False, "allowed": ["EU", "US"]},
    "quantity": {"type": "integer", "required": False},
}, "steps": [
    {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
    {"name": "charge", "action": "payment.charge", "compensation": "payment.refund"},
]})
GOOD = {"items": {"A": 1}, "amount": 10.0, "region": "EU", "quantity": 2, "extra": "let through"}


async def test_an_input_that_fits_runs_every_step():
    async with rig(ORDER) as r:
        saga = await r.engine.run("order", "S1", GOOD)
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["inventory.reserve", "payment.charge"]


@pytest.mark.parametrize(("change", "message"), [
    ({"amount": None}, "input.amount is required"),
    ({"amount": "10"}, "input.amount must be a number, not '10'"),
    ({"amount": True}, "input.amount must be a number, not True"),
    ({"amount": 0}, "input.amount must be at least 0.01, not 0"),
    ({"amount": 20000}, "input.amount must be at most 10000, not 20000"),
    ({"region": "Mars"}, "input.region must be one of 'EU', 'US', not 'Mars'"),
    ({"quantity": 1.5}, "input.quantity must be a whole number, not 1.5"),
    ({"items": [], "amount": None}, "input.items must be a mapping, not []; input.amount is required"),
])
async def test_a_bad_input_fails_the_saga_before_its_first_step(change, message):
    saga_input = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    async with rig(ORDER) as r:
        saga = await r.engine.run("order", "S1", saga_input)
    assert saga.status is SagaStatus.FAILED
    assert r.services.calls == []  # nothing reserved, nothing to release
    assert [e.kind for e in r.events()] == [EventKind.SAGA_STARTED, EventKind.SAGA_FAILED]
    failed = r.events(EventKind.SAGA_FAILED)[0]
    assert (failed.step, failed.error_kind, failed.message) == (None, ErrorKind.VALIDATION, message)


def test_a_range_is_for_numbers_and_must_be_in_order():
    with pytest.raises(ValueError, match="minimum and maximum apply to numbers"):
        InputField.model_validate({"type": "text", "minimum": 1})
    with pytest.raises(ValueError, match="minimum 5 is above maximum 1"):
        InputField.model_validate({"type": "integer", "minimum": 5, "maximum": 1})
