"""A `{ref: ...}` param that cannot find what it names is a load-time problem with file, line and field."""

import pytest

from sagatui.model.param_refs import Reference
from sagatui.packs.errors import PackProblem
from sagatui.packs.loader import load_pack_text
from tests.packs import numbered

FILE = "packs/trip.yaml"

LINES = [
    "name: trip",                                                     # 1
    "services:",                                                      # 2
    "  payment: {kind: payment}",                                     # 3
    "  flights: {kind: booking}",                                     # 4
    "  hotels: {kind: booking}",                                      # 5
    "  email: {kind: notification}",                                  # 6
    "sagas:",                                                         # 7
    "  trip:",                                                        # 8
    "    steps:",                                                     # 9
    "      - name: charge",                                           # 10
    "        action: payment.charge",                                 # 11
    "        compensation: payment.refund",                           # 12
    "        params: {amount: {ref: input.amount}}",                  # 13
    "      - name: book",                                             # 14
    "        parallel:",                                              # 15
    "          - name: flight",                                       # 16
    "            action: flights.book",                               # 17
    "            params: {payment: {ref: steps.charge.result.payment_id}}",  # 18
    "          - name: hotel",                                        # 19
    "            action: hotels.book",                                # 20
    "            compensation: hotels.cancel",                        # 21
    "            compensation_params: {booking: {ref: steps.hotel.result.booking_id}}",  # 22
    "      - name: confirm",                                          # 23
    "        action: email.send",                                     # 24
    "        params: {hotel: {ref: steps.book.result.hotel.booking_id}}",  # 25
    "scenarios:",                                                     # 26
    "  happy:",                                                       # 27
    "    saga: trip",                                                 # 28
    "    inputs: [{amount: 10}]",                                     # 29
]


def pack_text(replace: dict[int, str] | None = None) -> str:
    return numbered.pack_text(LINES, replace)


def only_problem(text: str) -> PackProblem:
    return numbered.only_problem(text, FILE)


def test_the_base_pack_loads_with_its_references_compiled():
    pack = load_pack_text(pack_text(), FILE)
    confirm = pack.sagas["trip"].all_steps()[-1]
    assert [(name, ref.expression) for name, ref in confirm.references] == [
        ("hotel", "steps.book.result.hotel.booking_id")]
    assert isinstance(confirm.params["hotel"], Reference)


CASES = {
    "malformed expression": (13, "        params: {amount: {ref: 'input.'}}", "sagas.trip.steps[0].params.amount",
                             ["'input.' is not a valid JMESPath expression"]),
    "not from input or steps": (13, "        params: {amount: {ref: inputs.amount}}",
                                "sagas.trip.steps[0].params.amount", ["reads 'inputs'", "starts from `input`"]),
    "ref beside other keys": (13, "        params: {amount: {ref: input.amount, default: 1}}",
                              "sagas.trip.steps[0].params.amount", ["the one key `ref`", "default"]),
    "its own result": (13, "        params: {amount: {ref: steps.charge.result.amount}}",
                       "sagas.trip.steps[0].params.amount", ["cannot read its own result"]),
    "a later step": (13, "        params: {amount: {ref: steps.confirm.result.message_id}}",
                     "sagas.trip.steps[0].params.amount", ["confirm runs after this step"]),
    "a sibling in its group": (18, "            params: {payment: {ref: steps.hotel.result.booking_id}}",
                               "sagas.trip.steps[1].parallel[0].params.payment",
                               ["hotel runs at the same time as this step", "parallel group book"]),
    "its own group": (18, "            params: {payment: {ref: steps.book.result}}",
                      "sagas.trip.steps[1].parallel[0].params.payment", ["member of group book"]),
    "an unknown step": (25, "        params: {hotel: {ref: steps.hotl.result.booking_id}}",
                        "sagas.trip.steps[2].params.hotel", ["there is no step 'hotl'", "did you mean 'hotel'?"]),
    "a field the result never has": (18, "            params: {payment: {ref: steps.charge.result.paymnt_id}}",
                                     "sagas.trip.steps[1].parallel[0].params.payment",
                                     ["the result of charge (payment.charge) has no field 'paymnt_id'",
                                      "(it has: amount, payment_id)"]),
    "not under result": (25, "        params: {hotel: {ref: steps.flight.booking_id}}",
                         "sagas.trip.steps[2].params.hotel", ["steps.flight has only `result`"]),
    "no such member": (25, "        params: {hotel: {ref: steps.book.result.car.booking_id}}",
                       "sagas.trip.steps[2].params.hotel", ["'car' is not one of its members (flight, hotel)"]),
    "a member's missing field": (25, "        params: {hotel: {ref: steps.book.result.hotel.booking}}",
                                 "sagas.trip.steps[2].params.hotel", ["the result of hotel (hotels.book)"]),
    "a compensation's unknown field": (
        22, "            compensation_params: {booking: {ref: steps.hotel.result.id}}",
        "sagas.trip.steps[1].parallel[1].compensation_params.booking", ["has no field 'id'"]),
    "an unknown function": (13, "        params: {amount: {ref: 'total(input.amount)'}}",
                            "sagas.trip.steps[0].params.amount", ["calls total: JMESPath has no such function"]),
    "inside a function": (25, "        params: {hotel: {ref: 'to_string(steps.charge.result.paymentid)'}}",
                          "sagas.trip.steps[2].params.hotel", ["has no field 'paymentid'"]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_reference_that_cannot_find_what_it_names_is_reported_where_it_is_written(case):
    line, text, field, fragments = CASES[case]
    problem = only_problem(pack_text({line: text}))
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)


def test_a_compensation_may_read_what_ran_before_and_its_own_step():
    load_pack_text(pack_text({22: "            compensation_params: {booking: {ref: steps.hotel.result.booking_id}, "
                                  "paid: {ref: steps.charge.result.amount}}"}), FILE)
