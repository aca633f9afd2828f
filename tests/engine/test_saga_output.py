"""A saga's `output` is resolved when it completes and recorded on saga.completed; a step with
references records what they read on step.started; both are shown in the timeline and the JSON."""

import json

from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import SagaEnded, StepStarted
from sagatui.model.status import SagaStatus
from sagatui.tui.timeline import build_timeline
from tests.engine.harness import permanent, rig
from tests.packs import numbered

SHIP = SagaDef.model_validate({"name": "ship", "steps": [
    {"name": "pay", "action": "payment.charge", "compensation": "payment.refund"},
    {"name": "send", "action": "shipping.create_shipment", "params": {"payment": {"ref": "steps.pay.result.payment_id"},
                                                                      "carrier": "dhl"}},
], "output": {"payment": {"ref": "steps.pay.result.payment_id"}, "tracking": {"ref": "steps.send.result.tracking"},
              "missing": {"ref": "steps.send.result.nothing"}, "channel": "web"}})


async def test_a_completed_saga_records_its_output_and_each_step_what_its_references_read():
    async with rig(SHIP) as r:
        r.services.script("payment.charge", {"payment_id": "PAY-7"})
        r.services.script("shipping.create_shipment", {"tracking": "TRK-9"})
        saga = await r.engine.run("ship", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    (completed,) = r.events(EventKind.SAGA_COMPLETED)
    assert completed.payload_as(SagaEnded).output == {"payment": "PAY-7", "tracking": "TRK-9", "missing": None,
                                                       "channel": "web"}
    started = {event.step: event.payload_as(StepStarted).params for event in r.events(EventKind.STEP_STARTED)}
    assert started == {"pay": None, "send": {"payment": "PAY-7"}}  # constants are not repeated
    assert r.services.calls[-1].params["payment"] == "PAY-7"
    lines = [f"{entry.what} {entry.detail}" for entry in build_timeline(r.events()).forward + build_timeline(
        r.events()).ending]
    assert any("with payment=PAY-7" in line for line in lines), lines
    assert any(line.startswith("succeeded") and "-> tracking=TRK-9" in line for line in lines), lines
    assert "completed output payment=PAY-7, tracking=TRK-9, missing=null, channel=web" in lines


async def test_a_saga_that_does_not_complete_records_no_output():
    async with rig(SHIP) as r:
        r.services.script("shipping.create_shipment", permanent())
        saga = await r.engine.run("ship", "S1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert all("output" not in event.data for event in r.events())


async def test_a_saga_without_output_keeps_the_bytes_it_had():
    plain = SagaDef.model_validate({"name": "p", "steps": [{"name": "pay", "action": "payment.charge"}]})
    async with rig(plain) as r:
        await r.engine.run("p", "S1", {})
    assert r.events(EventKind.SAGA_COMPLETED)[0].data == {"status": "completed", "duration": 0.0}
    assert r.events(EventKind.STEP_STARTED)[0].data == {}


LINES = [
    "name: out",                                   # 1
    "services:",                                   # 2
    "  payment: {kind: payment}",                  # 3
    "sagas:",                                      # 4
    "  pay:",                                      # 5
    "    steps:",                                  # 6
    "      - {name: charge, action: payment.charge}",  # 7
    "    output:",                                 # 8
    "      payment: {ref: steps.charge.result.payment_id}",  # 9
    "scenarios:",                                  # 10
    "  one: {saga: pay, inputs: [{amount: 1, card: '4242'}]}",  # 11
]


def test_an_output_reference_that_cannot_find_what_it_names_is_a_load_time_error():
    for text, words in [("      payment: {ref: steps.charge.result.paymnt_id}", "has no field 'paymnt_id'"),
                        ("      payment: {ref: steps.chrage.result.payment_id}", "there is no step 'chrage'"),
                        ("      payment: {ref: 'input.'}", "not a valid JMESPath expression")]:
        problem = numbered.only_problem(numbered.pack_text(LINES, {9: text}), "out.yaml")
        assert (problem.line, problem.field) == (9, "sagas.pay.output.payment"), str(problem)
        assert words in problem.message, str(problem)


def test_run_json_has_each_completed_sagas_output(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sagatui", "run", "ecommerce", "--db", str(tmp_path / "x.db"),
                           "--format", "json"], capture_output=True, text=True, check=True)
    (scenario,) = json.loads(done.stdout)["scenarios"]
    assert scenario["outputs"] == {"S-0001": {"reservation_id": "RES-000001", "payment_id": "PAY-000001",
                                              "tracking_number": "TRK000000001"}}
