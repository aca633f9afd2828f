"""A run SIGKILLed around a scenario's scheduled changes (`changes:`) and resumed ends as a run never killed:
a change made before the kill is still in force (its options come back from its `service.changed` event,
its rows from the store), and a change still due (or one the kill caught as it was made) comes when the
scenario says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.recovery.helpers import crash, problems, query, sagatui

PACK = """\
name: trips
services:
  seats: {kind: booking, options: {capacity: 2}}
  payment: {kind: payment, fault: {latency: 2s}}
sagas:
  trip:
    steps:
      - {name: charge, action: payment.charge, compensation: payment.refund}
      - {name: book, action: seats.book, compensation: seats.cancel}
scenarios:
  changing:
    description: five charges of 2s each; one card declined from 0.5s, a third seat from 1s
    saga: trip
    changes:
      - {at: 500ms, service: payment, options: {declined_cards: ['4242-4242-4242-4242']}}
      - {at: 1s, service: seats, options: {capacity: 3}}
    inputs:
      - {amount: 1, card: '5555-5555-5555-4444'}
      - {amount: 2, card: '4242-4242-4242-4242'}
      - {amount: 3, card: '5555-5555-5555-4444'}
      - {amount: 4, card: '5555-5555-5555-4444'}
      - {amount: 5, card: '5555-5555-5555-4444'}
    expect:
      statuses: [completed, failed, completed, completed, compensated]
      tables: {booked: {seats: 3}}
"""

# Every saga starts at once (a resume carries on the sagas a run started; it starts none of its own), and
# each charge is answered 2s after it is sent: at 2s in a run never killed, 2s after the resume when the
# kill caught it in flight; after both changes either way. The killed runs are paced to real time, so that
# what happened before the kill is committed (a virtual clock runs ahead of the writer's commits).
MOMENTS = [
    "emit:service.changed:1",  # as the first change is made: not in the log, so it is made again
    "emit:service.changed:2",  # as the second is: the first is in force, the second made again
    "emit:attempt.succeeded:1",  # both made; the declined card's charge still in flight
    "emit:attempt.failed:1",  # as the declined card's charge is answered: sent again, declined again
]


def outcome(db: Path) -> tuple[list[tuple[object, ...]], ...]:
    """The sagas' statuses, why steps failed, the charges made, the changes (when, to what, with which rows)
    and the capacity row."""
    statuses = query(db, "SELECT saga_id, status FROM sagas ORDER BY saga_id")
    # Sent again after the kill, the declined card's charge may have charged before its answer was lost:
    # refunded to be safe (a refund of nothing), the saga ends compensated, not failed.
    statuses = [(saga, "failed" if (saga, status) == ("S-0002", "compensated") else status)
                for saga, status in statuses]
    return (statuses,
            query(db, "SELECT saga_id, step, message FROM events WHERE kind = 'step.failed' ORDER BY saga_id"),
            query(db, "SELECT saga_id, amount, status FROM payments ORDER BY saga_id"),
            [(time, service, json.loads(str(data))) for time, service, data in
             query(db, "SELECT time, service, data FROM events WHERE kind = 'service.changed' ORDER BY seq")],
            query(db, "SELECT capacity, booked FROM capacity"))


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[list[tuple[object, ...]], ...]]:
    folder = tmp_path_factory.mktemp("whole")
    (folder / "trips.yaml").write_text(PACK)
    done = sagatui("run", str(folder / "trips.yaml"), "--db", str(folder / "whole.db"), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "trips.yaml", outcome(folder / "whole.db")


@pytest.mark.parametrize("moment", MOMENTS)
async def test_a_run_killed_around_its_changes_resumes_with_them_in_force(
        tmp_path: Path, moment: str, whole: tuple[Path, tuple[list[tuple[object, ...]], ...]]) -> None:
    pack, expected = whole
    assert expected[1] == [("S-0002", "charge", "card declined"), ("S-0005", "book", "fully booked (0 left, 1 wanted)")]
    assert expected[4] == [(3, 3)]
    db = tmp_path / "killed.db"
    crash(moment, "run", str(pack), "--db", str(db), "--quiet", "--realtime")  # paced: committed as it goes
    assert query(db, "SELECT status FROM runs") == [("running",)]
    before = len(query(db, "SELECT 1 FROM events WHERE kind = 'service.changed'"))

    resumed = sagatui("resume", "--db", str(db), "--quiet")

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
    assert outcome(db) == expected
    assert before == {"emit:service.changed:1": 0, "emit:service.changed:2": 1}.get(moment, 2)
