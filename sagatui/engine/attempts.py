"""The one attempt loop: a saga's call (a step's provider, or a compensation) made with retries on the
run's clock, each attempt through its breaker and timeout, its intent durable before it goes out, and
every try and scheduled retry an event. A step's forward calls and its compensation differ only in what
their `CallPlan` says: the events they are told by, their policy, which errors earn a retry."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sagatui.engine.breaker import CircuitBreaker
from sagatui.engine.bulkhead import Bulkhead
from sagatui.engine.clock import VirtualClock
from sagatui.engine.ports import Services
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.remediation import Remediator, Remedy
from sagatui.engine.retry import Backoff, DeferredSleep, make_retrying
from sagatui.engine.saga_state import InterruptedCall
from sagatui.engine.seeds import random_stream
from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.payloads import BulkheadQueued, BulkheadRejected, CallOutcome, RetryScheduled
from sagatui.model.policies import RetryPolicy


@dataclass(frozen=True)
class CallEvents:
    """The events one kind of call is told by in the log."""

    intent: EventKind  # durable before each attempt goes out
    succeeded: EventKind
    failed: EventKind
    retry_scheduled: EventKind
    rejected_data: Mapping[str, Any]  # added to `breaker.rejected` when an open breaker refuses a try
    undo: bool | None  # told on the bulkhead's events: True for a compensation's try


FORWARD = CallEvents(EventKind.ATTEMPT_STARTED, EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED,
                     EventKind.RETRY_SCHEDULED, {}, None)
UNDO = CallEvents(EventKind.COMPENSATION_ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT,
                  EventKind.COMPENSATION_ATTEMPT, EventKind.COMPENSATION_RETRY_SCHEDULED, {"undo": True}, True)


@dataclass(frozen=True)
class CallPlan:
    """One call to make with retries."""

    events: CallEvents
    call: Call  # what each attempt sends, under its own attempt number
    breaker: CircuitBreaker
    policy: Backoff
    retry_on: frozenset[ErrorKind]  # the errors that earn another attempt
    deadline_at: float | None  # clock time by which the last attempt must have ended (None: no limit)
    jitter_stream: str  # names the seeded stream of this call site's jitter
    start: InterruptedCall  # where the call goes on from (a fresh one: attempt 1)
    cost: float = 0.0  # what each attempt costs (told on its intent when not 0)
    remedy: Remedy | None = None  # what to call between a failed attempt and the next (a step's `remediate`)


class AttemptWatcher(Protocol):
    """What the caller keeps of a call's attempts as they happen (a step's record, an undo's tally)."""

    def attempting(self, attempt: int) -> None:
        """Attempt `attempt` is about to go out."""

    def waiting(self) -> None:
        """A retry is scheduled."""

    def answered(self, error: ServiceError | None) -> None:
        """An attempt ended: with a result, or with `error` (an open breaker's refusal too)."""


class AttemptLoop:
    """Makes the calls of a run's sagas. `running` is the engine's pause switch: cleared, each call waits
    before its next attempt goes out. `bulkheads`: the services that limit their calls in flight."""

    def __init__(self, services: Services, clock: VirtualClock, recorder: EventRecorder,
                 running: asyncio.Event, seed: int, bulkheads: Mapping[str, Bulkhead] | None = None) -> None:
        self.services = services
        self.clock = clock
        self.recorder = recorder
        self.running = running
        self.seed = seed
        self.bulkheads = dict(bulkheads or {})
        self.remediator = Remediator(services, clock, recorder)

    async def call(self, plan: CallPlan, watcher: AttemptWatcher) -> dict[str, Any]:
        """The call's result; raises the ServiceError that ended it (for a resumed call whose last attempt
        failed and that has none left, that attempt's error, with nothing tried)."""
        start = plan.start
        if start.last_error is not None and (
                start.attempt > _budget(plan.policy, start.last_error)
                or not _retryable(start.last_error, plan.retry_on)
                or (plan.deadline_at is not None and self.clock.now() >= plan.deadline_at)):
            raise start.last_error
        if start.retry_at is not None:  # not on the hot path: only a call resumed during its backoff
            await self._wait_out_backoff(start.retry_at)
        try:
            return await self._try(plan, watcher, start.attempt)
        except ServiceError as error:
            if not _retryable(error, plan.retry_on):
                raise
            first_error = error
        return await self._retry(plan, watcher, first_error)

    async def _retry(self, plan: CallPlan, watcher: AttemptWatcher, first_error: ServiceError) -> dict[str, Any]:
        """The rest of a call whose first try failed with an error that earns a retry: tenacity decides
        whether and when. It is shown that first try (made outside it, so a call answered at once never
        builds tenacity's machinery) as its own first attempt, so its waits, seeded jitter draws and stop
        rules are those of the whole call."""
        start, policy = plan.start, plan.policy
        done = start.attempt - 1

        by_error = getattr(policy, "by_error", {})

        def scheduled(next_attempt: int, delay: float, error: BaseException | None) -> None:
            watcher.waiting()
            call = plan.call
            kind = getattr(error, "kind", None)
            self.recorder.emit(plan.events.retry_scheduled, saga_id=call.saga_id, step=call.step,
                               service=call.service, operation=call.operation, attempt=done + next_attempt,
                               error_kind=kind, payload=RetryScheduled(delay=delay, policy=kind if kind in by_error
                                                                        else None))

        backoff = DeferredSleep()
        retrying = make_retrying(_continued(policy, start), self.clock,
                                 retryable=lambda error: _retryable(error, plan.retry_on),
                                 rng=self._jitter(policy.jitter, plan.jitter_stream), deadline_at=plan.deadline_at,
                                 before_sleep=scheduled, sleep=backoff)
        attempt, remedy = done, plan.remedy
        failed: Call | None = None  # the attempt before, when it failed with a kind the remediation names
        for trial in retrying:
            waiting_since = self.clock.now()
            if failed is not None and remedy is not None and (
                    plan.deadline_at is None or self.clock.now() < plan.deadline_at):
                if not self.running.is_set():  # paused: nothing goes out, a remedy neither
                    await self.running.wait()
                await self.remediator.heal(failed, remedy)
            failed = None
            await backoff.wait_out(self.clock, self.clock.now() - waiting_since)  # the delay tenacity chose
            with trial:
                attempt += 1
                if attempt == start.attempt:
                    failed = self._remediable(plan, attempt, first_error)
                    raise first_error  # the first try, already made: tenacity schedules what follows it
                try:
                    return await self._try(plan, watcher, attempt)
                except ServiceError as error:
                    failed = self._remediable(plan, attempt, error)
                    raise
        raise AssertionError("tenacity ended without a result or an error")  # pragma: no cover

    @staticmethod
    def _remediable(plan: CallPlan, attempt: int, error: ServiceError) -> Call | None:
        """The call attempt `attempt` made, when its failure calls for the step's remediation."""
        if plan.remedy is None or not plan.remedy.wanted(error):
            return None
        return plan.call if plan.call.attempt == attempt else dataclasses.replace(plan.call, attempt=attempt)

    async def _try(self, plan: CallPlan, watcher: AttemptWatcher, attempt: int) -> dict[str, Any]:
        """Attempt number `attempt`, within the attempt timeout and what is left of the deadline."""
        watcher.attempting(attempt)
        timeout = plan.policy.timeout_for(attempt)
        if plan.deadline_at is not None:
            remaining = max(0.0, plan.deadline_at - self.clock.now())
            timeout = remaining if timeout is None else min(timeout, remaining)
        start = plan.start
        intent = None if start.resend and attempt == start.attempt else plan.events.intent
        call = plan.call if plan.call.attempt == attempt else dataclasses.replace(plan.call, attempt=attempt)
        try:
            result = await self._attempt(call, plan, timeout, intent)
        except ServiceError as error:
            watcher.answered(error)
            raise
        watcher.answered(None)
        return result

    def _jitter(self, jitter: str, name: str) -> random.Random | None:
        """A seeded stream per call site, so one saga's retries never shift another's jitter."""
        return None if jitter == "none" else random_stream(self.seed, f"jitter:{name}")

    async def _wait_out_backoff(self, retry_at: float) -> None:
        """A call resumed while it waited for a retry waits out what was left of that delay (a 429's
        retry-after too): a restart must not change when the next attempt goes out."""
        if retry_at > self.clock.now():
            await self.clock.sleep(retry_at - self.clock.now())

    async def _attempt(self, call: Call, plan: CallPlan, timeout: float | None,
                       intent: EventKind | None) -> dict[str, Any]:
        """One call through the breaker and the attempt timeout, reported as events. The `intent` event
        is durable before the call goes out (None: it already is, from before a restart)."""
        where: dict[str, Any] = {"step": call.step, "service": call.service, "operation": call.operation,
                                 "attempt": call.attempt}
        breaker, emit = plan.breaker, self.recorder.emit
        try:
            breaker.admit()
        except ServiceError as rejected:
            emit(EventKind.BREAKER_REJECTED, saga_id=call.saga_id, **where, error_kind=rejected.kind,
                 message=rejected.message, data={"breaker": breaker.name, **plan.events.rejected_data})
            raise
        if not self.running.is_set():
            await self.running.wait()
        bulkhead = self.bulkheads.get(call.service)
        if bulkhead is None:
            return await self._send(call, plan, timeout, intent, where)
        await self._enter(bulkhead, call, plan, where)
        try:
            if not self.running.is_set():  # paused while it waited for its slot: it goes out on resume
                await self.running.wait()
            if plan.deadline_at is not None:  # the wait for a slot took some of the time left
                remaining = max(0.0, plan.deadline_at - self.clock.now())
                timeout = remaining if timeout is None else min(timeout, remaining)
            return await self._send(call, plan, timeout, intent, where)
        finally:
            bulkhead.leave()

    async def _enter(self, bulkhead: Bulkhead, call: Call, plan: CallPlan, where: dict[str, Any]) -> None:
        """A slot in the service's bulkhead, waited for in its queue when it has one (told), or the
        refusal (told), which gives back the breaker's admission: the call was never made."""
        emit = self.recorder.emit
        queued_at = self.clock.now() if bulkhead.can_queue else None
        if queued_at is not None:
            emit(EventKind.BULKHEAD_QUEUED, saga_id=call.saga_id, **where,
                 payload=BulkheadQueued(bulkhead=bulkhead.name, in_flight=bulkhead.in_flight, ahead=bulkhead.queued,
                                        undo=plan.events.undo))
        within = None if plan.deadline_at is None else plan.deadline_at - self.clock.now()
        try:
            await bulkhead.enter(within)
        except BaseException as stopped:
            plan.breaker.abandon()
            if isinstance(stopped, ServiceError):
                emit(EventKind.BULKHEAD_REJECTED, saga_id=call.saga_id, **where, error_kind=stopped.kind,
                     message=stopped.message, payload=BulkheadRejected(
                         bulkhead=bulkhead.name, in_flight=bulkhead.in_flight, queued=bulkhead.queued,
                         waited=None if queued_at is None else self.clock.now() - queued_at, undo=plan.events.undo))
            raise

    async def _send(self, call: Call, plan: CallPlan, timeout: float | None, intent: EventKind | None,
                    where: dict[str, Any]) -> dict[str, Any]:
        """The call itself: its intent made durable, then the service's answer within the timeout."""
        breaker, emit = plan.breaker, self.recorder.emit
        if intent is not None:
            # A timeout that grows per attempt is told on each intent; a fixed one is the policy's, as written.
            told = None if not plan.cost and not plan.policy.timeout_grows else _told(plan, timeout)
            try:
                await self.recorder.durable(emit(intent, saga_id=call.saga_id, **where, data=told))
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
            emit(plan.events.failed, saga_id=call.saga_id, **where, error_kind=error.kind, message=error.message,
                 payload=_failure(error, raised, self.clock.now() - started))
            raise error from raised
        breaker.record(None, self.clock.now() - started)
        emit(plan.events.succeeded, saga_id=call.saga_id, **where, data={"duration": self.clock.now() - started})
        return result


def _told(plan: CallPlan, timeout: float | None) -> dict[str, Any]:
    """What an intent says beyond its call: a timeout that grows per attempt, a priced provider's cost."""
    told: dict[str, Any] = {}
    if plan.policy.timeout_grows:
        told["timeout"] = timeout
    if plan.cost:
        told["cost"] = plan.cost
    return told


def _continued(policy: Backoff, start: InterruptedCall) -> Backoff:
    """The policy of a call resumed at attempt `start.attempt`: the attempts it has left."""
    if start.attempt == 1:
        return policy
    return policy.model_copy(update={"max_attempts": policy.max_attempts - start.attempt + 1})


def _budget(policy: Backoff, error: ServiceError) -> int:
    """The attempts a call resumed after `error` may have made: its kind's own budget under `by_error`
    (after a restart, every attempt of the call counts against it), else the policy's."""
    return policy.for_kind(error.kind).max_attempts if isinstance(policy, RetryPolicy) else policy.max_attempts


def _retryable(error: BaseException, retry_on: frozenset[ErrorKind]) -> bool:
    return isinstance(error, ServiceError) and error.kind in retry_on


def _as_service_error(raised: BaseException, timeout: float | None) -> ServiceError:
    if isinstance(raised, ServiceError):
        return raised
    if isinstance(raised, TimeoutError):
        return ServiceError(ErrorKind.TIMEOUT, f"no answer within {timeout:g}s" if timeout else "timed out")
    return ServiceError(ErrorKind.UNEXPECTED, f"{type(raised).__name__}: {raised}")


def _failure(error: ServiceError, raised: BaseException, duration: float) -> CallOutcome:
    return CallOutcome(duration=duration, code=error.code or None, retry_after=error.retry_after,
                       exception=(error.detail or repr(raised)) if error.kind is ErrorKind.UNEXPECTED else None)
