"""A stored run reopened in a new process: its lab rebuilt from what the database holds (pack text and
seed from the runs table, the sequence after the last committed event, services from their rows, sagas
from their events), ready to go on writing the same run."""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import suppress
from dataclasses import dataclass

from sagatui.code.app import App
from sagatui.lab import Lab
from sagatui.lab.recovery.rebuild import RebuiltSaga, rebuild_sagas
from sagatui.model.events import Event
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import RunInfo, get_run, read_events, run_pack_text
from sagatui.store.run_lock import claim_run, release_run


class NoSuchRun(LookupError):
    """A run id the database does not hold."""


class CodeNeeded(Exception):
    """The run ran the user's own code (sagatui.code), which the caller did not give: sagatui imports a user's
    module only when told to, never because a database names it."""

    def __init__(self, run: RunInfo, target: str) -> None:
        super().__init__(f"run {run.id} ran the user's own code ({target}): give it again with --code {target}")
        self.target = target


class RunMovedOn(Exception):
    """Read under its lock, the run was no longer in a status the caller could carry on from: another
    process (`sagatui resume`, say) settled it after the caller had looked."""

    def __init__(self, run: RunInfo) -> None:
        super().__init__(f"run {run.id} was {run.status} by another process meanwhile")
        self.run = run


@dataclass
class ReopenedRun:
    lab: Lab
    events: list[Event]  # the run's committed events, before it was reopened
    sagas: dict[str, RebuiltSaga]


async def find_run(store: Store, run_id: int) -> RunInfo:
    run = await get_run(store, run_id)
    if run is None:
        raise NoSuchRun(f"{store.path} has no run {run_id}")
    return run


async def reopen_run(
    store: Store, run: RunInfo, *, speed: float | None = None, on_event: Callable[[Event], None] | None = None,
    statuses: Collection[str] | None = None, code: App | None = None,
) -> ReopenedRun:
    """Open `run` for writing again; `close()` its lab when done. The run's lock is taken first
    (StorageError if another live process writes it) and the run read under it, so that nothing another
    process wrote before is missed; RunMovedOn if its status then is not one of `statuses` (when given).
    `code`: the user's services of a run of their own code (CodeNeeded without it)."""
    claim_run(store.path, run.id)
    lab: Lab | None = None
    try:
        run = await find_run(store, run.id)
        if statuses is not None and run.status not in statuses:
            raise RunMovedOn(run)
        pack_text = await run_pack_text(store, run.id)
        assert pack_text is not None, "every run row holds its pack text"
        target = run.settings.get("code")
        if target is not None and code is None:
            raise CodeNeeded(run, str(target))
        if target is None:
            code = None  # a pack's run: the user's code given for another run is none of its business
        pack = load_pack_text(pack_text, f"run {run.id} of {store.path}", code=code.kinds() if code else None)
        events = await read_events(store, run.id, limit=None)
        sagas = rebuild_sagas(pack.sagas, events)
        lab = Lab(pack, pack_text, store, seed=run.seed, speed=speed, label=run.scenario, code=code)
        lab.metrics.extend(events)
        if on_event is not None:
            lab.bus.add_listener(on_event)
        await lab.reopen(run.id, events[-1].time if events else 0.0, [rebuilt.saga for rebuilt in sagas.values()])
    except BaseException:
        if lab is not None:  # wired (its clock, its writer) before what failed (the App's lifespan)
            with suppress(Exception):
                await lab.close()
        release_run(store.path, run.id)
        raise
    return ReopenedRun(lab, events, sagas)
