"""Conditions (`when:`): every operator on a present and on a missing value, the combinators nested, and
steps that run or are skipped on the input, on earlier results and on earlier steps' outcomes."""

import pytest
from pydantic import TypeAdapter

from sagatui.model.conditions import Condition, SagaFacts, dumped
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus, StepStatus
from tests.engine.harness import permanent, rig

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
FACTS = SagaFacts({"input": {"tier": "gold", "amount": 150, "email": "ada@test.example", "tags": ["vip", "eu"],
                             "address": {"country": "NO"}, "none": None, "flag": True},
                   "steps": {"classify": {"result": {"priority": "high", "score": 0.9}}}},
                  {"classify": StepStatus.SUCCEEDED, "charge": StepStatus.FAILED, "upsell": StepStatus.SKIPPED})


def holds(written: dict) -> bool:
    return CONDITION.validate_python(written).holds(FACTS)


# (operator and operand, value read, holds on it, holds when the value is missing)
OPERATORS = [
    ({"equals": "gold"}, "tier", True, False),
    ({"equals": "silver"}, "tier", False, False),
    ({"not_equals": "silver"}, "tier", True, True),
    ({"not_equals": "gold"}, "tier", False, True),
    ({"in": ["gold", "platinum"]}, "tier", True, False),
    ({"not_in": ["gold"]}, "tier", False, True),
    ({"greater_than": 100}, "amount", True, False),
    ({"greater_than": 150}, "amount", False, False),
    ({"less_than": 200}, "amount", True, False),
    ({"less_than": 1}, "flag", False, False),  # true is not a number
    ({"exists": True}, "tier", True, False),
    ({"exists": False}, "tier", False, True),
    ({"contains": "vip"}, "tags", True, False),
    ({"contains": "test"}, "email", True, False),
    ({"contains": "country"}, "address", True, False),
    ({"contains": 1}, "email", False, False),
    ({"starts_with": "ada@"}, "email", True, False),
    ({"starts_with": "a"}, "amount", False, False),  # a number does not start with text
    ({"matches": r"@test\.example$"}, "email", True, False),
    ({"matches": "^bob"}, "email", False, False),
]


@pytest.mark.parametrize(("operator", "field", "present", "missing"), OPERATORS)
def test_each_operator_on_a_value_and_on_a_missing_one(operator, field, present, missing):
    assert holds({"field": field, **operator}) is present
    assert holds({"ref": f"input.{field}", **operator}) is present
    for absent in ({"field": "nothing.here"}, {"field": "none"}, {"ref": "input.nothing"},
                   {"ref": "steps.never.result.x"}):
        assert holds({**absent, **operator}) is missing, absent


def test_references_read_earlier_results_and_dotted_fields_read_the_input():
    assert holds({"ref": "steps.classify.result.priority", "equals": "high"})
    assert holds({"ref": "steps.classify.result.score", "greater_than": 0.5})
    assert holds({"field": "address.country", "in": ["NO", "SE"]})
    assert holds({"ref": "length(input.tags)", "equals": 2})
    assert not holds({"ref": "sum(input.tags)", "equals": 0})  # a function that cannot take it finds nothing


def test_outcomes_of_earlier_steps():
    assert holds({"step": "classify", "outcome": "succeeded"})
    assert holds({"step": "charge", "outcome": ["failed", "skipped"]})
    assert holds({"step": "upsell", "outcome": "skipped"})
    assert not holds({"step": "charge", "outcome": "succeeded"})
    assert not holds({"step": "never_ran", "outcome": "failed"})


def test_combinators_nest():
    high = {"ref": "steps.classify.result.priority", "equals": "high"}
    low = {"ref": "steps.classify.result.priority", "equals": "low"}
    assert holds({"all": [high, {"not": low}]})
    assert not holds({"all": [high, low]})
    assert holds({"any": [low, {"all": [high, {"field": "tier", "exists": True}]}]})
    assert not holds({"any": [low, {"not": high}]})
    assert holds({"not": {"not": high}})
    written = {"all": [high, {"not": {"any": [low, {"step": "charge", "outcome": "failed"}]}}]}
    assert dumped(CONDITION.validate_python(written)) == written  # recorded as written
    assert not holds(written)


def test_matches_runs_in_linear_time_on_a_hostile_pattern():
    # (a+)+$ against a long run of a's ending in b backtracks for ever in Python's re; RE2 answers at once.
    facts = SagaFacts({"input": {"text": "a" * 100_000 + "b"}, "steps": {}}, {})
    condition = CONDITION.validate_python({"field": "text", "matches": "(a+)+$"})
    assert condition.holds(facts) is False


ROUTED = SagaDef.model_validate({"name": "claim", "steps": [
    {"name": "classify", "action": "orders.create"},
    {"name": "charge", "action": "payment.charge", "optional": True},
    {"name": "expedite", "action": "shipping.create_shipment",
     "when": {"ref": "steps.classify.result.priority", "equals": "high"}},
    {"name": "apologise", "action": "email.send", "when": {"step": "charge", "outcome": "failed"}},
    {"name": "receipt", "action": "email.send",
     "when": {"all": [{"step": "charge", "outcome": "succeeded"}, {"not": {"field": "email", "exists": False}}]}},
]})


@pytest.mark.parametrize(("priority", "charge_fails", "ran"), [
    ("high", False, ["classify", "charge", "expedite", "receipt"]),
    ("low", False, ["classify", "charge", "receipt"]),
    ("high", True, ["classify", "charge", "expedite", "apologise"]),
])
async def test_steps_run_on_earlier_results_and_outcomes(priority, charge_fails, ran):
    async with rig(ROUTED) as r:
        r.services.script("orders.create", {"priority": priority})
        if charge_fails:
            r.services.script("payment.charge", permanent())
        saga = await r.engine.run("claim", "C1", {"email": "ada@example.com"})
    assert saga.status is SagaStatus.COMPLETED
    assert [call.step for call in r.services.calls] == ran
    skipped = {event.step: event.data["condition"] for event in r.events(EventKind.STEP_SKIPPED)}
    assert set(skipped) == {"expedite", "apologise", "receipt"} - set(ran)
    if "apologise" in skipped:
        assert skipped["apologise"] == {"step": "charge", "outcome": "failed"}  # the condition as written
