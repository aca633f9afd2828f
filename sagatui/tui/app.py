"""The dashboard app: holds the lab session, drains its events on a short timer into the panels, reads
the store for resources and timelines, and turns every key, click and palette entry into a lab command.

Events are never posted one message each: a 100 ms timer takes whatever the subscription buffered and
hands the batch to the panels inside one `batch_update()`, so the screen repaints once per tick however
many thousand events arrived.
"""

from __future__ import annotations

import signal
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from sagatui.exit_codes import ExitCode
from sagatui.lab.commands import (
    Command,
    Isolate,
    ResetBreaker,
    Resolve,
    RetryCompensation,
    ScaleLoad,
    SetFault,
    StartScenario,
    ToggleLoad,
    TogglePause,
    ToggleService,
)
from sagatui.lab.recovery.reopen import RunMovedOn
from sagatui.lab.recovery.resume import runs_with_sagas_left
from sagatui.lab.session import LabSession, LabSettings, Resumed
from sagatui.lab.view import LabView
from sagatui.model.events import Event
from sagatui.model.faults import FaultProfile
from sagatui.model.status import InvariantState
from sagatui.packs.bundled import bundled_packs, read_pack
from sagatui.packs.loader import load_pack
from sagatui.packs.model import Pack
from sagatui.plain_text import plain, plain_text
from sagatui.stop_signals import StopSignals, exit_code, stopped_message
from sagatui.store import queries, summaries
from sagatui.store.errors import StorageError
from sagatui.store.invariants import check_invariants
from sagatui.tui.badges import fault_label
from sagatui.tui.commands import LabCommands, PaletteCommand
from sagatui.tui.messages import BreakerCommand, OpenTimeline, PickFault, ResolveSaga, RunScenario
from sagatui.tui.messages import RetryCompensation as RetryPressed
from sagatui.tui.messages import ToggleService as TogglePressed
from sagatui.tui.rate_history import RateHistory
from sagatui.tui.saga_board import SagaBoard
from sagatui.tui.screens.dialogs import FAULT_PRESETS, FaultPicker, PackPicker, ResolveNote, ResumePrompt
from sagatui.tui.screens.help import NAVIGATION, HelpScreen
from sagatui.tui.screens.main import VIEWS, MainScreen
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import BreakerTable, ScenarioPicker, ScenarioTable, Switchboard
from sagatui.tui.widgets.event_stream import EventLog, EventStream
from sagatui.tui.widgets.metrics import MetricsPanel
from sagatui.tui.widgets.quiet_static import QuietStatic
from sagatui.tui.widgets.resources import INVARIANT_LABELS, InvariantBadges, ResourcePanel
from sagatui.tui.widgets.saga_tables import AttentionTable, SagaTable

TICK = 0.1  # seconds between drains of the event subscription
STORE_REFRESH = 0.5  # seconds between reads of resource tables, invariants and an open timeline
METRICS_EVERY = 5  # ticks between metrics redraws (sparklines and percentiles need no faster)
SPEEDS: tuple[float | None, ...] = (1.0, 10.0, None)
BOUNDED_TABLES = ("stock", "capacity", "balances")  # one row per SKU / service / account: read whole


def speed_label(speed: float | None) -> str:
    return "virtual" if speed is None else "real time" if speed == 1 else f"x{speed:g}"


class SagaDashboard(App[None]):
    TITLE = "sagatui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    COMMANDS = App.COMMANDS | {LabCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", tooltip="stop the engine, flush the database and leave (sagas still in flight: "
                                             "the run is interrupted, and the next start offers to resume it)"),
        Binding("ctrl+c", "interrupt", "Interrupt", show=False,
                tooltip="quit as q does, with exit status 130 as after Ctrl-C anywhere"),
        Binding("question_mark", "help", "Help", tooltip="this list of keys"),
        Binding("ctrl+p", "command_palette", "Commands", show=False,
                tooltip="command palette: every action by name"),
    ]

    def __init__(self, settings: LabSettings) -> None:
        super().__init__()
        self.settings = settings
        self.session: LabSession | None = None
        self.board = SagaBoard(self._scenario_of)
        self.history = RateHistory()
        self._told_rate: float | None = None  # the load rate last chosen, as the user was told
        self._ticks = 0
        self._drawn: dict[str, tuple[object, ...]] = {}  # panel -> what it was last drawn from (see `_stale`)
        self._checked_seq = -1  # the committed seq the invariants were last checked at
        self._tables_seq = -1  # the committed seq the resource tables show (they are read only on screen)
        self._reading_store = False
        self.events_absorbed = 0  # events drained into the panels since the app started (the bench reads it)
        self.broken_invariants: list[str] = []  # shown on the status line, whichever view is on screen
        self.held_invariants: list[str] = []  # likewise: holding only but for sagas needing attention
        self._seen_clock, self._seen_at = -1.0, 0.0  # last clock reading and when (breaker countdowns)
        self._stop_signals = StopSignals(lambda stop: self.call_next(self._quit_on, stop))

    # -- lifecycle -------------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self.settings.pack)

    async def on_mount(self) -> None:
        self._stop_signals.install()
        try:
            self.session = await LabSession.open(self.settings)
            unfinished = await runs_with_sagas_left(self.session.store)
        except StorageError as error:
            self._storage_failed(error)
            return
        self.set_interval(TICK, self._tick)
        self.set_interval(STORE_REFRESH, self._read_store)
        if unfinished:
            self.push_screen(ResumePrompt(unfinished), self._begin)
        else:
            await self._begin(None)

    async def _begin(self, unfinished: queries.RunInfo | None) -> None:
        """The first lab: a new run, or the unfinished run the user chose to carry on."""
        session = self.session
        if session is None:
            return  # quit while the prompt was up
        try:
            resumed = await self._carry_on(session, unfinished) if unfinished is not None else None
            if resumed is None:
                await session.start()
        except StorageError as error:
            self._storage_failed(error)
            return
        self._follow_new_lab()
        if resumed is not None:
            self.notify(f"resuming run {resumed.run_id}: {len(resumed.sagas)} saga(s) carried on, "
                        f"{len(resumed.resent)} call(s) sent again with their idempotency key", timeout=8)

    async def _carry_on(self, session: LabSession, unfinished: queries.RunInfo) -> Resumed | None:
        """Resume the run the user chose; None, saying so, if another process settled it since it was offered."""
        try:
            return await session.resume(unfinished)
        except RunMovedOn as moved:
            self.notify(f"{moved}: a new run starts instead", severity="warning", timeout=8)
            return None

    def _storage_failed(self, error: StorageError) -> None:
        self.exit(return_code=ExitCode.STORAGE, message=f"sagatui: storage error: {error}")

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications quote pack and operator text (scenario and pack names, notes): plain text by
        default, and never an escape sequence."""
        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout, markup=markup)

    async def action_quit(self) -> None:
        await self._close_session()
        self.exit()

    async def action_interrupt(self) -> None:
        await self._quit_on(signal.SIGINT)

    async def _quit_on(self, stop: signal.Signals) -> None:
        """Ctrl-C, SIGTERM or SIGHUP (see sagatui.stop_signals): leave as `q` does, through Textual's own
        exit so that the terminal is given back, with the exit status `sagatui run` would have."""
        await self._close_session()
        self.exit(return_code=exit_code(stop), message=stopped_message(stop))

    async def on_unmount(self) -> None:
        self._stop_signals.remove()
        await self._close_session()  # when the app ends some other way than by `q`

    async def _close_session(self) -> None:
        """Stop the engine and flush the store: the database is left consistent."""
        if self.session is not None:
            session, self.session = self.session, None
            for worker in self.workers.cancel_group(self, "store"):  # never close the store under a read
                with suppress(WorkerCancelled, WorkerFailed):
                    await worker.wait()
            await session.close()

    @property
    def view(self) -> LabView | None:
        """What the dashboard reads of the lab; None while none is open (starting, resetting)."""
        return self.session.view if self.session is not None else None

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def _scenario_of(self, saga_id: str) -> str:
        view = self.view
        return view.scenario_of(saga_id) if view is not None else ""

    # -- the tick: events into panels ----------------------------------------------------------------------
    def _tick(self) -> None:
        view, session = self.view, self.session
        if view is None or session is None or session.subscription is None or not self.is_running:
            return  # not open yet, resetting, or shutting down (the panels may be gone)
        events = session.drain()
        self.events_absorbed += len(events)
        for event in events:
            self.board.add(event)
            self.history.add(event)
        self._ticks += 1
        with self.batch_update():
            self.main.query_one(EventStream).add(events, session.subscription.dropped,
                                                 on_screen=self.main.view_on_screen("events"))
            self._draw(view, events)
        if view.chosen_rate is not None and view.chosen_rate != self._told_rate:
            self._told_rate = view.chosen_rate
            self.notify(f"load rate {view.chosen_rate:g}/s", timeout=2)

    def _draw(self, view: LabView, events: list[Event]) -> None:
        main = self.main
        main.query_one("#status-line", QuietStatic).update_if_changed(self._status_line(view))
        main.query_one(Switchboard).show(view.faults)
        main.query_one(BreakerTable).show(view.breakers, self._countdown_now(view))
        if self._stale("attention tab", self.board.version):
            main.set_attention_count(len(self.board.needing_attention()))
        self._draw_views(view, metrics_due=self._ticks % METRICS_EVERY == 1 or not events)

    def _draw_views(self, view: LabView, *, metrics_due: bool) -> None:
        """The views on screen. A hidden view is not drawn (under a flood, redrawing the tables nobody sees
        cost more than the engine); it is drawn when it is shown."""
        main = self.main
        now = view.now
        if main.view_on_screen("scenarios"):
            main.query_one(ScenarioPicker).show(view.pack)
        sagas = main.query_one(SagaTable)
        if main.view_on_screen("sagas") and self._stale("sagas", self.board.version, now, sagas.status_filter,
                                                         sagas.following, sagas.size.width):
            sagas.show(self.board, now)
            held = "" if sagas.following else " · held (End follows)"
            sagas.border_title = f"Sagas [dim]{sagas.status_filter or 'all'}{held} · / filter · enter timeline[/]"
        if main.view_on_screen("attention") and self._stale("attention", self.board.version, now):
            main.query_one(AttentionTable).show(self.board, now)
        if main.view_on_screen("metrics") and metrics_due:
            main.query_one(MetricsPanel).show(view.metrics, self.history)

    def _stale(self, panel: str, *drawn_from: object) -> bool:
        """Whether `panel` was last drawn from something else than `drawn_from`; it counts as drawn now."""
        if self._drawn.get(panel) == drawn_from:
            return False
        self._drawn[panel] = drawn_from
        return True

    def _status_line(self, view: LabView) -> Text:
        """Most important first, so a narrow terminal cuts only the tail."""
        line = Text()
        if (failure := view.failure) is not None:  # the run stopped (its log, a timer or a reader broke): say why
            line.append(f" run stopped: {type(failure).__name__}: {failure} ", style="b white on red")
            line.append(" ")
        for name in self.broken_invariants:
            line.append(f" ✗ {INVARIANT_LABELS.get(name, name)} ", style="b white on red").append(" ")
        for name in self.held_invariants:
            line.append(f" ! {INVARIANT_LABELS.get(name, name)} held ", style="b black on dark_orange").append(" ")
        line.append(view.pack.name, style="b").append(f" run {view.run_id} │ t {view.now:.1f}s ")
        if view.paused:
            line.append(" paused ", style="b black on yellow")
        else:
            line.append(f"▶ {speed_label(view.speed)}")
        load = view.load
        line.append(" │ ").append(f"load {load.rate:g}/s" if load is not None else "load off",
                                  style="b" if load is not None else "")
        line.append(f" │ {self.board.in_flight} in flight │ {view.events_recorded:,} events │ ")
        line.append(f"seed {view.seed} · {self.settings.db.name}", style="dim")
        return plain_text(line)

    def _countdown_now(self, view: LabView) -> float:
        """Clock time for breaker countdowns. A paced clock jumps from timer to timer; an open breaker's
        half-open timer is always pending, so between jumps the clock is extrapolated by wall time."""
        now, speed = view.now, view.speed
        if speed is None or view.clock_held:
            return now
        if now != self._seen_clock:
            self._seen_clock, self._seen_at = now, time.monotonic()
        return now + (time.monotonic() - self._seen_at) * speed

    # -- the store: resources, invariants, the open timeline ------------------------------------------------
    def _read_store(self) -> None:
        if self._reading_store or self.view is None:
            return
        self._reading_store = True
        self._store_worker()

    @work(group="store")
    async def _store_worker(self) -> None:
        try:
            view, session = self.view, self.session
            if view is None or session is None or not self.is_running or not self.screen_stack:
                return  # not open yet, or the app is closing (no screen left to draw on)
            if isinstance(self.screen, TimelineScreen):
                screen = self.screen
                screen.show(await queries.saga_timeline(session.store, view.run_id, screen.saga_id),
                            self._scenario_of(screen.saga_id))
            committed = view.committed_seq
            resources_shown = self.main.view_on_screen("resources")
            if committed == self._checked_seq and (committed == self._tables_seq or not resources_shown):
                return
            store, run_id = session.store, view.run_id
            if resources_shown:
                tables = {table: await queries.resource_rows(store, run_id, table) for table in BOUNDED_TABLES}
                activity = await summaries.activity(store, run_id)
                held = await summaries.held_reservations(store, run_id, limit=20)
            invariants = await check_invariants(store, run_id)
            if self.view is not view or not self.is_running:
                return  # the lab was reset, or the app closed, while reading
            self._checked_seq = committed
            if resources_shown:
                self._tables_seq = committed
            unsettled = bool(self.board.in_flight) or committed < view.events_recorded
            self.broken_invariants = [result.name for result in invariants if result.state is InvariantState.FAIL
                                      and not (result.name == "all_terminal" and unsettled)]
            self.held_invariants = [result.name for result in invariants if result.state is InvariantState.HELD]
            with self.batch_update():
                if resources_shown:
                    self.main.query_one(ResourcePanel).show(tables, activity, held)
                self.main.query_one(InvariantBadges).show(invariants, self.board.in_flight, unsettled)
        finally:
            self._reading_store = False

    @on(MainScreen.ViewShown)
    def _on_view_shown(self, message: MainScreen.ViewShown) -> None:
        """Hidden views are not drawn: draw the one shown now, from what the panels have absorbed."""
        view = self.view
        if view is None or self.session is None or self.session.subscription is None:
            return
        main = self.main
        with self.batch_update():
            if main.view_on_screen("events"):
                main.query_one(EventStream).catch_up()
            self._draw_views(view, metrics_due=True)
        if main.view_on_screen("resources"):  # its tables are read from the store only while on screen
            self._read_store()

    @property
    def store_caught_up(self) -> bool:
        """The store-backed panels show every event committed so far."""
        view = self.view
        if view is None or self._reading_store:
            return False
        committed = view.committed_seq
        return self._checked_seq == committed and (self._tables_seq == committed
                                                   or not self.main.view_on_screen("resources"))

    # -- sending commands ------------------------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Every action is a lab command: applied at the clock's next quiet moment and recorded."""
        if self.session is not None:
            self.session.submit(command)

    def action_toggle_service(self, index: int) -> None:
        view = self.view
        if view is not None and index < len(view.pack.services):
            self.submit(ToggleService(service=list(view.pack.services)[index]))

    @on(TogglePressed)
    def _on_toggle(self, message: TogglePressed) -> None:
        self.submit(ToggleService(service=message.service))

    @on(PickFault)
    def _on_pick_fault(self, message: PickFault) -> None:
        view = self.view
        if view is None:
            return
        service = message.service

        def chosen(profile: FaultProfile | None) -> None:
            if profile is not None:
                self.submit(SetFault(service=service, profile=profile))

        self.push_screen(FaultPicker(service, view.fault(service), view.pack.services[service].fault), chosen)

    @on(RunScenario)
    def _on_run(self, message: RunScenario) -> None:
        self.submit(StartScenario(scenario=message.scenario))
        self.notify(f"started {message.scenario}", timeout=2)

    @on(BreakerCommand)
    def _on_breaker(self, message: BreakerCommand) -> None:
        self.submit(Isolate(breaker=message.breaker) if message.command == "isolate"
                    else ResetBreaker(breaker=message.breaker))

    @on(RetryPressed)
    def _on_retry(self, message: RetryPressed) -> None:
        self.submit(RetryCompensation(saga_id=message.saga_id))

    @on(ResolveSaga)
    def _on_resolve(self, message: ResolveSaga) -> None:
        row = self.board.get(message.saga_id)

        def resolved(note: str | None) -> None:
            if note:
                self.submit(Resolve(saga_id=message.saga_id, note=note))

        self.push_screen(ResolveNote(message.saga_id, row.problem if row else ""), resolved)

    @on(OpenTimeline)
    def _on_open_timeline(self, message: OpenTimeline) -> None:
        self.push_screen(TimelineScreen(message.saga_id))
        self._read_store()

    def action_pause(self) -> None:
        self.submit(TogglePause())

    def action_speed(self) -> None:
        """Pacing is not part of the run (the same events come out at any speed), so it is set directly."""
        view, pacing = self.view, self.session.pacing if self.session is not None else None
        if view is not None and pacing is not None:
            speed = SPEEDS[(SPEEDS.index(view.speed) + 1) % len(SPEEDS)] if view.speed in SPEEDS else 1.0
            pacing.set_speed(speed)
            self.notify(f"speed: {speed_label(speed)}", timeout=2)

    def _highlighted_scenario(self) -> str | None:
        return self.main.query_one(ScenarioTable).selected_key

    def action_load(self) -> None:
        view = self.view
        if view is None:
            return
        if view.load is None and not any(scenario.workload for scenario in view.pack.scenarios.values()):
            self.notify(f"{view.pack.name} has no scenario with a workload to load", severity="warning")
            return
        self.submit(ToggleLoad(scenario=self._highlighted_scenario()))

    def action_load_rate(self, factor: float) -> None:
        """The new rate is told once the lab has applied it (see `_tick`)."""
        self.submit(ScaleLoad(factor=factor, scenario=self._highlighted_scenario()))

    async def action_reset(self) -> None:
        await self._reset()

    async def _reset(self, pack: Pack | None = None, pack_text: str = "", pack_path: Path | None = None) -> None:
        if self.session is None:
            return
        old_run = self.view.run_id if self.view is not None else None
        self.session.subscription = None
        await self.session.reset(pack, pack_text, pack_path)
        self._follow_new_lab()
        assert self.view is not None
        self.notify(f"new run {self.view.run_id} on {self.view.pack.name} (run {old_run} stays in the database)")

    def _follow_new_lab(self) -> None:
        """The panels start over on the session's new lab (a new run, another pack, a resumed run)."""
        assert self.session is not None
        self.board = SagaBoard(self._scenario_of)
        self.history = RateHistory()
        self._checked_seq = self._tables_seq = -1
        self._drawn = {}
        self.broken_invariants = []
        self.held_invariants = []
        stream = self.main.query_one(EventStream)
        stream.reset()
        stream.set_services(self.session.settings.pack.services)
        self._tick()

    def action_open_pack(self) -> None:
        packs = [(path.stem, load_pack(path).description) for path in bundled_packs()]

        async def chosen(name: str | None) -> None:
            if name is not None:
                source = read_pack(name)
                await self._reset(source.pack, source.text, source.path)

        self.push_screen(PackPicker(packs, self.settings.pack.name if self.view is None else self.view.pack.name),
                         chosen)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen([
            ("Everywhere", self.BINDINGS, []),
            ("Main board", MainScreen.BINDINGS, []),
            ("Outages (switchboard)", Switchboard.BINDINGS, [("click", "a service's switch toggles it")]),
            ("Circuit breakers", BreakerTable.BINDINGS, []),
            ("Scenarios", ScenarioTable.BINDINGS, []),
            ("Sagas", SagaTable.BINDINGS, []),
            ("Events", [*EventStream.BINDINGS, *EventLog.BINDINGS], []),
            ("Needs attention", AttentionTable.BINDINGS, []),
            ("Saga timeline", TimelineScreen.BINDINGS, []),
            ("Unfinished runs (asked on start)", ResumePrompt.BINDINGS, []),
            ("Moving around", [], NAVIGATION),
        ]))

    # -- the command palette ---------------------------------------------------------------------------------
    def palette_commands(self) -> list[PaletteCommand]:
        view, pacing = self.view, self.session.pacing if self.session is not None else None
        if view is None or pacing is None:
            return []
        pack = view.pack
        commands = [
            PaletteCommand(f"Run scenario {name}", scenario.description,
                           lambda name=name: self.post_message(RunScenario(name)))
            for name, scenario in pack.scenarios.items()
        ]
        commands += [
            PaletteCommand("Stop load" if view.load else "Start load", "start or stop the load generator",
                           self.action_load),
            PaletteCommand("Load rate x2", "double the load generator's rate", lambda: self.action_load_rate(2)),
            PaletteCommand("Load rate /2", "halve the load generator's rate", lambda: self.action_load_rate(0.5)),
            PaletteCommand("Resume engine" if view.paused else "Pause engine", "hold every saga before its "
                           "next call", self.action_pause),
        ]
        commands += [PaletteCommand(f"Speed: {speed_label(speed)}", "how fast the run clock goes",
                                    lambda speed=speed: pacing.set_speed(speed)) for speed in SPEEDS]
        for name in pack.services:
            commands.append(PaletteCommand(f"Toggle {name} offline/online", "flip the service's switch",
                                           lambda name=name: self.submit(ToggleService(service=name))))
            commands.append(PaletteCommand(f"Fault {name}…", "pick a fault profile",
                                           lambda name=name: self.post_message(PickFault(name))))
            commands += [PaletteCommand(f"Fault {name}: {fault_label(profile)}", "switch this profile on",
                                        lambda name=name, profile=profile: self.submit(
                                            SetFault(service=name, profile=profile)),
                                        discover=False) for profile in FAULT_PRESETS]
        for breaker in view.breakers:
            name, state = breaker.name, breaker.state
            commands.append(PaletteCommand(f"Isolate breaker {name}", f"force it open (now {state.value})",
                                           lambda name=name: self.submit(Isolate(breaker=name))))
            commands.append(PaletteCommand(f"Reset breaker {name}", f"close it (now {state.value})",
                                           lambda name=name: self.submit(ResetBreaker(breaker=name))))
        for row in self.board.needing_attention():
            commands.append(PaletteCommand(f"Retry compensation of {row.saga_id}", row.problem,
                                           lambda saga_id=row.saga_id: self.submit(
                                               RetryCompensation(saga_id=saga_id))))
            commands.append(PaletteCommand(f"Resolve {row.saga_id}…", row.problem,
                                           lambda saga_id=row.saga_id: self.post_message(ResolveSaga(saga_id))))
        commands += [PaletteCommand(f"Show {label}", f"view ({key})",
                                    lambda view=view: self.main.action_show_view(view))
                     for view, (label, key) in VIEWS.items()]
        commands += [
            PaletteCommand("Reset lab", "stop this run and start a new one", self.action_reset),
            PaletteCommand("Open pack…", "start a new run on another bundled pack", self.action_open_pack),
            PaletteCommand("Keys", "every key, by where it works", self.action_help),
        ]
        return commands


def run_dashboard(pack: Pack, pack_text: str, path: Path | str | None, *, db: Path | str, seed: int = 1,
                  speed: float | None = 1.0) -> int:
    """Open the dashboard on `pack` and a database file; returns the exit code."""
    app = SagaDashboard(LabSettings(pack, pack_text, Path(path) if path else None, Path(db), seed, speed))
    app.run()
    return app.return_code or ExitCode.OK
