"""An App: the user's services, sagas and scenarios (and a pack's simulated services, for what the user does
not have), checked by the pack loader into one Pack, the orchestrator's one input.

    app = App("shop", services=[payments, shipping], sagas=[checkout],
              scenarios={"happy": scenario("checkout", inputs=[{"sku": "A", "amount": 20.0}])},
              lifespan=servers)

    @app.invariant
    async def every_paid_order_ships(end: RunEnd) -> list[str]:
        return [...]  # one line per problem; none: it holds

`sagatui run shop.app:app` runs it, `sagatui shop.app:app` opens the dashboard on it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from sagatui.code.service import RunContext, Service
from sagatui.model.definition_base import Definition
from sagatui.packs.errors import PackError, PackProblem
from sagatui.packs.loader import load_pack_text
from sagatui.packs.model import ALL_INVARIANTS, Pack
from sagatui.packs.references import CODE_KIND
from sagatui.sim.catalog import ServiceKind
from sagatui.store.invariants import InvariantResult
from sagatui.store.queries import SagaInfo


@dataclass(frozen=True)
class RunEnd:
    """What an invariant is shown at the end of a run: the run, and each of its sagas as it ended."""

    run: RunContext
    sagas: list[SagaInfo]


@dataclass(frozen=True)
class Findings:
    """What an invariant found, when some of it only awaits an operator: `problems` break it; `held` is what
    sagas needing attention still hold (shown as held, as the built-in invariants show it, never as ok)."""

    problems: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


Invariant = Callable[[RunEnd], Awaitable[Iterable[str] | Findings]]
Lifespan = Callable[[RunContext], AbstractAsyncContextManager[object]]


class App:
    """The user's saga application.

    - `pack`: a pack file (a relative path is beside the module that makes the App) whose simulated services,
      breakers, sagas and scenarios are added to these;
    - `sagas` and `scenarios` as the builder writes them (sagatui.code.builder) or as a pack's mappings;
    - `lifespan(run)`: an async context manager entered around each run (start the user's servers, open
      their database); what it yields is `ctx.run.state`."""

    def __init__(self, name: str, *, services: Iterable[Service] = (), sagas: Iterable[Mapping[str, Any]] = (),
                 scenarios: Mapping[str, Mapping[str, Any]] | None = None, pack: str | Path | None = None,
                 breakers: Mapping[str, Mapping[str, Any]] | None = None, description: str = "",
                 default_scenario: str | None = None, lifespan: Lifespan | None = None) -> None:
        self.name = name
        self.description = description
        self.services = {service.name: service for service in services}
        self._sagas = [dict(saga) for saga in sagas]
        self._scenarios = {name: dict(scenario) for name, scenario in (scenarios or {}).items()}
        self._pack_file = None if pack is None else _beside_the_caller(Path(pack))
        self._breakers = {name: dict(config) for name, config in (breakers or {}).items()}
        self.default_scenario = default_scenario
        self.lifespan = lifespan
        self.invariants: dict[str, Invariant] = {}
        self.target = name  # how sagatui was pointed at it (`shop.app:app`), set when loaded from a module

    def invariant(self, function: Invariant) -> Invariant:
        """Decorate an async function `(RunEnd) -> problems` checked at the end of every run, as the
        built-in invariants are (named as the function): a line per problem, or `Findings` to tell what only
        awaits an operator (held) apart."""
        if not inspect.iscoroutinefunction(function):
            raise TypeError(f"invariant {function.__name__}: an invariant is an async function (async def)")
        if function.__name__ in ALL_INVARIANTS:
            raise ValueError(f"invariant {function.__name__}: sagatui's own has that name; name yours another")
        self.invariants[function.__name__] = function
        return function

    # -- the pack it makes ---------------------------------------------------------------------------
    @cached_property
    def pack_text(self) -> str:
        """The pack as YAML: what a run records, and what is checked (PackError names its fields)."""
        return yaml.safe_dump(self._data(), sort_keys=False, allow_unicode=True)

    @cached_property
    def pack(self) -> Pack:
        return load_pack_text(self.pack_text, f"{self.target} (as a pack)", code=self.kinds())

    def kinds(self) -> dict[str, ServiceKind]:
        """Each of its services as the catalog describes a kind: its operations and what undoes each."""
        return {name: code_kind(service) for name, service in self.services.items()}

    def _data(self) -> dict[str, Any]:
        base = self._read_pack() if self._pack_file is not None else {}
        services = dict(base.get("services") or {})
        for name, service in self.services.items():
            written: dict[str, Any] = {"kind": CODE_KIND}
            if service.description:
                written["description"] = service.description
            if service.fault is not None:
                written["fault"] = service.fault.model_dump(mode="json", exclude_defaults=True)
            if service.breaker is not None:
                written["breaker"] = service.breaker
            if service.bulkhead is not None:
                written["bulkhead"] = service.bulkhead.model_dump(mode="json", exclude_defaults=True)
            services[name] = written
        data: dict[str, Any] = {"name": self.name}
        description = self.description or base.get("description")
        if description:
            data["description"] = description
        default = self.default_scenario or base.get("default_scenario")
        if default:
            data["default_scenario"] = default
        data["services"] = services
        breakers = {**(base.get("breakers") or {}), **self._breakers}
        if breakers:
            data["breakers"] = breakers
        data["sagas"] = {**(base.get("sagas") or {}), **{saga["name"]: saga for saga in self._sagas}}
        data["scenarios"] = {**(base.get("scenarios") or {}), **self._scenarios}
        return data

    def _read_pack(self) -> dict[str, Any]:
        assert self._pack_file is not None
        file = str(self._pack_file)
        try:
            data = yaml.safe_load(self._pack_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise PackError([PackProblem(file, None, "", f"cannot read the pack: {error}")]) from None
        if not isinstance(data, dict):
            raise PackError([PackProblem(file, None, "", "a pack is a mapping (name, services, sagas, ...)")])
        return data  # checked with the rest, as one pack

    # -- a run's life ----------------------------------------------------------------------------------
    def around(self, run: RunContext) -> AbstractAsyncContextManager[object]:
        """The lifespan of one run (nothing to do without one)."""
        return self.lifespan(run) if self.lifespan is not None else _nothing()

    async def check_invariants(self, end: RunEnd) -> list[InvariantResult]:
        """Each of its invariants on the ended run: a problem line each, an exception one too."""
        results = []
        for name, invariant in self.invariants.items():
            held: list[str] = []
            try:
                found = await invariant(end)
                if isinstance(found, Findings):
                    problems, held = [str(line) for line in found.problems], [str(line) for line in found.held]
                else:
                    problems = [str(problem) for problem in found]
            except Exception as raised:
                problems = [f"the check raised {type(raised).__name__}: {raised}"]
            results.append(InvariantResult(name=name, details=problems, held=held))
        return results


def _beside_the_caller(path: Path) -> Path:
    """A relative pack path as the module that makes the App means it: beside that module's file (sagatui may
    be started from any folder), as `importlib.resources` would read it."""
    if path.is_absolute():
        return path
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame is not None and frame.f_back is not None else None
    module_file = caller.f_globals.get("__file__") if caller is not None else None
    return Path(module_file).resolve().parent / path if module_file else path


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def code_kind(service: Service) -> ServiceKind:
    """A user's service as a kind of the catalog: its operations, what undoes each, the fields of results
    typed as a TypedDict (a reference to a field of any other result is not checked)."""
    undo = service.undo_of()
    undoing = {name for name in undo.values() if name is not None}
    operations = {name: undone for name, undone in undo.items() if name not in undoing or undone is not None}
    results = {name: operation.result_type for name, operation in service.operations.items()
               if operation.result_type is not None}
    return ServiceKind(service.name, service.description or "the user's own code", operations, Definition, results)
