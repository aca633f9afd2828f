"""Comparing runs from the dashboard: this run beside the one before it in the database (`d` on the board),
and a what-if fork from a saga's timeline (`f`): the run re-executed up to where that saga started,
a service's fault changed there, then the run and its fork side by side (sagatui.tui.screens.compare).

A fork is a run of its own on a clock of its own, so it runs on an event loop of its own, in a thread:
beside the live lab on the app's loop, neither clock would see its quiet moments as they are. It goes into
a database beside the live one (`<db>.forks.db`): it never writes where the live run does."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sagatui.lab.commands import SetFault
from sagatui.lab.fork import ForkError, ForkPoint, forks_beside, what_if
from sagatui.lab.replay import recording_from_store
from sagatui.lab.run_diff import diff_runs
from sagatui.lab.session_file import RecordingError
from sagatui.model.faults import FaultProfile
from sagatui.store.errors import StorageError
from sagatui.tui.badges import fault_label
from sagatui.tui.messages import ForkHere
from sagatui.tui.screens.compare import CompareScreen
from sagatui.tui.screens.dialogs import FaultPicker, ServicePicker

if TYPE_CHECKING:
    from sagatui.tui.app import SagaDashboard

_FAILURES = (ForkError, RecordingError, StorageError)


async def compare_with_previous(app: SagaDashboard) -> None:
    """This run (B) beside the one before it (A), as far as each is committed."""
    if app.session is None or app.refresher is None:
        return
    run_id = app.refresher.view.run_id
    if run_id <= 1:
        app.notify("this is the database's first run: nothing before it to compare with", severity="warning",
                   timeout=3)
        return
    store = app.session.store
    try:
        before, now = await recording_from_store(store, run_id - 1), await recording_from_store(store, run_id)
    except _FAILURES as error:
        app.notify(f"cannot compare: {error}", severity="error", timeout=5)
        return
    names = (f"run {run_id - 1} of {store.path.name}", f"run {run_id} of {store.path.name}")
    app.push_screen(CompareScreen(diff_runs(before, now), names, f"Run {run_id - 1} (A) beside run {run_id} (B)"))


def ask_for_a_fork(app: SagaDashboard, fork: ForkHere) -> None:
    """Which service, then which fault; then the fork, in a worker."""
    if app.refresher is None:
        return
    view = app.refresher.view
    faults = view.faults

    def service_chosen(service: str | None) -> None:
        if service is None:
            return

        def profile_chosen(profile: FaultProfile | None) -> None:
            if profile is not None:
                app.run_worker(_fork(app, fork, service, profile), group="fork", exclusive=True)

        app.push_screen(FaultPicker(service, faults[service], view.pack.services[service].fault), profile_chosen)

    app.push_screen(ServicePicker([(name, fault_label(profile)) for name, profile in faults.items()], fork.saga_id),
                    service_chosen)


async def _fork(app: SagaDashboard, fork: ForkHere, service: str, profile: FaultProfile) -> None:
    if app.session is None or app.refresher is None:
        return
    db, run_id = app.session.store.path, app.refresher.view.run_id
    change = f"{service} {fault_label(profile)}"
    app.notify(f"forking run {run_id} where {fork.saga_id} started, with {change}…", timeout=3)
    try:
        result = await asyncio.to_thread(asyncio.run, what_if(
            db, run_id, ForkPoint(seq=fork.seq), [SetFault(service=service, profile=profile)], forks_beside(db)))
    except _FAILURES as error:
        app.notify(f"cannot fork: {error}", severity="error", timeout=5)
        return
    app.notify(f"forked: run {result.fork.run_id} of {result.target.name} ({result.fork.events} events)", timeout=4)
    names = (f"run {run_id} of {db.name}", f"run {result.fork.run_id} of {result.target.name}")
    title = f"Run {run_id} (A) and its fork where {fork.saga_id} started, with {change} (B)"
    app.push_screen(CompareScreen(result.diff, names, title))
