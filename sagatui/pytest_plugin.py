"""sagatui's pytest plugin (loaded by pytest through the `pytest11` entry point): run a user's saga under
faults on the virtual clock and assert on what it did; fuzz it over seeds.

    APP = "shop/app.py:app"   # or the App object itself

    def test_declined_card_is_rolled_back(saga_lab):
        outcome = saga_lab.run(APP, "declined", faults={"shipping": {"mode": "offline"}})
        assert outcome.statuses == {"S-0001": "compensated"}
        outcome.assert_passed()

    @pytest.mark.sagatui_fuzz(seeds=20)
    def test_busy_day_holds(saga_lab, sagatui_seed):
        saga_lab.run(APP, "busy_day", seed=sagatui_seed).assert_passed()

    @pytest.mark.sagatui_fuzz(seeds=20)
    def test_busy_day_under_drawn_faults(saga_lab, sagatui_seed):
        saga_lab.fuzz(APP, "busy_day", seed=sagatui_seed).assert_held()  # as `sagatui fuzz` runs a seed

A session file kept beside the tests is a snapshot of a real run: `saga_lab.check_session(APP,
"tests/sessions/checkout.json", "happy")` replays it through the App's current definitions (no call
made) and fails at the first divergence; `pytest --sagatui-update` writes it again from a real run.

A failing run's reproduce command (`sagatui run shop/app.py:app --scenario busy_day --seed 7`) is shown
in the terminal summary; `--sagatui-seed 7` runs every fuzzed test with that seed alone.

Loading the plugin imports nothing of sagatui's engine, store or dashboard: the fixtures do, when used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sagatui.code.app import App
    from sagatui.lab.trial import FuzzTrial, Outcome

_REPRODUCE = "sagatui reproduce"  # the user property a failed test's runs are kept under
DEFAULT_FUZZ_SEEDS = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sagatui")
    group.addoption("--sagatui-seed", type=int, default=None, metavar="N",
                    help="run each sagatui_fuzz test with seed N only (what a reproduce line names)")
    group.addoption("--sagatui-update", action="store_true",
                    help="write the session files that saga_lab.check_session compares with again, from real runs")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"sagatui_fuzz(seeds={DEFAULT_FUZZ_SEEDS}, start=1): run the test once per "
                                       f"seed, given as its `sagatui_seed` fixture")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sagatui_seed" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("sagatui_seed")
    marker = metafunc.definition.get_closest_marker("sagatui_fuzz")
    if chosen is not None:
        seeds = [chosen]
    elif marker is not None:
        count = int(marker.kwargs.get("seeds", marker.args[0] if marker.args else DEFAULT_FUZZ_SEEDS))
        start = int(marker.kwargs.get("start", 1))
        seeds = list(range(start, start + count))
    else:
        seeds = [1]
    metafunc.parametrize("sagatui_seed", seeds, ids=[f"seed{seed}" for seed in seeds])


class SagaLab:
    """Runs scenarios for one test, each in a new run of the test's own database."""

    def __init__(self, folder: Path, node: pytest.Item) -> None:
        self.db = folder / "sagatui.db"
        self._node = node
        self._update = bool(node.config.getoption("sagatui_update"))
        self._apps: dict[str, App] = {}

    def app(self, target: App | str) -> App:
        """The App `target` names (`shop/app.py:app`, `shop.app:app`), imported once per test; an App as given."""
        from sagatui.code.app import App
        from sagatui.code.loading import load_app

        if isinstance(target, App):
            return target
        if target not in self._apps:
            self._apps[target] = load_app(target)
        return self._apps[target]

    def run(self, target: App | str, scenario: str | None = None, *, seed: int = 1,
            faults: Mapping[str, Any] | None = None) -> Outcome:
        """Run `scenario` (the App's default: None) with `seed`; `faults`: service -> fault profile (a mapping
        as a pack writes it, or a FaultProfile) switched on before it starts. For async tests: `arun`."""
        return asyncio.run(self.arun(target, scenario, seed=seed, faults=faults))

    async def arun(self, target: App | str, scenario: str | None = None, *, seed: int = 1,
                   faults: Mapping[str, Any] | None = None) -> Outcome:
        from sagatui.lab.trial import run_trial

        outcome = await run_trial(self.app(target), scenario, self.db, seed=seed, faults=faults)
        if not outcome.passed:
            self._node.user_properties.append((_REPRODUCE, outcome.reproduce))
        return outcome


    def fuzz(self, target: App | str, scenario: str, *, seed: int) -> FuzzTrial:
        """Seed `seed` of `scenario` as `sagatui fuzz` runs it: a fault schedule and cancels drawn from the
        seed over the scenario, then every check (the invariants, the App's own, the stream's rules). Its
        `assert_held()` names the violations and the command that runs the seed again."""
        from sagatui.lab.trial import fuzz_trial

        trial = asyncio.run(fuzz_trial(self.app(target), scenario, self.db, seed=seed))
        if trial.violations:
            self._node.user_properties.append((_REPRODUCE, trial.reproduce))
        return trial

    def check_session(self, target: App | str, path: str | Path, scenario: str | None = None, *,
                      seed: int = 1) -> str:
        """Compare the App with a session file kept beside the tests (a snapshot of a real run): the file's
        recorded answers go through the App's current definitions, and the first divergence fails the test.
        No file yet, or `--sagatui-update`: the scenario runs for real and the file is written."""
        from sagatui.lab.trial import check_session

        return asyncio.run(check_session(self.app(target), Path(path), scenario, self.db, seed=seed,
                                         update=self._update))


@pytest.fixture
def saga_lab(tmp_path: Path, request: pytest.FixtureRequest) -> SagaLab:
    """A SagaLab whose runs are kept in a database of the test's own temporary folder."""
    assert isinstance(request.node, pytest.Item)
    return SagaLab(tmp_path, request.node)


@pytest.fixture
def sagatui_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this run of a fuzzed test (`@pytest.mark.sagatui_fuzz`); 1 unmarked."""
    return int(getattr(request, "param", 1))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    failed = terminalreporter.stats.get("failed", [])
    lines = [value for report in failed for key, value in getattr(report, "user_properties", ())
             if key == _REPRODUCE]
    if not lines:
        return
    terminalreporter.write_sep("=", "sagatui: failing runs, to run again", red=True)
    for line in dict.fromkeys(lines):
        terminalreporter.write_line(line)
