"""What the panels ask the app to do. Panels only display and post these; the app turns them into
lab commands or screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class RunScenario(Message):
    scenario: str


@dataclass
class ToggleService(Message):
    service: str


@dataclass
class PickFault(Message):
    service: str


@dataclass
class BreakerCommand(Message):
    breaker: str
    command: str  # "isolate" or "reset_breaker"


@dataclass
class OpenTimeline(Message):
    saga_id: str


@dataclass
class ForkHere(Message):
    """A what-if fork of the run where `saga_id` started (at the first quiet moment after event `seq`)."""

    saga_id: str
    seq: int


@dataclass
class ProveSaga(Message):
    """Prove the definition of the saga `saga_id` runs on its input, with the run's seed (sagatui prove)."""

    saga_id: str


@dataclass
class RetryCompensation(Message):
    saga_id: str


@dataclass
class ResolveSaga(Message):
    saga_id: str


@dataclass
class CancelSaga(Message):
    saga_id: str


@dataclass
class RetryMany(Message):
    """Retry the compensations of every saga named (the inbox's rows on screen), after asking."""

    saga_ids: list[str]


@dataclass
class ResolveMany(Message):
    """Resolve every saga named with one note, after asking for it."""

    saga_ids: list[str]


@dataclass
class DecideApproval(Message):
    """Approve (or reject) the approval step a saga waits at: the app asks for a note first."""

    saga_id: str
    approve: bool
