"""The error taxonomy: what kind of failure a call ended in decides retry and rollback."""

from enum import StrEnum


class ErrorKind(StrEnum):
    VALIDATION = "validation"  # bad input: fail fast, nothing retried, nothing new undone
    TRANSIENT = "transient"  # 503, processing error, carrier unavailable: retry
    TIMEOUT = "timeout"  # the per-attempt timeout fired: retry
    RATE_LIMITED = "rate_limited"  # 429 with a retry-after hint: retry after the hint
    BREAKER_OPEN = "breaker_open"  # our own breaker refused the call: retry or fall back
    BULKHEAD_FULL = "bulkhead_full"  # the service's bulkhead had no free slot: retry or fall back
    PERMANENT = "permanent"  # declined card, restricted area: no retry, roll back
    UNEXPECTED = "unexpected"  # anything else raised: treated as permanent, context kept
    CANCELLED = "cancelled"  # an operator cancelled the saga: the step under way went no further


DEFAULT_RETRYABLE = frozenset(
    {ErrorKind.TRANSIENT, ErrorKind.TIMEOUT, ErrorKind.RATE_LIMITED, ErrorKind.BREAKER_OPEN, ErrorKind.BULKHEAD_FULL}
)

TURNED_AWAY = frozenset({ErrorKind.BREAKER_OPEN, ErrorKind.BULKHEAD_FULL})
"""Our own guards refused the try: the service never saw it (nothing done, nothing to undo)."""


class ServiceError(Exception):
    """A failure reported by a service call, classified by kind."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.retry_after = retry_after
        self.detail = detail  # the whole story of an unexpected error (a user operation's traceback)

    def __repr__(self) -> str:
        return f"ServiceError({self.kind.value}, {self.message!r})"
