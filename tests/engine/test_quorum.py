"""A parallel group with `min_successes`: enough members succeed and the saga goes on (ending
completed_partial when some failed, their leftovers undone); too few and it compensates the members
that did. The decision is an event, rebuilt after a crash."""

import pytest

from sagatui.engine.metrics import RunMetrics
from sagatui.engine.saga_state import QuorumOutcome
from sagatui.lab.fuzz import compensation_coverage
from sagatui.lab.recovery.rebuild import rebuild_sagas
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import QuorumDecided, StepFailed
from sagatui.model.status import SagaStatus, StepStatus
from sagatui.tui.timeline import build_timeline
from tests.engine.harness import Hang, permanent, rig


def quotes(min_successes: int, on_failure: str = "finish") -> SagaDef:
    """Ask three carriers for a quote; book with whichever answered."""
    return SagaDef.model_validate({"name": "quotes", "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
        {"name": "ask", "min_successes": min_successes, "on_failure": on_failure, "parallel": [
            {"name": "ask_dhl", "action": "dhl.quote", "compensation": "dhl.withdraw", "retry": {"max_attempts": 1}},
            {"name": "ask_ups", "action": "ups.quote", "compensation": "ups.withdraw", "retry": {"max_attempts": 1}},
            {"name": "ask_gls", "action": "gls.quote", "compensation": "gls.withdraw", "retry": {"max_attempts": 1}},
        ]},
        {"name": "book", "action": "shipping.create_shipment"},
    ]})


async def test_a_quorum_met_with_a_failed_member_goes_on_and_ends_completed_partial():
    async with rig(quotes(2)) as r:
        r.services.script("ups.quote", permanent("no quote"))
        saga = await r.engine.run("quotes", "S1", {})
    assert saga.status is SagaStatus.COMPLETED_PARTIAL
    assert "shipping.create_shipment" in r.services.actions()
    (decided,) = r.events(EventKind.GROUP_QUORUM)
    quorum = decided.payload_as(QuorumDecided)
    assert (quorum.met, quorum.min_successes, quorum.succeeded, quorum.failed) == (
        True, 2, ["ask_dhl", "ask_gls"], ["ask_ups"])
    failed = r.events(EventKind.STEP_FAILED)[0].payload_as(StepFailed)
    assert failed.quorum == "ask"
    assert r.events()[-1].kind is EventKind.SAGA_COMPLETED_PARTIAL
    assert r.compensated_steps() == []  # a member that failed for good had no effect: nothing to undo
    metrics = RunMetrics().extend(r.events())
    assert metrics.ended[SagaStatus.COMPLETED_PARTIAL] == 1 and metrics.ended[SagaStatus.COMPLETED] == 0


async def test_every_member_succeeding_is_a_plain_completion():
    async with rig(quotes(2)) as r:
        saga = await r.engine.run("quotes", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.events(EventKind.GROUP_QUORUM)[0].payload_as(QuorumDecided).failed == []


async def test_a_quorum_missed_compensates_the_members_that_succeeded_and_what_came_before():
    async with rig(quotes(2)) as r:
        r.services.script("ups.quote", permanent("no quote"))
        r.services.script("gls.quote", permanent("closed"))
        saga = await r.engine.run("quotes", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert "shipping.create_shipment" not in r.services.actions()
    assert r.compensated_steps() == ["ask_dhl", "reserve"]
    quorum = r.events(EventKind.GROUP_QUORUM)[0].payload_as(QuorumDecided)
    assert (quorum.met, quorum.succeeded, quorum.failed) == (False, ["ask_dhl"], ["ask_ups", "ask_gls"])
    assert saga.failed_step == "ask_ups"
    assert saga.error is not None and saga.error.message == "no quote"
    assert compensation_coverage(r.events()) == []


async def test_a_timed_out_member_of_a_met_quorum_is_undone_and_the_saga_still_goes_on():
    async with rig(quotes(2)) as r:
        r.services.script("ups.quote", Hang(60))  # past the 30 s attempt timeout: it may have quoted
        saga = await r.engine.run("quotes", "S1", {})
    assert saga.status is SagaStatus.COMPLETED_PARTIAL
    assert r.compensated_steps() == ["ask_ups"]
    assert saga.steps["ask_ups"].status is StepStatus.COMPENSATED
    assert compensation_coverage(r.events()) == []


async def test_with_cancel_the_rest_stop_once_the_quorum_cannot_be_met():
    async with rig(quotes(3, on_failure="cancel")) as r:
        r.services.script("dhl.quote", Hang(5))
        r.services.script("ups.quote", permanent("no quote"))
        r.services.script("gls.quote", Hang(5))
        saga = await r.engine.run("quotes", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert saga.failed_step == "ask_ups"
    assert r.clock.now() < 5  # nobody waited for the slow carriers
    assert r.compensated_steps() == ["ask_gls", "ask_dhl", "reserve"]  # in flight: they may have quoted


async def test_the_decision_and_the_partial_ending_are_rebuilt_from_the_events():
    definition = quotes(2)
    async with rig(definition) as r:
        r.services.script("ups.quote", permanent("no quote"))
        await r.engine.run("quotes", "S1", {})
    events = r.events()
    cut = next(index for index, event in enumerate(events) if event.kind is EventKind.GROUP_QUORUM)
    before = rebuild_sagas({"quotes": definition}, events[:cut])["S1"].saga
    after = rebuild_sagas({"quotes": definition}, events[:cut + 1])["S1"].saga
    assert "ask" not in before.quorums and before.failed_step is None
    assert after.quorums == {"ask": QuorumOutcome(met=True, failed=["ask_ups"])} and after.failed_step is None
    async with rig(definition) as again:
        resumed = await again.engine.continue_saga(before, rebuild_sagas({"quotes": definition},
                                                                         events[:cut])["S1"].point)
    assert resumed.status is SagaStatus.COMPLETED_PARTIAL
    assert again.services.actions() == ["shipping.create_shipment"]  # nobody asked twice


def test_the_timeline_says_which_members_counted():
    async def run():
        async with rig(quotes(2)) as r:
            r.services.script("ups.quote", permanent("no quote"))
            await r.engine.run("quotes", "S1", {})
        return r.events()

    import asyncio
    timeline = build_timeline(asyncio.run(run()))
    lines = [f"{entry.step} {entry.what} {entry.detail}" for entry in timeline.forward + timeline.ending]
    assert "ask quorum met 2 of 3 succeeded (at least 2 needed): ask_dhl, ask_gls; failed: ask_ups" in lines, lines
    assert any(line.startswith(" completed partially") for line in lines), lines


@pytest.mark.parametrize("needed", [0, 4])
def test_a_quorum_outside_the_group_is_refused(needed):
    with pytest.raises(ValueError, match="min_successes"):
        quotes(needed)
