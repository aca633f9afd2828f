"""What a user can tell a lab to do: one typed command each, submitted to the lab and applied at the
clock's next quiet moment (sagatui.lab.run).

Some commands say what the user pressed, not what it does: a service's switch, the load key, the pause
key, a change of load rate. What they do depends on the lab's state when they are applied (after the
commands before them), so the lab resolves them then, into the concrete commands below, and records
those: two presses of a switch before the next quiet moment switch it off and on again, and a replay
applies exactly what was done. A `command` event's data is `{"name": ..., "args": {...}}`, the form
every recording has had; `recorded()` writes it and `parse_recorded()` reads it back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sagatui.model.faults import ONLINE, FaultProfile


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str  # each command's own literal: what tells the commands apart

    def recorded(self) -> dict[str, Any]:
        """The data of the `command` event that records this command."""
        args = self.model_dump(mode="json", exclude={"name"})
        return {"name": self.name, "args": args}


# -- concrete commands: what is recorded and what a replay applies ----------------------------------------
class StartScenario(_Command):
    name: Literal["start_scenario"] = "start_scenario"
    scenario: str


class StartSaga(_Command):
    """One saga on one input, outside any scenario (`sagatui prove` starts each case's saga so)."""

    name: Literal["start_saga"] = "start_saga"
    saga: str
    input: dict[str, Any] = Field(default_factory=dict)


class StartLoad(_Command):
    name: Literal["start_load"] = "start_load"
    scenario: str
    rate: float = Field(gt=0)


class StopLoad(_Command):
    name: Literal["stop_load"] = "stop_load"


class SetFault(_Command):
    name: Literal["set_fault"] = "set_fault"
    service: str
    profile: FaultProfile


class Pause(_Command):
    """Hold every saga before its next call."""

    name: Literal["pause"] = "pause"


class Resume(_Command):
    name: Literal["resume"] = "resume"


class Isolate(_Command):
    """Force a breaker open until it is reset."""

    name: Literal["isolate"] = "isolate"
    breaker: str


class ResetBreaker(_Command):
    name: Literal["reset_breaker"] = "reset_breaker"
    breaker: str


class RetryCompensation(_Command):
    """Run a saga's unfinished compensations again (a saga needing attention)."""

    name: Literal["retry_compensation"] = "retry_compensation"
    saga_id: str


class Resolve(_Command):
    """An operator handled a saga needing attention by hand; `note` says how."""

    name: Literal["resolve"] = "resolve"
    saga_id: str
    note: str = ""


class CancelSaga(_Command):
    """Stop a running saga going forward: it undoes what it did and ends `cancelled`."""

    name: Literal["cancel_saga"] = "cancel_saga"
    saga_id: str
    note: str = ""


class DecideApproval(_Command):
    """An operator's decision on the approval step a saga waits at: approved it goes on, rejected it
    compensates."""

    name: Literal["decide_approval"] = "decide_approval"
    saga_id: str
    approve: bool
    note: str = ""


class Forked(_Command):
    """Marks where a run forked from another (`sagatui fork`): the run it re-executed and the point where
    the fork's own commands begin. Changes nothing itself."""

    name: Literal["forked"] = "forked"
    source: str  # "run 3 of sagatui.db", or a session file
    at: str  # "seq 812" or "2.5s"


RecordedCommand = Annotated[
    StartScenario | StartSaga | StartLoad | StopLoad | SetFault | Pause | Resume | Isolate | ResetBreaker
    | RetryCompensation | Resolve | CancelSaga | DecideApproval | Forked,
    Field(discriminator="name"),
]
_RECORDED: TypeAdapter[RecordedCommand] = TypeAdapter(RecordedCommand)


def parse_recorded(data: dict[str, Any]) -> RecordedCommand:
    """The command a `command` event recorded (its data as `recorded()` wrote it). pydantic's
    ValidationError when it is not one."""
    return _RECORDED.validate_python({"name": data.get("name"), **dict(data.get("args") or {})})


# -- what the user pressed: resolved by the lab when applied ----------------------------------------------
class ToggleService(_Command):
    """Flip a service's switch: offline, or back from offline to the profile the pack configured."""

    name: Literal["toggle_service"] = "toggle_service"
    service: str


class ToggleLoad(_Command):
    """Stop the load generator, or start it on `scenario` (when it has a workload; else the pack's first
    scenario that has one) at the rate last chosen, or the scenario's own."""

    name: Literal["toggle_load"] = "toggle_load"
    scenario: str | None = None


class ScaleLoad(_Command):
    """Multiply the load rate by `factor` (within 0.25-5000/s); a running load restarts at the new rate."""

    name: Literal["scale_load"] = "scale_load"
    factor: float = Field(gt=0)
    scenario: str | None = None  # where a load would start, as for ToggleLoad


class TogglePause(_Command):
    name: Literal["toggle_pause"] = "toggle_pause"


Command = RecordedCommand | ToggleService | ToggleLoad | ScaleLoad | TogglePause


def toggled(profile: FaultProfile, configured: FaultProfile) -> FaultProfile:
    """What flipping a service's switch turns on: offline, or back from offline to the profile the pack
    configured (plain online when the pack itself configured it offline)."""
    if profile.mode != "offline":
        return FaultProfile(mode="offline")
    return configured if configured.mode != "offline" else ONLINE
