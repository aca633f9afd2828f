"""The database schema as forward migrations. A database records each version applied; opening it
applies the missing ones in order, and refuses one written by a newer sagatui."""

from __future__ import annotations

APPLICATION_ID = 0x53616761  # "Saga": marks a file as a sagatui database (PRAGMA application_id)
MAX_INTEGER = 2**63 - 1  # the largest SQLite INTEGER: no seed or run id can be larger

_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pack_name TEXT NOT NULL,
    pack_text TEXT NOT NULL,
    pack_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    scenario TEXT,
    clock_mode TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    started_at REAL NOT NULL,
    ended_at REAL,
    status TEXT NOT NULL DEFAULT 'running',
    last_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
    run_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    saga_id TEXT,
    step TEXT,
    service TEXT,
    operation TEXT,
    attempt INTEGER,
    error_kind TEXT,
    message TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    wall_time REAL NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_by_saga ON events (run_id, saga_id, seq);
CREATE INDEX events_by_kind ON events (run_id, kind, seq);

CREATE TABLE sagas (
    run_id INTEGER NOT NULL,
    saga_id TEXT NOT NULL,
    saga TEXT NOT NULL,
    status TEXT NOT NULL,
    current_step TEXT,
    failed_step TEXT,
    input TEXT NOT NULL DEFAULT '{}',
    started_at REAL NOT NULL,
    ended_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    compensations INTEGER NOT NULL DEFAULT 0,
    error_kind TEXT,
    message TEXT,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (run_id, saga_id)
);
CREATE INDEX sagas_by_status ON sagas (run_id, status, started_at);

CREATE TABLE steps (
    run_id INTEGER NOT NULL,
    saga_id TEXT NOT NULL,
    step TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,
    service TEXT,
    operation TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at REAL,
    ended_at REAL,
    error_kind TEXT,
    message TEXT,
    compensation_outcome TEXT,
    compensation_attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, saga_id, step)
);

CREATE TABLE stock (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, sku TEXT NOT NULL,
    initial INTEGER NOT NULL, available INTEGER NOT NULL, reserved INTEGER NOT NULL, shipped INTEGER NOT NULL,
    PRIMARY KEY (run_id, service, sku)
);
CREATE TABLE reservations (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, reservation_id TEXT NOT NULL, sku TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, quantity INTEGER NOT NULL,
    status TEXT NOT NULL,  -- reserved | released | committed
    committed_by TEXT, updated_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, reservation_id, sku)
);
CREATE TABLE payments (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, payment_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, card TEXT NOT NULL, amount REAL NOT NULL,
    status TEXT NOT NULL,  -- charged | refunded
    charged_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, payment_id)
);
CREATE TABLE refunds (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, refund_id TEXT NOT NULL, payment_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, amount REAL NOT NULL, refunded_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, refund_id)
);
CREATE TABLE shipments (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, shipment_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, tracking_number TEXT NOT NULL, region TEXT NOT NULL,
    address TEXT, items TEXT,
    status TEXT NOT NULL,  -- created | cancelled
    created_at REAL NOT NULL, cancelled_at REAL,
    PRIMARY KEY (run_id, service, shipment_id)
);
CREATE TABLE messages (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, message_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, recipient TEXT NOT NULL, template TEXT NOT NULL,
    kind TEXT NOT NULL,  -- message | correction
    corrects TEXT, sent_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, message_id)
);
CREATE TABLE capacity (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, capacity INTEGER NOT NULL, booked INTEGER NOT NULL,
    PRIMARY KEY (run_id, service)
);
CREATE TABLE bookings (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, booking_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, quantity INTEGER NOT NULL,
    status TEXT NOT NULL,  -- booked | cancelled
    booked_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, booking_id)
);
CREATE TABLE accounts (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, account_id TEXT NOT NULL, username TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL,
    status TEXT NOT NULL,  -- active | deleted
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, account_id)
);
CREATE TABLE balances (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, account TEXT NOT NULL,
    initial REAL NOT NULL, balance REAL NOT NULL,
    PRIMARY KEY (run_id, service, account)
);
CREATE TABLE ledger_entries (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, entry_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, account TEXT NOT NULL,
    amount REAL NOT NULL,  -- signed: a debit is negative
    kind TEXT NOT NULL,  -- debit | credit
    reverses TEXT, at REAL NOT NULL,
    PRIMARY KEY (run_id, service, entry_id)
);
CREATE TABLE orders (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, order_id TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, customer TEXT, amount REAL,
    status TEXT NOT NULL,  -- created | cancelled
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, service, order_id)
);
CREATE TABLE idempotency (
    run_id INTEGER NOT NULL, service TEXT NOT NULL, key TEXT NOT NULL,
    saga_id TEXT NOT NULL, step TEXT NOT NULL, operation TEXT NOT NULL, result TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (run_id, service, key)
);
"""

# Each distinct pack text once (10,000 runs of one pack held 10,000 copies: 6.3 GB): a run names its
# pack by hash; runs.pack_text stays, empty, for the readers of version 1 files.
_V2 = """
CREATE TABLE packs (
    hash TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
INSERT OR IGNORE INTO packs (hash, text) SELECT pack_hash, pack_text FROM runs;
UPDATE runs SET pack_text = ''
"""

# A breaker transition names its breaker in its payload (`data.breaker`), no longer in `service` (a breaker
# may guard several services, or none of that name): the events of earlier files are moved over, so that
# they read, resume and play back as new ones do.
_V3 = """
UPDATE events SET data = json_set(data, '$.breaker', service), service = NULL
WHERE kind = 'breaker.transition' AND service IS NOT NULL AND json_extract(data, '$.breaker') IS NULL
"""

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2, 3: _V3}
"""Version -> the SQL that brings the previous version to it. Append only; never edit a shipped one."""

SCHEMA_VERSION = max(MIGRATIONS)

RESOURCE_TABLES = (
    "stock", "reservations", "payments", "refunds", "shipments", "messages", "capacity", "bookings",
    "accounts", "balances", "ledger_entries", "orders", "idempotency",
)
"""Tables a simulated service's effect may write (through RowWrite); every one is scoped by run."""
