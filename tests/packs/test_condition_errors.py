"""A `when:` condition that cannot be evaluated is a load-time problem naming file, line and field."""

import pytest

from sagatui.model.conditions import AllOf, Comparison, NotOf, OutcomeTest
from sagatui.packs.loader import load_pack_text
from tests.packs import numbered

FILE = "packs/triage.yaml"

LINES = [
    "name: triage",                                                   # 1
    "services:",                                                      # 2
    "  orders: {kind: orders}",                                       # 3
    "  payment: {kind: payment}",                                     # 4
    "  email: {kind: notification}",                                  # 5
    "sagas:",                                                         # 6
    "  order:",                                                       # 7
    "    input:",                                                     # 8
    "      amount: {type: number}",                                   # 9
    "      customer: {type: text, required: false}",                  # 10
    "    steps:",                                                     # 11
    "      - name: charge",                                           # 12
    "        action: payment.charge",                                 # 13
    "        compensation: payment.refund",                           # 14
    "        when: {field: amount, greater_than: 0}",                 # 15
    "      - name: notify",                                           # 16
    "        action: email.send",                                     # 17
    "        when:",                                                  # 18
    "          all:",                                                 # 19
    "            - {step: charge, outcome: succeeded}",               # 20
    "            - {not: {ref: input.customer, matches: '@test\\.example$'}}",  # 21
    "scenarios:",                                                     # 22
    "  one:",                                                         # 23
    "    saga: order",                                                # 24
    "    inputs: [{amount: 10}]",                                     # 25
]


def pack_text(replace: dict[int, str] | None = None) -> str:
    return numbered.pack_text(LINES, replace)


def test_the_base_pack_loads_its_conditions_typed():
    pack = load_pack_text(pack_text(), FILE)
    charge, notify = pack.sagas["order"].all_steps()
    assert isinstance(charge.when, Comparison) and charge.when.field == "amount"
    assert isinstance(notify.when, AllOf)
    outcome, negated = notify.when.all
    assert isinstance(outcome, OutcomeTest) and isinstance(negated, NotOf)


CASES = {
    "a bad regular expression": (21, "            - {not: {ref: input.customer, matches: '(unclosed'}}",
                                 "sagas.order.steps[1].when.all[1].not.matches",
                                 ["'(unclosed' is not a regular expression RE2 takes", "missing )"]),
    "two operators": (15, "        when: {field: amount, greater_than: 0, less_than: 9}",
                      "sagas.order.steps[0].when", ["exactly one of equals"]),
    "no value to compare": (15, "        when: {greater_than: 0}", "sagas.order.steps[0].when",
                            ["give `field`", "or `ref`"]),
    "an unknown operator": (15, "        when: {field: amount, bigger_than: 0}",
                            "sagas.order.steps[0].when.bigger_than", []),
    "an undeclared input field": (15, "        when: {field: amout, greater_than: 0}",
                                  "sagas.order.steps[0].when.field", ["amout", "did you mean 'amount'?"]),
    "an outcome of a later step": (15, "        when: {step: notify, outcome: failed}",
                                   "sagas.order.steps[0].when.step", ["notify runs after this step"]),
    "an outcome of no step": (20, "            - {step: charj, outcome: succeeded}",
                              "sagas.order.steps[1].when.all[0].step", ["there is no step 'charj'"]),
    "an unknown outcome": (20, "            - {step: charge, outcome: done}",
                           "sagas.order.steps[1].when.all[0].outcome", ["succeeded", "compensated"]),
    "a reference to a field no result has": (
        21, "            - {not: {ref: steps.charge.result.card, exists: true}}",
        "sagas.order.steps[1].when.all[1].not.ref", ["has no field 'card'"]),
    "an empty all": (19, "          all: []", "sagas.order.steps[1].when.all", ["at least 1"]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_condition_is_reported_where_it_is_written(case):
    line, text, field, fragments = CASES[case]
    replace = {line: text}
    if line == 19:
        replace.update({20: "", 21: ""})
    problem = numbered.only_problem(pack_text(replace), FILE)
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
