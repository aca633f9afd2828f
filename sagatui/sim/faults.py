"""Applying a service's fault profile to one call, on the run's clock and the service's own seeded stream.

The outcome of a call (fail, refuse, pass) is decided when it arrives; then the profile's latency
passes; then the decided error is raised or the operation runs. `lost_reply` acts afterwards: the
effect is recorded, then the reply may be lost.
"""

from __future__ import annotations

import random

from sagatui.engine.clock import VirtualClock
from sagatui.model.calls import Call
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.faults import FaultProfile

HANG_SECONDS = 3600.0
"""How long a hung call waits before giving up by itself: far beyond any sensible caller timeout."""


class FaultState:
    """One profile switched on for one service, with what it needs over time: its start (the phase of
    flapping) and its token bucket (rate limiting).

    Both follow from the log, so a resumed run takes them up where they were (sagatui.lab.recovery.world):
    `since` is when the profile's `fault.changed` was recorded, and the bucket is what the calls that
    reached the service since then left in it (`arrived`, one per recorded attempt)."""

    def __init__(self, profile: FaultProfile, clock: VirtualClock, rng: random.Random,
                 since: float | None = None) -> None:
        self.profile = profile
        self._clock = clock
        self._rng = rng
        self.since = clock.now() if since is None else since
        self._tokens = float(profile.burst)
        self._refilled_at = self.since

    def profile_for(self, is_compensation: bool, operation: str, step: str) -> FaultProfile | None:
        """The profile a call gets: this one where it applies, else the one it was set over (`otherwise`, a
        scoped break's), else none."""
        profile: FaultProfile | None = self.profile
        while profile is not None and not profile.applies_to(is_compensation, operation, step):
            profile = profile.otherwise
        return profile

    async def before(self, call: Call) -> None:
        """Delay the call and raise the error the profile gives it, if any."""
        profile = self.profile_for(call.is_compensation, call.operation, call.step)
        if profile is None:
            return
        if profile.mode == "hang":
            await self._clock.sleep(HANG_SECONDS)
            raise ServiceError(ErrorKind.TIMEOUT, "no answer: the service hung", code="hang")
        error = self._decide(profile)
        if profile.latency > 0:
            jitter = self._rng.uniform(-profile.latency_jitter, profile.latency_jitter) if profile.latency_jitter else 0
            await self._clock.sleep(profile.latency + jitter)
        if error is not None:
            raise error

    def arrived(self, at: float, is_compensation: bool, operation: str, step: str) -> None:
        """Take what a call that reached the service at clock time `at` took from the token bucket: a
        resumed run accounts so for each call its stopped process made under this profile, in order."""
        profile = self.profile_for(is_compensation, operation, step)
        if profile is not None and profile.mode == "rate_limit":
            self._take_token(profile, at)

    def after(self, call: Call) -> None:
        """With `lost_reply`, lose the reply of a call whose effect already happened."""
        profile = self.profile_for(call.is_compensation, call.operation, call.step)
        if profile is not None and profile.mode == "lost_reply" and self._rng.random() < profile.error_rate:
            raise ServiceError(ErrorKind.TIMEOUT, "reply lost (the operation may have been done)", code="reply_lost")

    def _decide(self, profile: FaultProfile) -> ServiceError | None:
        if profile.mode == "offline" or (profile.mode == "flapping" and self.flapped_off(profile)):
            return ServiceError(ErrorKind.TRANSIENT, "503 service unavailable", code="503")
        if profile.mode == "degraded" and self._rng.random() < profile.error_rate:
            if self._rng.random() < profile.permanent_share:
                return ServiceError(ErrorKind.PERMANENT, "request rejected (degraded service)", code="degraded")
            return ServiceError(ErrorKind.TRANSIENT, "500 internal error (degraded service)", code="500")
        if profile.mode == "stuck":
            return ServiceError(ErrorKind.TRANSIENT, "503 workers stuck (a reset clears it)", code="stuck")
        if profile.mode == "overloaded" and self._rng.random() < profile.error_rate:
            return ServiceError(ErrorKind.TRANSIENT, "503 overloaded (more capacity clears it)", code="overloaded")
        if profile.mode == "rate_limit":
            return self._take_token(profile, self._clock.now())
        return None

    def flapped_off(self, profile: FaultProfile) -> bool:
        """Flapping: online for the first `duty` share of each period since the profile was set, then off."""
        period = profile.period
        return (self._clock.now() - self.since) % period >= profile.duty * period

    def _take_token(self, profile: FaultProfile, now: float) -> ServiceError | None:
        rate = profile.rate
        self._tokens = min(float(profile.burst), self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return None
        return ServiceError(ErrorKind.RATE_LIMITED, "429 too many requests", code="429",
                            retry_after=(1 - self._tokens) / rate)
