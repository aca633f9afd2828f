"""Proving a saga from the dashboard (`P` on a saga, in the sagas table or its timeline): its definition, on
its input as recorded when it started, with the run's seed, shown as it fills in (sagatui.tui.screens.proof:
the proof runs there, in a thread of its own, into `<db>.proofs.db`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sagatui.lab.proof_report import proofs_beside, reproduce_words
from sagatui.lab.prove import Subject
from sagatui.model.events import EventKind
from sagatui.model.payloads import SagaStarted
from sagatui.packs.bundled import bundled_packs
from sagatui.packs.model import Pack
from sagatui.store.errors import StorageError
from sagatui.store.queries import read_events
from sagatui.tui.screens.proof import ProofScreen

if TYPE_CHECKING:
    from sagatui.tui.app import SagaDashboard


async def prove_saga(app: SagaDashboard, saga_id: str) -> None:
    """Open the proof of `saga_id`'s saga; say why not when it has not started in the store yet."""
    if app.session is None or app.refresher is None:
        return
    session, view = app.session, app.refresher.view
    if session.settings.code is not None:
        app.notify("prove breaks a pack's simulated services; the user's own code is proved by fuzz and its "
                   "invariants for now", severity="warning", timeout=5)
        return
    try:
        started = await read_events(session.store, view.run_id, saga_id=saga_id, kinds=[EventKind.SAGA_STARTED],
                                    limit=1)
    except StorageError as error:
        app.notify(f"cannot prove {saga_id}: {error}", severity="error", timeout=5)
        return
    if not started:
        app.notify(f"{saga_id} has not started in the store yet: nothing to prove", severity="warning", timeout=3)
        return
    start = started[0].payload_as(SagaStarted)
    settings = session.settings
    pack_name = _pack_argument(settings.pack_path, view.pack)
    subject = Subject(view.pack, settings.pack_text, pack_name, start.saga, start.input, view.seed)
    app.push_screen(ProofScreen(subject, saga_id, proofs_beside(session.store.path),
                                reproduce_words(pack_name, start.saga, start.input, view.seed)))


def _pack_argument(path: Path | None, pack: Pack) -> str:
    """How `sagatui prove` is told the pack: a bundled one by its name, another by its file as it was given
    (a pack known only from the database, by its name)."""
    if path is None:
        return pack.name
    return path.stem if path.resolve() in {bundled.resolve() for bundled in bundled_packs()} else str(path)
