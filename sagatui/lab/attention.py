"""The needs_attention inbox: sagas whose rollback could not finish, and what an operator does about them.

`retry` runs the compensations that did not complete again (with their policy, the TTL counted from
now); `resolve` marks the saga handled with a note. Both go through the lab as recorded commands, as
the dashboard sends them. Outside a live session the run is reopened in this process first (as
`resume` does), with the services as the pack configures them: the outages of the session are over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sagatui.code.app import App
from sagatui.event_lines import names
from sagatui.lab.commands import Resolve, RetryCompensation
from sagatui.lab.recovery.reopen import find_run, reopen_run
from sagatui.lab.recovery.world import reset_world
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import CompensationEnded, CompensationStarted, SagaCompensating
from sagatui.model.status import SagaStatus
from sagatui.store.database import Store
from sagatui.store.queries import SagaInfo, saga_timeline, sagas

_INBOX_PAGE = 10_000


class NotNeedingAttention(LookupError):
    """The saga named is not in the inbox (unknown, or not needs_attention)."""


@dataclass(frozen=True)
class CompensationLink:
    """One step of a saga's rollback, newest first: what undoes it and how that went."""

    step: str
    action: str | None  # service.operation of the compensation (None: the step has none)
    outcome: str | None  # completed | partial | failed | expired; skipped; None: not run
    attempts: int
    reason: str | None  # why it did not complete
    tries: str = ""  # `5 attempt(s)`, or the calls made and the tries an open breaker refused

    def describe(self) -> str:
        if self.outcome is None:
            return "not run"
        if self.outcome == "skipped":
            return "skipped (no compensation)"
        tries = self.tries or f"{self.attempts} attempt(s)"
        return f"{self.outcome} after {tries}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class AttentionCase:
    saga: SagaInfo
    chain: list[CompensationLink]
    context: dict[str, Any]  # what the undo that did not complete was told: failed step, error, forward result


async def inbox(store: Store, run_id: int) -> list[SagaInfo]:
    """The run's sagas that need attention, in start order."""
    return await sagas(store, run_id, statuses=[SagaStatus.NEEDS_ATTENTION.value], limit=_INBOX_PAGE)


async def waiting_for_decision(store: Store, run_id: int) -> list[SagaInfo]:
    """The run's sagas waiting at an approval step for an operator's decision (`sagatui saga approve|reject`),
    in start order: the rest of an operator's inbox."""
    return await sagas(store, run_id, statuses=[SagaStatus.WAITING_APPROVAL.value], limit=_INBOX_PAGE)


def matching(waiting: Sequence[SagaInfo], words: str) -> list[SagaInfo]:
    """The sagas of `waiting` holding every word of `words` (any case) in their id, saga, failed step,
    error kind or message: what a bulk retry or resolve acts on (`""`: all of them)."""
    wanted = words.casefold().split()
    return [info for info in waiting
            if all(word in " ".join(filter(None, (info.saga_id, info.saga, info.failed_step, info.error_kind,
                                                  info.message))).casefold() for word in wanted)]


async def attention_case(store: Store, run_id: int, saga_id: str) -> AttentionCase:
    """One saga in the inbox with its compensation chain, as its events tell it."""
    timeline = await saga_timeline(store, run_id, saga_id)
    if timeline is None or timeline.saga.status != SagaStatus.NEEDS_ATTENTION:
        status = "not in the run" if timeline is None else timeline.saga.status
        raise NotNeedingAttention(f"saga {saga_id} of run {run_id} does not need attention ({status})")
    return AttentionCase(timeline.saga, *_chain(timeline.events))


def _chain(events: list[Event]) -> tuple[list[CompensationLink], dict[str, Any]]:
    """The rollback's links, and the context of the first undo that did not complete (the one an operator
    must finish by hand: its forward result holds the payment id to refund), else of the last one run."""
    rollback: list[str] = []
    ends: dict[str, Event] = {}
    contexts: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.kind is EventKind.SAGA_COMPENSATING:
            rollback = list(event.payload_as(SagaCompensating).to_undo)
        elif event.kind in (EventKind.COMPENSATION_ENDED, EventKind.COMPENSATION_SKIPPED) and event.step:
            ends[event.step] = event
        elif event.kind is EventKind.COMPENSATION_STARTED and event.step:
            contexts[event.step] = dict(event.payload_as(CompensationStarted).context)
    links = [_link(step, ends.get(step)) for step in rollback]
    unfinished = [link.step for link in links if link.outcome not in ("completed", "skipped") and link.step in contexts]
    context = contexts[unfinished[0]] if unfinished else next(reversed(contexts.values()), {})
    return links, context


def _link(step: str, end: Event | None) -> CompensationLink:
    if end is None:
        return CompensationLink(step, None, None, 0, None)
    if end.kind is EventKind.COMPENSATION_SKIPPED:
        return CompensationLink(step, None, "skipped", 0, None)
    ended = end.payload_as(CompensationEnded)
    reason = ended.why() if ended.reason else None
    if ended.not_undone:
        reason = f"not undone: {names(ended.not_undone)}"
    return CompensationLink(step, f"{end.service}.{end.operation}", ended.outcome.value, end.attempt or 0,
                            reason, ended.tries(end.attempt or 0))


async def retry(store: Store, run_id: int, saga_id: str, *, on_event: Callable[[Event], None] | None = None,
                code: App | None = None) -> SagaStatus:
    """Run the saga's unfinished compensations again; its status afterwards. `code`: the user's services of a
    run of their own code (each of these functions takes it)."""
    return (await retry_many(store, run_id, [saga_id], on_event=on_event, code=code))[saga_id]


async def resolve(store: Store, run_id: int, saga_id: str, note: str, *,
                  on_event: Callable[[Event], None] | None = None, code: App | None = None) -> SagaStatus:
    """Mark the saga handled (compensated) with the operator's note."""
    return (await resolve_many(store, run_id, [saga_id], note, on_event=on_event, code=code))[saga_id]


async def retry_many(store: Store, run_id: int, saga_ids: Sequence[str], *,
                     on_event: Callable[[Event], None] | None = None, code: App | None = None,
                     ) -> dict[str, SagaStatus]:
    """Run the unfinished compensations of every saga named again, side by side, in one reopening of the
    run; each one's status afterwards."""
    return await _act(store, run_id, saga_ids, lambda saga_id: RetryCompensation(saga_id=saga_id), on_event, code)


async def resolve_many(store: Store, run_id: int, saga_ids: Sequence[str], note: str, *,
                       on_event: Callable[[Event], None] | None = None, code: App | None = None,
                       ) -> dict[str, SagaStatus]:
    """Mark every saga named handled with the same note; each one's status afterwards."""
    return await _act(store, run_id, saga_ids, lambda saga_id: Resolve(saga_id=saga_id, note=note), on_event,
                      code)


async def _act(store: Store, run_id: int, saga_ids: Sequence[str],
               command_for: Callable[[str], RetryCompensation | Resolve],
               on_event: Callable[[Event], None] | None, code: App | None) -> dict[str, SagaStatus]:
    """Reopen the run, then look the saga up: under the run's lock, so that another process that retried
    or resolved it first is seen (NotNeedingAttention), never raced. Cancelled (a stop signal) while the
    retried compensations run, the run is recorded as interrupted with no saga left in flight: the cut-short
    retry ended nothing, so the saga is still in the inbox (`sagatui resume` settles the run again, and the
    next retry has its whole policy; tests/recovery/test_interrupt.py)."""
    reopened = await reopen_run(store, await find_run(store, run_id), on_event=on_event, code=code)
    lab = reopened.lab
    wanted = list(dict.fromkeys(saga_ids))
    try:
        needing = {info.saga_id for info in await inbox(store, run_id)}  # one read for many sagas
        for saga_id in wanted:
            if saga_id not in needing:
                await attention_case(store, run_id, saga_id)  # raises NotNeedingAttention, saying why (nothing written)
        chosen = {saga_id: lab.workload.sagas[saga_id] for saga_id in wanted}  # let go once no longer needing it
        commands = [command_for(saga_id) for saga_id in wanted]
        if any(isinstance(command, RetryCompensation) for command in commands):
            reset_world(lab, reopened.events)
        for command in commands:
            lab.apply(command)
        try:
            await lab.settle()
        except asyncio.CancelledError:
            await lab.interrupt()
            raise
    finally:
        await lab.close()
    return {saga_id: saga.status for saga_id, saga in chosen.items()}
