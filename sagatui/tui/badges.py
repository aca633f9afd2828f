"""The coloured words the panels share: saga statuses, breaker states, outage switches. Their colours are
roles (sagatui.tui.tones), drawn in the theme's colours."""

from __future__ import annotations

from rich.text import Text

from sagatui.model.durations import format_duration
from sagatui.model.faults import FaultProfile
from sagatui.model.status import BreakerState, SagaStatus
from sagatui.tui.tones import style

SAGA_STATUS_STYLES = {
    SagaStatus.PENDING: "dim",
    SagaStatus.RUNNING: "info",
    SagaStatus.WAITING_APPROVAL: "bold on warning",  # waiting for a person
    SagaStatus.COMPENSATING: "undo",
    SagaStatus.COMPLETED: "ok",
    SagaStatus.COMPLETED_PARTIAL: "bold ok",
    SagaStatus.COMPENSATED: "warning",
    SagaStatus.FAILED: "error",
    SagaStatus.NEEDS_ATTENTION: "bold on error",
    SagaStatus.CANCELLED: "bold warning",
}

BREAKER_STYLES = {
    BreakerState.CLOSED: "bold ok",
    BreakerState.OPEN: "bold on error",
    BreakerState.HALF_OPEN: "bold on warning",
    BreakerState.ISOLATED: "bold on undo",
}


def saga_status(status: SagaStatus) -> Text:
    return Text(status.value, style=style(SAGA_STATUS_STYLES[status]))


def breaker_state(state: BreakerState, half_open_in: float | None) -> Text:
    """`open 1.4s`: an open breaker counts down to its half-open probe."""
    label = state.value.replace("_", "-")
    if half_open_in is not None:
        label += f" {half_open_in:.1f}s"
    return Text(label if state is BreakerState.CLOSED else f" {label} ", style=style(BREAKER_STYLES[state]))


def switch(profile: FaultProfile) -> Text:
    """ON while the service answers (however slowly), OFF when offline, FLT for any other fault."""
    if profile.mode == "online":
        return Text(" ON ", style=style("bold on ok"))
    if profile.mode == "offline":
        return Text(" OFF", style=style("bold on error"))
    return Text(" FLT", style=style("bold on warning"))


def fault_label(profile: FaultProfile) -> str:
    """The profile's label, with what it targets when not everything, and its revert."""
    label = profile.label()
    if profile.target != "both":
        label += " (undo only)" if profile.target == "compensations" else " (calls only)"
    if profile.revert_after is not None:
        label += f" for {format_duration(profile.revert_after)}"
    return label
