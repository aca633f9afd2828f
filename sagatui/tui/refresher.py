"""What keeps the board current for one lab: drains its events on a short timer into the panels, and
reads the store for resources, invariants and an open timeline.

One refresher is made for each lab the session opens (a new run, a reset, a resumed run), holding that
lab's view, so nothing in it asks whether a lab is open; the app stops it before the lab goes.

Events are never posted one message each: a 100 ms timer takes whatever the subscription buffered and
hands the batch to the panels inside one `batch_update()`, so the screen repaints once per tick however
many thousand events arrived.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import App
from textual.timer import Timer

from sagatui.engine.bus import Subscription
from sagatui.lab.run import Pacing
from sagatui.lab.session import LabSession
from sagatui.lab.view import LabView
from sagatui.model.events import Event
from sagatui.model.status import InvariantState
from sagatui.plain_text import plain_text
from sagatui.store import queries, summaries
from sagatui.store.invariants import check_invariants
from sagatui.tui.rate_history import RateHistory
from sagatui.tui.saga_board import SagaBoard
from sagatui.tui.screens.main import MainScreen
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.tones import style
from sagatui.tui.widgets.control_tables import BreakerTable, BulkheadTable, ScenarioPicker, Switchboard
from sagatui.tui.widgets.event_stream import EventStream
from sagatui.tui.widgets.metrics import MetricsPanel
from sagatui.tui.widgets.quiet_static import QuietStatic
from sagatui.tui.widgets.resources import INVARIANT_LABELS, InvariantBadges, ResourcePanel
from sagatui.tui.widgets.saga_tables import AttentionTable, SagaTable

TICK = 0.1  # seconds between drains of the event subscription
STORE_REFRESH = 0.5  # seconds between reads of resource tables, invariants and an open timeline
METRICS_EVERY = 5  # ticks between metrics redraws (sparklines and percentiles need no faster)
BOUNDED_TABLES = ("stock", "capacity", "balances")  # one row per SKU / service / account: read whole
SPEEDS: tuple[float | None, ...] = (1.0, 10.0, None)  # the speed key goes round these


def speed_label(speed: float | None) -> str:
    return "virtual" if speed is None else "real time" if speed == 1 else f"x{speed:g}"


class Refresher:
    """Made by `for_lab` once the session has a lab open; `start` sets its timers, `stop` ends them."""

    def __init__(self, app: App[None], main: MainScreen, session: LabSession, view: LabView, pacing: Pacing,
                 subscription: Subscription) -> None:
        self.app, self.main, self.session, self.view, self.pacing = app, main, session, view, pacing
        self.subscription = subscription
        self.board = SagaBoard(view.scenario_of)
        self.history = RateHistory()
        self.events_absorbed = 0  # events drained into the panels (the bench reads it)
        self.broken_invariants: list[str] = []  # shown on the status line, whichever view is on screen
        self.held_invariants: list[str] = []  # likewise: holding only but for sagas needing attention
        self._told_rate: float | None = None  # the load rate last chosen, as the user was told
        self.ticks = 0  # ticks drawn (a test waits on it for a frame drawn after what it did)
        self._drawn: dict[str, tuple[object, ...]] = {}  # panel -> what it was last drawn from (see `_stale`)
        self._checked_seq = -1  # the committed seq the invariants were last checked at
        self._tables_seq = -1  # the committed seq the resource tables show (they are read only on screen)
        self._reading_store = False
        self._seen_clock, self._seen_at = -1.0, 0.0  # last clock reading and when (see _shown_now)
        self._timers: list[Timer] = []
        self._stopped = False

    @classmethod
    def for_lab(cls, app: App[None], main: MainScreen, session: LabSession) -> Refresher:
        view, pacing, subscription = session.view, session.pacing, session.subscription
        if view is None or pacing is None or subscription is None:
            raise RuntimeError("the session has no lab open")
        return cls(app, main, session, view, pacing, subscription)

    def start(self) -> None:
        """The panels start over on this lab, drawn at once, then every tick."""
        stream = self.main.query_one(EventStream)
        stream.reset()
        stream.set_services(self.view.pack.services)
        self.tick()
        self._timers = [self.app.set_interval(TICK, self.tick), self.app.set_interval(STORE_REFRESH, self.read_store)]

    def stop(self) -> None:
        """No tick or store read after this (one under way finds it out and draws nothing)."""
        self._stopped = True
        for timer in self._timers:
            timer.stop()

    # -- the tick: events into panels ----------------------------------------------------------------------
    def tick(self) -> None:
        if self._stopped or not self.app.is_running:
            return  # shutting down: the panels may be gone
        view = self.view
        events = self.session.drain()
        self.events_absorbed += len(events)
        for event in events:
            self.board.add(event)
            self.history.add(event)
        self.ticks += 1
        with self.app.batch_update():
            self.main.query_one(EventStream).add(events, self.subscription.dropped,
                                                 on_screen=self.main.view_on_screen("events"))
            self._draw(events)
        if view.chosen_rate is not None and view.chosen_rate != self._told_rate:
            self._told_rate = view.chosen_rate
            self.app.notify(f"load rate {view.chosen_rate:g}/s", timeout=2)

    def _draw(self, events: list[Event]) -> None:
        main, view, now = self.main, self.view, self._shown_now()  # one clock reading for the whole tick
        main.query_one("#status-line", QuietStatic).update_if_changed(self._status_line(now))
        main.query_one(Switchboard).show(view.faults)
        main.query_one(BreakerTable).show(view.breakers, now)
        main.query_one(BulkheadTable).show(view.bulkheads)
        if self._stale("attention tab", self.board.version):
            main.set_attention_count(self.board.for_an_operator)
        self._draw_views(metrics_due=self.ticks % METRICS_EVERY == 1 or not events, shown_now=now)

    def _draw_views(self, *, metrics_due: bool, shown_now: float | None = None) -> None:
        """The views on screen. A hidden view is not drawn (under a flood, redrawing the tables nobody sees
        cost more than the engine); it is drawn when it is shown."""
        main, view = self.main, self.view
        # a countdown moves on while nothing happens; a tenth is what it shows
        now = round(self._shown_now() if shown_now is None else shown_now, 1)
        if main.view_on_screen("scenarios"):
            main.query_one(ScenarioPicker).show(view.pack)
        sagas = main.query_one(SagaTable)
        if main.view_on_screen("sagas") and self._stale("sagas", self.board.version, now, sagas.status_filter,
                                                         sagas.following, sagas.size.width):
            sagas.show(self.board, now)
            held = "" if sagas.following else " · held (End follows)"
            keys = f"{main.key('sagas.edit_filter')} filter · {main.key('sagas.select_cursor')} timeline"
            sagas.border_title = f"Sagas [dim]{sagas.status_filter or 'all'}{held} · {keys}[/]"
        if main.view_on_screen("attention") and self._stale("attention", self.board.version, now):
            main.query_one(AttentionTable).show(self.board, now)
        if main.view_on_screen("metrics") and metrics_due:
            main.query_one(MetricsPanel).show(view.metrics, self.history, view.breaker_names, now,
                                              settled=not self.board.in_flight)

    def view_shown(self) -> None:
        """Hidden views are not drawn: draw the one shown now, from what the panels have absorbed."""
        if self._stopped:
            return
        main = self.main
        with self.app.batch_update():
            if main.view_on_screen("events"):
                main.query_one(EventStream).catch_up()
            self._draw_views(metrics_due=True)
        if main.view_on_screen("resources"):  # its tables are read from the store only while on screen
            self.read_store()

    def restyle(self) -> None:
        """The theme changed: every panel is drawn again, the store-backed ones too, in its colours."""
        if self._stopped:
            return
        self._drawn.clear()
        self._checked_seq = self._tables_seq = -1
        self.main.query_one(EventStream).restyle()
        self.tick()
        self.view_shown()
        self.read_store()

    def _stale(self, panel: str, *drawn_from: object) -> bool:
        """Whether `panel` was last drawn from something else than `drawn_from`; it counts as drawn now."""
        if self._drawn.get(panel) == drawn_from:
            return False
        self._drawn[panel] = drawn_from
        return True

    def _status_line(self, now: float) -> Text:
        """Most important first, so a narrow terminal cuts only the tail."""
        view = self.view
        line = Text()
        if (failure := view.failure) is not None:  # the run stopped (its log, a timer or a reader broke): say why
            line.append(f" run stopped: {type(failure).__name__}: {failure} ", style=style("b on error"))
            line.append(" ")
        for name in self.broken_invariants:
            line.append(f" ✗ {INVARIANT_LABELS.get(name, name)} ", style=style("b on error")).append(" ")
        for name in self.held_invariants:
            line.append(f" ! {INVARIANT_LABELS.get(name, name)} held ", style=style("b on held")).append(" ")
        line.append(view.pack.name, style="b").append(f" run {view.run_id} │ t {now:.1f}s ")
        if view.paused:
            line.append(" paused ", style=style("b on warning"))
        else:
            line.append(f"▶ {speed_label(view.speed)}")
        load = view.load
        line.append(" │ ").append(f"load {load.rate:g}/s" if load is not None else "load off",
                                  style="b" if load is not None else "")
        line.append(f" │ {self.board.in_flight} in flight │ {view.events_recorded:,} events │ ")
        line.append(f"seed {view.seed} · {self.session.settings.db.name}", style="dim")
        return plain_text(line)

    def _shown_now(self) -> float:
        """Clock time as the panels show it (the status line's clock, breaker countdowns, an approval's time
        left). A paced clock jumps from timer to timer, so between jumps it is extrapolated by wall time, up
        to the next timer (where it will be next), never past it: an idle dashboard keeps counting down."""
        view = self.view
        now, speed, due = view.now, view.speed, view.next_due
        if speed is None or view.clock_held or due is None:
            return now
        if now != self._seen_clock:
            self._seen_clock, self._seen_at = now, time.monotonic()
        return min(due, now + (time.monotonic() - self._seen_at) * speed)

    # -- the store: resources, invariants, the open timeline ------------------------------------------------
    def read_store(self) -> None:
        """Read in an app worker of the "store" group (the app cancels that group before it closes the
        store), one read at a time."""
        if self._reading_store or self._stopped:
            return
        self._reading_store = True
        self.app.run_worker(self._read_store(), group="store")

    async def _read_store(self) -> None:
        try:
            if not self.app.is_running or not self.app.screen_stack:
                return  # the app is closing (no screen left to draw on)
            store, run_id = self.session.store, self.view.run_id
            if isinstance(self.app.screen, TimelineScreen) and self.app.screen.live:
                screen = self.app.screen
                screen.show(await queries.saga_timeline(store, run_id, screen.saga_id),
                            self.view.scenario_of(screen.saga_id))
            committed = self.view.committed_seq
            resources_shown = self.main.view_on_screen("resources")
            if committed == self._checked_seq and (committed == self._tables_seq or not resources_shown):
                return
            if resources_shown:
                tables = {table: await queries.resource_rows(store, run_id, table) for table in BOUNDED_TABLES}
                activity = await summaries.activity(store, run_id)
                held = await summaries.held_reservations(store, run_id, limit=20)
            invariants = await check_invariants(store, run_id)
            unsettled = bool(self.board.in_flight) or committed < self.view.events_recorded
            if not unsettled:  # the App's own (sagatui.code), on its own state: when no saga is half done
                invariants += await self.view.own_invariants()
            if self._stopped or not self.app.is_running:
                return  # the lab was reset, or the app closed, while reading
            self._checked_seq = committed
            if resources_shown:
                self._tables_seq = committed
            self.broken_invariants = [result.name for result in invariants if result.state is InvariantState.FAIL
                                      and not (result.name == "all_terminal" and unsettled)]
            self.held_invariants = [result.name for result in invariants if result.state is InvariantState.HELD]
            with self.app.batch_update():
                if resources_shown:
                    self.main.query_one(ResourcePanel).show(tables, activity, held)
                self.main.query_one(InvariantBadges).show(invariants, self.board.in_flight, unsettled)
        finally:
            self._reading_store = False

    @property
    def store_caught_up(self) -> bool:
        """The store-backed panels show every event committed so far."""
        if self._reading_store:
            return False
        committed = self.view.committed_seq
        return self._checked_seq == committed and (self._tables_seq == committed
                                                   or not self.main.view_on_screen("resources"))
