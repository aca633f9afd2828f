"""The maintenance operations every simulated service answers, for a step's remediation (a saga healing
the service it needs between two attempts): `diagnose` says what is wrong, `reset` restarts a stuck (or
hung) service, `scale_up` adds capacity to an overloaded one.

They reach the service's management side: no fault profile delays or fails them, and they change no
resource rows. A fix is a fault change, recorded like any other (`fault.changed`, source `remediation`),
so a replay and a resumed run see the service healed at the same moment. They are no business
operation: a step's action cannot be one, only its `remediate:` can."""

from typing import TypedDict

from sagatui.model.faults import FaultMode, FaultProfile


class DiagnosisResult(TypedDict):
    mode: str  # the fault mode switched on now (`online`: nothing wrong)
    healthy: bool


class RemedyResult(TypedDict):
    cleared: bool  # the remedy fixed what was wrong (false: it was not what this remedy fixes)
    mode: str  # the fault mode after it


DIAGNOSIS_FIELDS = frozenset(DiagnosisResult.__required_keys__)

DIAGNOSES = ("diagnose",)
REMEDIES = ("reset", "scale_up")

MAINTENANCE_RESULTS: dict[str, type] = {"diagnose": DiagnosisResult, "reset": RemedyResult, "scale_up": RemedyResult}
"""Each maintenance operation and the TypedDict of its result."""

CLEARED_BY: dict[str, frozenset[FaultMode]] = {"reset": frozenset({"stuck", "hang"}),
                                               "scale_up": frozenset({"overloaded"})}
"""What each remedy clears: a restart unsticks workers and a hung process; more capacity ends an overload."""


def diagnosis(profile: FaultProfile) -> DiagnosisResult:
    return {"mode": profile.mode, "healthy": profile.mode == "online"}


def clears(operation: str, profile: FaultProfile) -> bool:
    """Whether the remedy `operation` fixes a service under `profile`."""
    return profile.mode in CLEARED_BY.get(operation, frozenset())
