"""The command line: the dashboard's arguments, and each subcommand's with the handler that runs it.

Building the parser imports no command: a handler is named by its module and imported when its command
runs, so `--help` and `--version` cost argparse alone, and `check` never imports the engine or the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from sagatui import __version__
from sagatui.cli import support
from sagatui.cli.support import DEFAULT_DB, ArgumentParser
from sagatui.packs import DEFAULT_PACK

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Handler:
    """The function that carries out a command, `function` of the module `sagatui.cli.<module>`."""

    module: str
    function: str

    def resolve(self) -> Callable[[argparse.Namespace, Console], int]:
        handler: Callable[[argparse.Namespace, Console], int] = getattr(
            import_module(f"sagatui.cli.{self.module}"), self.function)
        return handler

    def __call__(self, options: argparse.Namespace, out: Console) -> int:
        return int(self.resolve()(options, out))


SUBCOMMANDS = ("run", "check", "packs", "events", "replay", "export", "diff", "fork", "fuzz", "fuzz-merge",
               "prove", "resume", "attention", "saga")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"sagatui {__version__}")


def _config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="the config file (default: $SAGATUI_CONFIG, else "
                                                         "$XDG_CONFIG_HOME/sagatui/config.toml)")


def dashboard_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="sagatui",
        description="Run sagas, break their services, and watch retries, breakers and compensations. "
                    f"Subcommands: {', '.join(SUBCOMMANDS)} (sagatui COMMAND --help).",
    )
    _common(parser)
    # what the config file may set too defaults to SUPPRESS, so that an option absent is told from one given
    parser.add_argument("pack", nargs="?", default=argparse.SUPPRESS,
                        help=f"a pack file or bundled pack name, or the user's own code (MODULE:APP, a .py file) "
                             f"(default: the config file's, else {DEFAULT_PACK})")
    parser.add_argument("--db", default=argparse.SUPPRESS,
                        help=f"SQLite file (default: the config file's, else {DEFAULT_DB})")
    parser.add_argument("--seed", type=support.seed, default=argparse.SUPPRESS,
                        help="root seed of the run (default: the config file's, else 1)")
    parser.add_argument("--speed", type=support.speed, default=argparse.SUPPRESS,
                        help="clock speed: 1 = real time, 10 = ten times faster, 'virtual' = as fast as "
                             "possible (default: the config file's, else 1)")
    parser.add_argument("--theme", default=argparse.SUPPRESS,
                        help="the look: sagatui-light, or any Textual theme (textual-dark, nord, gruvbox, "
                             "textual-light, ...; default: the config file's, else textual-dark)")
    _config(parser)
    parser.add_argument("--print-config", action="store_true",
                        help="print each setting, its value and where it came from, and exit")
    parser.set_defaults(handler=Handler("runs", "handle_dashboard"))
    return parser


def subcommand_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="sagatui")
    _common(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios headless and check their expectations",
                              description="Run a pack's scenarios headless (virtual clock unless --realtime), "
                                          "print notable events and a summary, check every expectation.")
    run.add_argument("pack", help="a pack file or bundled pack name, or the user's own code (MODULE:APP, a .py file)")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--scenario", action="append", help="scenario to run (repeatable; default: the "
                                                           "pack's default scenario)")
    which.add_argument("--all", action="store_true", help="run every scenario of the pack")
    run.add_argument("--seed", type=support.seed, default=1, help="root seed (default: 1)")
    run.add_argument("--db", default=argparse.SUPPRESS,
                     help=f"SQLite file (default: the config file's db, else {DEFAULT_DB})")
    _config(run)
    run.add_argument("--realtime", action="store_true", help="pace the clock to real time")
    run.add_argument("--format", choices=("text", "json"), default="text")
    run.add_argument("--quiet", action="store_true", help="text: print only the summaries")
    run.add_argument("--verbose", action="store_true", help="text: print every event, not just notable ones")
    run.set_defaults(handler=Handler("runs", "handle_run"))

    check = commands.add_parser("check", help="validate packs", description="Validate packs and list their "
                                                                             "scenarios, or print every problem.")
    check.add_argument("packs", nargs="+", help="pack files or bundled pack names, or the user's own code "
                                                "(MODULE:APP, a .py file)")
    check.set_defaults(handler=Handler("pack_commands", "handle_check"))

    packs = commands.add_parser("packs", help="list the bundled packs and their scenarios")
    packs.set_defaults(handler=Handler("pack_commands", "handle_packs"))

    events = commands.add_parser("events", help="read the event log of a database")
    events.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    events.add_argument("--run", type=support.run_id, help="run id (default: the latest run)")
    events.add_argument("--saga", help="only this saga's events")
    events.add_argument("--kind", action="append", help="only events of this kind or family (repeatable), "
                                                        "e.g. breaker or compensation.ended")
    events.add_argument("--format", choices=("table", "jsonl"), default="table")
    events.add_argument("--limit", type=support.count, default=None, help="at most this many events")
    events.set_defaults(handler=Handler("recordings", "handle_events"))

    replay = commands.add_parser(
        "replay", help="re-execute a recorded run and compare the event streams",
        description="Re-execute a run (from a database or a session file) on the virtual clock with its "
                    "recorded inputs and compare the new event stream with the recorded one: exit 0 when "
                    "identical, 1 with the first divergence shown.")
    replay.add_argument("source", help="a sagatui database or a session .json file")
    replay.add_argument("--run", type=support.run_id, help="run id in the database (default: the latest run)")
    replay.add_argument("--watch", action="store_true",
                        help="play the recorded events into the dashboard instead (no re-execution)")
    replay.add_argument("--code", metavar="MODULE:APP",
                        help="the user's own code the run ran (sagatui.code): its calls answered as recorded")
    replay.add_argument("--live", action="store_true",
                        help="with --code: call the user's functions again, and compare (without clock times)")
    replay.set_defaults(handler=Handler("recordings", "handle_replay"))

    export = commands.add_parser(
        "export", help="write a run as a session file, or its sagas as OpenTelemetry traces",
        description="Write a recorded run as a self-contained session file (replayable anywhere), or with "
                    "--format otlp as OpenTelemetry traces in OTLP JSON, one trace per saga: a .jsonl file "
                    "(one ExportTraceServiceRequest a line, as the Collector's file receiver reads) or, with "
                    "--per-saga DIR, one .json file per saga (for a viewer that imports one trace a file).")
    export.add_argument("db", help="a sagatui database or a session .json file")
    export.add_argument("--run", type=support.run_id, help="run id (default: the latest run)")
    export.add_argument("--format", choices=("session", "otlp"), default="session",
                        help="session (default) or otlp")
    export.add_argument("-o", "--output", help="the file to write (a session .json, or otlp's .jsonl)")
    export.add_argument("--per-saga", metavar="DIR", help="otlp: write DIR/<saga id>.json per saga instead")
    export.add_argument("--force", action="store_true", help="replace the output file(s) if they exist")
    export.set_defaults(handler=Handler("recordings", "handle_export"))

    diff = commands.add_parser(
        "diff", help="compare two recorded runs: the first divergence and what it changed",
        description="Compare two recorded runs (of one database, of two, or session files): the first event "
                    "where their streams part, then what differs: sagas by status, each saga whose outcome "
                    "changed, compensation orders, the metrics, the commands only one received. Exit 0 when "
                    "identical, 1 when they differ.")
    diff.add_argument("a", help="a database (its latest run), DB:RUN for another run, or a session .json file")
    diff.add_argument("b", help="the run to compare it with, written the same way")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(handler=Handler("recordings", "handle_diff"))

    fork = commands.add_parser(
        "fork", help="what if: re-execute a run up to a point, change something there, let it go on",
        description="Re-execute a recorded run exactly up to a point (after event SEQ, or at a clock time), "
                    "apply other commands there (--fault), and let it go on as a new run that records where "
                    "it forked from. Compare the two with `sagatui diff`. The same fork twice gives the same run.")
    fork.add_argument("source", help="a sagatui database or a session .json file")
    fork.add_argument("--run", type=support.run_id, help="run id in the database (default: the latest run)")
    fork.add_argument("--at", required=True, type=support.fork_point,
                      help="where: SEQ (once that event is recorded) or a clock time (2.5s, 500ms, 1m)")
    fork.add_argument("--fault", action="append", default=[], metavar="SERVICE=PROFILE",
                      help="set a service's fault there: a mode (payment=offline) or a profile "
                           "('payment={mode: degraded, error_rate: 0.3}'); repeatable")
    fork.add_argument("--db", help="the database of the new run (default: the source database)")
    fork.set_defaults(handler=Handler("recordings", "handle_fork"))

    fuzz = commands.add_parser(
        "fuzz", help="run a scenario under random fault schedules and check saga properties",
        description="Deterministic simulation: each run draws a random fault schedule from its seed, then "
                    "checks that every saga ended, compensations ran only for steps that took effect, at "
                    "most once and newest first, no call passed an open breaker, no step exceeded its "
                    "attempts, stock is conserved, nothing leaked, and the resource tables equal what the "
                    "event log implies. Exit 1 if any run failed; each failing seed is printed with the "
                    "command that reproduces it.")
    fuzz.add_argument("pack", help="a pack file or bundled pack name, or the user's own code (MODULE:APP, a .py file)")
    fuzz.add_argument("--scenario", required=True, help="the scenario to fuzz")
    fuzz.add_argument("--runs", type=support.positive, default=100, help="how many seeds (default: 100)")
    fuzz.add_argument("--start-seed", type=support.seed, default=1, help="first seed (default: 1)")
    fuzz.add_argument("--db", help="keep the runs in this SQLite file (default: a scratch file); with several "
                                   "jobs, one file per job beside it: runs.db -> runs-1.db, runs-2.db, ...")
    fuzz.add_argument("--jobs", type=support.positive, default=None,
                      help="worker processes to run seeds in (default: this machine's cores); the report is "
                           "the same for any number")
    fuzz.add_argument("--shard", metavar="K/M",
                      help="run only shard K of M (1-based: 1/2 and 2/2 split a campaign in two): the "
                           "campaign's K-th seed and every M-th after it")
    fuzz.add_argument("--report", metavar="FILE", help="also write the result as JSON, for fuzz-merge")
    fuzz.set_defaults(handler=Handler("runs", "handle_fuzz"))

    prove = commands.add_parser(
        "prove", help="break every step of a saga in every way, one case at a time, and check the world came back",
        description="Run a saga once with nothing broken, then once per failure point and shape on a fresh "
                    "world with the same seed: every step it calls a service for fails (a permanent error), "
                    "loses its reply after its effect, hangs past its timeout, or has its process SIGKILLed "
                    "as its answer arrives and resumed; every undo fails once, fails for good, loses its reply "
                    "once, or is killed. After each case: the saga is terminal and ended as the break demands "
                    "(an undo that failed for good needs attention), no effect was applied twice, undos ran "
                    "newest first only for steps that took effect, the world is back as it was (but what the "
                    "pack declares in `effect_stays`, and what a saga needing attention holds, listed), and the "
                    "tables equal the event log. Prints the matrix; exit 1 if any case failed, each with the "
                    "command that reproduces it.")
    prove.add_argument("pack", help="a pack file or bundled pack name")
    subject = prove.add_mutually_exclusive_group()
    subject.add_argument("--saga", help="the saga to prove (default: every saga a scenario of the pack runs)")
    subject.add_argument("--scenario", help="prove the saga of this scenario, on its first input")
    prove.add_argument("--input", metavar="JSON", help="the saga's input (default: the first input of the first "
                                                       "scenario that runs it)")
    prove.add_argument("--seed", type=support.seed, default=1, help="the seed of every case (default: 1)")
    prove.add_argument("--case", action="append", default=[], metavar="STEP:SHAPE",
                       help="run only this case (charge_payment:reply_lost); repeatable")
    prove.add_argument("--db", help="keep the runs (default: scratch files): the one with nothing broken in this "
                                    "SQLite file, each case's in a file of its own beside it (prove.db -> "
                                    "prove-1.db, prove-2.db, ..., in case order)")
    prove.add_argument("--jobs", type=support.positive, default=None,
                       help="worker processes to run cases in (default: this machine's cores); the report is the "
                            "same for any number")
    prove.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    prove.set_defaults(handler=Handler("proving", "handle_prove"))

    fuzz_merge = commands.add_parser(
        "fuzz-merge", help="merge the --report files of a campaign's shards into the campaign's result",
        description="Read the JSON reports that `fuzz --shard K/M --report FILE` wrote, check that they are "
                    "the shards 1/M to M/M of one campaign (same pack text, scenario and seeds), each once, and "
                    "print the whole campaign's report as `fuzz` without --shard prints it. Exit 1 if any seed "
                    "failed, 2 if the reports do not make up one campaign.")
    fuzz_merge.add_argument("reports", nargs="+", metavar="REPORT", help="the shards' report files")
    fuzz_merge.add_argument("--report", metavar="FILE", help="also write the merged report as JSON")
    fuzz_merge.set_defaults(handler=Handler("runs", "handle_fuzz_merge"))

    resume = commands.add_parser(
        "resume", help="carry on the sagas a crash or Ctrl-C left unfinished",
        description="Carry on every unfinished saga of each run a crash or an interruption left unfinished "
                    "(or of --run): calls whose answer was never recorded are sent again with their "
                    "idempotency key, then each saga goes forward or compensates as its state says. Ends with "
                    "each run's invariant report: exit 0 when every saga is terminal and every invariant holds, "
                    "1 otherwise, 3 on a storage error.")
    resume.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    resume.add_argument("--run", type=support.run_id,
                        help="only this run (default: every run still running or interrupted)")
    resume.add_argument("--code", metavar="MODULE:APP",
                        help="the user's own code a run ran (sagatui.code): imported only when given")
    resume.add_argument("--quiet", action="store_true", help="print only the summaries")
    resume.add_argument("--verbose", action="store_true", help="print every event, not just notable ones")
    resume.set_defaults(handler=Handler("runs", "handle_resume"))

    attention = commands.add_parser(
        "attention", help="the needs_attention inbox: list, show, retry or resolve",
        description="list: the sagas that need attention. show SAGA_ID: its compensation chain and what the "
                    "compensations were told. retry SAGA_ID: run its unfinished compensations again (exit 1 if "
                    "it still needs attention). resolve SAGA_ID --note TEXT: mark it handled. Instead of a SAGA_ID, "
                    "--all or --where WORDS retries or resolves many at once (counted and confirmed first: "
                    "--yes, or y at the prompt). Retry and resolve are recorded in the run's event log.")
    attention.add_argument("action", choices=("list", "show", "retry", "resolve"))
    attention.add_argument("saga", nargs="?", metavar="SAGA_ID", help="the saga (show, retry, resolve)")
    attention.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    attention.add_argument("--run", type=support.run_id, help="run id (default: the latest run)")
    attention.add_argument("--code", metavar="MODULE:APP",
                           help="the user's own code the run ran (sagatui.code): imported only when given")
    attention.add_argument("--note", help="resolve: what was done about it (required)")
    attention.add_argument("--all", action="store_true", help="retry, resolve: every saga in the inbox")
    attention.add_argument("--where", metavar="WORDS", help="retry, resolve: the sagas in the inbox holding every "
                           "word (id, saga, failed step, error kind, message), e.g. --where 'payment timeout'")
    attention.add_argument("--yes", action="store_true", help="with --all or --where: go ahead without asking "
                           "(the count and the sagas are printed either way)")
    attention.add_argument("--format", choices=("text", "json"), default="text",
                           help="list: json gives one document a script can read (exit 1 still means not empty)")
    attention.set_defaults(handler=Handler("runs", "handle_attention"))

    saga = commands.add_parser(
        "saga", help="operator actions on sagas a stopped run left going: cancel, approve, reject",
        description="For a run a crash, Ctrl-C or a headless run waiting for people left unfinished (a live "
                    "run's sagas are acted on in its dashboard). cancel SAGA_ID...: stop each saga going "
                    "forward (a call it left open may have done its work and is undone, not sent again), "
                    "compensate what it did, and end it `cancelled`. approve|reject SAGA_ID...: decide the "
                    "approval step each saga waits at (waiting_approval): approved it goes on, rejected it "
                    "compensates what came before. Each saga named is carried on until it ends or waits at "
                    "another approval; the run's other unfinished sagas stay for `sagatui resume`. Recorded in "
                    "the run's event log. Exit 0 when it was done, 1 when an undo did not complete (the saga "
                    "needs attention), 2 when a saga cannot take the action (not in the run, ended already, "
                    "rolling back, not waiting for an approval).")
    saga.add_argument("action", choices=("cancel", "approve", "reject"))
    saga.add_argument("sagas", nargs="+", metavar="SAGA_ID", help="the sagas to act on")
    saga.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file (default: {DEFAULT_DB})")
    saga.add_argument("--run", type=support.run_id, help="run id (default: the latest run)")
    saga.add_argument("--code", metavar="MODULE:APP",
                      help="the user's own code the run ran (sagatui.code): imported only when given")
    saga.add_argument("--note", default="", help="why (recorded with the cancel or the decision)")
    saga.set_defaults(handler=Handler("runs", "handle_saga"))
    return parser
