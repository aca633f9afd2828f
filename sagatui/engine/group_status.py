"""Where a saga's parallel groups stand, read from their members' records: a member is a step or a
group nested in the group; a quorum group's decision, once recorded, is what its standing is."""

from __future__ import annotations

from sagatui.engine.saga_state import SagaRun, StepRecord
from sagatui.model.definitions import BranchElement, ParallelGroup, StepDef
from sagatui.model.status import StepStatus

FINISHED = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED})


def failed_for_good(record: StepRecord) -> bool:
    return record.status is StepStatus.FAILED and not record.definition.optional


def member_status(saga: SagaRun, member: StepDef | ParallelGroup) -> StepStatus:
    """A step's status; for a nested group: failed when a member failed for good (or its quorum was
    missed), succeeded when every member ended otherwise (skipped when every one was skipped)."""
    if isinstance(member, StepDef):
        return saga.steps[member.name].status
    if member.min_successes is not None and (decided := saga.quorums.get(member.name)) is not None:
        return StepStatus.SUCCEEDED if decided.met else StepStatus.FAILED
    statuses = [member_status(saga, inner) for inner in member.parallel]
    if member.min_successes is None and any(
            status is StepStatus.FAILED and not (isinstance(inner, StepDef) and inner.optional)
            for inner, status in zip(member.parallel, statuses, strict=True)):
        return StepStatus.FAILED
    if all(status in FINISHED for status in statuses) and member.min_successes is None:
        return StepStatus.SKIPPED if all(status is StepStatus.SKIPPED for status in statuses) \
            else StepStatus.SUCCEEDED
    return StepStatus.PENDING if all(status is StepStatus.PENDING for status in statuses) else StepStatus.RUNNING


def undecided(saga: SagaRun, element: BranchElement) -> bool:
    """A quorum group whose members all ended but whose decision is not recorded (its process stopped
    between the two), here or in a group nested in it."""
    if not isinstance(element, ParallelGroup):
        return False
    if element.min_successes is not None and element.name not in saga.quorums:
        return True
    return any(undecided(saga, member) for member in element.parallel)


def lost(saga: SagaRun, group: ParallelGroup) -> bool:
    """The group cannot go on: without a quorum, a member failed for good; with one, more members
    failed than the group can spare."""
    statuses = [member_status(saga, member) for member in group.parallel]
    if group.min_successes is None:
        return any(status is StepStatus.FAILED and not (isinstance(member, StepDef) and member.optional)
                   for member, status in zip(group.parallel, statuses, strict=True))
    ran = sum(status is not StepStatus.SKIPPED for status in statuses)
    return statuses.count(StepStatus.FAILED) > ran - needed(saga, group)


def needed(saga: SagaRun, group: ParallelGroup) -> int:
    """How many members of a quorum group must succeed: its `min_successes`, or every member that ran
    when conditions skipped so many that fewer are left (a skipped member is neither success nor failure)."""
    assert group.min_successes is not None
    ran = sum(member_status(saga, member) is not StepStatus.SKIPPED for member in group.parallel)
    return min(group.min_successes, ran)
