"""Bulk retry and resolve of the needs_attention inbox: fifty orders whose refunds the gateway refused all need
attention; `attention retry --where` without --yes counts them and does nothing; with --yes, one reopening of
the run retries them all with the gateway back, and every one leaves the inbox refunded; --where chooses by
words and `resolve --all` closes what is left with one note."""

from __future__ import annotations

from pathlib import Path

from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants
from tests.recovery.helpers import DUPLICATED, ORDERS, fifty_refunds_refused, query, sagatui


def _inbox(db: Path) -> int:
    return int(query(db, "SELECT count(*) FROM sagas WHERE status = 'needs_attention'")[0][0])


async def test_bulk_retry_of_fifty_then_resolve_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "bulk.db"
    done = sagatui("run", str(fifty_refunds_refused(tmp_path)), "--scenario", "refund_gateway_down", "--quiet",
                   "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert _inbox(db) == ORDERS

    asked = sagatui("attention", "retry", "--all", "--db", str(db))  # not a terminal, no --yes: counted only
    assert asked.returncode == 2, asked.stdout + asked.stderr
    assert f"would retry {ORDERS} saga(s) of run 1: S-0001, S-0002" in asked.stderr and "--yes" in asked.stderr
    assert _inbox(db) == ORDERS and query(db, "SELECT count(*) FROM events WHERE kind = 'command'"
                                              " AND json_extract(data, '$.name') = 'retry_compensation'") == [(0,)]

    few = sagatui("attention", "retry", "--where", "S-004", "--yes", "--db", str(db))  # S-0040 .. S-0049
    assert few.returncode == 0, few.stdout + few.stderr
    assert "retry: 10 saga(s), 10 out of the inbox, 0 still needing attention" in few.stdout
    assert _inbox(db) == ORDERS - 10

    retried = sagatui("attention", "retry", "--all", "--yes", "--db", str(db))
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"retry: {ORDERS - 10} saga(s), {ORDERS - 10} out of the inbox, 0 still needing attention" in retried.stdout
    assert _inbox(db) == 0
    assert query(db, "SELECT count(*) FROM refunds") == [(ORDERS,)]  # each charge refunded, once
    assert query(db, "SELECT count(*) FROM events WHERE kind = 'command'"
                     " AND json_extract(data, '$.name') = 'retry_compensation'") == [(ORDERS,)]
    async with await Store.open(db, read_only=True) as store:
        assert all(result.ok for result in await check_invariants(store, 1))  # nothing held any more
    for what, sql in DUPLICATED.items():  # (problems() is for runs that ended: a retry comes after run.settled)
        assert query(db, sql.replace(":run", "1")) == [], what

    nothing = sagatui("attention", "resolve", "--all", "--yes", "--note", "x", "--db", str(db))
    assert nothing.returncode == 0 and "nothing to resolve" in nothing.stdout


def test_bulk_resolve_and_bad_requests(tmp_path: Path) -> None:
    db = tmp_path / "bulk.db"
    done = sagatui("run", str(fifty_refunds_refused(tmp_path)), "--scenario", "refund_gateway_down", "--quiet",
                   "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    resolved = sagatui("attention", "resolve", "--all", "--yes", "--note", "refunded by hand", "--db", str(db))
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert _inbox(db) == 0
    notes = query(db, "SELECT DISTINCT json_extract(data, '$.note') FROM events WHERE kind = 'saga.resolved'")
    assert notes == [("refunded by hand",)]
    for args in (("retry", "S-0001", "--all"), ("show", "--all"), ("resolve", "--all")):
        refused = sagatui("attention", *args, "--db", str(db))
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
