"""The orchestration pack shows what its comments say: each ticket takes the switch branch its
classification names (the default one without a classification), the escalation runs only for
critical and high priority, and the quorum counts the members it says. `sagatui run` checks the
statuses; these check the routes, which no expectation key can state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sagatui.lab.headless import ScenarioReport, run_scenario
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import BranchChosen, QuorumDecided
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "runs.db")
    yield store
    await store.close()


async def run(store: Store, scenario: str) -> tuple[ScenarioReport, list[Event]]:
    source = read_pack("orchestration")
    events: list[Event] = []
    report = await run_scenario(source.pack, source.text, store, scenario, seed=1, on_event=events.append)
    assert report.passed, [check.as_dict() for check in report.checks if not check.ok]
    return report, events


def routes(events: list[Event]) -> dict[str, str]:
    """Saga -> the branch its switch chose."""
    return {event.saga_id or "": payload.branch for event in events
            if event.kind is EventKind.BRANCH_CHOSEN and isinstance(payload := event.payload, BranchChosen)}


def escalated(events: list[Event]) -> dict[str, bool]:
    """Saga -> whether its escalate step ran (succeeded) rather than being skipped."""
    return {event.saga_id or "": event.kind is EventKind.STEP_SUCCEEDED for event in events
            if event.step == "escalate" and event.kind in (EventKind.STEP_SUCCEEDED, EventKind.STEP_SKIPPED)}


async def test_every_desk_takes_each_branch_and_escalates_only_the_platinum_ticket(store: Store) -> None:
    report, events = await run(store, "every_desk")
    assert routes(events) == {"S-0001": '"customer_service"', "S-0002": 'in ["sales_inquiry", "data_analysis"]',
                              "S-0003": 'in ["sales_inquiry", "data_analysis"]', "S-0004": "default",
                              "S-0005": '"customer_service"'}
    assert escalated(events) == {"S-0001": False, "S-0002": False, "S-0003": False, "S-0004": False,
                                 "S-0005": True}
    assert [report.outputs[saga]["priority"] for saga in sorted(report.outputs)] == [
        "low", "low", "medium", "low", "high"]


async def test_a_critical_ticket_goes_to_the_engineers_and_is_escalated(store: Store) -> None:
    report, events = await run(store, "critical_outage_ticket")
    assert routes(events) == {"S-0001": '"technical_support"'}
    assert escalated(events) == {"S-0001": True}
    assert report.outputs["S-0001"]["answered"] == ["classify", "assign_agent", "open_crm_case"]


async def test_without_a_classification_the_quorum_goes_on_to_the_default_branch(store: Store) -> None:
    report, events = await run(store, "triage_model_down")
    (quorum,) = [event.payload for event in events if event.kind is EventKind.GROUP_QUORUM]
    assert isinstance(quorum, QuorumDecided)
    assert (quorum.met, quorum.succeeded, quorum.failed) == (True, ["assign_agent", "open_crm_case"], ["classify"])
    assert routes(events) == {"S-0001": "default"}
    assert escalated(events) == {"S-0001": False}  # "URGENT", but nobody classified it
    assert report.statuses == {"S-0001": "completed_partial"}


async def test_a_missed_quorum_gives_the_agent_back_before_cancelling_the_ticket(store: Store) -> None:
    report, events = await run(store, "quorum_missed")
    (quorum,) = [event.payload for event in events if event.kind is EventKind.GROUP_QUORUM]
    assert isinstance(quorum, QuorumDecided) and not quorum.met
    undone = [event.step for event in events if event.kind is EventKind.COMPENSATION_STARTED]
    assert undone == ["assign_agent", "register_ticket"]
    assert routes(events) == {} and report.statuses == {"S-0001": "compensated"}
