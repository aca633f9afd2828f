"""One scenario of a user's App (or a pack) run for a test: everything a test asserts on, and the command
that runs the same again from a terminal. The pytest plugin (sagatui.pytest_plugin) hands it out."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagatui.code.app import App
from sagatui.lab.commands import SetFault
from sagatui.lab.expectations import SagaOutcomes
from sagatui.lab.fuzz import FuzzOutcome, fuzz_one, reproduce_seed
from sagatui.lab.headless import ScenarioReport, run_scenario
from sagatui.lab.replay import recording_from_session, recording_from_store, replay, write_session
from sagatui.model.events import Event
from sagatui.model.faults import FaultProfile
from sagatui.store.database import Store


@dataclass(frozen=True)
class Outcome:
    """What one run of a scenario did."""

    report: ScenarioReport
    events: list[Event]
    compensation_orders: dict[str, list[str]]  # saga id -> the steps compensated, in the order they were
    db: Path
    reproduce: str  # the command that runs it again

    @property
    def statuses(self) -> dict[str, str]:
        """Saga id -> its final status, in start order."""
        return dict(self.report.statuses)

    @property
    def invariants(self) -> dict[str, str]:
        """Invariant name -> ok, held or fail (the built-in ones and the App's own)."""
        return {result.name: result.state.value for result in self.report.invariants}

    @property
    def passed(self) -> bool:
        """Every expectation of the scenario held (its invariants, and the App's own, among them)."""
        return self.report.passed

    def problems(self) -> list[str]:
        """A line for each expectation that failed, and for each invariant's problem."""
        lines = [f"expect {check.name}: expected {check.expected}, got {check.actual}"
                 for check in self.report.checks if not check.ok]
        lines += [f"invariant {result.name}: {detail}" for result in self.report.invariants
                  for detail in result.details]
        return lines

    def assert_passed(self) -> None:
        """AssertionError naming what failed, and how to run it again."""
        if not self.passed:
            lines = "\n  ".join(self.problems())
            raise AssertionError(f"scenario {self.report.scenario} seed {self.report.seed} failed:\n  {lines}\n"
                                 f"reproduce: {self.reproduce}")


def reproduce_command(target: str, scenario: str, seed: int, faults: Mapping[str, Any] | None = None) -> str:
    command = f"sagatui run {shlex.quote(target)} --scenario {shlex.quote(scenario)} --seed {seed}"
    return command if not faults else f"{command}  (with faults set first: {dict(faults)})"


async def run_trial(app: App, scenario: str | None, db: Path, *, seed: int = 1,
                    faults: Mapping[str, FaultProfile | Mapping[str, Any]] | None = None) -> Outcome:
    """Run `scenario` of `app` (its default: None) in a new run of the database `db`; `faults`: a profile per
    service switched on (recorded, as the dashboard's switches are) before the scenario starts."""
    pack = app.pack
    name = scenario or pack.default_scenario or next(iter(pack.scenarios))
    if name not in pack.scenarios:
        raise ValueError(f"{app.target} has no scenario {name!r} (it has: {', '.join(pack.scenarios)})")
    before = [SetFault(service=service, profile=FaultProfile.model_validate(profile))
              for service, profile in (faults or {}).items()]
    events: list[Event] = []
    async with await Store.open(db) as store:
        report = await run_scenario(pack, app.pack_text, store, name, seed=seed, on_event=events.append,
                                    code=app, before=before)
    orders = SagaOutcomes.of(events).orders
    return Outcome(report, events, orders, db, reproduce_command(app.target, name, seed, faults))


@dataclass(frozen=True)
class FuzzTrial:
    """One seed of `sagatui fuzz`: its drawn fault schedule and cancels over the scenario, and every check."""

    outcome: FuzzOutcome
    reproduce: str

    @property
    def violations(self) -> list[str]:
        return list(self.outcome.violations)

    def assert_held(self) -> None:
        """AssertionError naming each violation, and how to run the seed again."""
        if self.outcome.violations:
            lines = "\n  ".join(self.outcome.violations)
            raise AssertionError(f"seed {self.outcome.seed} broke:\n  {lines}\nreproduce: {self.reproduce}")


async def fuzz_trial(app: App, scenario: str, db: Path, *, seed: int) -> FuzzTrial:
    """Fuzz seed `seed` of `scenario` as `sagatui fuzz` does, in a new run of `db`."""
    async with await Store.open(db) as store:
        outcome = await fuzz_one(app.pack, app.pack_text, store, scenario, seed, app)
    return FuzzTrial(outcome, reproduce_seed(app.target, scenario, seed))


async def check_session(app: App, path: Path, scenario: str | None, db: Path, *, seed: int = 1,
                        update: bool = False) -> str:
    """Compare the App with the session file at `path` (a recording kept beside the tests): its recorded
    answers fed through the App's current definitions; AssertionError naming the first divergence. With
    `update`, or no file yet, run the scenario for real and write the file instead. What was done, in a line."""
    if update or not path.exists():
        outcome = await run_trial(app, scenario, db, seed=seed)
        async with await Store.open(db) as store:
            recording = await recording_from_store(store, outcome.report.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_session(recording, path)
        return f"wrote {path}: {len(recording.events)} events"
    result = await replay(recording_from_session(path), db.parent, code=app)
    if result.divergence is not None:
        raise AssertionError(f"{path} no longer replays ({app.target}); if the change is meant, run pytest with "
                             f"--sagatui-update to write it again:\n{result.divergence.describe()}")
    return f"{path}: identical"
