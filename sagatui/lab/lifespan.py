"""The App's lifespan (sagatui.code) held around one run in a task of its own: entered and exited in that
same task, as an async context manager (a TaskGroup of the user's servers, an anyio cancel scope) needs.
A lifespan that fails as it starts, while the run goes on, or as it ends, is a LifespanFailed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sagatui.code.errors import LifespanFailed


class HeldLifespan:
    """`await HeldLifespan.enter(...)` once the run exists; `await close()` as it closes."""

    def __init__(self, where: str, on_failure: Callable[[BaseException], None]) -> None:
        self._where = where
        self._on_failure = on_failure
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.state: object = None  # what the lifespan yielded

    @classmethod
    async def enter(cls, lifespan: AbstractAsyncContextManager[object], where: str,
                    on_failure: Callable[[BaseException], None]) -> HeldLifespan:
        """Enter `lifespan` in its own task; LifespanFailed if it raises before it yields. `on_failure` is told
        when it fails later, while the run goes on (a server it started crashed)."""
        held = cls(where, on_failure)
        ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()

        async def hold() -> None:
            async with lifespan as state:
                ready.set_result(state)
                await held._stop.wait()

        held._task = asyncio.ensure_future(hold())
        either: set[asyncio.Future[Any]] = {ready, held._task}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            raise held._failed("as the run opened")
        held.state = ready.result()
        held._task.add_done_callback(held._ended)
        return held

    def _ended(self, task: asyncio.Future[None]) -> None:
        if not self._stop.is_set() and (task.cancelled() or task.exception() is not None):
            self._on_failure(self._failed("while the run went on"))

    async def close(self) -> None:
        """Let the lifespan exit (in its own task); LifespanFailed if it raised."""
        assert self._task is not None
        self._stop.set()
        await asyncio.wait({self._task})
        if self._task.cancelled() or self._task.exception() is not None:
            raise self._failed("as the run closed")

    def _failed(self, when: str) -> LifespanFailed:
        assert self._task is not None and self._task.done()
        error = None if self._task.cancelled() else self._task.exception()
        what = "it was cancelled" if error is None else f"{type(error).__name__}: {error}"
        failed = LifespanFailed(f"{self._where}: its lifespan failed {when}: {what}")
        failed.__cause__ = error
        return failed
