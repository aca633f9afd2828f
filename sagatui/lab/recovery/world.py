"""The simulated world of a stopped run, put back before its sagas go on.

For `resume` (restore_world), as its events left it:
- Each service gets the fault profile its last `fault.changed` event set, in the state it had reached:
  a flapping service keeps its phase (counted from that event's time, not from the resume), and a
  rate limiter's token bucket holds what the calls since left in it (each recorded intent reached the
  service at its time, and each call an earlier resume sent again at that resume). A temporary profile
  reverts when it was due to, and the fault changes still to come in the run's scenarios are scheduled
  again: an outage the crash interrupted ends when the scenario says, not never. So from the stop on,
  the same calls are refused at the same moments as in a run never stopped, except where the stop
  itself changed the calls: a call in flight at the stop reaches the service once more when it is sent
  again (a second token, the phase of that moment).
- What does not carry over: the seeded draws of a service (a degraded profile's failures, latency
  jitter, lost replies, a service's own error rates) start again from its seed. Following on would
  mean replaying every draw the stopped process made, and some (a call cancelled in its latency, a
  reply lost or not just before the kill) are not in the log.
- Breakers start closed (their counts were lost with the process; a service still failing trips them
  again), recorded as a transition for each one the log left open or half-open. A breaker an operator
  isolated stays isolated.
- Each service's options are as the scenarios' `service.changed` events left them (applied in order;
  their rows are in the store already), and the changes still to come are scheduled again, as faults are.

For an operator's action on a run no session holds (reset_world): the services as the pack configures
them (the session and its outages are over), breakers as above; the options the run's changes set are
kept, as their rows are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from sagatui.engine.breaker import BreakerTransition, record_transitions
from sagatui.lab import Lab
from sagatui.lab.commands import StartScenario, parse_recorded
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import ApprovalDecided, FaultChanged, RunResumed, SagaStopping, ServiceChanged
from sagatui.model.payloads import BreakerTransition as TransitionPayload
from sagatui.model.status import BreakerState
from sagatui.packs.model import FaultChange, Scenario, ScriptedCancel, ScriptedDecision, ServiceChange
from sagatui.sim.directory import Arrival

_SCENARIO_SOURCE = "scenario "
ChangeT = TypeVar("ChangeT", FaultChange, ServiceChange, ScriptedCancel, ScriptedDecision)


def restore_world(lab: Lab, events: Sequence[Event]) -> None:
    now = lab.clock.now()
    for service, history in _fault_histories(lab, events).items():
        changed = history.changed
        profile = changed.payload_as(FaultChanged).profile
        revert_in = None if profile.revert_after is None else max(0.0, changed.time + profile.revert_after - now)
        lab.services.restore_fault(service, profile, revert_in, since=changed.time, arrivals=history.arrivals)
    applied = sum(event.payload_as(FaultChanged).source.startswith(_SCENARIO_SOURCE) for event in events
                  if event.kind is EventKind.FAULT_CHANGED)
    for due, scenario, change in _scheduled(lab, events, _faults)[applied:]:
        lab.clock.call_at(due, partial(lab.services.set_fault, change.service, change.profile,
                                       source=f"{_SCENARIO_SOURCE}{scenario}"))
    options_changed = _restore_options(lab, events)
    for due, scenario, scheduled in _scheduled(lab, events, _changes)[options_changed:]:
        lab.clock.call_at(due, partial(lab.services.change, scheduled.service, scheduled.options, scheduled.restock,
                                       source=f"{_SCENARIO_SOURCE}{scenario}"))
    cancelled = sum(event.payload_as(SagaStopping).scenario is not None for event in events
                    if event.kind is EventKind.SAGA_CANCEL_REQUESTED)
    for due, scenario, cancel in _scheduled(lab, events, _cancels)[cancelled:]:
        lab.clock.call_at(due, partial(lab.workload.cancel, cancel.saga, cancel.note, scenario))
    decided = sum(event.payload_as(ApprovalDecided).by == "scenario" for event in events
                  if event.kind is EventKind.APPROVAL_DECIDED)
    for due, _, decision in _scheduled(lab, events, _decisions)[decided:]:
        lab.clock.call_at(due, partial(lab.workload.decide, decision.saga, decision.approve, decision.note, "scenario"))
    _restore_breakers(lab, events)


def reset_world(lab: Lab, events: Sequence[Event]) -> None:
    for service, history in _fault_histories(lab, events).items():
        lab.services.restore_fault(service, history.changed.payload_as(FaultChanged).profile, None)
    lab.services.configure_faults(source="reopened")  # recorded, as the switch back from the log's profiles
    _restore_options(lab, events)
    _restore_breakers(lab, events)


def _restore_options(lab: Lab, events: Sequence[Event]) -> int:
    """Put back the options every `service.changed` of the log set, in order; how many came from scenarios."""
    from_scenarios = 0
    for event in events:
        if event.kind is EventKind.SERVICE_CHANGED and event.service in lab.services.services:
            changed = event.payload_as(ServiceChanged)
            lab.services.restore_options(event.service, changed.options)
            from_scenarios += changed.source.startswith(_SCENARIO_SOURCE)
    return from_scenarios


@dataclass
class _FaultHistory:
    """A service's last fault change in the log, and the calls that reached the service after it."""

    changed: Event
    arrivals: list[Arrival] = field(default_factory=list)


_INTENTS = {EventKind.ATTEMPT_STARTED: False, EventKind.COMPENSATION_ATTEMPT_STARTED: True}
"""The events that say a call went out (durable before it did), and whether it was a compensation's."""


def _fault_histories(lab: Lab, events: Sequence[Event]) -> dict[str, _FaultHistory]:
    """Each service's last fault change and the calls that reached it since: every recorded intent, and
    each call an earlier resume sent again (under its old intent: `run.resumed` names it) at that moment."""
    histories: dict[str, _FaultHistory] = {}
    intents: dict[str, Event] = {}  # the last intent of each call, by idempotency key

    def arrived(intent: Event, at: float) -> None:
        history = histories.get(str(intent.service))
        if history is not None:
            history.arrivals.append(Arrival(at, _INTENTS[intent.kind], intent.operation or "", intent.step or ""))

    for event in events:
        if (event.kind is EventKind.FAULT_CHANGED and event.service is not None
                and lab.services.has_service(event.service)):
            histories[event.service] = _FaultHistory(event)
        elif event.kind in _INTENTS:
            intents[f"{event.saga_id}:{event.step}{':undo' if _INTENTS[event.kind] else ''}"] = event
            arrived(event, event.time)
        elif event.kind is EventKind.RUN_RESUMED:
            for key in event.payload_as(RunResumed).resent:
                if (intent := intents.get(str(key))) is not None:
                    arrived(intent, event.time)
    return histories


def _faults(scenario: Scenario) -> Sequence[FaultChange]:
    return scenario.faults


def _changes(scenario: Scenario) -> Sequence[ServiceChange]:
    return scenario.changes


def _cancels(scenario: Scenario) -> Sequence[ScriptedCancel]:
    return scenario.cancels


def _decisions(scenario: Scenario) -> Sequence[ScriptedDecision]:
    return scenario.decisions


def _scheduled(lab: Lab, events: Sequence[Event],
               schedule: Callable[[Scenario], Sequence[ChangeT]]) -> list[tuple[float, str, ChangeT]]:
    """Every change of one schedule (fault changes, or changes of the services' state) of every scenario the
    run started, in the order the lab fires them: by due clock time, then in the order they were scheduled."""
    launches = [(event.time, command.scenario) for event in events if event.kind is EventKind.COMMAND
                and isinstance(command := parse_recorded(event.data), StartScenario)]
    ordered = sorted(
        ((time + max(0.0, change.at), launch, index, scenario, change)
         for launch, (time, scenario) in enumerate(launches)
         for index, change in enumerate(schedule(lab.pack.scenarios[scenario]))),
        key=lambda item: item[:3])
    return [(due, scenario, change) for due, _, _, scenario, change in ordered]


def _restore_breakers(lab: Lab, events: Sequence[Event]) -> None:
    last: dict[str, BreakerState] = {}
    for event in events:
        if event.kind is EventKind.BREAKER_TRANSITION:
            transition = event.payload_as(TransitionPayload)
            last[transition.breaker] = transition.to_state
    record = record_transitions(lab.recorder)
    for name, state in last.items():
        if state is BreakerState.ISOLATED:
            lab.breakers.get(name).isolate()
        elif state is not BreakerState.CLOSED:
            record(BreakerTransition(name, state, BreakerState.CLOSED, "a new process: breakers start closed"))
