"""Circuit breakers with resilience4j/Polly semantics, on the run's clock.

closed: calls pass; outcomes go into a count window. The breaker opens on N consecutive failures,
or when the failure rate (or slow-call rate) over the window reaches its threshold once the window
holds at least `minimum_calls`. open: calls are rejected without reaching the service; after
`open_duration` a timer moves it to half_open. half_open: `half_open_probes` calls are let through;
when all of them succeed it closes, when one fails it opens again. isolated: forced open by an
operator until reset.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sagatui.engine.clock import TimerHandle, VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.payloads import BreakerTransition as TransitionPayload
from sagatui.model.policies import BreakerConfig
from sagatui.model.status import BreakerState


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    breaker: str
    old: BreakerState
    new: BreakerState
    reason: str


TransitionListener = Callable[[BreakerTransition], None]


def record_transitions(recorder: EventRecorder) -> TransitionListener:
    """A listener that writes each transition into the run's event stream. The breaker's name is in the
    payload, and the event names no service: a breaker may guard several, or be one step's own."""

    def emit(transition: BreakerTransition) -> None:
        recorder.emit(EventKind.BREAKER_TRANSITION, message=transition.reason,
                      payload=TransitionPayload(breaker=transition.breaker, from_state=transition.old,
                                                to_state=transition.new))

    return emit


class CircuitBreaker:
    def __init__(
        self, name: str, config: BreakerConfig, clock: VirtualClock, on_transition: TransitionListener
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._on_transition = on_transition
        self.state = BreakerState.CLOSED
        self._window: deque[tuple[bool, bool]] = deque(maxlen=config.window_size)  # (failed, slow)
        self.consecutive_failures = 0
        self.opened_at: float | None = None
        self._half_open_timer: TimerHandle | None = None
        self._probes_admitted = 0
        self._probes_succeeded = 0
        self.trips = 0

    # -- what the dashboard shows ------------------------------------------------------------------
    @property
    def failure_rate(self) -> float | None:
        if not self._window:
            return None
        return sum(failed for failed, _ in self._window) / len(self._window)

    @property
    def half_open_at(self) -> float | None:
        """When an open breaker will start letting probes through."""
        if self.state is not BreakerState.OPEN or self.opened_at is None:
            return None
        return self.opened_at + self.config.open_duration

    # -- the call protocol ----------------------------------------------------------------------------
    def admit(self) -> None:
        """Let a call through, or raise ServiceError(BREAKER_OPEN) without calling the service."""
        if self.state is BreakerState.CLOSED:
            return
        if self.state is BreakerState.HALF_OPEN and self._probes_admitted < self.config.half_open_probes:
            self._probes_admitted += 1
            return
        raise ServiceError(ErrorKind.BREAKER_OPEN, f"circuit breaker {self.name} is {self.state.value}")

    def record(self, error_kind: ErrorKind | None, duration: float) -> None:
        """Feed the outcome of an admitted call. Errors outside `counts_as_failure` count as successes:
        a declined card means the service is working."""
        if error_kind is not None and error_kind in self.config.ignore:
            self.abandon()  # neither way; a half-open probe's slot goes back
            return
        failed = error_kind is not None and error_kind in self.config.counts_as_failure
        slow = self.config.slow_call_duration is not None and duration >= self.config.slow_call_duration
        if self.state is BreakerState.HALF_OPEN:
            self._record_probe(failed)
        elif self.state is BreakerState.CLOSED:
            self._record_closed(failed, slow)

    def abandon(self) -> None:
        """An admitted call was cancelled before it ended: give a half-open probe slot back."""
        if self.state is BreakerState.HALF_OPEN and self._probes_admitted > self._probes_succeeded:
            self._probes_admitted -= 1

    def _record_probe(self, failed: bool) -> None:
        if failed:
            self._open("a half-open probe failed")
            return
        self._probes_succeeded += 1
        if self._probes_succeeded >= self.config.half_open_probes:
            self._move(BreakerState.CLOSED, f"{self._probes_succeeded} half-open probe(s) succeeded")

    def _record_closed(self, failed: bool, slow: bool) -> None:
        config = self.config
        self._window.append((failed, slow))
        self.consecutive_failures = self.consecutive_failures + 1 if failed else 0
        if config.consecutive_failures is not None and self.consecutive_failures >= config.consecutive_failures:
            self._open(f"{self.consecutive_failures} consecutive failures")
            return
        if len(self._window) < config.minimum_calls:
            return
        calls = len(self._window)
        if config.failure_rate is not None:
            rate = sum(f for f, _ in self._window) / calls
            if rate >= config.failure_rate:
                self._open(f"failure rate {rate:.0%} over the last {calls} calls")
                return
        if config.slow_call_rate is not None:
            rate = sum(s for _, s in self._window) / calls
            if rate >= config.slow_call_rate:
                self._open(f"slow-call rate {rate:.0%} over the last {calls} calls")

    # -- operator actions ---------------------------------------------------------------------------
    def isolate(self) -> None:
        """Force the breaker open until reset."""
        self._cancel_timer()
        self._move(BreakerState.ISOLATED, "isolated by operator")

    def reset(self) -> None:
        self._cancel_timer()
        self._move(BreakerState.CLOSED, "reset by operator")

    # -- playback -------------------------------------------------------------------------------------
    def follow(self, new: BreakerState) -> None:
        """Take the state a recorded transition gives (a recording played back, nothing called): no
        timer and no event; an opening counts a trip, and its half-open countdown runs from now."""
        self._cancel_timer()
        if new is BreakerState.OPEN:
            self.trips += 1
            self.opened_at = self._clock.now()
        elif new is BreakerState.CLOSED:
            self._window.clear()
            self.consecutive_failures = 0
            self.opened_at = None
        self.state = new

    # -- transitions ----------------------------------------------------------------------------------
    def _open(self, reason: str) -> None:
        self.trips += 1
        self.opened_at = self._clock.now()
        self._cancel_timer()
        self._half_open_timer = self._clock.call_later(self.config.open_duration, self._to_half_open)
        self._move(BreakerState.OPEN, reason)

    def _to_half_open(self) -> None:
        self._half_open_timer = None
        if self.state is BreakerState.OPEN:
            self._move(BreakerState.HALF_OPEN, f"open for {self.config.open_duration:g}s")

    def _cancel_timer(self) -> None:
        if self._half_open_timer is not None:
            self._half_open_timer.cancel()
            self._half_open_timer = None

    def _move(self, new: BreakerState, reason: str) -> None:
        old = self.state
        self.state = new
        self._probes_admitted = self._probes_succeeded = 0
        if new is BreakerState.CLOSED:
            self._window.clear()
            self.consecutive_failures = 0
            self.opened_at = None
        if old is not new:
            self._on_transition(BreakerTransition(self.name, old, new, reason))


class BreakerBoard:
    """Every breaker of a run, by name, created on first use with its configuration."""

    def __init__(
        self,
        clock: VirtualClock,
        on_transition: TransitionListener,
        configs: dict[str, BreakerConfig] | None = None,
    ) -> None:
        self._clock = clock
        self._on_transition = on_transition
        self._configs = dict(configs or {})
        self.breakers: dict[str, CircuitBreaker] = {}

    def get(self, name: str) -> CircuitBreaker:
        breaker = self.breakers.get(name)
        if breaker is None:
            config = self._configs.get(name, BreakerConfig())
            breaker = self.breakers[name] = CircuitBreaker(name, config, self._clock, self._on_transition)
        return breaker
