"""Fault profiles: the outage switches a user flips on a simulated service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from sagatui.model.definitions import Definition
from sagatui.model.durations import Duration, PositiveDuration, format_duration

FaultMode = Literal["online", "offline", "degraded", "latency", "hang", "rate_limit", "flapping", "lost_reply",
                    "stuck", "overloaded"]
FAULT_MODES: tuple[FaultMode, ...] = (
    "online", "offline", "degraded", "latency", "hang", "rate_limit", "flapping", "lost_reply", "stuck", "overloaded",
)


class FaultProfile(Definition):
    """What a service does to calls. `latency`/`latency_jitter` add delay in every mode but hang.

    - offline: every call fails at once (transient, 503)
    - degraded: a call fails with probability `error_rate`, `permanent_share` of those permanently
    - latency: calls take `latency` +- `latency_jitter`
    - hang: calls never answer, so the caller's timeout fires
    - rate_limit: a token bucket of `rate` calls/s and `burst`; refused calls get 429 + retry-after
    - flapping: offline for `1 - duty` of every `period`, online for the rest
    - lost_reply: the effect happens but the reply is lost with probability `error_rate`
    - stuck: its workers are wedged: every call fails (transient, 503) until a `reset` (sagatui.sim.maintenance)
    - overloaded: a call fails (transient, 503) with probability `error_rate` until a `scale_up`
    """

    mode: FaultMode = "online"
    target: Literal["actions", "compensations", "both"] = "both"
    # Only calls of these operations (`refund`); None: every operation (and no key in a recorded profile).
    operations: tuple[str, ...] | None = Field(None, min_length=1)
    # Only calls made by these saga steps (`charge_payment`, a for_each element `reserve[2]`); None: every
    # step's (and no key in a recorded profile). `sagatui prove` breaks one step so.
    steps: tuple[str, ...] | None = Field(None, min_length=1)
    # What the calls outside `operations`/`steps` get: the profile a scoped break was set over (so a step
    # broken by `sagatui prove` leaves the service's own latency to every other call); None: nothing.
    otherwise: FaultProfile | None = None
    error_rate: float = Field(0.5, ge=0, le=1)
    permanent_share: float = Field(0.0, ge=0, le=1)
    latency: Duration = 0.0
    latency_jitter: Duration = 0.0
    rate: float = Field(5.0, gt=0)
    burst: int = Field(5, ge=1, le=1_000_000)
    period: PositiveDuration = 10.0
    duty: float = Field(0.5, ge=0, le=1)
    revert_after: Duration | None = None

    @model_serializer(mode="wrap")
    def _without_every_operation(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `operations` (`steps`, `otherwise`) key for a profile aimed at every operation (step; over
        nothing): profiles recorded before the keys existed (in events, commands and sessions) keep their bytes."""
        dumped: dict[str, Any] = handler(self)
        for scope in ("operations", "steps", "otherwise"):
            if getattr(self, scope) is None:
                dumped.pop(scope, None)
        return dumped

    @model_validator(mode="after")
    def _jitter_within_latency(self) -> FaultProfile:
        if self.latency_jitter > self.latency:
            raise ValueError("latency_jitter cannot exceed latency")
        return self

    def applies_to(self, compensation: bool, operation: str, step: str) -> bool:
        if (self.operations and operation not in self.operations) or (self.steps and step not in self.steps):
            return False
        return self.target == "both" or (self.target == "compensations") == compensation

    def label(self) -> str:
        """A short human description, e.g. 'degraded 30%' or 'rate_limit 5/s'."""
        details = {
            "degraded": f" {self.error_rate:.0%}",
            "lost_reply": f" {self.error_rate:.0%}",
            "overloaded": f" {self.error_rate:.0%}",
            "latency": f" {format_duration(self.latency)}",
            "rate_limit": f" {self.rate:g}/s",
            "flapping": f" {format_duration(self.period)}/{self.duty:.0%}",
        }
        slow = f" +{format_duration(self.latency)}" if self.latency and self.mode not in ("latency", "hang") else ""
        scope = [*(self.operations or ()), *(f"step {step}" for step in self.steps or ())]
        only = f" ({', '.join(scope)} only)" if scope and self.mode != "online" else ""
        beneath = self.otherwise.label() if self.otherwise is not None else "online"
        over = f" over {beneath}" if beneath != "online" else ""
        return self.mode + details.get(self.mode, "") + slow + only + over


ONLINE = FaultProfile()
