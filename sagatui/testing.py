"""Helpers for a user's own test suite: assert that a recorded session still behaves the same,

    from sagatui.testing import replay_session

    def test_checkout_rollback_unchanged():
        replay_session("tests/sessions/checkout.json")

prove that a saga's rollback puts the world back however any of its steps fails (what `sagatui prove`
checks; AssertionError with the matrix and the failing cases if not),

    from sagatui.testing import prove_saga

    def test_every_way_the_order_can_fail_is_rolled_back():
        prove_saga("scenarios/ecommerce.yaml", "order")

and run the engine with its events kept in memory (`MemorySink`), with no database.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagatui.lab.replay import ReplayResult, recording_from_session, replay
from sagatui.model.effects import RowWrite
from sagatui.model.events import Event

if TYPE_CHECKING:
    from sagatui.code.app import App
    from sagatui.lab.prove import Proof


def replay_session(path: str | Path, code: App | str | None = None, *, live: bool = False) -> ReplayResult:
    """Re-execute a session file and compare; raises AssertionError showing the first divergence. A session
    of the user's own code needs it (`code`: the App, or `shop/app.py:app`): its calls answered as recorded,
    or, `live`, made again. For async tests, await `areplay_session` instead."""
    return asyncio.run(areplay_session(path, code, live=live))


async def areplay_session(path: str | Path, code: App | str | None = None, *, live: bool = False) -> ReplayResult:
    from sagatui.code.loading import load_app

    app = load_app(code) if isinstance(code, str) else code
    result = await replay(recording_from_session(Path(path)), code=app, live=live)
    if not result.identical:
        assert result.divergence is not None
        raise AssertionError(f"{path} no longer replays identically\n{result.divergence.describe()}")
    return result


def prove_saga(pack: str | Path, saga: str | None = None, *, saga_input: dict[str, Any] | None = None,
               seed: int = 1, jobs: int = 1, db: str | Path | None = None) -> list[Proof]:
    """Prove saga `saga` of `pack` (a file, or a bundled pack's name; every saga a scenario runs when
    None) as `sagatui prove` does, on `saga_input` (default: the first input of the first scenario that
    runs it). Returns the proofs; raises AssertionError with the matrix and each failing case, with the
    command that reproduces it. `db` keeps the runs (default: scratch files), one database a saga beside it
    (`proofs.db` -> `proofs-order.db`, its cases `proofs-order-1.db`, ...). For async tests, await
    `aprove_saga`."""
    return asyncio.run(aprove_saga(pack, saga, saga_input=saga_input, seed=seed, jobs=jobs, db=db))


async def aprove_saga(pack: str | Path, saga: str | None = None, *, saga_input: dict[str, Any] | None = None,
                      seed: int = 1, jobs: int = 1, db: str | Path | None = None) -> list[Proof]:
    from sagatui.lab.proof_report import failure_lines, matrix_lines, reproduce_words
    from sagatui.lab.prove import Subject, prove, saga_database, sagas_to_prove
    from sagatui.packs.bundled import read_pack

    source = read_pack(str(pack))
    inputs = {name: given for name, (_, given) in sagas_to_prove(source.pack).items()}
    if saga is not None:
        if saga not in source.pack.sagas:
            raise ValueError(f"{source.path} has no saga {saga!r} (it has: {', '.join(source.pack.sagas)})")
        chosen = saga_input if saga_input is not None else inputs.get(saga)
        if chosen is None:
            raise ValueError(f"no scenario runs saga {saga!r}: give saga_input")
        inputs = {saga: chosen}
    proofs = []
    with tempfile.TemporaryDirectory(prefix="sagatui-prove-") as scratch:
        for name, given in inputs.items():
            subject = Subject(source.pack, source.text, str(source.path), name, given, seed)
            kept_in = saga_database(Path(db) if db else Path(scratch) / "prove.db", name)
            proofs.append(await prove(subject, kept_in, jobs=jobs, kept=db is not None))
    failed = [proof for proof in proofs if proof.failed]
    if failed:
        lines = []
        for proof in failed:
            words = reproduce_words(str(pack), proof.saga, saga_input, seed)
            lines += [f"saga {proof.saga} on {json.dumps(proof.input, sort_keys=True)}: {len(proof.failed)} of "
                      f"{len(proof.cases)} case(s) failed", *matrix_lines(proof), *failure_lines(proof, words)]
        raise AssertionError("\n".join(lines))
    return proofs


class MemorySink:
    """An EventSink that keeps events in a list, each durable at once: for engine tests and benchmarks."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.effects: list[RowWrite] = []

    def append(self, event: Event, effects: Sequence[RowWrite] = ()) -> None:
        self.events.append(event)
        self.effects.extend(effects)

    async def durable(self, seq: int) -> None:
        return None
