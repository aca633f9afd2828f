"""Run metrics: the totals folded from the event stream (the same fold the headless summary prints), what
the calls cost, and charts over clock time: sagas started, completed and compensated per second, step
latency p50 and p95, retries and breaker rejections per second, and each breaker's state. When every view
is on screen at once (a terminal from 180x45) the panel is small: two sparklines stand in for the charts."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Sparkline

from sagatui.engine.metrics import RunMetrics
from sagatui.model.durations import format_duration
from sagatui.model.status import BreakerState, SagaStatus
from sagatui.tui.badges import SAGA_STATUS_STYLES
from sagatui.tui.rate_history import Bucket, RateHistory
from sagatui.tui.tones import style
from sagatui.tui.widgets.charts import BreakerStrip, Line, LineChart
from sagatui.tui.widgets.quiet_static import QuietStatic

_OUTCOME_STYLES = {"completed": "ok", "partial": "warning", "failed": "error", "expired": "error"}


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


class MetricsPanel(Vertical):
    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._charted: tuple[object, ...] = ()  # what the charts were last drawn from

    def compose(self) -> ComposeResult:
        with Horizontal(classes="spark-row"):
            yield QuietStatic("sagas/s", id="throughput-label")
            yield Sparkline([], id="throughput")
        with Horizontal(classes="spark-row"):
            yield QuietStatic("fail %", id="failure-label")
            yield Sparkline([], id="failure-rate")
        yield QuietStatic(id="totals")
        with Grid(id="charts"):
            yield LineChart("Sagas/s", "no sagas", id="throughput-chart")
            yield LineChart("Step latency (s)", "no step ended", id="latency-chart")
            yield LineChart("Retries/s", "no retries or rejections", id="retries-chart")
            yield BreakerStrip(id="breaker-chart")

    def show(self, metrics: RunMetrics, history: RateHistory, breakers: list[str], now: float, *,
             settled: bool) -> None:
        """`breakers`: every breaker the pack can use; `now`: the run clock; `settled`: nothing in flight, so
        the second the clock is in is over too (else the charts end at the last whole second)."""
        throughput, failures = history.throughput(), history.failure_rate()
        self.query_one("#throughput", Sparkline).data = throughput
        self.query_one("#failure-rate", Sparkline).data = failures
        latest_throughput = throughput[-1] if throughput else 0.0
        latest_failures = failures[-1] * 100 if failures else 0.0
        self.query_one("#throughput-label", QuietStatic).update_if_changed(f"sagas/s {latest_throughput:>4.0f}")
        self.query_one("#failure-label", QuietStatic).update_if_changed(f"fail %  {latest_failures:>4.0f}")
        self.query_one("#totals", QuietStatic).update_if_changed(_totals(metrics))
        drawn_from = (history.version, int(now), settled, tuple(breakers), self.app.theme)
        if drawn_from != self._charted:
            self._charted = drawn_from
            self._chart([bucket for bucket in history.buckets if settled or bucket.second + 1 <= now], breakers)

    def _chart(self, buckets: list[Bucket], breakers: list[str]) -> None:
        seconds = [bucket.second for bucket in buckets]
        newest = buckets[-1] if buckets else Bucket(0)
        self.query_one("#throughput-chart", LineChart).show(seconds, [
            Line("started", "info", [bucket.started for bucket in buckets]),
            Line("completed", "ok", [bucket.completed for bucket in buckets]),
            Line("compensated", "warning", [bucket.compensated for bucket in buckets]),
        ], f"{newest.started}/{newest.completed}/{newest.compensated}" if buckets else "")
        p50, p95 = newest.latency(0.5), newest.latency(0.95)
        self.query_one("#latency-chart", LineChart).show(seconds, [
            Line("p50", "info", [bucket.latency(0.5) for bucket in buckets]),
            Line("p95", "warning", [bucket.latency(0.95) for bucket in buckets]),
        ], f"{format_duration(p50)}/{format_duration(p95)}" if p50 is not None and p95 is not None else "")
        self.query_one("#retries-chart", LineChart).show(seconds, [
            Line("retries", "warning", [bucket.retries for bucket in buckets]),
            Line("rejected", "error", [bucket.rejected for bucket in buckets]),
        ], f"{newest.retries}/{newest.rejected}" if buckets else "")
        names = [*breakers, *(name for bucket in buckets for name in bucket.breakers if name not in breakers)]
        self.query_one(BreakerStrip).show(seconds, {
            name: [bucket.breakers.get(name, BreakerState.CLOSED) for bucket in buckets]
            for name in dict.fromkeys(names)})


def _money(value: float) -> str:
    return f"{value:g}"


def _totals(metrics: RunMetrics) -> Text:
    text = Text()
    text.append("success ", style="dim").append(_share(metrics.success_rate), style="bold")
    text.append("  retry rate ", style="dim").append(_share(metrics.retry_rate), style="bold")
    average = metrics.average_attempts
    text.append("  avg attempts ", style="dim").append("-" if average is None else f"{average:.2f}", style="bold")
    text.append(f"\nsagas {metrics.started}", style="bold")
    text.append(f" ({metrics.in_flight} in flight)", style="dim")
    for status in SagaStatus:
        if metrics.ended[status]:
            text.append("  ").append(f"{status.value} {metrics.ended[status]}",
                                     style=style(SAGA_STATUS_STYLES[status]))
    text.append("\ncompensations", style="dim")
    if not metrics.compensations:
        text.append(" none", style="dim")
    for outcome, count in sorted(metrics.compensations.items()):
        text.append("  ").append(f"{outcome} {count}", style=style(_OUTCOME_STYLES.get(outcome, "")))
    text.append("\nbreaker trips ", style="dim").append(str(metrics.breaker_trips), style=style("bold error")
                                                       if metrics.breaker_trips else "bold")
    text.append("  rejected ", style="dim").append(str(metrics.rejected_calls), style="bold")
    if metrics.bulkhead_rejections:
        text.append(f" ({metrics.bulkhead_rejections} by bulkheads)", style="dim")
    text.append("  fallbacks ", style="dim").append(str(metrics.fallbacks), style="bold")
    p50, p95 = metrics.latency(0.5), metrics.latency(0.95)
    if p50 is not None and p95 is not None:
        text.append("\nsaga latency ", style="dim").append(f"p50 {format_duration(p50)}  p95 {format_duration(p95)}",
                                                             style="bold")
    if metrics.cost:  # the calls of priced providers (a step's or a fallback's `cost`)
        text.append("\ncost ", style="dim").append(_money(metrics.cost), style="bold")
        text.append("  of retries ", style="dim").append(_money(metrics.retry_cost), style="bold")
        text.append("  of fallbacks ", style="dim").append(_money(metrics.fallback_cost), style="bold")
    return text
