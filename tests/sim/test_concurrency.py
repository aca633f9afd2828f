"""Many sagas racing for a scarce SKU: the in-memory check-and-change never oversells."""

import asyncio

from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.orchestrator import SagaEngine
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.faults import FaultProfile
from sagatui.model.policies import BreakerConfig
from sagatui.store.invariants import check_invariants
from sagatui.store.queries import saga_counts
from tests.sim.conftest import Lab

JITTERY = FaultProfile(mode="latency", latency="50ms", latency_jitter="50ms")


async def test_300_concurrent_reservations_of_3_units_never_oversell(lab: Lab) -> None:
    lab.add("inventory", "inventory", fault=JITTERY, stock={"GPU": 3})
    lab.directory.start()

    async def reserve(number: int) -> bool:
        try:
            await lab.invoke("inventory", "reserve", saga=f"s{number}", items={"GPU": 1})
        except ServiceError as error:
            assert error.kind is ErrorKind.VALIDATION
            return False
        return True

    won = await asyncio.gather(*(reserve(number) for number in range(300)))
    assert won.count(True) == 3
    assert await lab.rows("stock") == [
        {"service": "inventory", "sku": "GPU", "initial": 3, "available": 0, "reserved": 3, "shipped": 0}]
    assert len(await lab.rows("reservations")) == 3


ORDER = SagaDef.model_validate({
    "name": "order",
    "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund"},
        {"name": "ship", "action": "inventory.commit", "compensation": "inventory.restock"},
    ],
})


async def test_300_concurrent_sagas_with_rollbacks_never_oversell(lab: Lab) -> None:
    lab.add("inventory", "inventory", fault=JITTERY, stock={"GPU": 3})
    lab.add("payment", "payment", fault=JITTERY)
    lab.directory.start()
    breakers = BreakerBoard(lab.clock, record_transitions(lab.recorder),
                            {"inventory": BreakerConfig(consecutive_failures=None)})
    engine = SagaEngine(sagas={"order": ORDER}, services=lab.directory, breakers=breakers, clock=lab.clock,
                        recorder=lab.recorder, seed=5)
    declined = "4000-0000-0000-0002"

    async def order(number: int) -> None:
        await lab.clock.sleep(number * 0.005)  # a few dozen in flight at any moment, all racing
        card = declined if number % 3 == 0 else "4242"
        await engine.run("order", f"s{number:03d}", {"items": {"GPU": 1}, "amount": 10.0, "card": card})

    await asyncio.gather(*(order(number) for number in range(300)))
    await lab.writer.flush()
    counts = await saga_counts(lab.store, lab.run_id)
    assert counts["completed"] == 3
    assert counts["completed"] + counts.get("compensated", 0) + counts.get("failed", 0) == 300
    [stock] = await lab.rows("stock")
    assert (stock["available"], stock["reserved"], stock["shipped"]) == (0, 0, 3)
    assert all(result.ok for result in await check_invariants(lab.store, lab.run_id)), \
        await check_invariants(lab.store, lab.run_id)
