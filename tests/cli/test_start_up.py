"""What starting a command imports, so that `sagatui --help`, `--version`, `packs` and `check` stay quick
(bench/cli.py times them; these tests time nothing, they list modules).

Each probe runs in a fresh interpreter (a test process has imported everything already) and prints the
modules loaded once the command has run. What must stay out, and why:
- Textual (sagatui.tui, textual): the dashboard's alone, and the heaviest import of all;
- the engine, the lab and the store's database (sagatui.engine, sagatui.lab, sagatui.store.database,
  aiosqlite, tenacity, asyncio): only a command that runs or reads a run needs them;
- the event models (sagatui.model.events and its payload models), which pydantic builds at import:
  190 ms of the 430 ms that importing sagatui.cli took before (issue 14);
- and, for `--help` and `--version`, also pydantic, PyYAML and rich: argparse prints both on its own.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sagatui.cli import parser

NEVER_TO_START = {"textual", "sagatui.tui", "sagatui.engine", "sagatui.lab", "sagatui.store.database", "aiosqlite",
                  "tenacity", "asyncio", "sagatui.model.events", "sagatui.model.payloads"}
NOT_FOR_PARSING = {"pydantic", "yaml", "rich"}

PROBE = """
import json, sys
from sagatui.cli import main
try:
    main({args!r})
except SystemExit:  # argparse's --help and --version
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def imported_by(*args: str, cwd: Path) -> set[str]:
    """The modules and packages (`sagatui.engine.clock` also as `sagatui.engine`) loaded by a fresh
    interpreter that ran `sagatui ARGS` in the folder `cwd`."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=list(args))], capture_output=True,
                          text=True, check=True, timeout=300, cwd=cwd)
    modules = json.loads(done.stderr.splitlines()[-1])
    return {".".join(module.split(".")[:depth]) for module in modules for depth in range(1, module.count(".") + 2)}


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("run", "--help"), ("check", "--help")])
def test_help_and_version_import_argparse_and_no_more(args, tmp_path):
    modules = imported_by(*args, cwd=tmp_path)
    assert "argparse" in modules
    assert modules & (NEVER_TO_START | NOT_FOR_PARSING) == set()


@pytest.mark.parametrize("args", [("check", "onboarding"), ("packs",), ("check", "no-such-pack")])
def test_check_and_packs_import_the_packs_and_nothing_that_runs_one(args, tmp_path):
    modules = imported_by(*args, cwd=tmp_path)
    assert "sagatui.packs.loader" in modules  # the probe sees what the command imported
    assert modules & NEVER_TO_START == set()


COMMAND_LINES = [
    [], ["run", "ecommerce"], ["check", "ecommerce"], ["packs"], ["events"], ["replay", "x.db"],
    ["export", "x.db", "-o", "x.json"], ["fuzz", "ecommerce", "--scenario", "successful_order"], ["resume"],
    ["attention", "list"], ["saga", "cancel", "S-0001"], ["fuzz-merge", "a.json", "b.json"], ["diff", "a.db", "b.db:2"],
    ["fork", "x.db", "--at", "2s"], ["prove", "ecommerce", "--saga", "order"],
]


@pytest.mark.parametrize("args", COMMAND_LINES)
def test_every_command_names_a_handler_that_exists(args):
    """The parser names handlers by module and function, which no type checker follows."""
    chosen = parser.subcommand_parser() if args else parser.dashboard_parser()
    handler = chosen.parse_args(args).handler
    assert callable(handler.resolve()) and handler.resolve().__name__ == handler.function


def test_the_command_lines_cover_every_subcommand():
    assert {args[0] for args in COMMAND_LINES if args} == set(parser.SUBCOMMANDS)
