"""Approval steps: the saga waits (`waiting_approval`) for an operator's decision; approved it goes on,
rejected it compensates what came before; with no decision in time its default is taken. On a virtual
clock a run with nothing else to do holds for the person instead of jumping past the timeout."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from sagatui.engine.approvals import Decision
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import ApprovalDecided, ApprovalRequested
from sagatui.model.status import SagaStatus, StepStatus
from tests.engine.harness import Rig, rig

pytestmark = pytest.mark.asyncio

REFUND = SagaDef.model_validate({"name": "refund", "steps": [
    {"name": "hold_funds", "action": "payment.hold", "compensation": "payment.release"},
    {"name": "manager_ok", "approval": {"timeout": "1h", "default": "reject", "prompt": "Refund 500.00?"}},
    {"name": "refund", "action": "payment.refund"},
]})


async def _started(r: Rig) -> asyncio.Task:
    task = asyncio.ensure_future(r.engine.run("refund", "S-0001", {}))
    while not r.engine.approvals.pending:
        await asyncio.sleep(0)
    return task


async def test_approved_the_saga_goes_on() -> None:
    async with rig(REFUND) as r:
        task = await _started(r)
        [pending] = r.engine.approvals.pending
        assert (pending.saga_id, pending.step, pending.prompt, pending.due_at) == ("S-0001", "manager_ok",
                                                                                  "Refund 500.00?", 3600.0)
        await r.clock.wait_held_for_people()  # nothing else to do: virtual time holds for the person
        assert r.clock.now() == 0.0
        assert r.engine.approvals.decide("S-0001", Decision(True, "ok by Ann"))
        saga = await task
        assert saga.status is SagaStatus.COMPLETED
        assert r.services.actions() == ["payment.hold", "payment.refund"]
        requested = r.events(EventKind.APPROVAL_REQUESTED)[0].payload_as(ApprovalRequested)
        assert (requested.timeout, requested.default) == (3600.0, "reject")
        decided = r.events(EventKind.APPROVAL_DECIDED)[0].payload_as(ApprovalDecided)
        assert (decided.approved, decided.note, decided.by) == (True, "ok by Ann", "operator")
        succeeded = [e for e in r.events(EventKind.STEP_SUCCEEDED) if e.step == "manager_ok"]
        assert succeeded[0].data["result"] == {"approved": True, "note": "ok by Ann", "by": "operator"}


async def test_rejected_the_saga_compensates_what_came_before() -> None:
    async with rig(REFUND) as r:
        task = await _started(r)
        r.engine.approvals.decide("S-0001", Decision(False, "too much"))
        saga = await task
        assert saga.status is SagaStatus.COMPENSATED
        assert r.compensated_steps() == ["hold_funds"]  # the approval itself has nothing to undo
        failed = r.events(EventKind.STEP_FAILED)
        assert [(e.step, e.message, e.data["may_have_effect"]) for e in failed] == [
            ("manager_ok", "rejected: too much", False)]
        assert "payment.refund" not in r.services.actions()


async def test_no_decision_in_time_takes_the_default_when_time_runs() -> None:
    async with rig(REFUND) as r:
        r.clock.set_speed(1e6)  # time runs (x1,000,000): the person's time passes
        saga = await r.engine.run("refund", "S-0001", {})
        assert saga.status is SagaStatus.COMPENSATED
        decided = r.events(EventKind.APPROVAL_DECIDED)
        assert decided[0].time == 3600.0 and decided[0].payload_as(ApprovalDecided).by == "timeout"


async def test_a_waiting_saga_can_be_cancelled() -> None:
    async with rig(REFUND) as r:
        task = await _started(r)
        assert r.engine.cancel_problem("S-0001") is None
        r.engine.cancel("S-0001", "withdrawn")
        saga = await task
        assert saga.status is SagaStatus.CANCELLED
        assert r.compensated_steps() == ["hold_funds"]
        assert saga.steps["manager_ok"].status is StepStatus.FAILED
        assert r.engine.approvals.pending == []
        assert r.engine.approvals.problem("S-0001") == "saga S-0001 is not waiting for an approval"


async def test_an_approval_step_calls_no_service_and_waits_alone() -> None:
    with pytest.raises(ValidationError, match="takes no compensation"):
        SagaDef.model_validate({"name": "x", "steps": [
            {"name": "ok", "approval": {}, "compensation": "payment.refund"}]})
    with pytest.raises(ValidationError, match="exactly one"):
        SagaDef.model_validate({"name": "x", "steps": [{"name": "ok"}]})
    with pytest.raises(ValidationError, match="member of a parallel group"):
        SagaDef.model_validate({"name": "x", "steps": [{"name": "g", "parallel": [
            {"name": "ok", "approval": {}}, {"name": "pay", "action": "payment.charge"}]}]})
