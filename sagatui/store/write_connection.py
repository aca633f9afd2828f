"""The store's one write connection: a stdlib sqlite3 connection living on a thread of its own.

Each use queues one whole function on that thread (`await connection.run(function, *args)`), so a
commit of many statements costs one hop there and back, and uses run in the order they were asked
for. aiosqlite (kept for the readers) hops once per statement and has no public way to run a whole
function in its thread. The connection is opened, used and closed on its thread only, so sqlite3's
same-thread check stays on.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import TypeVar, TypeVarTuple

T = TypeVar("T")
Args = TypeVarTuple("Args")


class WriteConnection:
    """Open with `await WriteConnection.open(path, timeout=...)`; close with `await connection.close()`."""

    def __init__(self, thread: ThreadPoolExecutor, connection: sqlite3.Connection) -> None:
        self._thread = thread
        self._sqlite = connection
        self._closed = False

    @classmethod
    async def open(cls, path: Path, *, timeout: float) -> WriteConnection:
        """Connect in autocommit mode (statements say BEGIN and COMMIT themselves); `timeout` is how
        long a statement waits for another process's lock before SQLITE_BUSY. Raises sqlite3.Error."""
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sagatui-writer")
        try:
            connection = await asyncio.get_running_loop().run_in_executor(
                thread, partial(sqlite3.connect, path, isolation_level=None, timeout=timeout))
        except BaseException:
            thread.shutdown(wait=False)
            raise
        return cls(thread, connection)

    async def run(self, function: Callable[[sqlite3.Connection, *Args], T], *args: *Args) -> T:
        """`function(connection, *args)` run whole on the connection's thread; its result, or what it raised."""
        if self._closed:
            raise RuntimeError("the write connection is closed")
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, partial(function, self._sqlite, *args))

    async def close(self) -> None:
        """Close the connection after every use already queued; closing twice is harmless."""
        if self._closed:
            return
        try:
            await self.run(lambda connection: connection.close())
        finally:
            self._closed = True
            self._thread.shutdown(wait=False)


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """`with transaction(connection):` BEGIN IMMEDIATE (the write lock at once, or SQLITE_BUSY after the
    busy timeout), COMMIT at the end; on any error ROLLBACK and raise the error."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
