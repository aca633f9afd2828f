"""fallback_on (issue 16 item 4): a step names the error kinds that send it to its next provider, so a
fully booked hotel (permanent) falls over to the backup; a provider that timed out may have done the
work, so the step does not fall over from it unless it is safe to repeat elsewhere (a read)."""

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus
from tests.engine.harness import Hang, permanent, rig


def stay(**step: object) -> SagaDef:
    return SagaDef.model_validate({"name": "stay", "steps": [
        {"name": "hotel", "action": "hotel.book", "compensation": "hotel.cancel", "fallbacks": ["backup.book"],
         "retry": {"max_attempts": 1, "attempt_timeout": "1s"}, **step},
        {"name": "pay", "action": "pay.charge"},
    ]})


async def test_a_business_error_named_in_fallback_on_falls_over():
    async with rig(stay(fallback_on=["permanent", "transient"])) as r:
        r.services.script("hotel.book", permanent("fully booked"))
        saga = await r.engine.run("stay", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["hotel.book", "backup.book", "pay.charge"]
    assert r.events(EventKind.FALLBACK_USED)[0].data["reason"] == "fully booked"


async def test_without_fallback_on_a_business_error_ends_the_step_as_before():
    async with rig(stay()) as r:
        r.services.script("hotel.book", permanent("fully booked"))
        saga = await r.engine.run("stay", "S1", {})
    assert saga.status is SagaStatus.FAILED and "backup.book" not in r.services.actions()


async def test_a_kind_fallback_on_leaves_out_does_not_fall_over():
    async with rig(stay(fallback_on=["permanent"])) as r:
        r.services.script("hotel.book", ServiceError(ErrorKind.TRANSIENT, "503"))
        saga = await r.engine.run("stay", "S1", {})
    assert saga.status is SagaStatus.FAILED and "backup.book" not in r.services.actions()


async def test_a_timed_out_provider_is_not_left_for_another_unless_safe_to_repeat():
    async with rig(stay(fallback_on=["timeout"])) as r:
        r.services.script("hotel.book", Hang(5))
        saga = await r.engine.run("stay", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED  # it may have booked: undone there, never booked twice
    assert "backup.book" not in r.services.actions() and r.compensated_steps() == ["hotel"]
    async with rig(stay(fallback_on=["timeout"], safe_to_repeat=True, compensation=None)) as r:
        r.services.script("hotel.book", Hang(5))
        saga = await r.engine.run("stay", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["hotel.book", "backup.book", "pay.charge"]
    assert r.compensated_steps() == []
