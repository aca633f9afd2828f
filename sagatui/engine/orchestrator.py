"""The saga orchestrator: runs steps forward with retries, breakers and fallbacks, and when a step
fails for good, compensates what was done, newest first.

Rules worth knowing:
- A step "may have an effect" once it succeeded, or when its last attempt timed out (the service may
  have done the work and lost the reply). Only such steps are compensated; compensations are safe
  to call when the effect is not found, so compensating a timed-out step is harmless.
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
- `continue_saga()` continues a saga rebuilt from its events (sagatui.recovery): a call whose intent is durable
  but whose answer is not is sent again under the same attempt number and idempotency key.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sagatui.engine.breaker import BreakerBoard, CircuitBreaker
from sagatui.engine.clock import VirtualClock
from sagatui.engine.ports import Services
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.retry import is_retryable, make_retrying
from sagatui.engine.seeds import random_stream
from sagatui.model.calls import Call, CompensationContext
from sagatui.model.definitions import (
    CompensationPolicy,
    Fallback,
    ParallelGroup,
    RetryPolicy,
    SagaDef,
    StepDef,
    split_action,
)
from sagatui.model.errors import DEFAULT_RETRYABLE, ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.status import CompensationOutcome, SagaStatus, StepStatus

_SIBLING_FAILED = "cancelled: another member of its group failed"
_FINAL_AT_ONCE = frozenset({ErrorKind.VALIDATION, ErrorKind.PERMANENT, ErrorKind.UNEXPECTED})
_FINISHED = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.FAILED})
PolicyT = TypeVar("PolicyT", RetryPolicy, CompensationPolicy)


@dataclass
class StepRecord:
    """What the engine knows of one step of one saga."""

    definition: StepDef
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    provider: Fallback | None = None  # the provider that did (or may have done) the work
    result: dict[str, Any] = field(default_factory=dict)
    error: ServiceError | None = None
    compensation: CompensationOutcome | None = None


@dataclass
class SagaRun:
    saga_id: str
    definition: SagaDef
    input: dict[str, Any]
    started_at: float
    status: SagaStatus = SagaStatus.PENDING
    steps: dict[str, StepRecord] = field(default_factory=dict)
    effects: list[str] = field(default_factory=list)  # steps that may have had an effect, in order
    failed_step: str | None = None
    failed_at: float | None = None
    ended_at: float | None = None
    # Parallel members cancelled because a sibling failed (not by a shutdown, which leaves them for resume).
    # A flag, not the cancel message: two cancels in one loop iteration keep only one message.
    abandoned: set[str] = field(default_factory=set)

    @property
    def error(self) -> ServiceError | None:
        return self.steps[self.failed_step].error if self.failed_step else None

    def rollback_order(self) -> list[str]:
        """The steps to undo, newest first: every step that may have had an effect when the saga failed;
        when it completes, only the optional steps that failed but may have done their work."""
        if self.failed_step is None:
            return [name for name in reversed(self.effects) if self.steps[name].error is not None]
        return list(reversed(self.effects))


@dataclass(frozen=True)
class InterruptedCall:
    """A call (a step's, or its compensation's) that a stopped process left open, as its events tell.

    `attempt` is the number of the attempt to make next. With `resend`, that attempt's intent is durable
    but no answer is: it is sent again under the same number and idempotency key, so a service that did
    the work answers with its recorded result instead of doing it twice. Otherwise `last_error` is how
    the attempt before it failed, and the policy decides whether there is another."""

    provider: int = 0  # index into the step's providers (forward calls)
    attempt: int = 1
    resend: bool = False
    last_error: ServiceError | None = None
    step_started_at: float = 0.0  # a step's retry deadline counts from here
    retry_at: float | None = None  # the clock time the retry it was waiting for was due (its backoff kept)


@dataclass(frozen=True)
class ResumePoint:
    """Where a saga rebuilt from its events stood when its process stopped."""

    calls: Mapping[str, InterruptedCall] = field(default_factory=dict)  # steps' forward calls, by step
    undos: Mapping[str, InterruptedCall] = field(default_factory=dict)  # compensations under way, by step
    undone: int = 0  # rollback steps already settled (compensated or skipped), newest first


_FRESH = ResumePoint()


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
    ) -> None:
        self.sagas = sagas
        self.services = services
        self.breakers = breakers
        self.clock = clock
        self.recorder = recorder
        self.seed = seed
        self._service_breakers = dict(service_breakers or {})
        self._running = asyncio.Event()
        self._running.set()

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
        if saga.status is not SagaStatus.COMPENSATING:
            for element in saga.definition.steps:
                members = element.parallel if isinstance(element, ParallelGroup) else [element]
                statuses = [saga.steps[member.name].status for member in members]
                if all(status in _FINISHED for status in statuses):
                    continue
                if saga.failed_step is not None and all(status is StepStatus.PENDING for status in statuses):
                    break
                ok = await (self._run_group(saga, element, point) if isinstance(element, ParallelGroup)
                            else self._run_step(saga, element, point.calls.get(element.name)))
                if not ok or saga.failed_step is not None:
                    break
            if saga.failed_step is None and not saga.rollback_order():
                self._finish(saga, SagaStatus.COMPLETED, EventKind.SAGA_COMPLETED)
                return saga
            if not saga.effects:
                self._finish(saga, SagaStatus.FAILED, EventKind.SAGA_FAILED)
                return saga
        await self._compensate(saga, point)
        return saga

    def _finish(self, saga: SagaRun, status: SagaStatus, kind: EventKind, **data: Any) -> None:
        saga.status = status
        saga.ended_at = self.clock.now()
        error = saga.error
        self._emit(
            kind, saga, step=saga.failed_step,
            error_kind=error.kind if error else None, message=error.message if error else None,
            data={"status": status.value, "duration": saga.ended_at - saga.started_at, **data},
        )

    def _emit(self, kind: EventKind, saga: SagaRun, **fields: Any) -> Event:
        return self.recorder.emit(kind, saga_id=saga.saga_id, **fields)

    async def _run_group(self, saga: SagaRun, group: ParallelGroup, point: ResumePoint) -> bool:
        tasks = [asyncio.ensure_future(self._run_step(saga, member, point.calls.get(member.name)))
                 for member in group.parallel if saga.steps[member.name].status not in _FINISHED]
        if group.on_failure == "finish":
            return all(await asyncio.gather(*tasks))
        pending: set[asyncio.Future[bool]] = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if not all(task.result() for task in done):
                saga.abandoned.update(member.name for member in group.parallel)
                for task in tasks:
                    task.cancel(_SIBLING_FAILED)
                await asyncio.gather(*tasks, return_exceptions=True)
                return False
        return True

    # -- one step ---------------------------------------------------------------------------------------
    async def _run_step(self, saga: SagaRun, step: StepDef, resumed: InterruptedCall | None = None) -> bool:
        """Run a step through its provider chain (from where it stopped, when `resumed`); False when the
        saga must roll back."""
        record = saga.steps[step.name]
        if resumed is None:
            if step.when is not None and not step.when.holds(saga.input):
                record.status = StepStatus.SKIPPED
                self._emit(EventKind.STEP_SKIPPED, saga, step=step.name,
                           data={"reason": "condition", "condition": step.when.model_dump(by_alias=True,
                                                                                          exclude_none=True)})
                return True
            record.status = StepStatus.RUNNING
            service, operation = split_action(step.action)
            self._emit(EventKind.STEP_STARTED, saga, step=step.name, service=service, operation=operation)
            resumed = InterruptedCall(step_started_at=self.clock.now())
        deadline_at = resumed.step_started_at + step.retry.deadline if step.retry.deadline is not None else None
        providers = step.providers
        error: ServiceError | None = None
        first = resumed.provider
        provider = providers[first]
        try:
            for index in range(first, len(providers)):
                provider = providers[index]
                if index > first:
                    self._emit(EventKind.FALLBACK_USED, saga, step=step.name,
                               service=split_action(provider.action)[0],
                               data={"from": providers[index - 1].action, "to": provider.action,
                                     "reason": error.message if error else ""})
                try:
                    result = await self._call_provider(saga, record, provider, index, deadline_at,
                                                       has_fallback=index < len(providers) - 1,
                                                       start=resumed if index == first else InterruptedCall())
                except ServiceError as failure:
                    error = failure
                    if failure.kind in _FINAL_AT_ONCE or record.provider is not None:
                        break  # a business error, or this provider may have done the work: no fallback
                    continue
                record.provider, record.result = provider, result
                if result.get("partial") and not step.accept_partial:
                    error = ServiceError(ErrorKind.PERMANENT, "partial result not accepted",
                                         code="partial")
                    break
                record.status = StepStatus.SUCCEEDED
                saga.effects.append(step.name)
                self._emit(EventKind.STEP_SUCCEEDED, saga, step=step.name,
                           service=split_action(provider.action)[0], operation=split_action(provider.action)[1],
                           attempt=record.attempts, data={"result": result})
                return True
        except asyncio.CancelledError:
            # A sibling's failure ends this member; a shutdown leaves it as it is, for `resume`.
            if step.name in saga.abandoned:
                if record.attempts:
                    record.provider = provider  # the call in flight may have done the work
                self._fail_step(saga, record, ServiceError(ErrorKind.TRANSIENT, _SIBLING_FAILED))
            raise
        assert error is not None
        return self._fail_step(saga, record, error)

    def _fail_step(self, saga: SagaRun, record: StepRecord, error: ServiceError) -> bool:
        step = record.definition
        record.status, record.error = StepStatus.FAILED, _detached(error)
        may_have_effect = record.provider is not None
        if may_have_effect:
            saga.effects.append(step.name)
        self._emit(EventKind.STEP_FAILED, saga, step=step.name, attempt=record.attempts,
                   service=split_action(record.provider.action)[0] if record.provider else None,
                   error_kind=error.kind, message=error.message,
                   data={"optional": step.optional, "may_have_effect": may_have_effect})
        if step.optional:
            return True
        if saga.failed_step is None:
            saga.failed_step, saga.failed_at = step.name, self.clock.now()
        return False

    def _jitter_stream(self, jitter: str, name: str) -> random.Random | None:
        """A seeded stream per call site, so one saga's retries never shift another's jitter."""
        return None if jitter == "none" else random_stream(self.seed, f"jitter:{name}")

    def breaker_for(self, service: str) -> CircuitBreaker:
        return self.breakers.get(self._service_breakers.get(service, service))

    async def _call_provider(
        self, saga: SagaRun, record: StepRecord, provider: Fallback, index: int,
        deadline_at: float | None, has_fallback: bool, start: InterruptedCall,
    ) -> dict[str, Any]:
        step = record.definition
        service, operation = split_action(provider.action)
        breaker = self.breakers.get(step.breaker) if index == 0 and step.breaker else self.breaker_for(service)
        policy = step.retry
        rng = self._jitter_stream(policy.jitter, f"{saga.saga_id}:{step.name}:{index}")
        done = start.attempt - 1

        def scheduled(next_attempt: int, delay: float, error: BaseException | None) -> None:
            record.status = StepStatus.WAITING_RETRY
            self._emit(EventKind.RETRY_SCHEDULED, saga, step=step.name, service=service, operation=operation,
                       attempt=done + next_attempt, error_kind=getattr(error, "kind", None),
                       data={"delay": delay})

        def retryable(error: BaseException) -> bool:
            # With a fallback waiting, an open breaker means: move on now, don't wait it out.
            if has_fallback and getattr(error, "kind", None) is ErrorKind.BREAKER_OPEN:
                return False
            return isinstance(error, ServiceError) and error.kind in policy.retry_on

        past_deadline = deadline_at is not None and self.clock.now() >= deadline_at
        if start.last_error is not None and (start.attempt > policy.max_attempts or past_deadline
                                             or not retryable(start.last_error)):
            raise start.last_error  # resumed after a failed attempt that was its last
        if start.retry_at is not None:  # not on the hot path: only a call resumed during its backoff
            await self._wait_out_backoff(start)
        retrying = make_retrying(_continued(policy, start), self.clock, retryable=retryable, rng=rng,
                                 deadline_at=deadline_at, before_sleep=scheduled)
        attempt = done
        async for trial in retrying:
            with trial:
                attempt += 1
                record.attempts += 1
                record.status = StepStatus.RUNNING
                timeout = policy.attempt_timeout
                if deadline_at is not None:
                    remaining = max(0.0, deadline_at - self.clock.now())
                    timeout = remaining if timeout is None else min(timeout, remaining)
                call = Call(saga.saga_id, step.name, service, operation, f"{saga.saga_id}:{step.name}",
                            {**saga.input, **step.params}, attempt)
                intent = None if start.resend and attempt == start.attempt else EventKind.ATTEMPT_STARTED
                try:
                    return await self._attempt(saga, call, breaker, timeout, intent, EventKind.ATTEMPT_SUCCEEDED,
                                               EventKind.ATTEMPT_FAILED)
                except ServiceError as error:
                    if error.kind is ErrorKind.TIMEOUT:
                        record.provider = provider  # no answer: it may have done the work
                    raise
        raise AssertionError("tenacity ended without a result or an error")  # pragma: no cover

    async def _wait_out_backoff(self, start: InterruptedCall) -> None:
        """A call resumed while it waited for a retry waits out what was left of that delay (a 429's
        retry-after too): a restart must not change when the next attempt goes out."""
        if start.retry_at is not None and start.retry_at > self.clock.now():
            await self.clock.sleep(start.retry_at - self.clock.now())

    async def _attempt(
        self, saga: SagaRun, call: Call, breaker: CircuitBreaker, timeout: float | None,
        intent: EventKind | None, succeeded: EventKind, failed: EventKind,
    ) -> dict[str, Any]:
        """One call through the breaker and the attempt timeout, reported as events. The `intent` event
        is durable before the call goes out (None: it already is, from before a restart)."""
        where = {"step": call.step, "service": call.service, "operation": call.operation, "attempt": call.attempt}
        try:
            breaker.admit()
        except ServiceError as rejected:
            data: dict[str, Any] = {"breaker": breaker.name}
            if succeeded is EventKind.COMPENSATION_ATTEMPT:
                data["undo"] = True  # a compensation's try, not a step's
            self._emit(EventKind.BREAKER_REJECTED, saga, **where, error_kind=rejected.kind,
                       message=rejected.message, data=data)
            raise
        if not self._running.is_set():
            await self._running.wait()
        if intent is not None:
            try:
                await self.recorder.durable(self._emit(intent, saga, **where))
            except BaseException:
                breaker.abandon()  # admitted but never called
                raise
        started = self.clock.now()
        try:
            async with self.clock.timeout(timeout):
                result = await self.services.invoke(call)
        except asyncio.CancelledError:
            breaker.abandon()
            raise
        except Exception as raised:
            error = _as_service_error(raised, timeout)
            breaker.record(error.kind, self.clock.now() - started)
            self._emit(failed, saga, **where, error_kind=error.kind, message=error.message,
                       data=_error_data(error, raised, self.clock.now() - started))
            raise error from raised
        breaker.record(None, self.clock.now() - started)
        self._emit(succeeded, saga, **where, data={"duration": self.clock.now() - started})
        return result

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
                await self._undo(saga, saga.steps[name], False, resumed)
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
        """needs_attention while an undo did not complete; otherwise completed (a completed saga that undid
        its optional leftovers), compensated (every effect undone), or failed (some effect had no undo)."""
        undone = [saga.steps[name] for name in saga.rollback_order()]
        if any(record.compensation not in (None, CompensationOutcome.COMPLETED) for record in undone):
            self._finish(saga, SagaStatus.NEEDS_ATTENTION, EventKind.SAGA_NEEDS_ATTENTION)
        elif saga.failed_step is None:
            self._finish(saga, SagaStatus.COMPLETED, EventKind.SAGA_COMPLETED)
        elif not_undone := [record.definition.name for record in reversed(undone)
                            if record.compensation is None]:
            self._finish(saga, SagaStatus.FAILED, EventKind.SAGA_FAILED, not_undone=not_undone)
        else:
            self._finish(saga, SagaStatus.COMPENSATED, EventKind.SAGA_COMPENSATED)

    async def compensate_step(
        self, saga: SagaRun, record: StepRecord, restart_ttl: bool = False
    ) -> CompensationOutcome | None:
        """Undo one step through the provider that did the work; None when there is nothing to call.
        The TTL counts from the saga's failure, or from now when an operator retries."""
        return await self._undo(saga, record, restart_ttl, None)

    async def _undo(
        self, saga: SagaRun, record: StepRecord, restart_ttl: bool, resumed: InterruptedCall | None,
    ) -> CompensationOutcome | None:
        """compensate_step, or (`resumed`) the rest of one its process left under way."""
        step = record.definition
        compensation = record.provider.compensation if record.provider else None
        if compensation is None:
            self._emit(EventKind.COMPENSATION_SKIPPED, saga, step=step.name,
                       data={"reason": "the step has no compensation"})
            return None
        service, operation = split_action(compensation)
        error = saga.error
        context = CompensationContext(saga.saga_id, saga.failed_step or step.name,
                                      error.kind if error else None, error.message if error else "",
                                      forward_result=record.result)
        record.status = StepStatus.COMPENSATING
        if resumed is None:
            self._emit(EventKind.COMPENSATION_STARTED, saga, step=step.name, service=service, operation=operation,
                       data={"context": context.as_dict()})
        policy = step.compensation_retry
        counted_from = self.clock.now() if restart_ttl or saga.failed_at is None else saga.failed_at
        expires_at = counted_from + policy.ttl
        outcome, detail = await self._compensation_attempts(saga, record, service, operation, context, expires_at,
                                                            resumed or InterruptedCall())
        record.status, record.compensation = outcome.step_status, outcome
        self._emit(EventKind.COMPENSATION_ENDED, saga, step=step.name, service=service, operation=operation,
                   attempt=detail.pop("attempts"), data={"outcome": outcome.value, **detail})
        return outcome

    async def _compensation_attempts(
        self, saga: SagaRun, record: StepRecord, service: str, operation: str,
        context: CompensationContext, expires_at: float, start: InterruptedCall,
    ) -> tuple[CompensationOutcome, dict[str, Any]]:
        step = record.definition
        policy = step.compensation_retry
        done = start.attempt - 1
        if self.clock.now() >= expires_at:
            return CompensationOutcome.EXPIRED, {"attempts": done, "reason": "TTL passed before it could run"}
        retryable = is_retryable(DEFAULT_RETRYABLE)
        if start.last_error is not None and (start.attempt > policy.max_attempts or not retryable(start.last_error)):
            return _compensation_failure(start.last_error, done, policy.max_attempts)
        breaker = self.breaker_for(service)
        rng = self._jitter_stream(policy.jitter, f"{saga.saga_id}:{step.name}:undo")

        def scheduled(next_attempt: int, delay: float, error: BaseException | None) -> None:
            self._emit(EventKind.COMPENSATION_RETRY_SCHEDULED, saga, step=step.name, service=service,
                       operation=operation, attempt=done + next_attempt, error_kind=getattr(error, "kind", None),
                       data={"delay": delay})

        if start.retry_at is not None:  # not on the hot path: only a call resumed during its backoff
            await self._wait_out_backoff(start)
        retrying = make_retrying(_continued(policy, start), self.clock, retryable=retryable, rng=rng,
                                 deadline_at=expires_at, before_sleep=scheduled)
        attempt = done
        tally = _UndoTally()
        try:
            async for trial in retrying:
                with trial:
                    attempt += 1
                    remaining = expires_at - self.clock.now()
                    timeout = remaining if policy.attempt_timeout is None else min(policy.attempt_timeout, remaining)
                    call = Call(saga.saga_id, step.name, service, operation,
                                f"{saga.saga_id}:{step.name}:undo", {**saga.input, **step.params}, attempt,
                                compensation=context)
                    intent = (None if start.resend and attempt == start.attempt
                              else EventKind.COMPENSATION_ATTEMPT_STARTED)
                    try:
                        result = await self._attempt(saga, call, breaker, timeout, intent,
                                                     EventKind.COMPENSATION_ATTEMPT, EventKind.COMPENSATION_ATTEMPT)
                    except ServiceError as error:
                        tally.failed(error)
                        raise
                    tally.calls += 1
        except ServiceError as error:
            return _compensation_failure(error, attempt, policy.max_attempts, tally)
        if result.get("outcome") == CompensationOutcome.PARTIAL.value:
            return CompensationOutcome.PARTIAL, {"attempts": attempt, **tally.as_data(),
                                                 "undone": result.get("undone", []),
                                                 "not_undone": result.get("not_undone", [])}
        return CompensationOutcome.COMPLETED, {"attempts": attempt, **tally.as_data(), "result": result}


@dataclass
class _UndoTally:
    """An undo's tries in this process, told apart: calls that reached the service, tries an open breaker
    refused, and the last error a call itself returned (not hidden behind the breaker's)."""

    calls: int = 0
    rejected: int = 0
    last_call_error: ServiceError | None = None

    def failed(self, error: ServiceError) -> None:
        if error.kind is ErrorKind.BREAKER_OPEN:
            self.rejected += 1
        else:
            self.calls += 1
            self.last_call_error = error

    def as_data(self) -> dict[str, Any]:
        return {"calls": self.calls, "rejected": self.rejected}


def _continued(policy: PolicyT, start: InterruptedCall) -> PolicyT:
    """The policy of a call resumed at attempt `start.attempt`: the attempts it has left."""
    if start.attempt == 1:
        return policy
    return policy.model_copy(update={"max_attempts": policy.max_attempts - start.attempt + 1})


def _compensation_failure(error: ServiceError, attempts: int, max_attempts: int,
                          tally: _UndoTally | None = None) -> tuple[CompensationOutcome, dict[str, Any]]:
    """A transient error with attempts left means the TTL ran out (expired); anything else failed. The
    reason is the last error a call returned; a breaker that refused the tries after it is told apart."""
    retryable = error.kind in DEFAULT_RETRYABLE
    outcome = CompensationOutcome.EXPIRED if retryable and attempts < max_attempts else CompensationOutcome.FAILED
    real = tally.last_call_error if tally is not None and tally.last_call_error is not None else error
    data: dict[str, Any] = {"attempts": attempts, "reason": real.message, "error_kind": real.kind.value}
    if tally is not None:
        data.update(tally.as_data())
        if error is not real:
            data["then"] = error.message  # e.g. "circuit breaker payment is open"
    return outcome, data


def _detached(error: ServiceError) -> ServiceError:
    """The same error, never raised: a step keeps its error as long as its saga is kept, and a raised
    one's traceback (and cause) would keep every frame of its retries alive with it."""
    return ServiceError(error.kind, error.message, code=error.code, retry_after=error.retry_after)


def _as_service_error(raised: BaseException, timeout: float | None) -> ServiceError:
    if isinstance(raised, ServiceError):
        return raised
    if isinstance(raised, TimeoutError):
        return ServiceError(ErrorKind.TIMEOUT, f"no answer within {timeout:g}s" if timeout else "timed out")
    return ServiceError(ErrorKind.UNEXPECTED, f"{type(raised).__name__}: {raised}")


def _error_data(error: ServiceError, raised: BaseException, duration: float) -> dict[str, Any]:
    data: dict[str, Any] = {"duration": duration}
    if error.code:
        data["code"] = error.code
    if error.retry_after is not None:
        data["retry_after"] = error.retry_after
    if error.kind is ErrorKind.UNEXPECTED:
        data["exception"] = repr(raised)
    return data
