"""The signals that stop sagatui the way Ctrl-C does: SIGINT, SIGTERM (what containers and service managers
send) and SIGHUP (the terminal closed). Each is turned into a request, in the event loop, to stop cleanly:
a headless run's main task is cancelled (its lab records the run as interrupted, resumable), the dashboard
quits as with `q` (and restores the terminal). The process then exits 130, 143 or 129."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from sagatui.exit_codes import ExitCode

T = TypeVar("T")

STOP_SIGNALS = {signal.SIGINT: ExitCode.INTERRUPTED, signal.SIGTERM: ExitCode.TERMINATED,
                signal.SIGHUP: ExitCode.HUNG_UP}  # 128 + the signal's number, as a shell reports a signal's kill


def exit_code(stop: signal.Signals) -> ExitCode:
    return STOP_SIGNALS[stop]


def stopped_message(stop: signal.Signals) -> str:
    """The one line on stderr when a stop signal ended the process."""
    how = "interrupted" if stop is signal.SIGINT else f"interrupted by {stop.name}"
    return f"sagatui: {how}; the database is consistent"


class StopSignals:
    """While installed, the first stop signal calls `on_stop(signal)` in the running loop. Later ones are
    ignored: the stop is under way, and a second Ctrl-C must not cut its final flush short (SIGKILL still
    ends the process; the run is then resumable as after a crash)."""

    def __init__(self, on_stop: Callable[[signal.Signals], object]) -> None:
        self._on_stop = on_stop
        self.received: signal.Signals | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        self._loop = asyncio.get_running_loop()
        for stop in STOP_SIGNALS:
            self._loop.add_signal_handler(stop, self._received, stop)

    def remove(self) -> None:
        if self._loop is not None:
            loop, self._loop = self._loop, None
            for stop in STOP_SIGNALS:
                loop.remove_signal_handler(stop)

    def _received(self, stop: signal.Signals) -> None:
        if self.received is None:
            self.received = stop
            self._on_stop(stop)

    def __enter__(self) -> StopSignals:
        self.install()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.remove()


class Stopped(Exception):
    """A stop signal ended the work (see `run_stoppable`)."""

    def __init__(self, stop: signal.Signals) -> None:
        super().__init__(stopped_message(stop))
        self.signal = stop
        self.exit_code = exit_code(stop)


def run_stoppable(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, a stop signal cancelling it as Ctrl-C does (a lab waiting for its run to settle
    records it as interrupted); raises Stopped once `main` has unwound."""

    async def guarded() -> T:
        task = asyncio.current_task()
        assert task is not None
        with StopSignals(lambda _: task.cancel()) as signals:
            try:
                return await main
            except asyncio.CancelledError:
                if signals.received is None:
                    raise
                raise Stopped(signals.received) from None

    return asyncio.run(guarded())
