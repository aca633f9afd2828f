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
from sagatui.store.database import remove_database

if TYPE_CHECKING:
    from sagatui.lab.proof_verdict import CaseResult
    from sagatui.lab.prove import Proof

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
    """✓ passed (✓ failed, its status: a killed case that ended otherwise, see CaseResult.note), ✓ held
    (needs attention as it should, holding what its result lists), ✗ the first check broken, · not reached
    (the saga had ended before it could be cancelled after that step)."""
    if case is None:
        return CellMark("", None)
    if not case.reached:
        return CellMark("·", "unreached")
    if not case.ok:
        return CellMark(f"✗ {case.broken}", "broken")
    if case.held:
        return CellMark("✓ held", "held")
    # a killed case whose resumed saga rightly ended otherwise than the run never killed says how
    return CellMark(f"✓ {case.status.value}" if case.note and case.status else "✓", "passed")


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
    """Remove the proof kept in `target` and its cases' databases: each proof starts on fresh files."""
    cases = glob.glob(f"{glob.escape(str(target.with_name(target.stem)))}-[0-9]*{glob.escape(target.suffix)}")
    for path in [target, *map(Path, cases)]:
        remove_database(path)


def matrix_lines(proof: Proof) -> list[str]:
    """The matrix as plain text (the forward steps, then the undos), columns padded: for an AssertionError
    or a log, where no rich table renders."""
    from sagatui.lab.prove import FORWARD_SHAPES, UNDO_SHAPES

    lines = []
    for title, points, shapes in (("step", proof.steps, FORWARD_SHAPES), ("undo of", proof.undos, UNDO_SHAPES)):
        rows = [[point, *(cell_mark(proof.result(point, shape)).text for shape in shapes)] for point in points
                if any(proof.result(point, shape) for shape in shapes)]
        if not rows:
            continue
        header = [title, *(COLUMN_TITLES[shape] for shape in shapes)]
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                  for row in [header, *rows]]
        lines.append("")
    return lines


def failure_lines(proof: Proof, reproduce: list[str]) -> list[str]:
    """Each failing case: its first broken check and the saga's end, its problems, the command that runs
    it again."""
    lines = []
    for case in proof.failed:
        lines.append(f"{case.id}: {case.broken} ({case.status.value if case.status else 'not terminal'})")
        lines += [f"  {problem}" for problem in case.problems[:8]]
        lines.append(f"  reproduce: {reproduce_command(reproduce, case.id)}")
    return lines


def case_run(case: CaseResult, db: Path) -> tuple[Path, int] | None:
    """Where a case's run is: run `run_id` of its own database (`kept`; `db` for a result without one);
    None for a case without one (an undo the saga never came to). Its saga is CASE_SAGA."""
    if case.run_id is None:
        return None
    return (Path(case.kept) if case.kept else db), case.run_id


CASE_SAGA = saga_id_of(1)  # each case runs one saga, the first of its run
