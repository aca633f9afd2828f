"""Running scenarios without the dashboard: one lab per scenario, events to a listener, a report at
the end with metrics, invariants and every expectation checked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagatui.code.app import App
from sagatui.engine.metrics import MetricsSummary
from sagatui.lab.commands import Command
from sagatui.lab.expectations import Check, SagaOutcomes, check_expectations
from sagatui.lab.run import Lab
from sagatui.model.events import Event
from sagatui.packs.model import Pack
from sagatui.store.database import Store
from sagatui.store.invariants import InvariantResult
from sagatui.store.summaries import resources


@dataclass
class ScenarioReport:
    scenario: str
    run_id: int
    seed: int
    statuses: dict[str, str]
    metrics: MetricsSummary
    invariants: list[InvariantResult]
    checks: list[Check] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # saga id -> what it returned

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "run_id": self.run_id,
            "seed": self.seed,
            "passed": self.passed,
            "statuses": self.statuses,
            "outputs": self.outputs,
            "metrics": self.metrics.model_dump(),
            "invariants": [invariant.as_dict() for invariant in self.invariants],
            "expectations": [check.as_dict() for check in self.checks],
        }


async def run_scenario(
    pack: Pack, pack_text: str, store: Store, scenario: str, *, seed: int, speed: float | None = None,
    on_event: Callable[[Event], None] | None = None, code: App | None = None, before: Sequence[Command] = (),
) -> ScenarioReport:
    """Run one scenario to the end in its own run of `store`, and check its expectations. `code`: the user's
    services the pack's `kind: code` services are; `before`: commands applied (recorded) as the run opens,
    before the scenario starts (a test's outages)."""
    lab = Lab(pack, pack_text, store, seed=seed, speed=speed, label=scenario, code=code)
    outcomes = SagaOutcomes()  # folded as the events come: a long run's events are not held in memory
    lab.bus.add_listener(outcomes.add)
    if on_event is not None:
        lab.bus.add_listener(on_event)
    async with lab:
        for command in before:
            lab.apply(command)
        lab.start_scenario(scenario)
        invariants = await lab.conclude()
        expect = pack.scenarios[scenario].expect
        held = await resources(store, lab.run_id) if expect.tables is not None else None
    checks = check_expectations(expect, outcomes, lab.metrics, {result.name: result.state for result in invariants},
                                held)
    statuses = {saga_id: status.value for saga_id, status in outcomes.statuses.items()}
    return ScenarioReport(scenario, lab.run_id, seed, statuses, lab.metrics.summary(), invariants, checks,
                          outcomes.outputs)
