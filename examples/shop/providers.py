"""The shop's two outside providers, a card processor and a carrier: each answers JSON requests (served over HTTP
by serving.py) and keeps its books in its own SQLite file.

Both honour an `Idempotency-Key` header on POST: the first answer to a key is stored with the request it
answered, and a request repeating the key gets that answer again without anything being done twice (the
same key with a different request is refused, 422). 5xx and 429 answers are not stored: they say "try
again". Every request is logged (`requests`), so a test can tell a replayed answer from a fresh one.

    payments:  POST /charges {order_id, amount, card}   -> 201 {charge_id, order_id, amount}; 402 declined;
                                                           429 (Retry-After) to a throttled card's first try
               POST /refunds {charge_id}                -> 201 {refund_id, charge_id, amount}; the same refund
                                                           again (200) for a charge refunded already
               GET  /charges[?order_id=...]             -> {charges: [{..., refunds: [...]}]}
    shipping:  POST /shipments {order_id, address, region} -> 201 {shipment_id, order_id, status}; 422 restricted
               POST /shipments/<id>/cancel               -> 200 {shipment_id, status: cancelled}
               GET  /shipments[?order_id=...]            -> {shipments: [...]}
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]
Answer = tuple[int, JSON]  # an HTTP status and its JSON body
DECLINED_CARDS = frozenset({"4000-0000-0000-0002"})
THROTTLED_CARDS = frozenset({"4000-0000-0000-0429"})  # a first try is told 429, Retry-After: 1
RESTRICTED_REGIONS = frozenset({"antarctica"})

_BOOKS = """
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, request TEXT NOT NULL, status INTEGER NOT NULL,
                                        body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (seq INTEGER PRIMARY KEY, method TEXT NOT NULL, path TEXT NOT NULL,
                                     idempotency_key TEXT, status INTEGER NOT NULL, replayed INTEGER NOT NULL);
"""


class Provider:
    """A provider's books and request handling; the subclasses route their endpoints (`answer`)."""

    name = "provider"
    tables = ""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._lock = threading.Lock()  # one request at a time: a retry racing its first try sees its answer
        self._db = sqlite3.connect(file, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_BOOKS + self.tables)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def handle(self, method: str, target: str, key: str | None, body: JSON) -> Answer:
        """One request, idempotently for a POST with a key: the stored answer, or a new one stored."""
        url = urlsplit(target)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        with self._lock:
            if method != "POST" or not key:
                status, answer = self._answer(method, url.path, body, query, key)
                return self._logged(method, url.path, key, status, answer, replayed=False)
            fingerprint = hashlib.sha256(json.dumps([url.path, body], sort_keys=True).encode()).hexdigest()
            stored = self._db.execute("SELECT request, status, body FROM idempotency WHERE key = ?", (key,)).fetchone()
            if stored is not None and stored["request"] != fingerprint:
                return self._logged(method, url.path, key, 422,
                                    {"error": "idempotency key reused for another request"}, replayed=False)
            if stored is not None:
                return self._logged(method, url.path, key, stored["status"], json.loads(stored["body"]),
                                    replayed=True)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                status, answer = self._answer(method, url.path, body, query, key)
                if status < 500 and status != 429:  # those say "try again": a retry must be served afresh
                    self._db.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?)",
                                     (key, fingerprint, status, json.dumps(answer)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return self._logged(method, url.path, key, status, answer, replayed=False)

    def _answer(self, method: str, path: str, body: JSON, query: dict[str, str], key: str | None) -> Answer:
        try:
            return self.answer(method, path.rstrip("/").split("/")[1:], body, query, key)
        except (KeyError, TypeError, ValueError) as wrong:
            return 400, {"error": f"bad request: {type(wrong).__name__}: {wrong}"}

    def answer(self, method: str, parts: list[str], body: JSON, query: dict[str, str], key: str | None) -> Answer:
        """The answer to one request (`parts`: the path's segments), in the lock and, for a POST with a key,
        in the transaction that stores it."""
        raise NotImplementedError

    def _logged(self, method: str, path: str, key: str | None, status: int, body: JSON, *, replayed: bool) -> Answer:
        self._db.execute("INSERT INTO requests (method, path, idempotency_key, status, replayed)"
                         " VALUES (?, ?, ?, ?, ?)", (method, path, key, status, int(replayed)))
        return status, body

    def _rows(self, sql: str, parameters: Iterable[Any] = ()) -> list[JSON]:
        return [dict(row) for row in self._db.execute(sql, tuple(parameters))]


class PaymentProvider(Provider):
    """A card processor: charges, and refunds of whole charges (one refund per charge, however often asked)."""

    name = "payments"
    tables = """
    CREATE TABLE IF NOT EXISTS charges (charge_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount REAL NOT NULL,
                                        card TEXT NOT NULL, idempotency_key TEXT);
    CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, charge_id TEXT NOT NULL, amount REAL NOT NULL,
                                        idempotency_key TEXT);
    """

    def __init__(self, file: Path, declined_cards: Iterable[str] = DECLINED_CARDS,
                 throttled_cards: Iterable[str] = THROTTLED_CARDS) -> None:
        super().__init__(file)
        self.declined_cards = frozenset(declined_cards)
        self.throttled_cards = frozenset(throttled_cards)
        self._throttled: set[str | None] = set()  # the keys told to slow down once already

    def answer(self, method: str, parts: list[str], body: JSON, query: dict[str, str], key: str | None) -> Answer:
        if method == "POST" and parts == ["charges"]:
            return self._charge(str(body["order_id"]), float(body["amount"]), str(body["card"]), key)
        if method == "POST" and parts == ["refunds"]:
            return self._refund(str(body["charge_id"]), key)
        if method == "GET" and parts == ["charges"]:
            return 200, {"charges": self.charges(query.get("order_id"))}
        return 404, {"error": f"no endpoint {method} /{'/'.join(parts)}"}

    def _charge(self, order_id: str, amount: float, card: str, key: str | None) -> Answer:
        if amount <= 0:
            return 400, {"error": "the amount must be positive"}
        if card in self.declined_cards:
            return 402, {"error": "card declined", "code": "card_declined"}
        if card in self.throttled_cards and key not in self._throttled:
            self._throttled.add(key)
            return 429, {"error": "too many requests for this card", "retry_after": 1}
        charge_id = f"ch_{uuid.uuid4().hex[:12]}"
        self._db.execute("INSERT INTO charges VALUES (?, ?, ?, ?, ?)", (charge_id, order_id, amount, card, key))
        return 201, {"charge_id": charge_id, "order_id": order_id, "amount": amount}

    def _refund(self, charge_id: str, key: str | None) -> Answer:
        charge = self._db.execute("SELECT amount FROM charges WHERE charge_id = ?", (charge_id,)).fetchone()
        if charge is None:
            return 404, {"error": f"no charge {charge_id}"}
        done = self._db.execute("SELECT * FROM refunds WHERE charge_id = ?", (charge_id,)).fetchone()
        if done is not None:  # refunding twice gives the same refund
            return 200, {"refund_id": done["refund_id"], "charge_id": charge_id, "amount": done["amount"]}
        refund_id = f"re_{uuid.uuid4().hex[:12]}"
        self._db.execute("INSERT INTO refunds VALUES (?, ?, ?, ?)", (refund_id, charge_id, charge["amount"], key))
        return 201, {"refund_id": refund_id, "charge_id": charge_id, "amount": charge["amount"]}

    def charges(self, order_id: str | None = None) -> list[JSON]:
        """Every charge (of one order), each with its refunds."""
        where, given = ("WHERE order_id = ?", [order_id]) if order_id else ("", [])
        charges = self._rows(f"SELECT * FROM charges {where} ORDER BY rowid", given)
        for charge in charges:
            charge["refunds"] = self._rows("SELECT * FROM refunds WHERE charge_id = ? ORDER BY rowid",
                                           [charge["charge_id"]])
        return charges


class ShippingProvider(Provider):
    """A carrier: shipments, cancellable (cancelling twice is one cancel); some regions it does not serve."""

    name = "shipping"
    tables = """
    CREATE TABLE IF NOT EXISTS shipments (shipment_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, address TEXT NOT NULL,
                                          region TEXT, status TEXT NOT NULL);
    """

    def __init__(self, file: Path, restricted_regions: Iterable[str] = RESTRICTED_REGIONS) -> None:
        super().__init__(file)
        self.restricted_regions = frozenset(region.lower() for region in restricted_regions)

    def answer(self, method: str, parts: list[str], body: JSON, query: dict[str, str], key: str | None) -> Answer:
        if method == "POST" and parts == ["shipments"]:
            return self._ship(str(body["order_id"]), str(body["address"]), body.get("region"))
        if method == "POST" and len(parts) == 3 and parts[0] == "shipments" and parts[2] == "cancel":
            return self._cancel(parts[1])
        if method == "GET" and parts == ["shipments"]:
            return 200, {"shipments": self.shipments(query.get("order_id"))}
        return 404, {"error": f"no endpoint {method} /{'/'.join(parts)}"}

    def _ship(self, order_id: str, address: str, region: str | None) -> Answer:
        if region is not None and str(region).lower() in self.restricted_regions:
            return 422, {"error": f"restricted delivery region: {region}", "code": "restricted_region"}
        shipment_id = f"shp_{uuid.uuid4().hex[:12]}"
        self._db.execute("INSERT INTO shipments VALUES (?, ?, ?, ?, 'created')",
                         (shipment_id, order_id, address, region))
        return 201, {"shipment_id": shipment_id, "order_id": order_id, "status": "created"}

    def _cancel(self, shipment_id: str) -> Answer:
        found = self._db.execute("SELECT status FROM shipments WHERE shipment_id = ?", (shipment_id,)).fetchone()
        if found is None:
            return 404, {"error": f"no shipment {shipment_id}"}
        self._db.execute("UPDATE shipments SET status = 'cancelled' WHERE shipment_id = ?", (shipment_id,))
        return 200, {"shipment_id": shipment_id, "status": "cancelled"}

    def shipments(self, order_id: str | None = None) -> list[JSON]:
        """Every shipment (of one order)."""
        where, given = ("WHERE order_id = ?", [order_id]) if order_id else ("", [])
        return self._rows(f"SELECT * FROM shipments {where} ORDER BY rowid", given)

