"""A saga's declared input: scenario inputs, workload variations and `{ref: input.*}` are checked
against it when the pack loads, each problem with file, line and field."""

import pytest

from sagatui.packs.errors import PackProblem
from sagatui.packs.loader import load_pack_text
from tests.packs import numbered

FILE = "packs/pay.yaml"

LINES = [
    "name: pay",                                                          # 1
    "services:",                                                          # 2
    "  payment: {kind: payment}",                                         # 3
    "sagas:",                                                             # 4
    "  pay:",                                                             # 5
    "    input:",                                                         # 6
    "      amount: {type: number, minimum: 1}",                           # 7
    "      card: {type: text, required: false}",                          # 8
    "    steps:",                                                         # 9
    "      - name: charge",                                               # 10
    "        action: payment.charge",                                     # 11
    "        params: {card: {ref: input.card}}",                          # 12
    "scenarios:",                                                         # 13
    "  one:",                                                             # 14
    "    saga: pay",                                                      # 15
    "    inputs:",                                                        # 16
    "      - {amount: 5, card: '4242'}",                                  # 17
    "  many:",                                                            # 18
    "    saga: pay",                                                      # 19
    "    workload:",                                                      # 20
    "      count: 3",                                                     # 21
    "      variations:",                                                  # 22
    "        - input: {amount: 5}",                                       # 23
    "        - input:",                                                   # 24
    "            amount: 7",                                              # 25
]


def pack_text(replace: dict[int, str] | None = None) -> str:
    return numbered.pack_text(LINES, replace)


def only_problem(text: str) -> PackProblem:
    return numbered.only_problem(text, FILE)


def test_the_base_pack_loads():
    pack = load_pack_text(pack_text(), FILE)
    assert pack.sagas["pay"].input is not None and pack.sagas["pay"].input["card"].required is False


CASES = {
    "a scenario input out of range": (17, "      - {amount: 0, card: '4242'}", "scenarios.one.inputs[0].amount",
                                      "input.amount must be at least 1, not 0"),
    "a scenario input missing a field": (17, "      - {card: '4242'}", "scenarios.one.inputs[0]",
                                         "input.amount is required"),
    "a variation of the wrong type": (25, "            amount: seven",
                                      "scenarios.many.workload.variations[1].input.amount",
                                      "input.amount must be a number, not 'seven'"),
    "a reference to an undeclared field": (12, "        params: {card: {ref: input.crd}}",
                                           "sagas.pay.steps[0].params.card",
                                           "there is no input field 'crd'; did you mean 'card'?"),
    "an unknown type": (7, "      amount: {type: float}", "sagas.pay.input.amount.type", "'number'"),
    "a range on text": (8, "      card: {type: text, minimum: 1}", "sagas.pay.input.card",
                        "minimum and maximum apply to numbers"),
}


@pytest.mark.parametrize("case", CASES)
def test_what_does_not_fit_the_declared_input_is_reported_where_it_is_written(case):
    line, text, field, fragment = CASES[case]
    problem = only_problem(pack_text({line: text}))
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    assert fragment in problem.message, str(problem)
