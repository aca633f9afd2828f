"""How the commands print: every line plain text, invariants and summaries in one shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from sagatui.model.durations import format_duration
from sagatui.model.status import InvariantState
from sagatui.plain_text import plain_text

if TYPE_CHECKING:  # the commands import what they run when they run it: `check` stays quick
    from rich.console import Console

    from sagatui.engine.metrics import MetricsSummary
    from sagatui.lab.fuzz_campaign import CampaignReport, KeptRun, SeedReport
    from sagatui.lab.headless import ScenarioReport
    from sagatui.model.events import Event
    from sagatui.store.invariants import InvariantResult


def show(out: Console, line: str | Text = "") -> None:
    """Every line of text output: pack, event and operator text as typed, never as markup or escape codes."""
    out.print(plain_text(line))


def event_printer(out: Console, every: bool) -> Callable[[Event], None]:
    from sagatui.event_lines import NOTABLE, describe, style_for  # the event models: only a command that runs

    def print_event(event: Event) -> None:
        if every or event.kind in NOTABLE:
            show(out, Text(describe(event), style=style_for(event)))

    return print_event


def mark(ok: bool) -> Text:
    return Text("ok  ", style="green") if ok else Text("FAIL", style="bold red")


STATE_MARKS = {InvariantState.OK: Text("ok  ", style="green"),
                InvariantState.HELD: Text("HELD", style="bold dark_orange"),
                InvariantState.FAIL: Text("FAIL", style="bold red")}


def invariant_line(invariant: InvariantResult) -> Text:
    """`invariant HELD nothing_leaked: ...`: an invariant's state and why."""
    line = Text("  invariant ")
    line.append_text(STATE_MARKS[invariant.state])
    line.append(f" {invariant.name}")
    if invariant.details:
        line.append(": " + "; ".join(invariant.details))
    if invariant.held:
        line.append(": " + "; ".join(invariant.held), style="dark_orange")
    if invariant.accepted:
        line.append(" (accepted after a resolve: " + "; ".join(invariant.accepted) + ")", style="yellow")
    return line


def _by_bulkheads(metrics: MetricsSummary) -> str:
    return f" ({metrics.bulkhead_rejections} by bulkheads)" if metrics.bulkhead_rejections else ""


def print_summary(out: Console, report: ScenarioReport) -> None:
    metrics = report.metrics
    by_status = ", ".join(f"{status} {count}" for status, count in metrics.by_status.items()) or "none"
    compensations = ", ".join(f"{k} {v}" for k, v in metrics.compensations.items()) or "none"
    p50, p95 = metrics.latency_p50, metrics.latency_p95
    show(out, Text(f"-- summary: run {report.run_id}, seed {report.seed}", style="bold"))
    show(out, f"  sagas {metrics.sagas}: {by_status}")
    show(out, f"  attempts {metrics.attempts}, retries {metrics.retries}, breaker trips "
               f"{metrics.breaker_trips}, rejected calls {metrics.rejected_calls}{_by_bulkheads(metrics)}, fallbacks "
               f"{metrics.fallbacks}")
    show(out, f"  compensations: {compensations}")
    if metrics.cost is not None:
        show(out, f"  cost {metrics.cost:g} (retries {metrics.retry_cost:g}, fallbacks {metrics.fallback_cost:g})")
    if p50 is not None and p95 is not None:
        show(out, f"  saga latency p50 {format_duration(p50)}, p95 {format_duration(p95)} (clock time)")
    for invariant in report.invariants:
        show(out, invariant_line(invariant))
    for check in report.checks:
        line = Text("  expect    ")
        line.append_text(mark(check.ok))
        line.append(f" {check.name}" + ("" if check.ok else f": expected {check.expected}, got {check.actual}"))
        show(out, line)
    show(out, Text("PASS" if report.passed else "FAIL", style="bold green" if report.passed else "bold red"))
    show(out)


def print_resumed(out: Console, report: Any) -> None:
    by_status = ", ".join(f"{status} {count}" for status, count in sorted(report.statuses.items())) or "none"
    show(out, Text(f"-- run {report.run.id}: {len(report.resumed)} saga(s) carried on, {len(report.resent)} call(s) "
                    f"sent again with their idempotency key", style="bold"))
    show(out, f"  sagas {sum(report.statuses.values())}: {by_status}")
    for invariant in report.invariants:
        show(out, invariant_line(invariant))
    show(out, Text("PASS" if report.ok else "FAIL", style="bold green" if report.ok else "bold red"))
    show(out)


def print_inbox(out: Console, run_id: int, sagas: list[Any], undecided: list[Any]) -> None:
    show(out, Text(f"run {run_id}: {len(sagas)} saga(s) need attention", style="bold"))
    for saga in sagas:
        show(out, f"  {saga.saga_id}  {saga.saga}  failed at {saga.failed_step}: {saga.error_kind}: {saga.message}")
    if undecided:
        show(out, Text(f"run {run_id}: {len(undecided)} saga(s) wait for a decision (sagatui saga approve|reject ID)",
                       style="bold"))
        for saga in undecided:
            show(out, f"  {saga.saga_id}  {saga.saga}  started at {saga.started_at:.3f}s")


def inbox_json(db: str, run_id: int, sagas: list[Any], undecided: list[Any]) -> str:
    """`attention list --format json`: the run and each saga needing attention, with where it failed; then
    each saga waiting at an approval step for a decision."""
    return json.dumps({"db": db, "run_id": run_id, "count": len(sagas), "sagas": [
        {"saga_id": saga.saga_id, "saga": saga.saga, "failed_step": saga.failed_step, "error_kind": saga.error_kind,
         "message": saga.message, "started_at": saga.started_at, "ended_at": saga.ended_at, "input": saga.input}
        for saga in sagas], "waiting_for_decision": [
        {"saga_id": saga.saga_id, "saga": saga.saga, "started_at": saga.started_at, "input": saga.input}
        for saga in undecided]}, indent=1, sort_keys=True)


def print_case(out: Console, run_id: int, case: Any) -> None:
    saga = case.saga
    show(out, Text(f"{saga.saga_id} ({saga.saga}) in run {run_id}: {saga.status}", style="bold"))
    show(out, f"  failed at {saga.failed_step}: {saga.error_kind}: {saga.message}")
    show(out, f"  input: {json.dumps(saga.input, sort_keys=True)}")
    show(out, "  compensation chain, newest first:")
    width = max((len(link.step) for link in case.chain), default=0)
    for link in case.chain:
        show(out, f"    {link.step:<{width}}  {link.action or '-':<26} {link.describe()}")
    show(out, f"  context: {json.dumps(case.context, sort_keys=True)}")


def print_fuzz_seed(out: Console, seed: SeedReport, pack: str, scenario: str, kept: KeptRun | None) -> None:
    """A failing seed: its violations (the first ten), where its run is kept (with --db), how to run it again."""
    if seed.ok:
        return
    show(out, Text(f"seed {seed.seed}: FAIL ({seed.sagas} sagas)", style="bold red"))
    for violation in seed.violations[:10]:
        show(out, f"  {violation}")
    if kept is not None:
        show(out, f"  kept: run {kept.run_id} of {kept.db}")
    from sagatui.lab.fuzz import reproduce_seed  # a fuzz campaign ran: the lab is imported already

    show(out, f"  reproduce: {reproduce_seed(pack, scenario, seed.seed)}")


def print_fuzz_summary(out: Console, report: CampaignReport) -> None:
    failed = report.failed
    of_shard = f" of shard {report.shard}" if report.shard.count > 1 else ""
    show(out, Text(f"{len(report.seeds)} run(s){of_shard}, {len(failed)} failed"
                   + (f"; failing seeds: {', '.join(map(str, failed))}" if failed else ""),
                   style="bold red" if failed else "bold green"))
