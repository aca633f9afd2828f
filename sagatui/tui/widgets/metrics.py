"""Run metrics: throughput and failure-rate sparklines over the last clock seconds, and the totals
folded from the event stream (the same fold the headless summary prints)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline

from sagatui.engine.metrics import RunMetrics
from sagatui.model.durations import format_duration
from sagatui.model.status import SagaStatus
from sagatui.tui.badges import SAGA_STATUS_STYLES
from sagatui.tui.rate_history import RateHistory
from sagatui.tui.widgets.quiet_static import QuietStatic

_OUTCOME_STYLES = {"completed": "green", "partial": "yellow", "failed": "red", "expired": "red"}


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


class MetricsPanel(Vertical):
    def compose(self) -> ComposeResult:
        with Horizontal(classes="spark-row"):
            yield QuietStatic("sagas/s", id="throughput-label")
            yield Sparkline([], id="throughput")
        with Horizontal(classes="spark-row"):
            yield QuietStatic("fail %", id="failure-label")
            yield Sparkline([], id="failure-rate")
        yield QuietStatic(id="totals")

    def show(self, metrics: RunMetrics, history: RateHistory) -> None:
        throughput, failures = history.throughput(), history.failure_rate()
        self.query_one("#throughput", Sparkline).data = throughput
        self.query_one("#failure-rate", Sparkline).data = failures
        latest_throughput = throughput[-1] if throughput else 0.0
        latest_failures = failures[-1] * 100 if failures else 0.0
        self.query_one("#throughput-label", QuietStatic).update_if_changed(f"sagas/s {latest_throughput:>4.0f}")
        self.query_one("#failure-label", QuietStatic).update_if_changed(f"fail %  {latest_failures:>4.0f}")
        self.query_one("#totals", QuietStatic).update_if_changed(_totals(metrics))


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
            text.append("  ").append(f"{status.value} {metrics.ended[status]}", style=SAGA_STATUS_STYLES[status])
    text.append("\ncompensations", style="dim")
    if not metrics.compensations:
        text.append(" none", style="dim")
    for outcome, count in sorted(metrics.compensations.items()):
        text.append("  ").append(f"{outcome} {count}", style=_OUTCOME_STYLES.get(outcome, ""))
    text.append("\nbreaker trips ", style="dim").append(str(metrics.breaker_trips), style="bold red"
                                                       if metrics.breaker_trips else "bold")
    text.append("  rejected ", style="dim").append(str(metrics.rejected_calls), style="bold")
    text.append("  fallbacks ", style="dim").append(str(metrics.fallbacks), style="bold")
    p50, p95 = metrics.latency(0.5), metrics.latency(0.95)
    if p50 is not None and p95 is not None:
        text.append("\nlatency ", style="dim").append(f"p50 {format_duration(p50)}  p95 {format_duration(p95)}",
                                                        style="bold")
    return text
