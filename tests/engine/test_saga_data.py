"""Params that read the saga's data: the input, earlier results, a group's results; compensations too."""

import jmespath
import pytest

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.model.param_refs import compile_reference
from sagatui.model.status import CompensationOutcome, SagaStatus
from tests.engine.harness import permanent, rig

TRANSFER = SagaDef.model_validate({"name": "transfer", "steps": [
    {"name": "debit_payer", "action": "ledger.debit", "compensation": "ledger.credit",
     "params": {"account": {"ref": "input.payer"}, "memo": "transfer"}},
    {"name": "credit_payee", "action": "ledger.credit", "compensation": "ledger.debit",
     "params": {"account": {"ref": "input.payee"},
                "debit_entry": {"ref": "steps.debit_payer.result.entry_id"}},
     "compensation_params": {"payer_entry": {"ref": "steps.debit_payer.result.entry_id"},
                             "own_entry": {"ref": "steps.credit_payee.result.entry_id"}}},
    {"name": "notify", "action": "email.send", "params": {"customer": {"ref": "input.payee"}}},
]})
INPUT = {"payer": "alice", "payee": "bob", "amount": 25.0}


def params_of(r, action: str) -> list[dict]:
    return [call.params for call in r.services.calls if f"{call.service}.{call.operation}" == action]


async def test_resolved_params_reach_the_service_over_the_input_in_the_order_written():
    async with rig(TRANSFER) as r:
        r.services.script("ledger.debit", {"entry_id": "ENT-1", "account": "alice", "amount": 25.0, "balance": 75})
        saga = await r.engine.run("transfer", "S1", INPUT)
    assert saga.status is SagaStatus.COMPLETED
    assert params_of(r, "ledger.debit") == [{**INPUT, "account": "alice", "memo": "transfer"}]
    assert params_of(r, "ledger.credit") == [{**INPUT, "account": "bob", "debit_entry": "ENT-1"}]
    assert list(params_of(r, "ledger.credit")[0]) == ["payer", "payee", "amount", "account", "debit_entry"]


async def test_a_step_without_references_gets_the_input_and_its_params_as_written():
    plain = SagaDef.model_validate({"name": "p", "steps": [
        {"name": "charge", "action": "payment.charge", "params": {"card": "4242", "nested": {"ref_count": 1}}}]})
    async with rig(plain) as r:
        await r.engine.run("p", "S1", {"amount": 5, "card": "1111"})
    assert r.services.calls[0].params == {"amount": 5, "card": "4242", "nested": {"ref_count": 1}}


async def test_a_group_result_holds_its_members_results_by_name():
    trip = SagaDef.model_validate({"name": "trip", "steps": [
        {"name": "book", "parallel": [{"name": "flight", "action": "airline.book"},
                                      {"name": "hotel", "action": "hotel.book"}]},
        {"name": "confirm", "action": "email.send",
         "params": {"hotel": {"ref": "steps.book.result.hotel.booking_id"},
                    "flight": {"ref": "steps.flight.result.booking_id"},
                    "both": {"ref": "[steps.book.result.flight.booking_id, steps.book.result.hotel.booking_id]"}}},
    ]})
    async with rig(trip) as r:
        r.services.script("airline.book", {"booking_id": "BKG-1", "quantity": 1})
        r.services.script("hotel.book", {"booking_id": "BKG-2", "quantity": 1})
        await r.engine.run("trip", "S1", {})
    sent = params_of(r, "email.send")[0]
    assert (sent["hotel"], sent["flight"], sent["both"]) == ("BKG-2", "BKG-1", ["BKG-1", "BKG-2"])


async def test_a_reference_that_finds_nothing_fails_the_step_validation_with_nothing_called():
    async with rig(TRANSFER) as r:
        saga = await r.engine.run("transfer", "S1", {"payer": "alice", "amount": 25.0})  # no payee
    assert r.services.actions() == ["ledger.debit", "ledger.credit"]  # the debit, and its undo
    assert [call.is_compensation for call in r.services.calls] == [False, True]
    failed = r.events(EventKind.STEP_FAILED)
    assert [(e.step, e.error_kind) for e in failed] == [("credit_payee", ErrorKind.VALIDATION)]
    assert "params.account" in failed[0].message and "input.payee" in failed[0].message
    assert [e.step for e in r.events(EventKind.ATTEMPT_STARTED)] == ["debit_payer"]  # no intent for it
    assert failed[0].data["may_have_effect"] is False
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["debit_payer"]


async def test_a_compensation_reads_earlier_results_and_its_own_beside_the_forward_result():
    async with rig(TRANSFER) as r:
        r.services.script("ledger.debit", {"entry_id": "ENT-1", "account": "alice", "amount": 25.0, "balance": 75})
        r.services.script("ledger.credit", {"entry_id": "ENT-2", "account": "bob", "amount": 25.0, "balance": 25})
        r.services.script("email.send", permanent("mailbox closed"))
        saga = await r.engine.run("transfer", "S1", INPUT)
    assert saga.status is SagaStatus.COMPENSATED
    undo = next(call for call in r.services.calls if call.is_compensation and call.step == "credit_payee")
    assert undo.params == {**INPUT, "account": "bob", "debit_entry": "ENT-1", "payer_entry": "ENT-1",
                           "own_entry": "ENT-2"}
    assert undo.compensation is not None and undo.compensation.forward_result["entry_id"] == "ENT-2"


async def test_a_compensation_reference_that_finds_nothing_fails_it_without_a_call():
    ship = SagaDef.model_validate({"name": "ship", "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release",
         "compensation_params": {"reservation": {"ref": "steps.reserve.result.reservation_id"}}},
        {"name": "charge", "action": "payment.charge"},
    ]})
    async with rig(ship) as r:
        r.services.script("inventory.reserve", {"reserved": {"A": 1}})  # no reservation_id in this answer
        r.services.script("payment.charge", permanent())
        saga = await r.engine.run("ship", "S1", {})
    assert [call.is_compensation for call in r.services.calls] == [False, False]
    assert not r.events(EventKind.COMPENSATION_ATTEMPT_STARTED)
    ended = r.events(EventKind.COMPENSATION_ENDED)[0]
    assert ended.data["outcome"] == CompensationOutcome.FAILED.value
    assert "compensation_params.reservation" in ended.data["reason"]
    assert saga.status is SagaStatus.NEEDS_ATTENTION


async def test_a_reference_whose_function_cannot_take_the_data_fails_the_step_validation():
    total = SagaDef.model_validate({"name": "total", "steps": [
        {"name": "charge", "action": "payment.charge", "params": {"amount": {"ref": "sum(input.prices)"}}}]})
    async with rig(total) as r:
        await r.engine.run("total", "ok", {"prices": [1.5, 2]})
        await r.engine.run("total", "bad", {"prices": ["1.5"]})
    assert [(call.saga_id, call.params["amount"]) for call in r.services.calls] == [("ok", 3.5)]
    failed = r.events(EventKind.STEP_FAILED)
    assert [(e.saga_id, e.error_kind) for e in failed] == [("bad", ErrorKind.VALIDATION)]
    assert failed[0].message.startswith("params.amount: {ref: sum(input.prices)} failed: In function sum()")


DATA = {"input": {"payer": "alice", "customer": {"email": "a@x"}, "tags": ["a"], "n": None, "x-y": 1},
        "steps": {"charge": {"result": {"payment_id": "PAY-1", "amount": 5.0}}}}


@pytest.mark.parametrize("expression", [
    "input", "input.payer", "input.customer.email", "input.payer.first", "input.tags.first", "input.n",
    'input."x-y"', "input.missing.deeper", "steps.charge.result.payment_id", "steps.refund.result.refund_id",
    "input.tags[0]", "steps.charge.result.payment_id || input.payer", "[input.payer, input.customer.email]",
])
def test_a_reference_finds_what_jmespath_finds(expression):
    assert compile_reference(expression).find(DATA) == jmespath.search(expression, DATA)
