"""What the dashboard, the recording viewer and the headless printer see of a lab: a read-only view.

They read the lab only through `LabView` and change it only through `Lab.submit(command)` (and, for
pacing, which is not part of the run, `Lab.pacing`). What the view hands out is the lab's state as
plain values (faults, breaker snapshots, the load), never the engine's parts: the run layer alone
touches a lab's clock, recorder, writer and services.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sagatui.engine.breaker import CircuitBreaker
from sagatui.engine.bulkhead import Bulkhead
from sagatui.engine.metrics import RunMetrics
from sagatui.lab.workload import Load
from sagatui.model.faults import FaultProfile
from sagatui.model.policies import BreakerConfig
from sagatui.model.status import BreakerState
from sagatui.packs.model import Pack

if TYPE_CHECKING:
    from sagatui.lab.run import Lab
    from sagatui.store.invariants import InvariantResult


_DEFAULT_CONFIG = BreakerConfig()


@dataclass(frozen=True, slots=True)
class BreakerView:
    """A breaker as the breaker table shows it. `used` is False until a call has needed it."""

    name: str
    state: BreakerState = BreakerState.CLOSED
    half_open_at: float | None = None  # an open breaker: when it lets probes through
    consecutive_failures: int = 0
    failure_rate: float | None = None  # over its window; None while the window is empty
    trips: int = 0
    config: BreakerConfig = _DEFAULT_CONFIG
    used: bool = False

    @classmethod
    def of(cls, breaker: CircuitBreaker) -> BreakerView:
        return cls(breaker.name, breaker.state, breaker.half_open_at, breaker.consecutive_failures,
                   breaker.failure_rate, breaker.trips, breaker.config, used=True)


@dataclass(frozen=True, slots=True)
class BulkheadView:
    """A service's bulkhead as the bulkhead table shows it."""

    service: str
    in_flight: int
    max_concurrent: int
    queued: int
    max_queue: int
    rejected: int  # tries refused in this process

    @classmethod
    def of(cls, bulkhead: Bulkhead) -> BulkheadView:
        config = bulkhead.config
        return cls(bulkhead.name, bulkhead.in_flight, config.max_concurrent, bulkhead.queued, config.max_queue,
                   bulkhead.rejected)


class LabView:
    """A lab's state, read when asked (it is never stale and never copied ahead of time)."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    @property
    def run_id(self) -> int:
        return self._lab.run_id

    @property
    def pack(self) -> Pack:
        return self._lab.pack

    @property
    def seed(self) -> int:
        return self._lab.seed

    @property
    def now(self) -> float:
        """The run clock's seconds."""
        return self._lab.clock.now()

    @property
    def paused(self) -> bool:
        """The engine holds every saga before its next call (the `pause` command)."""
        return self._lab.engine.paused

    @property
    def next_due(self) -> float | None:
        """When the clock's next timer fires (None: nothing pending): a paced clock jumps there next."""
        return self._lab.clock.next_due()

    @property
    def clock_held(self) -> bool:
        """The clock itself is held (watching a recording, paused)."""
        return self._lab.clock.paused

    @property
    def speed(self) -> float | None:
        """Clock seconds per real second; None: virtual time, as fast as it goes."""
        return self._lab.clock.speed

    @property
    def load(self) -> Load | None:
        return self._lab.workload.load

    @property
    def chosen_rate(self) -> float | None:
        """The rate the next load starts at, when one was chosen (`scale_load`)."""
        return self._lab.workload.chosen_rate

    def fault(self, service: str) -> FaultProfile:
        return self._lab.services.fault(service)

    @property
    def faults(self) -> dict[str, FaultProfile]:
        """Service -> the fault profile switched on now, in pack order."""
        return {name: self._lab.services.fault(name) for name in self._lab.pack.services}

    @property
    def breaker_names(self) -> list[str]:
        """Every breaker the pack can use, in pack order, before any call has created it."""
        pack = self._lab.pack
        names = [service.breaker or name for name, service in pack.services.items()]
        names += list(pack.breakers) + list(self._lab.breakers.breakers)
        return list(dict.fromkeys(names))

    @property
    def breakers(self) -> list[BreakerView]:
        """Each of `breaker_names` as it stands now."""
        live: Mapping[str, CircuitBreaker] = self._lab.breakers.breakers
        configs = self._lab.pack.breakers
        return [BreakerView.of(live[name]) if name in live
                else BreakerView(name, config=configs.get(name, BreakerConfig())) for name in self.breaker_names]

    @property
    def bulkheads(self) -> list[BulkheadView]:
        """The services with a bulkhead, in pack order (none: the pack limits no service)."""
        return [BulkheadView.of(bulkhead) for bulkhead in self._lab.engine.bulkheads.values()]

    @property
    def committed_seq(self) -> int:
        """The last event the database holds."""
        return self._lab.writer.committed_seq

    @property
    def events_recorded(self) -> int:
        """Events of this run so far, committed or not."""
        return self._lab.recorder.next_seq - 1

    @property
    def metrics(self) -> RunMetrics:
        return self._lab.metrics

    @property
    def failure(self) -> BaseException | None:
        """What stopped the run off the sagas' own path, if anything did (see `Lab.fail`)."""
        return self._lab.failure

    async def own_invariants(self) -> list[InvariantResult]:
        """The user's App's invariants on the run as it stands (none for a pack): ask when no saga is in flight."""
        return await self._lab.own_invariants()

    def scenario_of(self, saga_id: str) -> str:
        """The scenario that started a saga of this lab ("" for one carried on from a stopped run)."""
        return self._lab.workload.scenarios.get(saga_id, "")
