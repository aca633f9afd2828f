"""What one run of the shop has: its own database and its two providers, started by the App's lifespan and
found by the operations through the run they are called in (`ShopRun.of(ctx.run)`).

The files sit beside the sagatui database, named after it and the run, and are made afresh each run:
`shop.db` run 3 has `shop-shop-run3.sqlite` (the orders), `shop-payments-run3.sqlite` and
`shop-shipping-run3.sqlite` (each provider's books, requests included). They stay after the run, for a look.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from http_client import JSON, request
from providers import PaymentProvider, ShippingProvider
from serving import ProviderServer
from shop_db import ShopDB

from sagatui import RunInfo


@dataclass(frozen=True)
class RunFiles:
    """The files of one run: the shop's database and each provider's books."""

    shop: Path
    payments: Path
    shipping: Path

    @classmethod
    def of(cls, database: Path, run_id: int) -> RunFiles:
        def named(part: str) -> Path:
            return database.with_name(f"{database.stem}-{part}-run{run_id}.sqlite")

        return cls(named("shop"), named("payments"), named("shipping"))

    def remove(self) -> None:
        for file in (self.shop, self.payments, self.shipping):
            for leftover in (file, file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
                leftover.unlink(missing_ok=True)


@dataclass(frozen=True)
class ShopRun:
    """The shop's resources in one run."""

    info: RunInfo
    files: RunFiles
    db: ShopDB
    payments_url: str
    shipping_url: str

    _live: ClassVar[dict[RunInfo, ShopRun]] = {}  # the runs whose lifespan is open

    @classmethod
    def of(cls, run: RunInfo) -> ShopRun:
        """The resources of `run` (RuntimeError outside its lifespan)."""
        try:
            return cls._live[run]
        except KeyError:
            raise RuntimeError(f"run {run.run_id} of {run.database} has no shop running (no lifespan)") from None

    async def payments(self, method: str, path: str, body: JSON | None = None, *, key: str | None = None) -> JSON:
        return await request(self.payments_url, method, path, body, idempotency_key=key)

    async def shipping(self, method: str, path: str, body: JSON | None = None, *, key: str | None = None) -> JSON:
        return await request(self.shipping_url, method, path, body, idempotency_key=key)


@asynccontextmanager
async def shop_lifespan(run: RunInfo) -> AsyncIterator[ShopRun]:
    """Around one run: fresh files, the shop database open, both providers serving; all closed after."""
    files = RunFiles.of(Path(run.database).resolve(), run.run_id)
    files.remove()
    async with AsyncExitStack() as stack:
        payments = ProviderServer(PaymentProvider(files.payments)).start()
        stack.push_async_callback(asyncio.to_thread, payments.stop)  # it waits for the serving thread
        shipping = ProviderServer(ShippingProvider(files.shipping)).start()
        stack.push_async_callback(asyncio.to_thread, shipping.stop)
        db = await ShopDB.open(files.shop)
        stack.push_async_callback(db.close)
        shop = ShopRun(run, files, db, payments.url, shipping.url)
        ShopRun._live[run] = shop
        stack.callback(ShopRun._live.pop, run, None)
        yield shop
