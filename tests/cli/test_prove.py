"""`sagatui prove`: every step of a saga broken in every way, in real subprocess runs on real SQLite files,
a killed case by a real SIGKILL of a child process and a real resume."""

import json
import shlex
import sqlite3
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "proofs" / "refund_does_nothing.yaml"

SHAPES = ["fails", "reply_lost", "hangs", "killed"]
UNDO_SHAPES = ["undo_fails_once", "undo_fails", "undo_reply_lost", "undo_killed"]
ORDER = ["reserve_inventory", "charge_payment", "create_shipment", "send_confirmation"]


def cases(report: dict) -> dict[str, dict]:
    (proof,) = report["proofs"]
    return {f"{case['step']}:{case['shape']}": case for case in proof["cases"]}


@pytest.fixture(scope="module")
def order_proof(tmp_path_factory) -> tuple[dict, str]:
    """The JSON matrix of the bundled order saga, proved twice, with one job and with two (the two must be
    alike)."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("prove")
    outputs = []
    for jobs in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "sagatui", "prove", "ecommerce", "--saga", "order", "--format",
                               "json", "--jobs", jobs], capture_output=True, text=True, cwd=folder, timeout=300)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    return json.loads(outputs[0]), outputs[1]


def test_the_bundled_order_saga_proves_clean_in_every_case(order_proof):
    report, _ = order_proof
    assert report["passed"] is True
    found = cases(report)
    (proof,) = report["proofs"]
    assert proof["steps"] == ORDER and proof["baseline"] == "completed"
    assert proof["undos"] == ORDER[:3]  # the email has no undo
    assert sorted(found) == sorted([f"{step}:{shape}" for step in ORDER for shape in SHAPES]
                                   + [f"{step}:{shape}" for step in ORDER[:3] for shape in UNDO_SHAPES])
    assert all(case["broken"] is None and case["reached"] for case in found.values())
    # rolled back as the break demands, and killed-and-resumed ends as the run never killed
    assert found["charge_payment:fails"]["status"] == "compensated"
    assert found["reserve_inventory:fails"]["status"] == "failed"  # nothing done yet to roll back
    assert found["charge_payment:killed"]["status"] == "completed"
    assert found["send_confirmation:fails"]["status"] == "completed"  # optional: the order goes on
    assert all(found[f"{step}:undo_fails_once"]["status"] == "cancelled" for step in ORDER[:3])
    # an undo that fails for good leaves the saga needing attention, holding what it took, listed
    assert found["charge_payment:undo_fails"]["status"] == "needs_attention"
    assert found["charge_payment:undo_fails"]["held"] == ["charge_payment: payment payments PAY-000001 charged"]
    # the email whose reply was lost may have been sent: the pack declares it stays
    assert found["send_confirmation:reply_lost"]["stays"] == [
        "send_confirmation: email messages MSG-000001 (an email cannot be unsent)"]


def test_proving_twice_on_one_core_or_two_gives_the_same_matrix(order_proof):
    report, again = order_proof
    assert json.loads(again) == report


def test_a_refund_that_does_nothing_fails_exactly_the_cases_that_leak_and_one_reproduces(sagatui, tmp_path):
    done = sagatui("prove", str(BROKEN), "--saga", "order", "--format", "json")
    assert done.code == 1, done.err
    report = json.loads(done.out)
    assert report["passed"] is False
    failed = {case_id: case for case_id, case in cases(report).items() if case["broken"]}
    # every case where the charge took effect and its undo "completed": rolled back, or needing attention
    # for the shipment's undo that failed for good (the shipment is held; the charge is a leak); not the
    # charge's own undo failing for good (needing attention, the charge held and listed), nor cases before it
    assert sorted(failed) == sorted([
        "charge_payment:reply_lost", "create_shipment:fails", "create_shipment:reply_lost", "create_shipment:hangs",
        "charge_payment:undo_fails_once", "charge_payment:undo_reply_lost", "charge_payment:undo_killed",
        "create_shipment:undo_fails_once", "create_shipment:undo_reply_lost", "create_shipment:undo_killed",
        "create_shipment:undo_fails"])
    assert all(case["broken"] == "world" for case in failed.values())
    assert failed["create_shipment:undo_fails"]["held"] == ["create_shipment: shipping shipments SHP-000001 created"]
    assert cases(report)["charge_payment:undo_fails"]["held"] == ["charge_payment: payment payments PAY-000001 charged"]
    assert "charge_payment: payment payments PAY-000001 charged still held" in failed["create_shipment:fails"][
        "problems"]

    text = sagatui("prove", str(BROKEN), "--saga", "order")
    assert text.code == 1
    assert "create_shipment:fails: world (compensated)" in text.out
    assert "11 failed" in text.out
    reproduce = next(line.split("reproduce: ", 1)[1] for line in text.out.splitlines()
                     if "reproduce: " in line and "--case create_shipment:fails " in line)
    words = shlex.split(reproduce)
    assert words[:2] == ["sagatui", "prove"]
    again = sagatui(*words[1:])
    assert again.code == 1
    assert "create_shipment:fails: world (compensated)" in again.out and "1 case(s), 1 failed" in again.out
    # the case's run is kept where the command said: run 1 of a file of its own beside prove.db
    assert "kept: run 1 of prove-1.db" in again.out
    with sqlite3.connect(tmp_path / "prove-1.db") as db:
        assert db.execute("SELECT status FROM payments WHERE run_id = 1").fetchall() == [("charged",)]


def test_a_killed_case_dies_by_sigkill_and_its_resumed_run_is_kept(sagatui, tmp_path):
    done = sagatui("prove", "ecommerce", "--saga", "order", "--case", "charge_payment:killed", "--db", "p.db")
    assert done.code == 0, done.out + done.err
    assert "1 case(s), 0 failed" in done.out
    with sqlite3.connect(tmp_path / "p-1.db") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM events ORDER BY seq")]
    assert "run.resumed" in kinds and kinds[-1] == "run.settled"
    assert kinds.index("run.resumed") > kinds.index("attempt.started")


@pytest.mark.parametrize(("args", "words"), [
    (["--saga", "nope"], "has no saga 'nope'"),
    (["--scenario", "nope"], "has no scenario 'nope'"),
    (["--saga", "order", "--case", "charge_payment"], "a case is STEP:SHAPE"),
    (["--saga", "order", "--case", "nope:fails"], "never comes to nope:fails"),
    (["--saga", "order", "--case", "charge_payment[9]:fails"], "never comes to charge_payment[9]:fails"),
    (["--saga", "order", "--case", "send_confirmation:undo_fails"], "never comes to send_confirmation:undo_fails"),
    (["--saga", "order", "--input", "[1]"], "--input is a JSON object"),
    (["--case", "charge_payment:fails"], "need --saga or --scenario"),
])
def test_bad_arguments_are_one_line_and_exit_2(sagatui, args, words):
    done = sagatui("prove", "ecommerce", *args)
    assert done.code == 2
    assert words in done.err and done.err.count("\n") == 1 and "Traceback" not in done.err
