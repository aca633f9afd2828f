"""The errors a user's operation raises to say how it failed: each is a ServiceError of one kind, so the
step's retry policy, breaker and fallbacks treat it as they treat a simulated service's."""

from __future__ import annotations

from sagatui.model.errors import ErrorKind, ServiceError


class Transient(ServiceError):
    """Worth another try (a 503, a dropped connection): retried by the step's policy."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(ErrorKind.TRANSIENT, message, code=code)


class Permanent(ServiceError):
    """Will fail again (a declined card): no retry, the saga rolls back."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(ErrorKind.PERMANENT, message, code=code)


class Invalid(ServiceError):
    """The request itself is wrong: no retry, and nothing of it to undo."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(ErrorKind.VALIDATION, message, code=code)


class TimedOut(ServiceError):
    """No answer in time (the operation may have been done): retried, and undone if the saga rolls back."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(ErrorKind.TIMEOUT, message, code=code)


class RateLimited(ServiceError):
    """Too many requests: the next try waits at least `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, code: str | None = "429") -> None:
        super().__init__(ErrorKind.RATE_LIMITED, message, code=code, retry_after=retry_after)


class LifespanFailed(Exception):
    """The App's lifespan raised as a run opened (its servers did not start, its database did not open): the
    run is recorded as interrupted, and no saga ran."""
