"""Same definition + seed + inputs gives the same events; concurrency does not change that."""

import asyncio

from sagatui.model.definitions import SagaDef
from tests.engine.harness import Hang, rig, transient

JITTERY = SagaDef.model_validate({"name": "j", "steps": [
    {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
    {"name": "charge", "action": "payment.charge", "compensation": "payment.refund",
     "retry": {"max_attempts": 4, "initial_delay": "1s", "jitter": "full"}},
]})


async def run_many(seed: int) -> list[dict]:
    async with rig(JITTERY, seed=seed) as r:
        for n in range(20):
            r.services.script("inventory.reserve", Hang(n % 3))
            r.services.script("payment.charge", transient(), transient())
        await asyncio.gather(*(r.engine.run("j", f"S{n}", {"n": n}) for n in range(20)))
        return [e.comparable() for e in r.events()]


async def test_same_seed_gives_identical_event_streams():
    assert await run_many(3) == await run_many(3)


async def test_different_seed_gives_different_jitter():
    assert await run_many(3) != await run_many(4)
