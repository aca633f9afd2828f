"""`sagatui prove`: the failure matrix of a saga (sagatui.lab.prove), as text or JSON."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sagatui.cli.rendering import show
from sagatui.cli.support import UsageError
from sagatui.cli.targets import is_code_target
from sagatui.exit_codes import ExitCode
from sagatui.lab.proof_report import COLUMN_TITLES, cell_mark, reproduce_command, reproduce_words
from sagatui.packs.bundled import read_pack
from sagatui.stop_signals import run_stoppable

if TYPE_CHECKING:
    from sagatui.lab.proof_verdict import CaseResult
    from sagatui.lab.prove import Case, Proof, Shape, Subject

_TONE_STYLES = {"passed": "green", "held": "yellow", "broken": "bold red", "unreached": "dim"}


def handle_prove(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.prove import Case, Subject, first_input, sagas_to_prove

    if is_code_target(options.pack):
        raise UsageError("prove breaks a pack's simulated services, each case on a fresh world; the user's own "
                         "code keeps its world itself: prove it with `sagatui fuzz` and its invariants for now")
    source = read_pack(options.pack)
    pack = source.pack
    given = _given_input(options.input)
    cases = [_case(text, Case) for text in options.case]
    if options.scenario is not None:
        if options.scenario not in pack.scenarios:
            raise UsageError(f"{source.path} has no scenario {options.scenario!r} "
                             f"(it has: {', '.join(pack.scenarios)})")
        scenario_input = given if given is not None else first_input(pack, options.scenario)
        if scenario_input is None:
            raise UsageError(f"scenario {options.scenario!r} has no input to prove its saga on: give --input")
        wanted = {pack.scenarios[options.scenario].saga: scenario_input}
    elif options.saga is not None:
        if options.saga not in pack.sagas:
            raise UsageError(f"{source.path} has no saga {options.saga!r} (it has: {', '.join(pack.sagas)})")
        saga_input = given if given is not None else sagas_to_prove(pack).get(options.saga, (None, None))[1]
        if saga_input is None:
            raise UsageError(f"no scenario runs saga {options.saga!r}, so it has no input to prove it on: "
                             f"give --input")
        wanted = {options.saga: saga_input}
    else:
        if given is not None or cases:
            raise UsageError("--input and --case need --saga or --scenario: which saga?")
        wanted = {saga: saga_input for saga, (_, saga_input) in sagas_to_prove(pack).items()}
    subjects = [Subject(pack, source.text, str(source.path), saga, saga_input, options.seed)
                for saga, saga_input in wanted.items()]
    from sagatui.lab.fuzz_campaign import default_jobs
    from sagatui.lab.prove import UnknownCase

    try:
        proofs = run_stoppable(_prove_all(subjects, cases or None, options.db, options.jobs or default_jobs()))
    except UnknownCase as unknown:
        raise UsageError(f"--case: {unknown}") from None
    passed = all(not proof.failed for proof in proofs)
    if options.format == "json":
        print(json.dumps({"pack": pack.name, "file": str(source.path), "passed": passed,
                          "proofs": [proof.model_dump(mode="json") for proof in proofs]}, indent=2))
    else:
        for proof in proofs:
            print_proof(out, proof, _reproduce(options, proof, given), kept=options.db is not None)
        total, failed = sum(len(p.cases) for p in proofs), sum(len(p.failed) for p in proofs)
        show(out, Text(f"{len(proofs)} saga(s), {total} case(s), {failed} failed",
                       style="bold red" if failed else "bold green"))
    return ExitCode.OK if passed else ExitCode.EXPECTATION_FAILED


def _given_input(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"--input is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise UsageError("--input is a JSON object ({\"items\": ...})")
    return value


def _case(text: str, case_type: type[Case]) -> Case:
    try:
        return case_type.parse(text)
    except ValueError as error:
        raise UsageError(f"--case: {error}") from None


async def _prove_all(subjects: list[Subject], cases: list[Case] | None, db: str | None, jobs: int) -> list[Proof]:
    from sagatui.lab.prove import prove, saga_database

    with tempfile.TemporaryDirectory(prefix="sagatui-prove-") as scratch:
        kept_in = Path(db) if db else Path(scratch) / "prove.db"
        return [await prove(subject, saga_database(kept_in, subject.saga) if len(subjects) > 1 else kept_in,
                            cases=cases, jobs=jobs, kept=db is not None)
                for subject in subjects]




def _reproduce(options: argparse.Namespace, proof: Proof, given: dict[str, Any] | None) -> list[str]:
    """The command that runs one of the proof's cases again, but for the case."""
    chosen = given is not None or options.scenario is not None
    return reproduce_words(options.pack, proof.saga, proof.input if chosen else None, options.seed)


def print_proof(out: Console, proof: Proof, reproduce: list[str], *, kept: bool) -> None:
    """The matrix (✓ passed, ✓ held: needs attention as it should, holding what is listed; ✗ the first
    check broken; · not reached), then each failing case with the command that runs it again."""
    from sagatui.lab.prove import FORWARD_SHAPES, UNDO_SHAPES

    show(out, Text(f"== saga {proof.saga} on {json.dumps(proof.input, sort_keys=True)} (seed {proof.seed}; "
                   f"with nothing broken it ends {proof.baseline})", style="bold"))
    if proof.baseline != "completed":
        show(out, Text(f"note: with nothing broken saga {proof.saga} ends {proof.baseline}: only the steps it comes "
                       f"to are proved (give an --input on which it completes to prove them all)", style="yellow"))
    for title, points, shapes in (("step", proof.steps, FORWARD_SHAPES), ("undo of", proof.undos, UNDO_SHAPES)):
        if any(proof.result(point, shape) for point in points for shape in shapes):
            out.print(_matrix(proof, title, points, shapes))
    if any(not case.reached for case in proof.cases):
        show(out, Text("· not reached: the saga had ended before it could be cancelled after that step", style="dim"))
    for case in proof.cases:
        if not case.ok:
            show(out, Text(f"{case.id}: {case.broken} ({case.status.value if case.status else 'not terminal'})",
                           style="bold red"))
            for problem in case.problems[:8]:
                show(out, f"  {problem}")
            if case.kept and kept:
                show(out, f"  kept: run {case.run_id} of {case.kept}")
            show(out, f"  reproduce: {reproduce_command(reproduce, case.id)}")
    for case in proof.cases:
        if case.held:
            show(out, Text(f"{case.id}: needs attention, holding (awaiting an operator): {'; '.join(case.held)}",
                           style="yellow"))
        if case.note:
            show(out, Text(f"{case.id}: {case.note}", style="dim"))
    staying: dict[tuple[str, ...], list[str]] = {}  # what stays -> the cases it stays in (each world fresh: alike)
    for case in proof.cases:
        if case.stays:
            staying.setdefault(tuple(case.stays), []).append(case.id)
    for stays, where in staying.items():
        show(out, Text(f"stays, as the pack declares, in {len(where)} case(s) ({', '.join(where)}): "
                       f"{'; '.join(stays)}", style="dim"))


def _matrix(proof: Proof, title: str, points: list[str], shapes: tuple[Shape, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(title, no_wrap=True)
    for shape in shapes:
        table.add_column(COLUMN_TITLES[shape], no_wrap=True)
    for point in points:
        cells = [proof.result(point, shape) for shape in shapes]
        if any(cell is not None for cell in cells):  # with --case, only the points run
            table.add_row(point, *(_cell(cell) for cell in cells))
    return table


def _cell(case: CaseResult | None) -> Text:
    mark = cell_mark(case)
    return Text(mark.text, style=_TONE_STYLES[mark.tone] if mark.tone else "")
