"""What one run of the shop has: its own database and its two providers, started by the App's lifespan and
found by the operations through the run they are called in (`ShopRun.of(ctx.run)`).

The files sit beside the sagatui database, named after it and the run: `shop.db` run 3 has `shop-shop-run3.sqlite`
(the orders), `shop-payments-run3.sqlite` and `shop-shipping-run3.sqlite` (each provider's books, requests
included). A new run starts them afresh; a run resumed after a crash (`sagatui resume --code ...`) finds them
as the crash left them, as a real shop and real providers would be. They stay after the run, for a look.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path

from http_client import JSON, request
from providers import PaymentProvider, ShippingProvider
from serving import ProviderServer
from shop_db import ShopDB

from sagatui import RunContext


@dataclass(frozen=True)
class RunFiles:
    """The files of one run: the shop's database and each provider's books."""

    shop: Path
    payments: Path
    shipping: Path
    stamp: Path  # which run of that number made them (see run_stamp)

    @classmethod
    def of(cls, database: Path, run_id: int) -> RunFiles:
        def named(part: str, suffix: str = ".sqlite") -> Path:
            return database.with_name(f"{database.stem}-{part}-run{run_id}{suffix}")

        return cls(named("shop"), named("payments"), named("shipping"), named("shop", ".stamp"))

    def made_for(self, stamp: str) -> None:
        """Start afresh unless the files were made for the run `stamp` names (a resumed run keeps its own)."""
        if self.stamp.is_file() and self.stamp.read_text(encoding="utf-8") == stamp:
            return
        for file in (self.shop, self.payments, self.shipping):
            for leftover in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                leftover.unlink(missing_ok=True)
        self.stamp.write_text(stamp, encoding="utf-8")


def read_rows(file: Path, table: str) -> list[JSON]:
    """The rows of `table` in one of a run's files (the shop's, a provider's books), once the run is over."""
    with closing(sqlite3.connect(file)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]


def run_stamp(run: RunContext) -> str:
    """What tells this run from an earlier run of the same number (its database deleted and made again): when
    sagatui created it, from its `runs` table (RunContext does not say)."""
    with closing(sqlite3.connect(f"file:{run.database}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT started_at FROM runs WHERE id = ?", (run.run_id,)).fetchone()
    return f"run {run.run_id} started at {row[0]!r}" if row else f"run {run.run_id}"


@dataclass(frozen=True)
class ShopRun:
    """The shop's resources in one run."""

    info: RunContext
    files: RunFiles
    db: ShopDB
    payments_url: str
    shipping_url: str

    @classmethod
    def of(cls, run: RunContext) -> ShopRun:
        """The resources of `run`: what the lifespan yielded (RuntimeError outside it)."""
        if not isinstance(run.state, cls):
            raise RuntimeError(f"run {run.run_id} of {run.database} has no shop running (no lifespan)")
        return run.state

    async def payments(self, method: str, path: str, body: JSON | None = None, *, key: str | None = None) -> JSON:
        return await request(self.payments_url, method, path, body, idempotency_key=key)

    async def shipping(self, method: str, path: str, body: JSON | None = None, *, key: str | None = None) -> JSON:
        return await request(self.shipping_url, method, path, body, idempotency_key=key)


@asynccontextmanager
async def shop_lifespan(run: RunContext) -> AsyncIterator[ShopRun]:
    """Around one run: its files (fresh for a new run), the shop database open, both providers serving; all
    closed after."""
    files = RunFiles.of(Path(run.database).resolve(), run.run_id)
    files.made_for(run_stamp(run))
    async with AsyncExitStack() as stack:
        payments = ProviderServer(PaymentProvider(files.payments)).start()
        stack.push_async_callback(asyncio.to_thread, payments.stop)  # it waits for the serving thread
        shipping = ProviderServer(ShippingProvider(files.shipping)).start()
        stack.push_async_callback(asyncio.to_thread, shipping.stop)
        db = await ShopDB.open(files.shop)
        stack.push_async_callback(db.close)
        yield ShopRun(run, files, db, payments.url, shipping.url)  # every call's ctx.run.state
