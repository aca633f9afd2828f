"""How long the `sagatui` command takes to start, by hand: `python bench/cli.py [--repeat N] [--before DIR]`.

Each command runs as a real child process, N times (default 15), the commands taking turns round by
round so that a busy moment of the machine falls on all of them alike: `sagatui --help`, `--version`,
`packs`, `check onboarding` (a small bundled pack), `run` of a one-saga scenario (ecommerce's
successful_order, a fresh SQLite file each time), the import of the dashboard module (`python -c
"import sagatui.tui.app"`), and the floor under `check`: pydantic, PyYAML and rich imported and one
pydantic model built, which any command that validates a pack pays.

Printed, twice: the median CPU time (user and system) of each child in ms, which holds far steadier
than wall time on a machine other work keeps busy, then the median wall time; each with its ratio to
the baseline measured in the same run, `python -c pass` (the same interpreter and site-packages). The
target: --help, --version, packs and check within 3x the baseline. The last lines read `cpu ratio <y>`
and `ratio <x>`: the slowest of those four over the baseline, in CPU and in wall time.

With `--before DIR` (another checkout: `git worktree add /tmp/before main`), every command also runs
with DIR first on PYTHONPATH, right after or before this checkout's (in turn), and its figures are
printed beside, with now/before.

The children write and read their bytecode in a scratch folder (PYTHONPYCACHEPREFIX, filled by one
uncounted round first), as an installed sagatui has it compiled: with PYTHONDONTWRITEBYTECODE set and
no __pycache__, every start would compile sagatui from source again (some 10% of `check` here).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

QUICK = ("--help", "--version", "packs", "check")  # the commands the 3x target is about
CHECK_FLOOR = """
import rich.console, yaml
from pydantic import BaseModel
class One(BaseModel):
    field: int
One(field=1)
"""


def sagatui_command() -> list[str]:
    """The console script beside this interpreter (what a user runs), else `python -m sagatui`."""
    script = Path(sys.executable).parent / "sagatui"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sagatui"]


@dataclass
class Timed:
    """One command line, the environment it runs in, and the wall and CPU times of its runs; `argv` is
    asked for afresh before each run."""

    name: str
    argv: Callable[[], list[str]]
    env: dict[str, str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run_once(self) -> None:
        argv = self.argv()
        cpu_before, started = children_cpu(), time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env, check=True)
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(children_cpu() - cpu_before)


def children_cpu() -> float:
    """Seconds of CPU (user and system) used so far by the children this process waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def print_table(title: str, now: list[Timed], then: list[Timed], measure: Callable[[Timed], list[float]]) -> float:
    """Median ms per command and its ratio to the baseline (pooled over both checkouts: none changes
    `python -c pass`); returns the slowest ratio of the QUICK commands."""
    def median_ms(command: Timed) -> float:
        return statistics.median(measure(command)) * 1000

    baseline = statistics.median(measure(now[0]) + (measure(then[0]) if then else [])) * 1000
    print(f"{title:<24}{'median ms':>10}{'ratio':>8}" + (f"{'before ms':>11}{'ratio':>8}{'now/before':>12}"
                                                        if then else ""))
    for index, command in enumerate(now):
        line = f"{command.name:<24}{median_ms(command):>10.1f}{median_ms(command) / baseline:>8.2f}"
        if then:
            earlier = median_ms(then[index])
            line += f"{earlier:>11.1f}{earlier / baseline:>8.2f}{median_ms(command) / earlier:>12.2f}"
        print(line)
    print()
    return max(median_ms(command) for command in now if command.name in QUICK) / baseline


def commands(scratch: Path, env: dict[str, str]) -> list[Timed]:
    sagatui = sagatui_command()
    databases = (scratch / f"run-{n}.db" for n in itertools.count())
    return [
        Timed("python -c pass", lambda: [sys.executable, "-c", "pass"], env),
        Timed("--help", lambda: [*sagatui, "--help"], env),
        Timed("--version", lambda: [*sagatui, "--version"], env),
        Timed("packs", lambda: [*sagatui, "packs"], env),
        Timed("check", lambda: [*sagatui, "check", "onboarding"], env),
        Timed("run (one saga)", lambda: [*sagatui, "run", "ecommerce", "--scenario", "successful_order",
                                         "--db", str(next(databases))], env),
        Timed("import the dashboard", lambda: [sys.executable, "-c", "import sagatui.tui.app"], env),
        Timed("floor of check", lambda: [sys.executable, "-c", CHECK_FLOOR], env),
    ]


def compiled_once(scratch: Path) -> dict[str, str]:
    """The children's environment: bytecode written to and read from `scratch`."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(scratch / "pycache")}


def main(repeat: int, before: Path | None) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = compiled_once(Path(scratch))
        now = commands(Path(scratch), env)
        then = commands(Path(scratch), {**env, "PYTHONPATH": str(before)}) if before else []
        for command in now + then:
            command.run_once()  # compiles what the command imports; not counted
            command.wall.clear()
            command.cpu.clear()
        for round_number in range(repeat):
            for index, command in enumerate(now):
                pair = [command, then[index]] if then else [command]
                for each in pair[::-1] if round_number % 2 else pair:  # each goes first every other round
                    each.run_once()
    cpu_ratio = print_table("CPU time", now, then, lambda command: command.cpu)
    wall_ratio = print_table("wall clock", now, then, lambda command: command.wall)
    print(f"cpu ratio {cpu_ratio:.2f}")
    print(f"ratio {wall_ratio:.2f}")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each command (default: 15)")
    parser.add_argument("--before", type=Path, help="a checkout of another commit (git worktree add /tmp/before "
                                                    "main): its sagatui is timed too, in turn with this one's")
    arguments = parser.parse_args()
    main(arguments.repeat, arguments.before)
