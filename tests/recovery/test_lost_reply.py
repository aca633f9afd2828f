"""Lost replies on every service: the effect happens, the answer never comes, the caller times out and
tries again with the same idempotency key, and gets the recorded result back. In a 500-saga run,
alone and with the process killed and resumed, no effect happens twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.recovery.helpers import ECOMMERCE, crash, problems, query, sagatui

LOST_SHARE = 0.3


def lost_reply_pack(folder: Path) -> Path:
    """The ecommerce pack with every service losing 30% of its replies (actions and compensations) and a
    500-order load with no scheduled outage to switch the profiles off."""
    pack = yaml.safe_load(ECOMMERCE.read_text(encoding="utf-8"))
    for service in pack["services"].values():
        service["fault"] = {**service.get("fault", {}), "mode": "lost_reply", "error_rate": LOST_SHARE}
    load = pack["scenarios"]["load_with_outages"]
    pack["default_scenario"] = "lost_replies"
    pack["scenarios"] = {"lost_replies": {"description": "500 orders, replies lost everywhere", "saga": load["saga"],
                                          "workload": {**load["workload"], "count": 500},
                                          # lost undo replies leave some sagas needing attention: what they
                                          # hold is `held`, and problems() below checks nothing is broken
                                          "expect": {"invariants": ["stock_conserved", "all_terminal"]}}}
    path = folder / "lost_replies.yaml"
    path.write_text(yaml.safe_dump(pack, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("moment", [None, "emit:attempt.started:450", "emit:compensation.attempt:40",
                                    "commit:400:before"])
async def test_lost_replies_never_duplicate_an_effect(tmp_path: Path, moment: str | None) -> None:
    db, pack = tmp_path / "lost.db", lost_reply_pack(tmp_path)
    arguments = ("run", str(pack), "--scenario", "lost_replies", "--quiet", "--db", str(db))
    if moment is None:
        done = sagatui(*arguments)
    else:
        crash(moment, *arguments)
        done = sagatui("resume", "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr

    assert await problems(db) == []
    lost = dict(query(db, "SELECT service || (CASE WHEN kind = 'compensation.attempt' THEN ' undo' ELSE '' END),"
                          " count(*) FROM events WHERE json_extract(data, '$.code') = 'reply_lost' GROUP BY 1"))
    assert {"inventory", "payment", "shipping", "email", "inventory undo", "payment undo"} <= lost.keys(), lost
