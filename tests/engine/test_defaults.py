"""Defaults that match the references: attempts time out after 30 s unless told otherwise, a 429 does not
open a breaker, and in the bundled shop an email outage does not refund a paid, shipped order."""

from sagatui.engine.breaker import BreakerBoard
from sagatui.engine.clock import VirtualClock
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.model.faults import FaultProfile
from sagatui.model.policies import BreakerConfig, CompensationPolicy, RetryPolicy
from sagatui.model.status import BreakerState, SagaStatus
from tests.engine.harness import Hang, rig


def test_attempts_time_out_after_30_seconds_by_default():
    assert RetryPolicy().attempt_timeout == 30.0
    assert CompensationPolicy().attempt_timeout == 30.0


async def test_a_hanging_step_fails_after_its_default_timeout_not_hours_later():
    saga_def = SagaDef.model_validate({"name": "h", "steps": [
        {"name": "book", "action": "hotel.book", "retry": {"max_attempts": 1}}]})
    async with rig(saga_def) as r:
        r.services.script("hotel.book", Hang(6 * 3600))
        saga = await r.engine.run("h", "S1", {})
    assert saga.status is SagaStatus.FAILED
    [failed] = r.events(EventKind.ATTEMPT_FAILED)
    assert failed.error_kind is ErrorKind.TIMEOUT and failed.time == 30.0


async def test_rate_limit_refusals_do_not_trip_a_breaker_by_default():
    clock = VirtualClock()
    clock.start()
    board = BreakerBoard(clock, lambda transition: None, {"api": BreakerConfig(consecutive_failures=2)})
    breaker = board.get("api")
    for _ in range(10):
        breaker.admit()
        breaker.record(ErrorKind.RATE_LIMITED, 0.01)
    assert breaker.state is BreakerState.CLOSED
    for _ in range(2):
        breaker.admit()
        breaker.record(ErrorKind.TRANSIENT, 0.01)
    assert breaker.state is BreakerState.OPEN
    await clock.stop()


async def test_an_email_outage_does_not_refund_a_shipped_order(tmp_path):
    from sagatui.lab import Lab
    from sagatui.packs.bundled import read_pack
    from sagatui.store.database import Store

    source = read_pack("ecommerce")
    async with await Store.open(tmp_path / "shop.db") as store:
        async with Lab(source.pack, source.text, store, seed=1) as lab:
            lab.services.set_fault("email", FaultProfile(mode="offline"), source="test")
            first = source.pack.scenarios["successful_order"].fixed_inputs()[0]
            lab.workload.start_saga("successful_order", dict(first.input))
            await lab.conclude()
        rows = await store.reader_db.execute_fetchall("SELECT status FROM sagas")
        payments = await store.reader_db.execute_fetchall("SELECT status FROM payments")
    assert [tuple(row) for row in rows] == [(SagaStatus.COMPLETED.value,)]
    assert [tuple(row) for row in payments] == [("charged",)]
