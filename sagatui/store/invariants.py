"""The run invariants, as SQL over the resource tables: each query returns the rows that break a rule.

- stock_conserved: per SKU, initial = available + reserved + shipped, and the reserved/shipped
  columns match the reservation lines; likewise booked capacity matches the bookings and every
  ledger balance equals its initial value plus its entries.
- nothing_leaked: no compensated, cancelled, failed or needs_attention saga still holds a reservation, an
  unrefunded charge, a live shipment, booking, account or order, or a ledger entry not reversed.
- charges_refunded: every charge of a compensated or cancelled (or needs_attention) saga is refunded exactly
  once; no charge anywhere is refunded more than it was charged.
- all_terminal: every saga of the run reached a terminal status.

Each check ends in one of three states (InvariantState):
- ok: the rule holds. A saga an operator resolved (its compensation failed and they handled it by
  hand, with a note) does not break it: what that saga still holds is listed as accepted, with the note.
- held: the rule holds but for what sagas needing attention still hold (an unrefunded charge, a
  reservation not released), listed as held, awaiting an operator: never reported as ok.
- fail: the rule is broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from sagatui.model.status import TERMINAL_SAGA_STATUSES, InvariantState, SagaStatus
from sagatui.store.database import Store

INVARIANT_NAMES = ("stock_conserved", "nothing_leaked", "charges_refunded", "all_terminal")
_MAX_DETAILS = 20
_ROLLED_BACK = "('compensated', 'failed', 'needs_attention', 'cancelled')"
_TERMINAL = "(" + ", ".join(f"'{status.value}'" for status in sorted(TERMINAL_SAGA_STATUSES)) + ")"


class InvariantResult(BaseModel):
    name: str
    details: list[str]  # one line per problem found (the first few)
    held: list[str] = []  # what sagas needing attention still hold, awaiting an operator (the first few)
    accepted: list[str] = []  # problems of sagas an operator resolved, each with its note (the first few)

    @property
    def state(self) -> InvariantState:
        if self.details:
            return InvariantState.FAIL
        return InvariantState.HELD if self.held else InvariantState.OK

    @property
    def ok(self) -> bool:
        """The rule holds with nothing left awaiting an operator."""
        return self.state is InvariantState.OK

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"name": self.name, "state": self.state.value, "ok": self.ok, "details": self.details}
        if self.held:
            row["held"] = self.held
        if self.accepted:
            row["accepted"] = self.accepted
        return row


def _held(table: str, id_column: str, live: str) -> str:
    return (f"SELECT x.saga_id, x.service, x.{id_column}, x.status FROM {table} x"
            f" JOIN sagas s ON s.run_id = x.run_id AND s.saga_id = x.saga_id"
            f" WHERE x.run_id = :run AND s.status IN {_ROLLED_BACK} AND x.status IN {live}")


_CHECKS: dict[str, list[tuple[str, str]]] = {
    "stock_conserved": [
        ("SELECT service, sku, initial, available, reserved, shipped FROM stock WHERE run_id = :run"
         " AND (initial != available + reserved + shipped OR available < 0 OR reserved < 0 OR shipped < 0)",
         "{0} {1}: initial {2} != available {3} + reserved {4} + shipped {5}"),
        ("SELECT s.service, s.sku, s.reserved, coalesce(r.held, 0), s.shipped, coalesce(r.gone, 0) FROM stock s"
         " LEFT JOIN (SELECT service, sku, sum(CASE status WHEN 'reserved' THEN quantity ELSE 0 END) AS held,"
         " sum(CASE status WHEN 'committed' THEN quantity ELSE 0 END) AS gone FROM reservations"
         " WHERE run_id = :run GROUP BY service, sku) r ON r.service = s.service AND r.sku = s.sku"
         " WHERE s.run_id = :run AND (s.reserved != coalesce(r.held, 0) OR s.shipped != coalesce(r.gone, 0))",
         "{0} {1}: stock says reserved {2}, lines say {3}; stock says shipped {4}, lines say {5}"),
        ("SELECT c.service, c.booked, coalesce(sum(b.quantity), 0) AS held FROM capacity c"
         " LEFT JOIN bookings b ON b.run_id = c.run_id AND b.service = c.service AND b.status = 'booked'"
         " WHERE c.run_id = :run GROUP BY c.service HAVING c.booked != held OR c.booked > c.capacity",
         "{0}: capacity says {1} booked, bookings say {2}"),
        ("SELECT b.service, b.account, b.balance, b.initial + coalesce(sum(e.amount), 0) AS expected FROM balances b"
         " LEFT JOIN ledger_entries e ON e.run_id = b.run_id AND e.service = b.service AND e.account = b.account"
         " WHERE b.run_id = :run GROUP BY b.service, b.account HAVING abs(b.balance - expected) > 1e-6",
         "{0} {1}: balance {2:.2f} != initial + entries {3:.2f}"),
    ],
    "nothing_leaked": [
        (_held("reservations", "reservation_id", "('reserved', 'committed')"),
         "saga {0}: {1} reservation {2} still {3}"),
        (_held("payments", "payment_id", "('charged')"), "saga {0}: {1} payment {2} still {3}"),
        (_held("shipments", "shipment_id", "('created')"), "saga {0}: {1} shipment {2} still {3}"),
        (_held("bookings", "booking_id", "('booked')"), "saga {0}: {1} booking {2} still {3}"),
        (_held("accounts", "account_id", "('active')"), "saga {0}: {1} account {2} still {3}"),
        (_held("orders", "order_id", "('created')"), "saga {0}: {1} order {2} still {3}"),
        ("SELECT e.saga_id, e.service, e.account, sum(e.amount) AS net FROM ledger_entries e"
         " JOIN sagas s ON s.run_id = e.run_id AND s.saga_id = e.saga_id"
         f" WHERE e.run_id = :run AND s.status IN {_ROLLED_BACK}"
         " GROUP BY e.saga_id, e.service, e.account HAVING abs(net) > 1e-6",
         "saga {0}: {1} account {2} still moved by {3:.2f}"),
    ],
    "charges_refunded": [
        ("SELECT p.saga_id, p.service, p.payment_id, p.amount, coalesce(sum(r.amount), 0) AS refunded, s.status"
         " FROM payments p JOIN sagas s ON s.run_id = p.run_id AND s.saga_id = p.saga_id"
         " LEFT JOIN refunds r ON r.run_id = p.run_id AND r.service = p.service AND r.payment_id = p.payment_id"
         " WHERE p.run_id = :run GROUP BY p.service, p.payment_id"
         " HAVING refunded > p.amount + 1e-6"
         " OR (s.status IN ('compensated', 'needs_attention', 'cancelled') AND refunded < p.amount - 1e-6)",
         "saga {0} ({5}): {1} payment {2} of {3:.2f} refunded {4:.2f}"),
    ],
    "all_terminal": [
        (f"SELECT saga_id, status, coalesce('at ' || current_step, 'no step started') FROM sagas"
         f" WHERE run_id = :run AND status NOT IN {_TERMINAL}", "saga {0} is still {1} ({2})"),
    ],
}
assert tuple(_CHECKS) == INVARIANT_NAMES
_PER_SAGA = ("nothing_leaked", "charges_refunded")  # their rows name the saga first: a resolve may accept them
_RESOLVED = "SELECT saga_id, json_extract(data, '$.note') FROM events WHERE run_id = :run AND kind = 'saga.resolved'"
_NEEDING_ATTENTION = f"SELECT saga_id FROM sagas WHERE run_id = :run AND status = '{SagaStatus.NEEDS_ATTENTION.value}'"


async def check_invariants(
    store: Store, run_id: int, names: Iterable[str] = INVARIANT_NAMES,
) -> list[InvariantResult]:
    """Check the named invariants on a run's committed rows."""
    results = []
    owners: _Owners | None = None
    for name in names:
        if name not in _CHECKS:
            raise ValueError(f"unknown invariant {name!r}; known: {', '.join(INVARIANT_NAMES)}")
        problems: list[str] = []
        held: list[str] = []
        accepted: list[str] = []
        for sql, line in _CHECKS[name]:
            rows = await store.reader_db.execute_fetchall(sql, {"run": run_id})
            if rows and name in _PER_SAGA and owners is None:
                owners = await _Owners.read(store, run_id)
            for row in rows:
                if name in _PER_SAGA and owners is not None and row[0] in owners.resolved:
                    accepted.append(f"{line.format(*row)} (resolved: {owners.resolved[row[0]] or 'no note'})")
                elif name in _PER_SAGA and owners is not None and row[0] in owners.needing_attention:
                    held.append(f"{line.format(*row)} (needs attention: awaiting an operator)")
                else:
                    problems.append(line.format(*row))
        results.append(InvariantResult(name=name, details=_first(problems), held=_first(held),
                                       accepted=_first(accepted)))
    return results


class _Owners(BaseModel):
    """The sagas whose leftovers are not a broken rule: resolved by an operator (with their notes), or
    needing attention (held until an operator acts)."""

    resolved: dict[str, str]
    needing_attention: frozenset[str]

    @classmethod
    async def read(cls, store: Store, run_id: int) -> _Owners:
        resolved = {row[0]: row[1] or "" for row in await store.reader_db.execute_fetchall(_RESOLVED, {"run": run_id})}
        attention = await store.reader_db.execute_fetchall(_NEEDING_ATTENTION, {"run": run_id})
        return cls(resolved=resolved, needing_attention=frozenset(row[0] for row in attention))


def _first(lines: list[str]) -> list[str]:
    if len(lines) <= _MAX_DETAILS:
        return lines
    return [*lines[:_MAX_DETAILS], f"... and {len(lines) - _MAX_DETAILS} more"]
