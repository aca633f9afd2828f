"""The simulated world of a stopped run, put back before its sagas go on.

For `resume` (restore_world), as its events left it:
- Each service gets the fault profile its last `fault.changed` event set; a temporary one reverts when
  it was due to, and the fault changes still to come in the run's scenarios are scheduled again: an
  outage the crash interrupted ends when the scenario says, not never.
- Breakers start closed (their counts were lost with the process; a service still failing trips them
  again), recorded as a transition for each one the log left open or half-open. A breaker an operator
  isolated stays isolated.

For an operator's action on a run no session holds (reset_world): the services as the pack configures
them (the session and its outages are over), breakers as above.
"""

from __future__ import annotations

from collections.abc import Sequence

from sagatui.engine.breaker import BreakerTransition, record_transitions
from sagatui.lab import Lab
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import BreakerTransition as TransitionPayload
from sagatui.model.payloads import FaultChanged
from sagatui.model.status import BreakerState
from sagatui.packs.model import FaultChange

_SCENARIO_SOURCE = "scenario "


def restore_world(lab: Lab, events: Sequence[Event]) -> None:
    now = lab.clock.now()
    for service, event in _last_fault_changes(lab, events).items():
        profile = event.payload_as(FaultChanged).profile
        revert_in = None if profile.revert_after is None else max(0.0, event.time + profile.revert_after - now)
        lab.services.restore_fault(service, profile, revert_in)
    applied = sum(event.payload_as(FaultChanged).source.startswith(_SCENARIO_SOURCE) for event in events
                  if event.kind is EventKind.FAULT_CHANGED)
    for due, scenario, change in _scenario_changes(lab, events)[applied:]:
        lab.clock.call_later(max(0.0, due - now), lambda c=change, s=scenario: lab.services.set_fault(
            c.service, c.profile, source=f"{_SCENARIO_SOURCE}{s}"))
    _restore_breakers(lab, events)


def reset_world(lab: Lab, events: Sequence[Event]) -> None:
    for service, event in _last_fault_changes(lab, events).items():
        lab.services.restore_fault(service, event.payload_as(FaultChanged).profile, None)
    lab.services.configure_faults(source="reopened")  # recorded, as the switch back from the log's profiles
    _restore_breakers(lab, events)


def _last_fault_changes(lab: Lab, events: Sequence[Event]) -> dict[str, Event]:
    return {event.service: event for event in events
            if event.kind is EventKind.FAULT_CHANGED and event.service in lab.services.services}


def _scenario_changes(lab: Lab, events: Sequence[Event]) -> list[tuple[float, str, FaultChange]]:
    """Every fault change of every scenario the run started, in the order the lab fires them: by due
    clock time, then in the order they were scheduled."""
    launches = [(event.time, str(event.data["args"]["scenario"])) for event in events
                if event.kind is EventKind.COMMAND and event.data.get("name") == "start_scenario"]
    ordered = sorted(
        ((time + max(0.0, change.at), launch, index, scenario, change)
         for launch, (time, scenario) in enumerate(launches)
         for index, change in enumerate(lab.pack.scenarios[scenario].faults)),
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
