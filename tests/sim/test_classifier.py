import pytest
from pydantic import ValidationError

from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim.catalog import ClassifierOptions
from tests.sim.conftest import Lab

RULES = {
    "categories": {"technical_support": ["error", "crash", "not working"], "sales_inquiry": ["price", "demo"],
                   "customer_service": ["refund", "invoice"]},
    "default_category": "general_query",
    "priorities": {"critical": ["urgent", "outage"], "high": ["important", "soon"], "medium": ["please"]},
    "tier_priorities": {"platinum": "high", "gold": "medium"},
}


@pytest.fixture
async def triage(lab: Lab) -> Lab:
    lab.add("triage", "classifier", **RULES)
    return lab


async def test_keywords_name_the_category_and_the_priority(triage: Lab) -> None:
    result = await triage.invoke("triage", "classify", text="URGENT: the checkout is not working, error 500")
    assert result == {"category": "technical_support", "priority": "critical", "confidence": 1.0,
                      "keywords": ["error", "not working", "urgent"]}


async def test_the_category_with_most_matches_wins_and_confidence_is_its_share(triage: Lab) -> None:
    result = await triage.invoke("triage", "classify", text="Price of a demo? Also an error on my invoice.")
    assert (result["category"], result["confidence"]) == ("sales_inquiry", 0.5)
    tie = await triage.invoke("triage", "classify", step="tie", text="a refund for the crash")
    assert (tie["category"], tie["confidence"]) == ("technical_support", 0.5)  # a tie: the first written


async def test_keywords_match_whole_words_only(triage: Lab) -> None:
    result = await triage.invoke("triage", "classify", text="Errors everywhere, we are pricing things soonish")
    assert result == {"category": "general_query", "priority": "low", "confidence": 0.0, "keywords": []}


async def test_a_tier_raises_the_priority_to_at_least_its_own(triage: Lab) -> None:
    raised = await triage.invoke("triage", "classify", step="a", text="a demo, please", tier="platinum")
    assert raised["priority"] == "high"
    kept = await triage.invoke("triage", "classify", step="b", text="outage!", tier="gold")
    assert kept["priority"] == "critical"
    unknown = await triage.invoke("triage", "classify", step="c", text="hello", tier="bronze")
    assert unknown["priority"] == "low"


async def test_no_text_is_an_empty_one_and_bad_text_is_invalid(triage: Lab) -> None:
    assert await triage.invoke("triage", "classify") == {
        "category": "general_query", "priority": "low", "confidence": 0.0, "keywords": []}
    for bad in ({"text": ["a list"]}, {"text": "fine", "tier": True}):
        with pytest.raises(ServiceError) as raised:
            await triage.invoke("triage", "classify", step="bad", **bad)
        assert raised.value.kind is ErrorKind.VALIDATION


async def test_classify_changes_nothing_but_its_record_and_answers_a_retry_the_same(triage: Lab) -> None:
    first = await triage.invoke("triage", "classify", text="refund please")
    again = await triage.invoke("triage", "classify", text="something else entirely")  # the same key
    assert again == first
    assert [row["operation"] for row in await triage.rows("idempotency")] == ["classify"]


def test_the_options_refuse_rules_that_cannot_be_used() -> None:
    for bad in ({"categories": {"billing": []}}, {"priorities": {"high": [" "]}},
                {"priorities": {"high": ["soon"]}, "tier_priorities": {"gold": "urgent"}}):
        with pytest.raises(ValidationError):
            ClassifierOptions.model_validate(bad)
    assert ClassifierOptions.model_validate({"tier_priorities": {"gold": "low"}}).default_priority == "low"
