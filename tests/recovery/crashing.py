"""Run the sagatui CLI and SIGKILL it at a chosen moment (a test helper, started as a subprocess):

    python -m tests.recovery.crashing SPEC sagatui-arguments...

SPEC is `emit:KIND:N` (die as the N-th event of KIND is emitted, before it is queued for commit), or
`commit:N:before` / `commit:N:after` (die inside the N-th COMMIT of the write connection: just before
it runs, or just after it returned, before anyone heard of it).

The kill is a real SIGKILL of a process writing a real SQLite file. The moment is chosen by what the
run is doing rather than by wall time, so the tests can spread the moments over forward steps,
compensations and commits on purpose, and any failure reproduces exactly. Nothing of this is in the
sagatui package: it patches the recorder and the connection from outside.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from sagatui.cli import main
from sagatui.engine.recorder import EventRecorder
from sagatui.model.events import Event
from sagatui.store.write_connection import WriteConnection


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at_emit(kind: str, nth: int) -> None:
    emit, seen = EventRecorder.emit, Counter[str]()

    def emitting(self: EventRecorder, event_kind: Any, **fields: Any) -> Event:
        seen[event_kind.value] += 1
        if event_kind.value == kind and seen[kind] == nth:
            die()
        return emit(self, event_kind, **fields)

    EventRecorder.emit = emitting  # type: ignore[method-assign]


def kill_at_commit(nth: int, when: str) -> None:
    commits = Counter[str]()

    def reached() -> bool:
        """Count a COMMIT about to run; die now if it is the N-th and `when` is before."""
        commits["COMMIT"] += 1
        if commits["COMMIT"] == nth and when == "before":
            die()
        return commits["COMMIT"] == nth

    class Dying:
        """The write connection, dying at the chosen COMMIT."""

        def __init__(self, connection: sqlite3.Connection) -> None:
            self.connection = connection

        def execute(self, sql: str, *args: Any) -> Any:
            last = sql == "COMMIT" and reached()
            cursor = self.connection.execute(sql, *args)
            if last:
                die()
            return cursor

        def __getattr__(self, name: str) -> Any:
            return getattr(self.connection, name)

    # Every write of the store (migrations, new runs, the event writer's commits) is a function run on
    # the write connection's thread.
    run = WriteConnection.run

    async def dying_run(self: WriteConnection, function: Callable[..., Any], *args: Any) -> Any:
        return await run(self, lambda connection, *rest: function(Dying(connection), *rest), *args)

    WriteConnection.run = dying_run  # type: ignore[method-assign]


if __name__ == "__main__":
    spec, arguments = sys.argv[1].split(":"), sys.argv[2:]
    if spec[0] == "emit":
        kill_at_emit(spec[1], int(spec[2]))
    else:
        kill_at_commit(int(spec[1]), spec[2])
    sys.exit(main(arguments))
