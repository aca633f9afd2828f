"""How a proof (sagatui.lab.prove) reads, the same in `sagatui prove`'s table and on the dashboard's proof
screen: the matrix's column titles, what a cell says, the command that runs one case again, and where the
dashboard keeps its proofs.
"""

from __future__ import annotations

import glob
import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sagatui.model.saga_ids import saga_id_of

if TYPE_CHECKING:
    from sagatui.lab.proof_verdict import CaseResult

COLUMN_TITLES: dict[str, str] = {
    "fails": "fails", "reply_lost": "reply lost", "hangs": "hangs", "killed": "killed",
    "undo_fails_once": "fails once", "undo_fails": "fails for good", "undo_reply_lost": "reply lost",
    "undo_killed": "killed",
}
REPRODUCE_DB = "prove.db"  # where a reproduced case keeps its run

Tone = Literal["passed", "held", "broken", "unreached"]


@dataclass(frozen=True)
class CellMark:
    """A cell of the matrix: its text, and how it is coloured (None: no case there)."""

    text: str
    tone: Tone | None


def cell_mark(case: CaseResult | None) -> CellMark:
    """✓ passed, ✓ held (needs attention as it should, holding what its result lists), ✗ the first check
    broken, · not reached (the saga had ended before it could be cancelled after that step)."""
    if case is None:
        return CellMark("", None)
    if not case.reached:
        return CellMark("·", "unreached")
    if not case.ok:
        return CellMark(f"✗ {case.broken}", "broken")
    return CellMark("✓ held", "held") if case.held else CellMark("✓", "passed")


def reproduce_words(pack: str, saga: str, saga_input: dict[str, Any] | None, seed: int) -> list[str]:
    """`sagatui prove` of saga `saga` of `pack` (a bundled pack's name or a file) on `saga_input` (None: the
    first scenario's input that runs it, as `--saga` alone takes), with `seed`; without the case."""
    words = ["sagatui", "prove", pack, "--saga", saga]
    if saga_input is not None:
        words += ["--input", json.dumps(saga_input, sort_keys=True)]
    if seed != 1:
        words += ["--seed", str(seed)]
    return words


def reproduce_command(words: list[str], case: str) -> str:
    """The shell command that runs case `case` (`STEP:SHAPE`) again, keeping its run in prove.db."""
    return shlex.join([*words, "--case", case, "--db", REPRODUCE_DB])


def proofs_beside(db: Path) -> Path:
    """Where the dashboard proves a saga of a database's runs: a database of its own beside it
    (`sagatui.db` -> `sagatui.proofs.db`; a killed case's run beside that, `sagatui.proofs-<n>.db`), so a
    proof never writes where a live run does."""
    return db.with_name(f"{db.stem}.proofs{db.suffix or '.db'}")


def clear_proofs(target: Path) -> None:
    """Remove the proof kept in `target` and its killed cases' databases: each proof starts on fresh files."""
    killed = glob.glob(f"{glob.escape(str(target.with_name(target.stem)))}-[0-9]*{glob.escape(target.suffix)}")
    for path in [target, *map(Path, killed)]:
        for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            file.unlink(missing_ok=True)


def case_run(case: CaseResult, db: Path) -> tuple[Path, int] | None:
    """Where a case's run is: its run in `db` (the database the proof was given), or run 1 of a killed
    case's own database; None for a case without one (an undo the saga never came to). Its saga is
    CASE_SAGA."""
    if case.run_id is None:
        return None
    return (Path(case.kept) if case.kept else db), case.run_id


CASE_SAGA = saga_id_of(1)  # each case runs one saga, the first of its run
