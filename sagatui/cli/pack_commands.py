"""The commands that read packs without running them: `check` and `packs`. They import the packs and
nothing that runs one (no engine, store or event models), which keeps them quick to start."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.text import Text

from sagatui.cli.rendering import show
from sagatui.cli.targets import read_target
from sagatui.exit_codes import ExitCode
from sagatui.packs import DEFAULT_PACK
from sagatui.packs.bundled import bundled_packs
from sagatui.packs.errors import PackError
from sagatui.packs.loader import load_pack


def handle_check(options: argparse.Namespace, out: Console) -> int:
    failures: list[PackError] = []
    for argument in options.packs:
        try:
            source = read_target(argument)
        except PackError as error:
            failures.append(error)
            continue
        pack = source.pack
        show(out, Text(f"{source.where}: ok: {pack.name}: {len(pack.scenarios)} scenario(s)", style="green"))
        for name, scenario in pack.scenarios.items():
            show(out, f"  {name:<32} saga {scenario.saga:<18} {scenario.description}")
    if failures:
        raise PackError([problem for error in failures for problem in error.problems])
    return ExitCode.OK


def handle_packs(options: argparse.Namespace, out: Console) -> int:
    for path in bundled_packs():
        pack = load_pack(path)
        marker = " (default)" if path.stem == DEFAULT_PACK else ""
        show(out, Text(f"{path.stem}{marker}: {pack.description}", style="bold"))
        for name, scenario in pack.scenarios.items():
            show(out, f"  {name:<32} {scenario.description}")
    return ExitCode.OK
