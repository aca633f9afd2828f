"""`sagatui saga approve|reject` on a headless run that stopped waiting for people: resilience.yaml's
manager_approval scenario without its scripted decisions stops (exit 1, interrupted) with both sagas
`waiting_approval` in the sagas table; approved, one saga goes on and completes; rejected, the other is
refunded; the run then settles with every invariant holding, each decision recorded as an operator's."""

from __future__ import annotations

import json
from pathlib import Path

from tests.recovery.helpers import ROOT, problems, query, sagatui, undecided_pack

RESILIENCE = ROOT / "scenarios" / "resilience.yaml"


def _status(db: Path, saga_id: str) -> str:
    return str(query(db, "SELECT status FROM sagas WHERE saga_id = ?", saga_id)[0][0])


def _stopped_waiting(tmp_path: Path) -> Path:
    db = tmp_path / "approve.db"
    run = sagatui("run", str(undecided_pack(tmp_path)), "--scenario", "manager_approval", "--db", str(db))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "waiting for an operator's decision: S-0001 at manager_ok, S-0002 at manager_ok" in run.stdout
    assert "approval.requested" in run.stdout and "asks: Keep a deposit over 100.00?" in run.stdout
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    assert [_status(db, saga_id) for saga_id in ("S-0001", "S-0002")] == ["waiting_approval"] * 2
    assert query(db, "SELECT DISTINCT status FROM steps WHERE step = 'manager_ok'") == [("waiting_approval",)]
    return db


async def test_approve_one_reject_the_other_then_the_run_settles(tmp_path: Path) -> None:
    db = _stopped_waiting(tmp_path)
    approved = sagatui("saga", "approve", "S-0001", "--db", str(db), "--note", "known customer")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert "S-0001: completed" in approved.stdout
    assert "1 other saga(s) left unfinished" in approved.stdout
    assert _status(db, "S-0001") == "completed"
    assert _status(db, "S-0002") == "waiting_approval"
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]

    rejected = sagatui("saga", "reject", "S-0002", "--db", str(db), "--note", "over the limit")
    assert rejected.returncode == 0, rejected.stdout + rejected.stderr
    assert "S-0002: compensated" in rejected.stdout
    assert "left unfinished" not in rejected.stdout
    assert query(db, "SELECT status FROM runs") == [("settled",)]
    assert await problems(db) == []
    # each decision recorded twice over: the operator's command, and how the step was decided
    commands = query(db, "SELECT json_extract(data, '$.args.saga_id'), json_extract(data, '$.args.approve'),"
                         " json_extract(data, '$.args.note') FROM events WHERE kind = 'command'"
                         " AND json_extract(data, '$.name') = 'decide_approval' ORDER BY seq")
    assert commands == [("S-0001", 1, "known customer"), ("S-0002", 0, "over the limit")]
    decided = query(db, "SELECT saga_id, json_extract(data, '$.approved'), json_extract(data, '$.by') FROM events"
                        " WHERE kind = 'approval.decided' ORDER BY seq")
    assert decided == [("S-0001", 1, "operator"), ("S-0002", 0, "operator")]
    # asked once each: carried on, a saga does not ask again
    assert len(query(db, "SELECT 1 FROM events WHERE kind = 'approval.requested'")) == 2
    refunds = query(db, "SELECT count(*) FROM refunds")
    assert refunds == [(1,)]


def test_what_cannot_be_decided_is_a_clear_error(tmp_path: Path) -> None:
    db = _stopped_waiting(tmp_path)
    assert sagatui("saga", "approve", "S-0001", "--db", str(db)).returncode == 0
    before = query(db, "SELECT count(*) FROM events")
    for args, said in ((("approve", "S-0001"), "saga S-0001 already ended (completed): nothing to approve"),
                       (("reject", "S-0009"), "run 1 has no saga S-0009")):
        refused = sagatui("saga", *args, "--db", str(db))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert said in refused.stderr
        assert "Traceback" not in refused.stderr
    assert query(db, "SELECT count(*) FROM events") == before  # nothing written


def test_attention_list_names_the_sagas_waiting_for_a_decision(tmp_path: Path) -> None:
    """The alerting hook for scripts sees an operator's whole inbox: a run stopped waiting for people exits 1."""
    db = _stopped_waiting(tmp_path)
    listed = sagatui("attention", "list", "--db", str(db))
    assert listed.returncode == 1, listed.stdout + listed.stderr
    assert "0 saga(s) need attention" in listed.stdout
    assert "2 saga(s) wait for a decision (sagatui saga approve|reject ID)" in listed.stdout
    assert "S-0001  approved_deposit" in listed.stdout and "S-0002  approved_deposit" in listed.stdout
    as_json = json.loads(sagatui("attention", "list", "--db", str(db), "--format", "json").stdout)
    assert as_json["count"] == 0 and [saga["saga_id"] for saga in as_json["waiting_for_decision"]] == [
        "S-0001", "S-0002"]
    for verb, saga_id in (("approve", "S-0001"), ("reject", "S-0002")):
        assert sagatui("saga", verb, saga_id, "--db", str(db)).returncode == 0
    emptied = sagatui("attention", "list", "--db", str(db))
    assert emptied.returncode == 0 and "wait for a decision" not in emptied.stdout
