"""A step's `remediate:` that cannot work is a load-time problem naming file, line and field: a remedy that
is a business operation, a service that does not exist, `diagnosis` read outside a route, a kind never
retried, routes without a diagnosis."""

import pytest

from sagatui.packs.loader import load_pack_text
from tests.packs import numbered

FILE = "packs/healing.yaml"

LINES = [
    "name: healing",                                                  # 1
    "services:",                                                      # 2
    "  api: {kind: orders, fault: {mode: stuck}}",                    # 3
    "sagas:",                                                         # 4
    "  settle:",                                                      # 5
    "    steps:",                                                     # 6
    "      - name: post",                                             # 7
    "        action: api.create",                                     # 8
    "        compensation: api.cancel",                               # 9
    "        when: {field: amount, exists: true}",                    # 10
    "        remediate:",                                             # 11
    "          errors: [transient]",                                  # 12
    "          diagnose: api.diagnose",                               # 13
    "          routes:",                                              # 14
    "            - when: {ref: diagnosis.mode, equals: stuck}",       # 15
    "              run: [api.reset]",                                 # 16
    "scenarios:",                                                     # 17
    "  one:",                                                         # 18
    "    saga: settle",                                               # 19
    "    inputs: [{amount: 10}]",                                     # 20
]


def test_the_base_pack_loads_its_remediation_typed():
    pack = load_pack_text(numbered.pack_text(LINES), FILE)
    (step,) = pack.sagas["settle"].all_steps()
    assert step.remediate is not None and step.remediate.actions == ("api.diagnose", "api.reset")


CASES = {
    "a business operation as a remedy": (16, "              run: [api.create]",
                                         "sagas.settle.steps[0].remediate.routes[0].run[0]",
                                         ["a remedy is reset or scale_up, not 'create'"]),
    "a remedy as the diagnosis": (13, "          diagnose: api.reset", "sagas.settle.steps[0].remediate.diagnose",
                                  ["a diagnosis calls diagnose, not 'reset'"]),
    "a remedy on no service": (16, "              run: [apj.reset]", "sagas.settle.steps[0].remediate.routes[0].run[0]",
                               ["apj", "did you mean 'api'?"]),
    "a diagnosis field there is none of": (15, "            - when: {ref: diagnosis.cause, equals: stuck}",
                                           "sagas.settle.steps[0].remediate.routes[0].when.ref",
                                           ["a diagnosis has healthy, mode, not 'cause'"]),
    "diagnosis read outside a route": (10, "        when: {ref: diagnosis.mode, exists: true}",
                                       "sagas.settle.steps[0].when.ref",
                                       ["`diagnosis` is there only in a remediation route's `when`"]),
    "a kind never retried": (12, "          errors: [permanent]", "sagas.settle.steps[0].remediate.errors",
                             ["permanent is never retried"]),
    "routes without a diagnosis": (13, "", "sagas.settle.steps[0].remediate", ["give `diagnose`"]),
    "a kind the step's retry leaves out": (10, "        retry: {retry_on: [timeout]}",
                                           "sagas.settle.steps[0].remediate.errors",
                                           ["the step does not retry transient"]),
}


REPORTED_AT = {"a kind the step's retry leaves out": 12}  # at `errors`, not at the retry that was changed


@pytest.mark.parametrize("case", CASES)
def test_a_broken_remediation_is_reported_where_it_is_written(case):
    line, text, field, fragments = CASES[case]
    problem = numbered.only_problem(numbered.pack_text(LINES, {line: text}), FILE)
    assert problem.file == FILE and problem.field == field, str(problem)
    assert problem.line == REPORTED_AT.get(case, 11 if not text else line), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
