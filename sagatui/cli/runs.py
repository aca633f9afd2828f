"""The commands that run a pack: the dashboard, `run`, `fuzz`, `resume`, `attention`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from sagatui.cli import support
from sagatui.cli.rendering import (
    event_printer,
    print_case,
    print_fuzz_seed,
    print_fuzz_summary,
    print_inbox,
    print_resumed,
    print_summary,
    show,
)
from sagatui.cli.support import UsageError, chosen_run
from sagatui.exit_codes import ExitCode
from sagatui.model.status import SagaStatus

if TYPE_CHECKING:
    from sagatui.code.app import App
    from sagatui.store.database import Store
from sagatui.cli.targets import code_option, read_target
from sagatui.stop_signals import run_stoppable


def handle_run(options: argparse.Namespace, out: Console) -> int:
    from sagatui.cli.settings import run_db
    from sagatui.lab.headless import run_scenario
    from sagatui.store.database import Store

    options.db = run_db(options)
    target = read_target(options.pack, verbose=options.verbose)
    pack, pack_text, path = target.pack, target.text, target.where
    names = list(pack.scenarios) if options.all else options.scenario or [pack.default_scenario
                                                                         or next(iter(pack.scenarios))]
    unknown = [name for name in names if name not in pack.scenarios]
    if unknown:
        raise UsageError(f"{path} has no scenario {unknown[0]!r} (it has: {', '.join(pack.scenarios)})")
    text = options.format == "text"
    printer = event_printer(out, every=options.verbose) if text and not options.quiet else None

    async def run_all() -> list[Any]:
        async with await Store.open(options.db) as store:
            reports = []
            for name in names:
                if text:
                    show(out, Text(f"== {pack.name} / {name}: {pack.scenarios[name].description}", style="bold"))
                report = await run_scenario(pack, pack_text, store, name, seed=options.seed,
                                            speed=1.0 if options.realtime else None, on_event=printer,
                                            code=target.code)
                reports.append(report)
                if text:
                    print_summary(out, report)
        return reports

    from sagatui.lab.run import WaitingForPeople

    try:
        reports = run_stoppable(run_all())
    except WaitingForPeople as waiting:
        show(out, Text(f"stopped: {waiting} (the run is left interrupted; no decision is scripted in the "
                       f"scenario's `decisions:`)", style="bold yellow"))
        return ExitCode.EXPECTATION_FAILED
    passed = all(report.passed for report in reports)
    if text:
        style = "bold green" if passed else "bold red"
        show(out, Text(f"{sum(r.passed for r in reports)} of {len(reports)} scenario(s) passed", style=style))
    else:
        print(json.dumps({"pack": pack.name, "file": str(path), "seed": options.seed, "db": options.db,
                          "passed": passed, "scenarios": [report.as_dict() for report in reports]}, indent=2))
    return ExitCode.OK if passed else ExitCode.EXPECTATION_FAILED


def handle_fuzz(options: argparse.Namespace, out: Console) -> int:
    import sys
    import time

    from sagatui.lab.fuzz_campaign import WHOLE, Campaign, SeedResult, Shard, default_jobs, run_campaign

    target = read_target(options.pack)
    pack, pack_text, path = target.pack, target.text, target.where
    if options.scenario not in pack.scenarios:
        raise UsageError(f"{path} has no scenario {options.scenario!r} (it has: {', '.join(pack.scenarios)})")
    if options.start_seed + options.runs - 1 > support.MAX_SEED:
        raise UsageError(f"--runs {options.runs} from --start-seed {options.start_seed} passes "
                         f"{support.MAX_SEED}, the largest seed")
    try:
        shard = Shard.parse(options.shard) if options.shard else WHOLE
    except ValueError as error:
        raise UsageError(f"--shard: {error}") from None
    campaign = Campaign(pack, pack_text, options.pack, str(path), options.scenario, options.start_seed, options.runs,
                        shard, target.code)
    jobs = options.jobs or default_jobs()
    db = Path(options.db) if options.db else None

    def print_result(result: SeedResult) -> None:
        print_fuzz_seed(out, result.report, options.pack, options.scenario, result.kept if db is not None else None)

    started = time.perf_counter()
    results = run_stoppable(run_campaign(campaign, jobs=jobs, db=db, on_result=print_result))
    elapsed = time.perf_counter() - started
    report = campaign.report(results)
    print_fuzz_summary(out, report)
    if options.report:
        report.write(Path(options.report))
    # the rate is no part of the report (stdout is the same for any --jobs): a note on stderr
    print(f"fuzz: {len(results)} run(s) in {elapsed:.1f}s, {len(results) / max(elapsed, 1e-9):.2f} runs/s, "
          f"{campaign.jobs(jobs)} job(s)", file=sys.stderr)
    return ExitCode.EXPECTATION_FAILED if report.failed else ExitCode.OK


def handle_fuzz_merge(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.fuzz_campaign import CampaignReport, ReportError, merge_reports

    try:
        merged = merge_reports([(Path(name), CampaignReport.read(Path(name))) for name in options.reports])
    except ReportError as error:
        raise UsageError(str(error)) from None
    for seed in merged.seeds:
        print_fuzz_seed(out, seed, merged.pack, merged.scenario, None)
    print_fuzz_summary(out, merged)
    if options.report:
        merged.write(Path(options.report))
    return ExitCode.EXPECTATION_FAILED if merged.failed else ExitCode.OK


def handle_resume(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.recovery.reopen import CodeNeeded, NoSuchRun, find_run
    from sagatui.lab.recovery.resume import ResumeReport, resume_run, unfinished_runs
    from sagatui.store.database import Store

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    printer = None if options.quiet else event_printer(out, every=options.verbose)
    code = code_option(options)

    async def resume_all() -> list[ResumeReport]:
        async with await Store.open(options.db) as store:
            try:
                runs = [await find_run(store, options.run)] if options.run is not None else await unfinished_runs(store)
                reports = []
                for run in runs:
                    show(out, Text(f"== run {run.id}: {run.pack_name} / {run.scenario}, seed {run.seed} ({run.status})",
                                    style="bold"))
                    reports.append(await resume_run(store, run.id, on_event=printer, code=code))
                    print_resumed(out, reports[-1])
                return reports
            except (NoSuchRun, CodeNeeded) as error:
                raise UsageError(str(error)) from None

    reports = run_stoppable(resume_all())
    if not reports:
        show(out, f"nothing to resume: no unfinished run in {options.db}")
    return ExitCode.OK if all(report.ok for report in reports) else ExitCode.EXPECTATION_FAILED


def handle_attention(options: argparse.Namespace, out: Console) -> int:
    from sagatui.cli.rendering import inbox_json
    from sagatui.lab import attention
    from sagatui.lab.recovery.reopen import CodeNeeded, NoSuchRun
    from sagatui.store.database import Store

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    bulk = options.all or options.where is not None
    if bulk and (options.action not in ("retry", "resolve") or options.saga):
        raise UsageError("--all and --where choose the sagas of a retry or resolve, instead of a SAGA_ID")
    if options.action != "list" and not options.saga and not bulk:
        raise UsageError(f"attention {options.action} needs a SAGA_ID (or --all, --where WORDS)")
    if options.action == "resolve" and not options.note:
        raise UsageError("attention resolve needs --note TEXT: what was done about it")

    code = code_option(options)

    async def act() -> int:
        async with await Store.open(options.db, read_only=options.action in ("list", "show")) as store:
            try:
                run_id = await chosen_run(store, options.run)
                match options.action:
                    case "list":
                        waiting = await attention.inbox(store, run_id)
                        undecided = await attention.waiting_for_decision(store, run_id)
                        if options.format == "json":
                            print(inbox_json(options.db, run_id, waiting, undecided))
                        else:
                            print_inbox(out, run_id, waiting, undecided)
                        # for cron jobs and CI steps: 1 while something needs an operator, 0 when the inbox is empty
                        return ExitCode.EXPECTATION_FAILED if waiting or undecided else ExitCode.OK
                    case "show":
                        print_case(out, run_id, await attention.attention_case(store, run_id, options.saga))
                    case "retry" | "resolve" if bulk:
                        return await _act_on_inbox(out, store, run_id, options, code)
                    case "retry":
                        status = await attention.retry(store, run_id, options.saga, on_event=event_printer(out, False),
                                                       code=code)
                        show(out, f"{options.saga}: {status}")
                        return ExitCode.OK if status is not SagaStatus.NEEDS_ATTENTION else ExitCode.EXPECTATION_FAILED
                    case "resolve":
                        status = await attention.resolve(store, run_id, options.saga, options.note, code=code)
                        show(out, f"{options.saga}: resolved ({status}): {options.note}")
                return ExitCode.OK
            except (NoSuchRun, CodeNeeded, attention.NotNeedingAttention) as error:
                raise UsageError(str(error)) from None

    return run_stoppable(act())


async def _act_on_inbox(out: Console, store: Store, run_id: int, options: argparse.Namespace,
                        code: App | None) -> int:
    """A bulk retry or resolve: the inbox's sagas that --where chooses (--all: every one), counted and
    confirmed first (--yes, or y at the prompt on a terminal); all in one reopening of the run."""
    import sys

    from sagatui.lab import attention

    chosen = [info.saga_id for info in attention.matching(await attention.inbox(store, run_id), options.where or "")]
    if not chosen:
        show(out, f"run {run_id}: no saga needing attention matches: nothing to {options.action}")
        return ExitCode.OK
    what = f"{options.action} {len(chosen)} saga(s) of run {run_id}: {', '.join(chosen[:10])}" + (
        f" and {len(chosen) - 10} more" if len(chosen) > 10 else "")
    if not options.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"would {what}; pass --yes to go ahead")
        if input(f"{what[0].upper()}{what[1:]}? [y/N] ").strip().casefold() not in ("y", "yes"):
            show(out, "nothing done")
            return ExitCode.OK
    if options.action == "retry":
        statuses = await attention.retry_many(store, run_id, chosen, on_event=event_printer(out, False), code=code)
    else:
        statuses = await attention.resolve_many(store, run_id, chosen, options.note, code=code)
    for saga_id, status in statuses.items():
        show(out, f"{saga_id}: {'resolved (' + status + ')' if options.action == 'resolve' else status}")
    left = sum(status is SagaStatus.NEEDS_ATTENTION for status in statuses.values())
    show(out, f"{options.action}: {len(statuses)} saga(s), {len(statuses) - left} out of the inbox, {left} still "
              "needing attention")
    return ExitCode.EXPECTATION_FAILED if left else ExitCode.OK


def handle_saga(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.recovery.reopen import CodeNeeded, NoSuchRun
    from sagatui.lab.saga_actions import NotActionable, SagaAction, act_on_sagas
    from sagatui.store.database import Store

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    action = SagaAction(options.action)
    code = code_option(options)

    async def act() -> int:
        async with await Store.open(options.db) as store:
            try:
                run_id = await chosen_run(store, options.run)
                report = await act_on_sagas(store, run_id, action, options.sagas, options.note,
                                            on_event=event_printer(out, False), code=code)
            except (NoSuchRun, CodeNeeded, NotActionable) as error:
                raise UsageError(str(error)) from None
        for saga_id, status in report.statuses.items():
            show(out, f"{saga_id}: {status}")
        if report.waiting:
            show(out, f"waiting for an operator's decision again: {', '.join(report.waiting)} (sagatui saga "
                      f"approve|reject --run {report.run_id})")
        if report.left:
            show(out, f"run {report.run_id}: {report.left} other saga(s) left unfinished (sagatui resume --run "
                      f"{report.run_id})")
        return ExitCode.EXPECTATION_FAILED if report.needing_attention else ExitCode.OK

    return run_stoppable(act())


def handle_dashboard(options: argparse.Namespace, out: Console) -> int:
    from sagatui.cli.settings import dashboard_settings, print_settings

    settings = dashboard_settings(options)
    if options.print_config:
        print_settings(settings)
        return ExitCode.OK
    from sagatui.tui.app import run_dashboard

    target = read_target(settings.pack)
    return run_dashboard(target.pack, target.text, Path(target.where), code=target.code, db=settings.db,
                         seed=settings.seed, speed=settings.speed,
                         theme=settings.theme, keymap=settings.keymap)
