"""The commands that read what a run recorded: `events`, `replay`, `export`, `diff`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from sagatui.cli.rendering import show
from sagatui.cli.support import UsageError, chosen_run
from sagatui.event_lines import describe, style_for
from sagatui.exit_codes import ExitCode
from sagatui.model.events import EventKind
from sagatui.store.errors import StorageError, StorageProblem


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


def handle_events(options: argparse.Namespace, out: Console) -> int:
    from sagatui.store.database import Store
    from sagatui.store.queries import iter_events

    if not Path(options.db).is_file():
        raise UsageError(f"{options.db} does not exist")
    kinds = _event_kinds(options.kind) if options.kind else None

    async def stream() -> None:  # a page at a time: a long run's events are never all in memory
        async with await Store.open(options.db, read_only=True) as store:
            run_id = await chosen_run(store, options.run)
            async for page in iter_events(store, run_id, saga_id=options.saga, kinds=kinds, limit=options.limit):
                for event in page:
                    if options.format == "jsonl":
                        print(event.json_text())
                    else:
                        show(out, Text(describe(event), style=style_for(event)))

    asyncio.run(stream())
    return ExitCode.OK


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


def handle_replay(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.replay import Compared, RecordingError, open_recorded, replay_recorded

    if options.watch:
        from sagatui.tui.watch import watch_recording

        return watch_recording(_recording(options.source, options.run))

    from sagatui.cli.targets import code_option

    code = code_option(options)
    if options.live and code is None:
        raise UsageError("--live calls the user's own code again: give it with --code MODULE:APP")

    async def replayed() -> tuple[str, Compared]:
        async with open_recorded(_recording_file(options.source), options.run) as recording:
            return recording.source, await replay_recorded(recording, code=code, live=options.live)

    try:
        source, result = asyncio.run(replayed())
    except RecordingError as error:
        raise UsageError(str(error)) from None
    if result.divergence is None:
        show(out, Text(f"identical: {result.events} events of {source} replayed", style="green"))
        return ExitCode.OK
    show(out, Text(f"diverged: {source}", style="bold red"))
    for line in result.divergence.describe().splitlines():
        show(out, line)
    return ExitCode.EXPECTATION_FAILED


def handle_export(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.replay import write_session

    if options.per_saga and options.format != "otlp":
        raise UsageError("--per-saga writes traces: add --format otlp")
    if bool(options.output) == bool(options.per_saga):
        raise UsageError("name where to write: -o FILE" + (" or --per-saga DIR" if options.format == "otlp" else ""))
    recording = _recording(options.db, options.run)
    if options.format == "otlp":
        return _export_traces(options, recording, out)
    output = _export_target(Path(options.db), Path(options.output), force=options.force)
    try:
        write_session(recording, output)
    except OSError as error:
        raise _unwritable(options.output, error) from None
    show(out, f"wrote {options.output}: {len(recording.events)} events, {len(recording.commands)} command(s)")
    return ExitCode.OK


def _export_traces(options: argparse.Namespace, recording: Any, out: Console) -> int:
    from sagatui.lab.trace_export import export_lines
    from sagatui.whole_files import write_whole

    lines = list(export_lines(recording.events, pack=recording.pack_name, seed=recording.seed))
    if options.per_saga:
        folder = Path(options.per_saga)
        if not folder.is_dir():
            raise UsageError(f"folder {folder} does not exist")
        targets = [(_export_target(Path(options.db), folder / f"{saga_id}.json", force=options.force), [line])
                   for saga_id, line in lines]
        where = f"{len(targets)} file(s) in {folder}"
    else:
        targets = [(_export_target(Path(options.db), Path(options.output), force=options.force),
                    [line for _, line in lines])]
        where = options.output
    for target, content in targets:
        try:
            write_whole(target, "".join(f"{line}\n" for line in content))
        except OSError as error:
            raise _unwritable(str(target), error) from None
    show(out, f"wrote {where}: {len(lines)} trace(s), one per saga")
    return ExitCode.OK


def _unwritable(name: str, error: OSError) -> StorageError:
    return StorageError(StorageProblem.UNAVAILABLE, f"cannot write {name}: {error.strerror or error}")


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


def _run_source(text: str) -> tuple[str, int | None]:
    """`DB`, `DB:RUN` or a session file: the path and the run id (None: the latest run)."""
    path, _, run = text.rpartition(":")
    if path and run.isdigit() and not Path(text).exists():
        return path, int(run)
    return text, None


def handle_diff(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.run_diff import diff_runs

    (path_a, run_a), (path_b, run_b) = _run_source(options.a), _run_source(options.b)
    result = diff_runs(_recording(path_a, run_a), _recording(path_b, run_b))
    if options.format == "json":
        print(json.dumps(result.as_dict(), indent=1, sort_keys=True))
    else:
        for line in result.describe():
            show(out, Text(line, style="green" if result.identical else ""))
    return ExitCode.OK if result.identical else ExitCode.EXPECTATION_FAILED


def _fault_change(text: str, services: Iterable[str]) -> Any:
    """`payment=offline` or `payment={mode: degraded, error_rate: 0.3}` as the command that sets it."""
    import yaml
    from pydantic import ValidationError

    from sagatui.lab.commands import SetFault
    from sagatui.model.faults import FaultProfile

    service, equals, profile = text.partition("=")
    if not equals or not service or not profile:
        raise UsageError(f"--fault {text!r}: write it SERVICE=PROFILE, e.g. payment=offline")
    if service not in services:
        raise UsageError(f"--fault {text!r}: the pack has no service {service!r} (it has {', '.join(services)})")
    try:
        written = yaml.safe_load(profile)
    except yaml.YAMLError:
        raise UsageError(f"--fault {text!r}: the profile is neither a mode nor a {{key: value}} mapping") from None
    try:
        return SetFault(service=service, profile=FaultProfile.model_validate(
            {"mode": written} if isinstance(written, str) else written))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UsageError(f"--fault {text!r}: {where + ': ' if where else ''}{first['msg']}") from None


def handle_fork(options: argparse.Namespace, out: Console) -> int:
    from sagatui.lab.fork import ForkError, check_forkable, fork_run
    from sagatui.packs.loader import load_pack_text
    from sagatui.store.database import Store

    recording = _recording(options.source, options.run)
    try:
        check_forkable(recording)
    except ForkError as error:
        raise UsageError(str(error)) from None
    if options.db is None and Path(options.source).suffix == ".json":
        raise UsageError("a session file is not a database: name where the fork goes with --db")
    services = list(load_pack_text(recording.pack_text, recording.source).services)
    changes = [_fault_change(text, services) for text in options.fault]
    target = options.db or options.source

    async def forked() -> Any:
        async with await Store.open(target) as store:
            return await fork_run(recording, options.at, changes, store)

    try:
        fork = asyncio.run(forked())
    except ForkError as error:
        raise UsageError(str(error)) from None
    show(out, f"forked {recording.source} at {options.at.label()}: run {fork.run_id} of {target} "
              f"({fork.events} events)")
    source = options.source if recording.run_id is None else f"{options.source}:{recording.run_id}"
    show(out, f"compare: sagatui diff {source} {target}:{fork.run_id}")
    return ExitCode.OK
