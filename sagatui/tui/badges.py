"""The coloured words the panels share: saga statuses, breaker states, outage switches."""

from __future__ import annotations

from rich.text import Text

from sagatui.model.durations import format_duration
from sagatui.model.faults import FaultProfile
from sagatui.model.status import BreakerState, SagaStatus

SAGA_STATUS_STYLES = {
    SagaStatus.PENDING: "dim",
    SagaStatus.RUNNING: "cyan",
    SagaStatus.COMPENSATING: "magenta",
    SagaStatus.COMPLETED: "green",
    SagaStatus.COMPLETED_PARTIAL: "bold green",
    SagaStatus.COMPENSATED: "yellow",
    SagaStatus.FAILED: "red",
    SagaStatus.NEEDS_ATTENTION: "bold white on red",
    SagaStatus.CANCELLED: "bold yellow",
}

BREAKER_STYLES = {
    BreakerState.CLOSED: "bold green",
    BreakerState.OPEN: "bold white on red",
    BreakerState.HALF_OPEN: "bold black on yellow",
    BreakerState.ISOLATED: "bold white on magenta",
}


def saga_status(status: SagaStatus) -> Text:
    return Text(status.value, style=SAGA_STATUS_STYLES[status])


def breaker_state(state: BreakerState, half_open_in: float | None) -> Text:
    """`open 1.4s`: an open breaker counts down to its half-open probe."""
    label = state.value.replace("_", "-")
    if half_open_in is not None:
        label += f" {half_open_in:.1f}s"
    return Text(label if state is BreakerState.CLOSED else f" {label} ", style=BREAKER_STYLES[state])


def switch(profile: FaultProfile) -> Text:
    """ON while the service answers (however slowly), OFF when offline, FLT for any other fault."""
    if profile.mode == "online":
        return Text(" ON ", style="bold black on green")
    if profile.mode == "offline":
        return Text(" OFF", style="bold white on red")
    return Text(" FLT", style="bold black on yellow")


def fault_label(profile: FaultProfile) -> str:
    """The profile's label, with what it targets when not everything, and its revert."""
    label = profile.label()
    if profile.target != "both":
        label += " (undo only)" if profile.target == "compensations" else " (calls only)"
    if profile.revert_after is not None:
        label += f" for {format_duration(profile.revert_after)}"
    return label
