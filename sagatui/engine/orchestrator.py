"""The saga orchestrator: runs a saga's elements in order (steps, parallel groups with their quorum,
switches, for_each fan-outs) and, when a step fails for good, compensates what was done, newest first.
A step's own course is sagatui.engine.forward's, an undo's sagatui.engine.undo's.

Rules worth knowing:
- A step "may have an effect" once it succeeded, or when its last attempt timed out (the service may
  have done the work and lost the reply). Only such steps are compensated; compensations are safe
  to call when the effect is not found, so compensating a timed-out step is harmless.
- A saga whose input does not fit the `input` its definition declares ends `failed` before its first step.
- A saga that fails before any step may have had an effect ends `failed`: nothing to undo. One whose
  rollback met a step with an effect but no compensation ends `failed` too, naming what was not undone:
  `compensated` means every effect was undone.
- An optional step that failed but may have done its work (it timed out) is undone even when the saga
  completes: the saga then compensates just those steps and still ends `completed`.
- Validation, permanent and unexpected errors end a step at once (no retry, no fallback).
- The compensation goes to the provider that did the work (primary or a fallback).
- A provider that timed out may have done the work, so the step does not fall back from it (that
  could do the work twice); the step fails and that provider's compensation cleans up.
- Write-ahead: the intent of every call (`attempt.started`, `compensation.attempt_started`) is durable
  before the call is made, so after a crash no call can have happened that the log does not name.
- A for_each step reads its list once (recorded) and runs one step per element, `concurrency` at a time;
  once an element failed for good no further element starts. Each element is undone on its own.
- A switch takes exactly one branch, recorded; the other branches' steps are skipped.
- A quorum group (`min_successes`) fails the saga only by its decision, never by a member's failure.
- `continue_saga()` continues a saga rebuilt from its events (sagatui.lab.recovery): a call whose intent is durable
  but whose answer is not is sent again under the same attempt number and idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from sagatui.engine.approvals import Approvals
from sagatui.engine.attempts import AttemptLoop
from sagatui.engine.breaker import BreakerBoard, CircuitBreaker
from sagatui.engine.bulkhead import Bulkhead
from sagatui.engine.clock import VirtualClock
from sagatui.engine.forward import StepRunner
from sagatui.engine.group_status import FINISHED, failed_for_good, lost, member_status, needed, undecided
from sagatui.engine.ports import Services
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.saga_data import (
    saga_facts,
    saga_output,
)
from sagatui.engine.saga_state import SAGA_STOPPED, SIBLING_FAILED, ResumePoint, SagaRun, StepRecord, Stop
from sagatui.engine.undo import Undoer
from sagatui.model.definitions import (
    MAX_ELEMENTS,
    BranchElement,
    ParallelGroup,
    SagaDef,
    SagaElement,
    StepDef,
    Switch,
    element_steps,
)
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.input_schema import input_problems
from sagatui.model.payloads import BranchChosen, ForEachExpanded, QuorumDecided, SagaStopping, StepSkipped
from sagatui.model.policies import BulkheadConfig
from sagatui.model.status import GOING_FORWARD, CompensationOutcome, SagaStatus, StepStatus

_FRESH = ResumePoint()
_UNDER_WAY = frozenset({StepStatus.RUNNING, StepStatus.WAITING_RETRY, StepStatus.WAITING_APPROVAL})


class SagaEngine:
    def __init__(
        self,
        *,
        sagas: Mapping[str, SagaDef],
        services: Services,
        breakers: BreakerBoard,
        clock: VirtualClock,
        recorder: EventRecorder,
        seed: int,
        service_breakers: Mapping[str, str] | None = None,
        bulkheads: Mapping[str, BulkheadConfig] | None = None,
    ) -> None:
        """`service_breakers`: service -> the named breaker it shares (default: its own); `bulkheads`:
        service -> the limit on its calls in flight (default: none)."""
        self.sagas = sagas
        self.services = services
        self.breakers = breakers
        self.clock = clock
        self.recorder = recorder
        self.seed = seed
        self._service_breakers = dict(service_breakers or {})
        self._running = asyncio.Event()
        self._running.set()
        self._live: dict[str, tuple[SagaRun, asyncio.Task[Any]]] = {}  # sagas going forward, by id
        self.bulkheads = {service: Bulkhead(service, config, clock) for service, config in (bulkheads or {}).items()}
        self.attempts = AttemptLoop(services, clock, recorder, self._running, seed, self.bulkheads)
        self.undoer = Undoer(self.attempts, clock, recorder, self.breaker_for)
        self.approvals = Approvals(clock, recorder)
        self.steps = StepRunner(self.attempts, clock, recorder, breakers, self.breaker_for, self.approvals)

    # -- operator controls --------------------------------------------------------------------------
    def pause(self) -> None:
        """Hold every saga before its next call until `resume()`."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # -- running a saga ---------------------------------------------------------------------------------
    async def run(self, saga_name: str, saga_id: str, saga_input: dict[str, Any]) -> SagaRun:
        definition = self.sagas[saga_name]
        saga = SagaRun(saga_id, definition, saga_input, started_at=self.clock.now())
        saga.steps = {step.name: StepRecord(step) for step in definition.all_steps()}
        saga.status = SagaStatus.RUNNING
        self._emit(EventKind.SAGA_STARTED, saga, data={"saga": saga_name, "input": saga_input})
        return await self._drive(saga, _FRESH)

    async def continue_saga(self, saga: SagaRun, point: ResumePoint) -> SagaRun:
        """Continue a saga rebuilt from the events of a stopped run, from where they leave it: finished
        steps are not run again, open calls go on from their attempt, settled compensations stay settled."""
        return await self._drive(saga, point)

    async def _drive(self, saga: SagaRun, point: ResumePoint) -> SagaRun:
        # Checked here, not in run(): a saga resumed after a crash between saga.started and saga.failed
        # is checked again (the same input fails the same way; one whose steps ran had a good one).
        schema = saga.definition.input
        if schema is not None and (problems := input_problems(schema, saga.input)):
            message = "; ".join(f"input.{field} {problem}" for field, problem in problems)
            saga.input_error = ServiceError(ErrorKind.VALIDATION, message, code="invalid_input")
            self._finish(saga, SagaStatus.FAILED, EventKind.SAGA_FAILED)  # before any step: nothing to undo
            return saga
        if saga.status is not SagaStatus.COMPENSATING:
            await self._go_forward(saga, point)
            if saga.failed_step is None and saga.stop is None and not saga.rollback_order():
                self._complete(saga)
                return saga
            if not saga.effects:  # nothing to undo
                if saga.stop is Stop.CANCELLED:
                    self._finish(saga, SagaStatus.CANCELLED, EventKind.SAGA_CANCELLED)
                else:
                    self._finish(saga, SagaStatus.FAILED, EventKind.SAGA_FAILED)
                return saga
        await self._compensate(saga, point)
        return saga

    async def _go_forward(self, saga: SagaRun, point: ResumePoint) -> None:
        """Run the saga's elements until it completes, fails, or is stopped: an operator's cancel, or its
        deadline. Stopped, it goes no further: the steps under way end with the stop's error (a call in
        flight may have done its work) and the saga rolls back. A saga stopped before its process stopped
        only ends the steps it left under way."""
        if saga.stop is None and (deadline := saga.definition.deadline) is not None:
            due = saga.started_at + deadline
            if due <= self.clock.now():
                self._stop(saga, Stop.DEADLINE)
            else:
                timer = self.clock.call_at(due, lambda: self._stop(saga, Stop.DEADLINE))
        else:
            timer = None
        if saga.stop is not None:
            self._end_open_steps(saga)
            return
        task = asyncio.current_task()
        assert task is not None
        self._live[saga.saga_id] = saga, task
        try:
            await self._run_elements(saga, saga.definition.steps, point)
        except asyncio.CancelledError:
            if saga.stop is None or task.uncancel() > 0:
                raise  # a shutdown: the saga stays where it stands, for `resume`
            self._end_open_steps(saga)
        finally:
            del self._live[saga.saga_id]
            if timer is not None:
                timer.cancel()

    def _stop(self, saga: SagaRun, why: Stop, note: str = "", scenario: str | None = None) -> None:
        """Stop a saga going forward (recorded): its task is cancelled where it waits."""
        live = self._live.get(saga.saga_id)
        if saga.stop is not None or saga.failed_step is not None or saga.status not in GOING_FORWARD:
            return  # already stopped, or failing of its own accord: its rollback is under way
        saga.stop = why
        if why is Stop.CANCELLED:
            self._emit(EventKind.SAGA_CANCEL_REQUESTED, saga, payload=SagaStopping(note=note, scenario=scenario))
        else:
            self._emit(EventKind.SAGA_DEADLINE_PASSED, saga, payload=SagaStopping(deadline=saga.definition.deadline))
        if live is not None:
            live[1].cancel(SAGA_STOPPED)

    def _end_open_steps(self, saga: SagaRun) -> None:
        """End, with the stop's error, the steps of a stopped saga still under way (rebuilt after a crash: a
        call whose intent is durable and its answer not may have done its work, as the rebuild says)."""
        for record in saga.steps.values():
            if record.status in _UNDER_WAY and record.definition.for_each is None:
                self.steps.fail(saga, record, saga.stop_error(), None)

    def cancel_problem(self, saga_id: str, waiting: SagaRun | None = None) -> str | None:
        """Why saga `saga_id` cannot be cancelled now (None: it can): only a saga going forward can, or
        `waiting`, a saga rebuilt from a stopped run that is not carried on yet."""
        saga = self._going(saga_id, waiting)
        if saga is None or saga.status.terminal:
            return f"saga {saga_id} is not going forward (only a running saga can be cancelled)"
        if saga.stop is not None:
            return f"saga {saga_id} is already stopped ({saga.stop.value})"
        if saga.failed_step is not None or saga.status not in GOING_FORWARD:
            return f"saga {saga_id} is already rolling back"
        return None

    def cancel(self, saga_id: str, note: str = "", waiting: SagaRun | None = None,
               scenario: str | None = None) -> bool:
        """An operator's cancel: the saga goes no further forward, undoes what it did and ends `cancelled`
        (`waiting`: a saga rebuilt from a stopped run, stopped before it is carried on; `scenario`: the
        scenario that scripted it). False when it cannot be cancelled now (see `cancel_problem`)."""
        saga = self._going(saga_id, waiting)
        if saga is None or self.cancel_problem(saga_id, waiting) is not None:
            return False
        self._stop(saga, Stop.CANCELLED, note, scenario)
        return True

    def _going(self, saga_id: str, waiting: SagaRun | None) -> SagaRun | None:
        live = self._live.get(saga_id)
        return live[0] if live is not None else waiting

    async def _run_elements(self, saga: SagaRun, elements: Sequence[SagaElement], point: ResumePoint) -> bool:
        """Run elements in order, each from where it stands (finished ones are not run again); False
        once the saga must roll back."""
        for element in elements:
            if isinstance(element, Switch):
                if not await self._run_elements(saga, self._branch(saga, element), point):
                    return False
                continue
            statuses = [saga.steps[step.name].status for step in element_steps(element)]
            if all(status in FINISHED for status in statuses) and not undecided(saga, element):
                continue
            if saga.failed_step is not None and all(status is StepStatus.PENDING for status in statuses):
                return False
            ok = await (self._run_group(saga, element, point) if isinstance(element, ParallelGroup)
                        else self._run_member(saga, element, point))
            if not ok or saga.failed_step is not None:
                return False
        return True

    def _branch(self, saga: SagaRun, switch: Switch) -> tuple[BranchElement, ...]:
        """The branch a switch takes: chosen now (recorded, the other branches' steps skipped), or as
        chosen before the process stopped."""
        if switch.name in saga.branches:
            case = saga.branches[switch.name]
        else:
            value, case = switch.choose(saga_facts(saga))
            saga.branches[switch.name] = case
            self._emit(EventKind.BRANCH_CHOSEN, saga, step=switch.name,
                       payload=BranchChosen(on=switch.switch.written(), value=value, case=case,
                                            branch=switch.label(case)))
        chosen = {step.name for element in switch.branch(case) for step in element_steps(element)}
        for step in element_steps(switch):
            record = saga.steps[step.name]
            if step.name not in chosen and record.status is StepStatus.PENDING:
                record.status = StepStatus.SKIPPED
                self._emit(EventKind.STEP_SKIPPED, saga, step=step.name,
                           payload=StepSkipped(reason="branch", switch=switch.name))
        return switch.branch(case)

    def _finish(self, saga: SagaRun, status: SagaStatus, kind: EventKind, **data: Any) -> None:
        saga.status = status
        saga.ended_at = self.clock.now()
        error = saga.error
        self._emit(
            kind, saga, step=saga.failed_step,
            error_kind=error.kind if error else None, message=error.message if error else None,
            data={"status": status.value, "duration": saga.ended_at - saga.started_at, **data},
        )

    def _complete(self, saga: SagaRun) -> None:
        output = saga_output(saga) if saga.definition.output else None
        status, kind = ((SagaStatus.COMPLETED_PARTIAL, EventKind.SAGA_COMPLETED_PARTIAL) if saga.partial
                        else (SagaStatus.COMPLETED, EventKind.SAGA_COMPLETED))
        self._finish(saga, status, kind, **({"output": output} if output is not None else {}))

    def _emit(self, kind: EventKind, saga: SagaRun, **fields: Any) -> Event:
        return self.recorder.emit(kind, saga_id=saga.saga_id, **fields)

    async def _run_group(self, saga: SagaRun, group: ParallelGroup, point: ResumePoint,
                         quorum: str | None = None) -> bool:
        """Run a group's members at once (a nested group is a member too); `quorum` names the enclosing
        quorum group that decides for it, if any."""
        decides = group.name if group.min_successes is not None else quorum
        tasks = [asyncio.ensure_future(self._run_member(saga, member, point, decides))
                 for member in group.parallel if member_status(saga, member) not in FINISHED
                 or undecided(saga, member)]
        if group.on_failure == "finish":
            finished = all(await asyncio.gather(*tasks))
        else:
            finished = await self._until_lost(saga, group, tasks)
        if group.min_successes is not None and group.name not in saga.quorums:
            return self._decide_quorum(saga, group, quorum)
        if group.min_successes is not None:
            return saga.quorums[group.name].met or quorum is not None
        return finished

    async def _until_lost(self, saga: SagaRun, group: ParallelGroup, tasks: Sequence[asyncio.Future[bool]]) -> bool:
        """Wait for the members; once the group is lost (a member failed, or too many for its quorum),
        cancel the rest. False when it was lost."""
        pending: set[asyncio.Future[bool]] = set(tasks)
        try:
            while pending:
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if lost(saga, group):
                    saga.abandoned.update(step.name for step in element_steps(group))
                    for task in tasks:
                        task.cancel(SIBLING_FAILED)
                    await asyncio.gather(*tasks, return_exceptions=True)
                    return False
        except asyncio.CancelledError:
            # A shutdown stops the members where they stand too: asyncio.wait, unlike gather, leaves them running.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return True

    def _decide_quorum(self, saga: SagaRun, group: ParallelGroup, quorum: str | None) -> bool:
        """Record whether enough members of a quorum group succeeded; when not (and no enclosing quorum
        group decides for it), the saga fails at the first step that failed of its own accord (not one
        cancelled because the quorum was lost)."""
        statuses = {member.name: member_status(saga, member) for member in group.parallel}
        succeeded = [name for name, status in statuses.items() if status is StepStatus.SUCCEEDED]
        failed = [name for name, status in statuses.items() if status is StepStatus.FAILED]
        least = needed(saga, group)
        met = len(succeeded) >= least
        saga.decide_quorum(group.name, met, failed)
        self._emit(EventKind.GROUP_QUORUM, saga, step=group.name,
                   payload=QuorumDecided(min_successes=least, met=met, succeeded=succeeded, failed=failed))
        if not met and quorum is None and saga.failed_step is None:
            saga.failed_step, saga.failed_at = saga.first_to_fail(failed), self.clock.now()
        return met or quorum is not None

    async def _run_member(self, saga: SagaRun, step: StepDef | ParallelGroup, point: ResumePoint,
                          quorum: str | None = None) -> bool:
        if isinstance(step, ParallelGroup):
            return await self._run_group(saga, step, point, quorum)
        if step.for_each is not None:
            return await self._fan_out(saga, step, point, quorum)
        return await self.steps.run(saga, step, point.calls.get(step.name), quorum)

    async def _fan_out(self, saga: SagaRun, step: StepDef, point: ResumePoint, quorum: str | None) -> bool:
        """A for_each step: its list read once (recorded), then one step per element, `concurrency` at a
        time, each with its own call, result and compensation. Once an element failed for good, the
        elements not started yet are not started (those under way finish)."""
        assert step.for_each is not None
        record = saga.steps[step.name]
        record.status = StepStatus.RUNNING
        if step.name not in saga.fan_outs:
            items = step.for_each.read(saga_facts(saga, step))
            if not isinstance(items, list) or len(items) > MAX_ELEMENTS:
                found = "found nothing" if items is None else (
                    f"found {len(items)} elements, more than {MAX_ELEMENTS}" if isinstance(items, list)
                    else f"found {type(items).__name__}, not a list")
                return self.steps.fail(saga, record, ServiceError(
                    ErrorKind.VALIDATION, f"for_each {step.for_each.written()} {found}", code="bad_for_each"),
                    quorum)
            self._emit(EventKind.FOR_EACH_EXPANDED, saga, step=step.name,
                       payload=ForEachExpanded(over=step.for_each.written(), items=items))
            saga.expand(step, items)
        gate, stopped = asyncio.Semaphore(step.concurrency), asyncio.Event()
        elements = saga.element_steps(step)
        if saga.failed_step is not None or any(failed_for_good(saga.steps[element.name]) for element in elements):
            stopped.set()  # carried on after a stop: only the calls left open go on
        tasks = [asyncio.ensure_future(self._run_element(saga, element, point, gate, stopped, quorum))
                 for element in elements if saga.steps[element.name].status not in FINISHED]
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:  # a shutdown, or a sibling of the step in its group failed
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        failed = [saga.steps[element.name] for element in elements
                  if saga.steps[element.name].status is StepStatus.FAILED]
        record.status = StepStatus.FAILED if failed else StepStatus.SUCCEEDED
        record.error = failed[0].error if failed else None
        return quorum is not None or not any(failed_for_good(element) for element in failed)

    async def _run_element(self, saga: SagaRun, element: StepDef, point: ResumePoint, gate: asyncio.Semaphore,
                           stopped: asyncio.Event, quorum: str | None) -> bool:
        """One element of a for_each, when the gate lets it; not started once another failed for good."""
        async with gate:
            resumed = point.calls.get(element.name)
            if stopped.is_set() and resumed is None and saga.steps[element.name].status is StepStatus.PENDING:
                return False
            ok = await self.steps.run(saga, element, resumed, quorum)
            if failed_for_good(saga.steps[element.name]):
                stopped.set()
            return ok

    def breaker_for(self, service: str) -> CircuitBreaker:
        return self.breakers.get(self._service_breakers.get(service, service))

    # -- rollback ----------------------------------------------------------------------------------------
    async def _compensate(self, saga: SagaRun, point: ResumePoint) -> None:
        if saga.status is not SagaStatus.COMPENSATING:
            saga.status = SagaStatus.COMPENSATING
            error = saga.error
            self._emit(EventKind.SAGA_COMPENSATING, saga, step=saga.failed_step,
                       error_kind=error.kind if error else None, message=error.message if error else None,
                       data={"to_undo": saga.rollback_order()})
        for name in saga.rollback_order()[point.undone:]:
            resumed = point.undos.get(name)  # never a forward call's record: an undo has its own intent
            if resumed is None:
                await self.compensate_step(saga, saga.steps[name])
            else:
                await self.undoer.undo(saga, saga.steps[name], False, resumed)
        self._conclude_rollback(saga)

    async def retry_compensations(self, saga: SagaRun) -> None:
        """An operator's retry of a saga that needs attention: run again, newest first, every
        compensation that did not complete (completed ones never run twice)."""
        saga.status = SagaStatus.COMPENSATING
        for name in saga.rollback_order():
            record = saga.steps[name]
            if record.compensation not in (None, CompensationOutcome.COMPLETED):
                await self.compensate_step(saga, record, restart_ttl=True)
        self._conclude_rollback(saga)

    def _conclude_rollback(self, saga: SagaRun) -> None:
        """needs_attention while an undo did not complete; otherwise cancelled (an operator's cancel, naming
        any effect without an undo), completed (a completed saga that undid its optional leftovers),
        compensated (every effect undone), or failed (some effect had no undo)."""
        undone = [saga.steps[name] for name in saga.rollback_order()]
        not_undone = [record.definition.name for record in reversed(undone) if record.compensation is None]
        if any(record.compensation not in (None, CompensationOutcome.COMPLETED) for record in undone):
            self._finish(saga, SagaStatus.NEEDS_ATTENTION, EventKind.SAGA_NEEDS_ATTENTION)
        elif saga.stop is Stop.CANCELLED:
            self._finish(saga, SagaStatus.CANCELLED, EventKind.SAGA_CANCELLED,
                         **({"not_undone": not_undone} if not_undone else {}))
        elif saga.failed_step is None and saga.stop is None:
            self._complete(saga)
        elif not_undone:
            self._finish(saga, SagaStatus.FAILED, EventKind.SAGA_FAILED, not_undone=not_undone)
        else:
            self._finish(saga, SagaStatus.COMPENSATED, EventKind.SAGA_COMPENSATED)

    async def compensate_step(
        self, saga: SagaRun, record: StepRecord, restart_ttl: bool = False
    ) -> CompensationOutcome | None:
        """Undo one step through the provider that did the work; None when there is nothing to call.
        The TTL counts from the saga's failure, or from now when an operator retries."""
        return await self.undoer.undo(saga, record, restart_ttl, None)
