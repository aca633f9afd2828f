"""The failure matrix of a saga on the dashboard (`sagatui prove`'s, sagatui.lab.prove): opened at once by
`P` on a saga, filled in as its cases end. On top, what is proved and how it ends with nothing broken, then
how far the proof is; the forward matrix (each step by fails, reply lost, hangs, killed) and the undo matrix
(each undo by fails once, fails for good, reply lost, killed); under them the highlighted case: how it
ended, the check it broke and why, what it holds, the command that runs it again. Enter on a case opens its
saga's timeline, read from the case's run.

A proof runs many runs of its own, each on a clock of its own, so it runs on an event loop of its own, in a
thread (as a what-if fork does, sagatui.tui.run_compare); its cases come back as messages. It goes into a
database beside the live one (`<db>.proofs.db`, made afresh for each proof): it never touches the live
run. Closing the screen stops it after the case under way.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from contextlib import redirect_stderr
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from sagatui.lab.proof_report import (
    CASE_SAGA,
    COLUMN_TITLES,
    CellMark,
    case_run,
    cell_mark,
    clear_proofs,
    reproduce_command,
)
from sagatui.lab.proof_verdict import CHECKS, CaseResult
from sagatui.lab.prove import FORWARD_SHAPES, UNDO_SHAPES, Proof, Shape, Subject, prove
from sagatui.plain_text import plain_text
from sagatui.store.database import Store
from sagatui.store.errors import StorageError
from sagatui.store.queries import saga_timeline
from sagatui.tui.actions import Area, bindings
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.tones import style
from sagatui.tui.widgets.key_footer import KeyFooter

_TONE_ROLES = {"passed": "ok", "held": "held", "broken": "bold error", "unreached": "dim"}  # sagatui.tui.tones
_PENDING = CellMark("…", "unreached")  # a case not run yet
_CELL_WIDTH = len("✗ effect twice")  # the widest mark
_ONE_PROOF_AT_A_TIME = threading.Lock()  # a stopped proof finishes its case before the next clears the files


class _Stopped(Exception):
    """The screen closed: the proof ends after the case under way."""


def _start_resource_tracker() -> None:
    """A killed case runs in a child process, which multiprocessing starts only with its resource tracker
    running; the tracker is handed sys.stderr's file descriptor, and under Textual sys.stderr is a capture
    with none (-1: "bad value(s) in fds_to_keep"). So it is started here, on the app's thread, with
    /dev/null for its stderr (its warnings would be drawn over the screen)."""
    with open(os.devnull, "w") as nowhere, redirect_stderr(nowhere):
        resource_tracker.ensure_running()


def _cell(mark: CellMark) -> Text:
    return Text(mark.text, style=style(_TONE_ROLES[mark.tone]) if mark.tone else "")


class ProofMatrix(DataTable[Text]):
    """One matrix of a proof: a row per failure point, a column per shape; enter opens the case's timeline."""

    BINDINGS = bindings(Area.PROOF_MATRIX)

    def __init__(self, shapes: tuple[Shape, ...], id: str) -> None:
        super().__init__(cursor_type="cell", id=id)
        self.shapes = shapes
        for shape in shapes:
            self.add_column(COLUMN_TITLES[shape], key=shape, width=max(_CELL_WIDTH, len(COLUMN_TITLES[shape])))

    def show_points(self, points: list[str], proof: Proof) -> None:
        for point in points:
            self.add_row(*(_cell(_PENDING) for _ in self.shapes), key=point, label=plain_text(point))
        for case in proof.cases:
            self.show_case(case)

    def show_case(self, case: CaseResult) -> None:
        if case.shape in self.shapes and case.step in self.rows:
            self.update_cell(case.step, case.shape, _cell(cell_mark(case)))

    def case_at(self, coordinate: Coordinate) -> tuple[str, Shape] | None:
        """(point, shape) of the cell at `coordinate` (None: the matrix has no rows yet)."""
        if not self.row_count or not self.is_valid_coordinate(coordinate):
            return None
        return str(self.coordinate_to_cell_key(coordinate).row_key.value), self.shapes[coordinate.column]


def case_details(proof: Proof, point: str, shape: Shape, reproduce: list[str], target: Path) -> Text:
    """The highlighted case, as the CLI says it: how it ended, its broken check and problems, what it holds
    and what stays, where its run is and the command that runs it again."""
    what = f"{point} · {'undo ' if shape in UNDO_SHAPES else ''}{COLUMN_TITLES[shape]}"
    details = Text.assemble((what, "bold"), (f"  (case {point}:{shape})", "dim"))
    case = proof.result(point, shape)
    if case is None:
        return details.append("\nnot run yet", style="dim")
    ended = f"the saga ended {case.status.value.replace('_', ' ')}" if case.status else "the saga never ended"
    if not case.reached:
        details.append(f"\n· not reached: {'; '.join(case.problems)}", style="dim")
    elif not case.ok:
        details.append(f"\n✗ broke {case.broken}; {ended}", style=style("bold error"))
        for problem in case.problems[:8]:
            details.append(f"\n  {problem}")
        if len(case.problems) > 8:
            details.append(f"\n  … and {len(case.problems) - 8} more", style="dim")
    elif case.held:
        details.append(f"\n✓ {ended}, as it should, holding (awaiting an operator): {'; '.join(case.held)}",
                       style=style("held"))
    else:
        details.append(f"\n✓ passed every check ({', '.join(CHECKS)}); {ended}", style=style("ok"))
    if case.note:
        details.append(f"\n{case.note}", style="dim")
    if case.stays:
        details.append(f"\nstays, as the pack declares: {'; '.join(case.stays)}", style="dim")
    if (run := case_run(case, target)) is not None:
        details.append(f"\nits run: {CASE_SAGA} of run {run[1]} of {run[0].name}", style="dim")
    return details.append(f"\nreproduce: {reproduce_command(reproduce, case.id)}", style="dim")


class ProofScreen(Screen[None]):
    BINDINGS = bindings(Area.PROOF)

    @dataclass
    class Planned(Message):
        """The baseline named the failure points: the matrix, no case run yet."""

        proof: Proof

    @dataclass
    class CaseEnded(Message):
        result: CaseResult

    def __init__(self, subject: Subject, saga_id: str, target: Path, reproduce: list[str]) -> None:
        """Prove `subject` (the definition and input of saga `saga_id` of the live run) into `target`;
        `reproduce`: the CLI's command for it, but for the case."""
        super().__init__()
        self.subject, self.saga_id, self.target, self.reproduce = subject, saga_id, target, reproduce
        self.proof: Proof | None = None  # once planned: the matrix, with the cases that ended so far
        self.finished = False
        self.failure: str | None = None  # why the proof stopped short
        self._stop = threading.Event()

    @property
    def total(self) -> int:
        """How many cases the proof runs (0 until the baseline named the failure points)."""
        proof = self.proof
        return len(proof.steps) * len(FORWARD_SHAPES) + len(proof.undos) * len(UNDO_SHAPES) if proof else 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="proof-scroll"):
            yield Static(self._head(), id="proof-head")
            yield Static(id="proof-progress")
            yield Static(Text("step", style="bold"), classes="proof-label")
            yield ProofMatrix(FORWARD_SHAPES, id="proof-forward")
            yield Static(Text("undo of (the saga cancelled right after that step)", style="bold"),
                         classes="proof-label", id="proof-undo-label")
            yield ProofMatrix(UNDO_SHAPES, id="proof-undo")
            yield Static(id="proof-case")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#proof-scroll").border_title = plain_text(
            f"Proof of {self.saga_id}'s saga {self.subject.saga} (into {self.target.name})")
        self.query_one("#proof-forward").focus()
        self._draw_progress()
        _start_resource_tracker()
        self.run_worker(self._prove(), name="prove", exit_on_error=False)

    def on_unmount(self) -> None:
        self._stop.set()

    # -- the proof, in a thread of its own --------------------------------------------------------------------
    async def _prove(self) -> None:
        proof = await asyncio.to_thread(self._run)
        self.proof, self.finished = proof, True
        for matrix in self.query(ProofMatrix):
            for case in proof.cases:
                matrix.show_case(case)
        self._draw_progress()
        self._draw_case()

    def _run(self) -> Proof:
        """On a loop of its own: its labs' clocks see their quiet moments as they are, never the live lab's."""
        with _ONE_PROOF_AT_A_TIME:
            if self._stop.is_set():
                raise _Stopped
            clear_proofs(self.target)
            return asyncio.run(prove(self.subject, self.target, on_plan=self._planned, on_case=self._case_ended))

    def _planned(self, proof: Proof) -> None:
        """In the proof's thread, as each callback of prove() is."""
        if self._stop.is_set():
            raise _Stopped
        self.post_message(self.Planned(proof))

    def _case_ended(self, result: CaseResult) -> None:
        self.post_message(self.CaseEnded(result))
        if self._stop.is_set():
            raise _Stopped

    @on(Worker.StateChanged)
    def _on_worker(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "prove" and event.state is WorkerState.ERROR and not isinstance(
                event.worker.error, _Stopped):
            error = event.worker.error
            self.failure = f"{type(error).__name__}: {error}"
            self._draw_progress()

    @on(Planned)
    def _on_planned(self, message: Planned) -> None:
        if self.finished:
            return
        self.proof = message.proof
        self.query_one("#proof-head", Static).update(self._head())
        self.query_one("#proof-forward", ProofMatrix).show_points(message.proof.steps, message.proof)
        self.query_one("#proof-undo", ProofMatrix).show_points(message.proof.undos, message.proof)
        self.query_one("#proof-undo-label").display = self.query_one("#proof-undo").display = bool(
            message.proof.undos)
        self._draw_progress()
        self._draw_case()

    @on(CaseEnded)
    def _on_case_ended(self, message: CaseEnded) -> None:
        proof, result = self.proof, message.result
        if self.finished or proof is None or any(case.id == result.id for case in proof.cases):
            return  # the whole proof came first
        self.proof = proof.model_copy(update={"cases": [*proof.cases, result]})
        for matrix in self.query(ProofMatrix):
            matrix.show_case(result)
        self._draw_progress()
        self._draw_case()

    # -- drawing ------------------------------------------------------------------------------------------
    def _head(self) -> Text:
        subject, proof = self.subject, self.proof
        head = Text.assemble((f"saga {subject.saga}", "bold"),
                             f" on {json.dumps(subject.saga_input, sort_keys=True)} (seed {subject.seed}")
        return head.append(f"; with nothing broken it ends {proof.baseline})" if proof else ")")

    def _draw_progress(self) -> None:
        proof, failed = self.proof, len(self.proof.failed) if self.proof else 0
        if self.failure is not None:
            line = Text(f"the proof stopped: {self.failure}", style=style("bold error"))
        elif self.finished and proof is not None:
            tone = style("bold error" if failed else "bold ok")
            line = Text(f"{len(proof.cases)} cases, {failed} failed", style=tone)
        elif proof is None:
            line = Text("running the saga with nothing broken, to find the points where it can break…", style="dim")
        else:
            line = Text(f"proving: {len(proof.cases)} of {self.total} cases, {failed} failed so far…",
                        style=style("bold error") if failed else "")
        self.query_one("#proof-progress", Static).update(line)

    def _draw_case(self) -> None:
        """The highlighted case of the focused matrix (or of the forward one)."""
        focused = self.focused if isinstance(self.focused, ProofMatrix) else self.query_one("#proof-forward",
                                                                                            ProofMatrix)
        shown = self.query_one("#proof-case", Static)
        cell = focused.case_at(focused.cursor_coordinate)
        if self.proof is None or cell is None:
            shown.update("")
            return
        details = case_details(self.proof, *cell, self.reproduce, self.target)
        shown.update(details.append("\nenter: its timeline" if self.proof.result(*cell) else "", style="dim"))

    @on(DataTable.CellHighlighted)
    def _on_highlighted(self) -> None:
        self._draw_case()

    def on_descendant_focus(self) -> None:
        self._draw_case()

    # -- a case's timeline --------------------------------------------------------------------------------------
    @on(DataTable.CellSelected)
    def _on_selected(self, event: DataTable.CellSelected) -> None:
        matrix = event.data_table
        cell = matrix.case_at(event.coordinate) if isinstance(matrix, ProofMatrix) else None
        if cell is None or self.proof is None:
            return
        point, shape = cell
        case = self.proof.result(point, shape)
        run = case_run(case, self.target) if case is not None else None
        if case is None or run is None:
            self.notify(f"{point}:{shape} has no run to show" + (" yet" if case is None else ": it was not reached"),
                        severity="warning", timeout=3)
            return
        self.run_worker(self._open_case(case, *run), group="proof-case", exclusive=True, exit_on_error=False)

    async def _open_case(self, case: CaseResult, db: Path, run_id: int) -> None:
        try:
            async with await Store.open(db, read_only=True) as store:
                timeline = await saga_timeline(store, run_id, CASE_SAGA)
        except StorageError as error:
            self.notify(f"cannot read {db.name}: {error}", severity="error", timeout=5)
            return
        if timeline is None:
            self.notify(f"run {run_id} of {db.name} has no {CASE_SAGA}", severity="warning", timeout=3)
            return
        self.app.push_screen(TimelineScreen.stored(timeline, f"prove {case.id}",
                                                   f"Case {case.id}: {CASE_SAGA} of run {run_id} of {db.name}"))
