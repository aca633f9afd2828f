"""The edges of a real call and of the App's lifespan, each once a way a run went wrong (the diff review)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sagatui
from sagatui import saga, scenario, step
from sagatui.lab.trial import run_trial
from sagatui.model.events import EventKind


def one_step_app(operation: Any, **options: Any) -> sagatui.App:
    return sagatui.App("edges", services=[operation.service], sagas=[saga("s", step("a", operation, **options))],
                       scenarios={"x": scenario("s", inputs=[{}])})


async def test_a_call_cancelled_from_within_fails_its_step(tmp_path: Path) -> None:
    edge = sagatui.Service("edge")

    @edge.operation
    async def awaits_a_cancelled_task(ctx: sagatui.CallContext) -> dict[str, Any]:
        inner = asyncio.ensure_future(asyncio.sleep(10))
        asyncio.get_running_loop().call_soon(inner.cancel)
        await inner
        return {}

    outcome = await run_trial(one_step_app(awaits_a_cancelled_task), "x", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "failed"}  # not left running in a settled run
    failed = next(event for event in outcome.events if event.kind is EventKind.ATTEMPT_FAILED)
    assert failed.error_kind == "unexpected" and "was cancelled from within" in (failed.message or "")


async def test_an_abandoned_call_finishes_its_cleanup_before_the_lifespan_ends(tmp_path: Path) -> None:
    seen: list[str] = []
    edge = sagatui.Service("edge")

    @edge.operation
    async def slow(ctx: sagatui.CallContext) -> dict[str, Any]:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # the user's cleanup after the timeout gave up on it
            seen.append("cleaned up")
            raise
        return {}

    @asynccontextmanager
    async def lifespan(run: sagatui.RunContext) -> AsyncIterator[None]:
        yield
        seen.append("lifespan ended")

    app = one_step_app(slow, retry={"max_attempts": 1, "attempt_timeout": "200ms"})
    app.lifespan = lifespan
    await run_trial(app, "x", tmp_path / "d.db")
    assert seen == ["cleaned up", "lifespan ended"]


async def test_the_lifespan_is_entered_and_exited_in_one_task_and_its_state_reaches_the_calls(tmp_path: Path) -> None:
    tasks: list[object] = []
    edge = sagatui.Service("edge")

    @edge.operation
    async def uses_state(ctx: sagatui.CallContext) -> dict[str, Any]:
        return {"state": ctx.run.state, "resumed": ctx.run.resumed}

    @asynccontextmanager
    async def lifespan(run: sagatui.RunContext) -> AsyncIterator[str]:
        tasks.append(asyncio.current_task())
        async with asyncio.TaskGroup():  # a structure that must be left by the task that entered it
            yield "db-handle"
        tasks.append(asyncio.current_task())

    app = one_step_app(uses_state)
    app.lifespan = lifespan
    outcome = await run_trial(app, "x", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "completed"}
    assert len(tasks) == 2 and tasks[0] is tasks[1]
    answered = next(event for event in outcome.events if event.kind is EventKind.CODE_ANSWERED)
    assert answered.data["result"] == {"state": "db-handle", "resumed": False}


async def test_a_remedy_acts_on_the_fault_sagatui_set_on_the_users_service(tmp_path: Path) -> None:
    edge = sagatui.Service("edge", fault={"mode": "stuck"})

    @edge.operation
    async def works(ctx: sagatui.CallContext) -> dict[str, Any]:
        return {"ok": True}

    app = one_step_app(works, retry={"max_attempts": 3, "initial_delay": "10ms"},
                       remediate={"diagnose": "edge.diagnose", "routes": [{"run": ["edge.reset"]}]})
    outcome = await run_trial(app, "x", tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "completed"}  # reset cleared what was stuck


async def test_a_command_while_a_real_call_is_out_comes_at_the_real_time_passed(tmp_path: Path) -> None:
    from sagatui.lab.commands import StartSaga
    from sagatui.lab.run import Lab
    from sagatui.store.database import Store

    edge = sagatui.Service("edge")

    @edge.operation
    async def takes_half_a_second(ctx: sagatui.CallContext) -> dict[str, Any]:
        await asyncio.sleep(0.5)
        return {}

    app = one_step_app(takes_half_a_second)
    events: list[Any] = []
    async with await Store.open(tmp_path / "d.db") as store:
        lab = Lab(app.pack, app.pack_text, store, code=app)
        lab.bus.add_listener(events.append)
        async with lab:
            lab.apply(StartSaga(saga="s"))
            await asyncio.sleep(0.25)
            lab.submit(StartSaga(saga="s"))  # a key pressed in the dashboard, while the first call is out
            await lab.conclude()
    started = [event.time for event in events if event.kind is EventKind.SAGA_STARTED]
    assert started[0] == 0.0 and 0.2 <= started[1] < 0.5  # not at the last mark's 0.0
