"""The `sagatui` command. Output formats and exit codes are an API (see README.md):

0 ok / every expectation held, 1 an expectation or invariant failed, 2 bad input (pack, arguments),
3 storage error, 130 interrupted (the database is left consistent; 143 by SIGTERM, 129 by SIGHUP).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from sagatui import __version__, cli_support
from sagatui.cli_support import ArgumentParser, OutputError
from sagatui.event_lines import NOTABLE, describe, style_for
from sagatui.exit_codes import ExitCode
from sagatui.model.durations import format_duration
from sagatui.model.events import Event, EventKind
from sagatui.model.status import InvariantState, SagaStatus
from sagatui.packs.bundled import DEFAULT_PACK, bundled_packs, read_pack
from sagatui.packs.errors import PackError
from sagatui.packs.loader import load_pack
from sagatui.packs.model import Pack
from sagatui.plain_text import plain_text
from sagatui.stop_signals import Stopped, run_stoppable
from sagatui.store.errors import StorageError, StorageProblem

if TYPE_CHECKING:  # the commands import what they run when they run it: `sagatui --help` stays quick
    from sagatui.lab.headless import ScenarioReport
    from sagatui.store.invariants import InvariantResult

DEFAULT_DB = "sagatui.db"
SUBCOMMANDS = ("run", "check", "packs", "events", "replay", "export", "fuzz", "resume", "attention")


class UsageError(Exception):
    """Bad arguments found after parsing (a scenario that is not in the pack, say)."""


def main(argv: Sequence[str] | None = None) -> int:
    with cli_support.guarded_stdout() as guarded:
        try:
            code = _main(list(sys.argv[1:] if argv is None else argv))
            guarded.flush()  # inside the guard: what print() left in the buffer may still fail to go out
            return code
        except OutputError as error:
            return cli_support.output_failed(error, guarded)


def _main(args: list[str]) -> int:
    stdout = Console(highlight=False, soft_wrap=True)
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if args and args[0] in SUBCOMMANDS:
            options = _subcommand_parser().parse_args(args)
        else:
            options = _dashboard_parser().parse_args(args)
            options.handler = _dashboard
        return int(options.handler(options, stdout))
    except PackError as error:
        for problem in error.problems:
            stderr.print(f"sagatui: error: {problem}", markup=False)
        return ExitCode.BAD_INPUT
    except UsageError as error:
        stderr.print(f"sagatui: error: {error}", markup=False)
        return ExitCode.BAD_INPUT
    except StorageError as error:
        stderr.print(f"sagatui: storage error: {error}", markup=False)
        return ExitCode.STORAGE
    except KeyboardInterrupt:
        stderr.print("sagatui: interrupted; the database is consistent", markup=False)
        return ExitCode.INTERRUPTED
    except Stopped as stopped:  # a stop signal, in a command that writes (run_stoppable)
        stderr.print(str(stopped), markup=False)
        return stopped.exit_code
    except OutputError:
        raise
    except Exception as error:  # the last line of defence: one line, never a traceback
        return cli_support.unexpected(error)


# -- parsers --------------------------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"sagatui {__version__}")


def _dashboard_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="sagatui",
        description="Run sagas, break their services, and watch retries, breakers and compensations. "
                    f"Subcommands: {', '.join(SUBCOMMANDS)} (sagatui COMMAND --help).",
    )
    _common(parser)
    parser.add_argument("pack", nargs="?", default=DEFAULT_PACK,
                        help=f"a pack file or bundled pack name (default: {DEFAULT_PACK})")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    parser.add_argument("--seed", type=cli_support.seed, default=1, help="root seed of the run (default: 1)")
    parser.add_argument("--speed", type=cli_support.speed, default=1.0,
                        help="clock speed: 1 = real time, 10 = ten times faster, 'virtual' = as fast as "
                             "possible (default: 1)")
    return parser


def _subcommand_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="sagatui")
    _common(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios headless and check their expectations",
                              description="Run a pack's scenarios headless (virtual clock unless --realtime), "
                                          "print notable events and a summary, check every expectation.")
    run.add_argument("pack", help="a pack file or bundled pack name")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--scenario", action="append", help="scenario to run (repeatable; default: the "
                                                           "pack's default scenario)")
    which.add_argument("--all", action="store_true", help="run every scenario of the pack")
    run.add_argument("--seed", type=cli_support.seed, default=1, help="root seed (default: 1)")
    run.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    run.add_argument("--realtime", action="store_true", help="pace the clock to real time")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument("--quiet", action="store_true", help="text: print only the summaries")
    run.add_argument("--verbose", action="store_true", help="text: print every event, not just notable ones")
    run.set_defaults(handler=_run)

    check = commands.add_parser("check", help="validate packs", description="Validate packs and list their "
                                                                             "scenarios, or print every problem.")
    check.add_argument("packs", nargs="+", help="pack files or bundled pack names")
    check.set_defaults(handler=_check)

    packs = commands.add_parser("packs", help="list the bundled packs and their scenarios")
    packs.set_defaults(handler=_packs)

    events = commands.add_parser("events", help="read the event log of a database")
    events.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    events.add_argument("--run", type=cli_support.run_id, help="run id (default: the latest run)")
    events.add_argument("--saga", help="only this saga's events")
    events.add_argument("--kind", action="append", help="only events of this kind or family (repeatable), "
                                                        "e.g. breaker or compensation.ended")
    events.add_argument("--format", choices=("table", "jsonl"), default="table")
    events.add_argument("--limit", type=cli_support.count, default=None, help="at most this many events")
    events.set_defaults(handler=_events)

    replay = commands.add_parser(
        "replay", help="re-execute a recorded run and compare the event streams",
        description="Re-execute a run (from a database or a session file) on the virtual clock with its "
                    "recorded inputs and compare the new event stream with the recorded one: exit 0 when "
                    "identical, 1 with the first divergence shown.")
    replay.add_argument("source", help="a sagatui database or a session .json file")
    replay.add_argument("--run", type=cli_support.run_id, help="run id in the database (default: the latest run)")
    replay.add_argument("--watch", action="store_true",
                        help="play the recorded events into the dashboard instead (no re-execution)")
    replay.set_defaults(handler=_replay)

    export = commands.add_parser("export", help="write a run as a self-contained session file")
    export.add_argument("db", help="a sagatui database")
    export.add_argument("--run", type=cli_support.run_id, help="run id (default: the latest run)")
    export.add_argument("-o", "--output", required=True, help="the session .json file to write")
    export.add_argument("--force", action="store_true", help="replace the output file if it exists")
    export.set_defaults(handler=_export)

    fuzz = commands.add_parser(
        "fuzz", help="run a scenario under random fault schedules and check saga properties",
        description="Deterministic simulation: each run draws a random fault schedule from its seed, then "
                    "checks that every saga ended, compensations ran only for steps that took effect, at "
                    "most once and newest first, no call passed an open breaker, no step exceeded its "
                    "attempts, stock is conserved, nothing leaked, and the resource tables equal what the "
                    "event log implies. Exit 1 if any run failed; each failing seed is printed with the "
                    "command that reproduces it.")
    fuzz.add_argument("pack", help="a pack file or bundled pack name")
    fuzz.add_argument("--scenario", required=True, help="the scenario to fuzz")
    fuzz.add_argument("--runs", type=cli_support.positive, default=100, help="how many seeds (default: 100)")
    fuzz.add_argument("--start-seed", type=cli_support.seed, default=1, help="first seed (default: 1)")
    fuzz.add_argument("--db", help="keep the runs in this SQLite file (default: a scratch file)")
    fuzz.set_defaults(handler=_fuzz)

    resume = commands.add_parser(
        "resume", help="carry on the sagas a crash or Ctrl-C left unfinished",
        description="Carry on every unfinished saga of each run a crash or an interruption left unfinished "
                    "(or of --run): calls whose answer was never recorded are sent again with their "
                    "idempotency key, then each saga goes forward or compensates as its state says. Ends with "
                    "each run's invariant report: exit 0 when every saga is terminal and every invariant holds, "
                    "1 otherwise, 3 on a storage error.")
    resume.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    resume.add_argument("--run", type=cli_support.run_id,
                        help="only this run (default: every run still running or interrupted)")
    resume.add_argument("--quiet", action="store_true", help="print only the summaries")
    resume.add_argument("--verbose", action="store_true", help="print every event, not just notable ones")
    resume.set_defaults(handler=_resume)

    attention = commands.add_parser(
        "attention", help="the needs_attention inbox: list, show, retry or resolve",
        description="list: the sagas that need attention. show SAGA_ID: its compensation chain and what the "
                    "compensations were told. retry SAGA_ID: run its unfinished compensations again (exit 1 if "
                    "it still needs attention). resolve SAGA_ID --note TEXT: mark it handled. Retry and resolve "
                    "are recorded in the run's event log.")
    attention.add_argument("action", choices=("list", "show", "retry", "resolve"))
    attention.add_argument("saga", nargs="?", metavar="SAGA_ID", help="the saga (show, retry, resolve)")
    attention.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    attention.add_argument("--run", type=cli_support.run_id, help="run id (default: the latest run)")
    attention.add_argument("--note", help="resolve: what was done about it (required)")
    attention.set_defaults(handler=_attention)
    return parser


# -- commands -------------------------------------------------------------------------------------------
def _load(argument: str) -> tuple[Pack, str, Path]:
    source = read_pack(argument)
    return source.pack, source.text, source.path


def _run(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.headless import run_scenario
    from sagatui.store.database import Store

    pack, pack_text, path = _load(options.pack)
    names = list(pack.scenarios) if options.all else options.scenario or [pack.default_scenario
                                                                         or next(iter(pack.scenarios))]
    unknown = [name for name in names if name not in pack.scenarios]
    if unknown:
        raise UsageError(f"{path} has no scenario {unknown[0]!r} (it has: {', '.join(pack.scenarios)})")
    text = options.format == "text"
    printer = _event_printer(out, every=options.verbose) if text and not options.quiet else None

    async def run_all() -> list[Any]:
        store = await Store.open(options.db)
        reports = []
        try:
            for name in names:
                if text:
                    _show(out, Text(f"== {pack.name} / {name}: {pack.scenarios[name].description}", style="bold"))
                report = await run_scenario(pack, pack_text, store, name, seed=options.seed,
                                            speed=1.0 if options.realtime else None, on_event=printer)
                reports.append(report)
                if text:
                    _print_summary(out, report)
        finally:
            await store.close()
        return reports

    reports = run_stoppable(run_all())
    passed = all(report.passed for report in reports)
    if text:
        style = "bold green" if passed else "bold red"
        _show(out, Text(f"{sum(r.passed for r in reports)} of {len(reports)} scenario(s) passed", style=style))
    else:
        print(json.dumps({"pack": pack.name, "file": str(path), "seed": options.seed, "db": options.db,
                          "passed": passed, "scenarios": [report.as_dict() for report in reports]}, indent=2))
    return ExitCode.OK if passed else ExitCode.EXPECTATION_FAILED


def _show(out: Console, line: str | Text = "") -> None:
    """Every line of text output: pack, event and operator text as typed, never as markup or escape codes."""
    out.print(plain_text(line))


def _event_printer(out: Console, every: bool) -> Callable[[Event], None]:
    def show(event: Event) -> None:
        if every or event.kind in NOTABLE:
            _show(out, Text(describe(event), style=style_for(event)))

    return show


def _mark(ok: bool) -> Text:
    return Text("ok  ", style="green") if ok else Text("FAIL", style="bold red")


_STATE_MARKS = {InvariantState.OK: Text("ok  ", style="green"),
                InvariantState.HELD: Text("HELD", style="bold dark_orange"),
                InvariantState.FAIL: Text("FAIL", style="bold red")}


def _invariant_line(invariant: InvariantResult) -> Text:
    """`invariant HELD nothing_leaked: ...`: an invariant's state and why."""
    line = Text("  invariant ")
    line.append_text(_STATE_MARKS[invariant.state])
    line.append(f" {invariant.name}")
    if invariant.details:
        line.append(": " + "; ".join(invariant.details))
    if invariant.held:
        line.append(": " + "; ".join(invariant.held), style="dark_orange")
    if invariant.accepted:
        line.append(" (accepted after a resolve: " + "; ".join(invariant.accepted) + ")", style="yellow")
    return line


def _print_summary(out: Console, report: ScenarioReport) -> None:
    metrics = report.metrics
    by_status = ", ".join(f"{status} {count}" for status, count in metrics.by_status.items()) or "none"
    compensations = ", ".join(f"{k} {v}" for k, v in metrics.compensations.items()) or "none"
    p50, p95 = metrics.latency_p50, metrics.latency_p95
    _show(out, Text(f"-- summary: run {report.run_id}, seed {report.seed}", style="bold"))
    _show(out, f"  sagas {metrics.sagas}: {by_status}")
    _show(out, f"  attempts {metrics.attempts}, retries {metrics.retries}, breaker trips "
               f"{metrics.breaker_trips}, rejected calls {metrics.rejected_calls}, fallbacks "
               f"{metrics.fallbacks}")
    _show(out, f"  compensations: {compensations}")
    if p50 is not None and p95 is not None:
        _show(out, f"  saga latency p50 {format_duration(p50)}, p95 {format_duration(p95)} (clock time)")
    for invariant in report.invariants:
        _show(out, _invariant_line(invariant))
    for check in report.checks:
        line = Text("  expect    ")
        line.append_text(_mark(check.ok))
        line.append(f" {check.name}" + ("" if check.ok else f": expected {check.expected}, got {check.actual}"))
        _show(out, line)
    _show(out, Text("PASS" if report.passed else "FAIL", style="bold green" if report.passed else "bold red"))
    _show(out)


def _check(options: argparse.Namespace, out: Console) -> int:
    failures: list[PackError] = []
    for argument in options.packs:
        try:
            pack, _, path = _load(argument)
        except PackError as error:
            failures.append(error)
            continue
        _show(out, Text(f"{path}: ok: {pack.name}: {len(pack.scenarios)} scenario(s)", style="green"))
        for name, scenario in pack.scenarios.items():
            _show(out, f"  {name:<32} saga {scenario.saga:<18} {scenario.description}")
    if failures:
        raise PackError([problem for error in failures for problem in error.problems])
    return ExitCode.OK


def _packs(options: argparse.Namespace, out: Console) -> int:
    for path in bundled_packs():
        pack = load_pack(path)
        marker = " (default)" if path.stem == DEFAULT_PACK else ""
        _show(out, Text(f"{path.stem}{marker}: {pack.description}", style="bold"))
        for name, scenario in pack.scenarios.items():
            _show(out, f"  {name:<32} {scenario.description}")
    return ExitCode.OK


def _event_kinds(names: list[str]) -> list[EventKind]:
    """Kinds by value (`compensation.ended`) or by family (`compensation`)."""
    kinds = []
    for name in names:
        matching = [kind for kind in EventKind if name in (kind.value, kind.family)]
        if not matching:
            families = sorted({kind.family for kind in EventKind})
            raise UsageError(f"no event kind or family {name!r} (families: {', '.join(families)})")
        kinds.extend(matching)
    return kinds


def _events(options: argparse.Namespace, out: Console) -> int:
    from sagatui.store.database import Store
    from sagatui.store.queries import iter_events

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    kinds = _event_kinds(options.kind) if options.kind else None

    async def stream() -> None:  # a page at a time: a long run's events are never all in memory
        store = await Store.open(options.db, read_only=True)
        try:
            run_id = await _chosen_run(store, options.run)
            async for page in iter_events(store, run_id, saga_id=options.saga, kinds=kinds, limit=options.limit):
                for event in page:
                    if options.format == "jsonl":
                        print(event.model_dump_json())
                    else:
                        _show(out, Text(describe(event), style=style_for(event)))
        finally:
            await store.close()

    asyncio.run(stream())
    return ExitCode.OK


async def _chosen_run(store: Any, run_id: int | None) -> int:
    """`--run`, which must be a run of the database, or its latest run."""
    from sagatui.lab.recovery.reopen import NoSuchRun, find_run
    from sagatui.store.queries import latest_run_id

    if run_id is None:
        latest = await latest_run_id(store)
        if latest is None:
            raise UsageError(f"{store.path} has no runs")
        return latest
    try:
        return (await find_run(store, run_id)).id
    except NoSuchRun as error:
        raise UsageError(str(error)) from None


def _recording_file(source: str) -> Path:
    if not Path(source).is_file():
        raise UsageError(f"{source} does not exist")
    return Path(source)


def _recording(source: str, run_id: int | None) -> Any:
    from sagatui.lab.replay import RecordingError, load_recording

    try:
        return asyncio.run(load_recording(_recording_file(source), run_id))
    except RecordingError as error:
        raise UsageError(str(error)) from None


def _replay(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.replay import Compared, RecordingError, open_recorded, replay_recorded

    if options.watch:
        from sagatui.tui.watch import watch_recording

        return watch_recording(_recording(options.source, options.run))

    async def replayed() -> tuple[str, Compared]:
        async with open_recorded(_recording_file(options.source), options.run) as recording:
            return recording.source, await replay_recorded(recording)

    try:
        source, result = asyncio.run(replayed())
    except RecordingError as error:
        raise UsageError(str(error)) from None
    if result.divergence is None:
        _show(out, Text(f"identical: {result.events} events of {source} replayed", style="green"))
        return ExitCode.OK
    _show(out, Text(f"diverged: {source}", style="bold red"))
    for line in result.divergence.describe().splitlines():
        _show(out, line)
    return ExitCode.EXPECTATION_FAILED


def _export(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.replay import write_session

    recording = _recording(options.db, options.run)
    output = _export_target(Path(options.db), Path(options.output), force=options.force)
    try:
        write_session(recording, output)
    except OSError as error:
        raise StorageError(StorageProblem.UNAVAILABLE,
                           f"cannot write {options.output}: {error.strerror or error}") from None
    _show(out, f"wrote {options.output}: {len(recording.events)} events, {len(recording.commands)} command(s)")
    return ExitCode.OK


def _export_target(source: Path, output: Path, *, force: bool) -> Path:
    """Where the session goes (a symlink's target): never the source, an existing file only with --force."""
    if output.exists() and os.path.samefile(source, output):
        raise UsageError(f"{output} is the database it reads; write the session to another file")
    resolved = output.resolve()
    if resolved.is_dir():
        raise UsageError(f"{output} is a folder; name a file in it")
    if not resolved.parent.is_dir():
        raise UsageError(f"folder {output.parent} does not exist")
    if resolved.exists() and not resolved.is_file():
        raise UsageError(f"{output} is not a regular file")
    if resolved.exists() and not force:
        raise UsageError(f"{output} exists; add --force to replace it")
    return resolved


def _fuzz(options: argparse.Namespace, out: Console) -> int:
    import tempfile
    import time

    from sagatui.lab.fuzz import fuzz_one
    from sagatui.store.database import Store

    pack, pack_text, path = _load(options.pack)
    if options.scenario not in pack.scenarios:
        raise UsageError(f"{path} has no scenario {options.scenario!r} (it has: {', '.join(pack.scenarios)})")
    seeds = range(options.start_seed, options.start_seed + options.runs)
    if seeds[-1] > cli_support.MAX_SEED:
        raise UsageError(f"--runs {options.runs} from --start-seed {options.start_seed} passes "
                         f"{cli_support.MAX_SEED}, the largest seed")

    async def fuzz_all(db: Path) -> list[Any]:
        store = await Store.open(db)
        try:
            outcomes = []
            for seed in seeds:
                outcome = await fuzz_one(pack, pack_text, store, options.scenario, seed)
                outcomes.append(outcome)
                if not outcome.ok:
                    _show(out, Text(f"seed {seed}: FAIL ({outcome.sagas} sagas, run {outcome.run_id} of {db})",
                                    style="bold red"))
                    for violation in outcome.violations[:10]:
                        _show(out, f"  {violation}")
                    _show(out, f"  reproduce: sagatui fuzz {options.pack} --scenario {options.scenario} --runs 1 "
                               f"--start-seed {seed}")
            return outcomes
        finally:
            await store.close()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        outcomes = run_stoppable(fuzz_all(Path(options.db) if options.db else Path(scratch) / "fuzz.db"))
    elapsed = time.perf_counter() - started
    failed = [outcome.seed for outcome in outcomes if not outcome.ok]
    style = "bold red" if failed else "bold green"
    _show(out, Text(f"{len(outcomes)} run(s), {len(failed)} failed, {len(outcomes) / elapsed:.2f} runs/s"
                   + (f"; failing seeds: {', '.join(map(str, failed))}" if failed else ""), style=style))
    return ExitCode.EXPECTATION_FAILED if failed else ExitCode.OK


def _resume(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.recovery.reopen import NoSuchRun, find_run
    from sagatui.lab.recovery.resume import ResumeReport, resume_run, unfinished_runs
    from sagatui.store.database import Store

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    printer = None if options.quiet else _event_printer(out, every=options.verbose)

    async def resume_all() -> list[ResumeReport]:
        store = await Store.open(options.db)
        try:
            runs = [await find_run(store, options.run)] if options.run is not None else await unfinished_runs(store)
            reports = []
            for run in runs:
                _show(out, Text(f"== run {run.id}: {run.pack_name} / {run.scenario}, seed {run.seed} ({run.status})",
                                style="bold"))
                reports.append(await resume_run(store, run.id, on_event=printer))
                _print_resumed(out, reports[-1])
            return reports
        except NoSuchRun as error:
            raise UsageError(str(error)) from None
        finally:
            await store.close()

    reports = run_stoppable(resume_all())
    if not reports:
        _show(out, f"nothing to resume: no unfinished run in {options.db}")
    return ExitCode.OK if all(report.ok for report in reports) else ExitCode.EXPECTATION_FAILED


def _print_resumed(out: Console, report: Any) -> None:
    by_status = ", ".join(f"{status} {count}" for status, count in sorted(report.statuses.items())) or "none"
    _show(out, Text(f"-- run {report.run.id}: {len(report.resumed)} saga(s) carried on, {len(report.resent)} call(s) "
                    f"sent again with their idempotency key", style="bold"))
    _show(out, f"  sagas {sum(report.statuses.values())}: {by_status}")
    for invariant in report.invariants:
        _show(out, _invariant_line(invariant))
    _show(out, Text("PASS" if report.ok else "FAIL", style="bold green" if report.ok else "bold red"))
    _show(out)


def _attention(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab import attention
    from sagatui.lab.recovery.reopen import NoSuchRun
    from sagatui.store.database import Store

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    if options.action != "list" and not options.saga:
        raise UsageError(f"attention {options.action} needs a SAGA_ID")
    if options.action == "resolve" and not options.note:
        raise UsageError("attention resolve needs --note TEXT: what was done about it")

    async def act() -> int:
        store = await Store.open(options.db, read_only=options.action in ("list", "show"))
        try:
            run_id = await _chosen_run(store, options.run)
            match options.action:
                case "list":
                    _print_inbox(out, run_id, await attention.inbox(store, run_id))
                case "show":
                    _print_case(out, run_id, await attention.attention_case(store, run_id, options.saga))
                case "retry":
                    status = await attention.retry(store, run_id, options.saga, on_event=_event_printer(out, False))
                    _show(out, f"{options.saga}: {status}")
                    return ExitCode.OK if status is not SagaStatus.NEEDS_ATTENTION else ExitCode.EXPECTATION_FAILED
                case "resolve":
                    status = await attention.resolve(store, run_id, options.saga, options.note)
                    _show(out, f"{options.saga}: resolved ({status}): {options.note}")
            return ExitCode.OK
        except (NoSuchRun, attention.NotNeedingAttention) as error:
            raise UsageError(str(error)) from None
        finally:
            await store.close()

    return run_stoppable(act())


def _print_inbox(out: Console, run_id: int, sagas: list[Any]) -> None:
    _show(out, Text(f"run {run_id}: {len(sagas)} saga(s) need attention", style="bold"))
    for saga in sagas:
        _show(out, f"  {saga.saga_id}  {saga.saga}  failed at {saga.failed_step}: {saga.error_kind}: {saga.message}")


def _print_case(out: Console, run_id: int, case: Any) -> None:
    saga = case.saga
    _show(out, Text(f"{saga.saga_id} ({saga.saga}) in run {run_id}: {saga.status}", style="bold"))
    _show(out, f"  failed at {saga.failed_step}: {saga.error_kind}: {saga.message}")
    _show(out, f"  input: {json.dumps(saga.input, sort_keys=True)}")
    _show(out, "  compensation chain, newest first:")
    width = max((len(link.step) for link in case.chain), default=0)
    for link in case.chain:
        _show(out, f"    {link.step:<{width}}  {link.action or '-':<26} {link.describe()}")
    _show(out, f"  context: {json.dumps(case.context, sort_keys=True)}")


def _dashboard(options: argparse.Namespace, out: Console) -> int:
    from sagatui.tui.app import run_dashboard

    pack, pack_text, path = _load(options.pack)
    return run_dashboard(pack, pack_text, path, db=options.db, seed=options.seed, speed=options.speed)
