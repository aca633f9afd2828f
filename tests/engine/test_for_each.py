"""A step with `for_each` runs once per element of a list: `book_seat[0]`, `book_seat[1]`, ..., each its
own call (reading `item` and `index`), result and compensation, `concurrency` at a time. A rollback
undoes exactly the elements that took effect, newest first; a stopped saga carries on the elements
left open and starts none it had not started."""

import pytest

from sagatui.lab.fuzz import compensation_coverage
from sagatui.lab.recovery.rebuild import rebuild_sagas
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import ForEachExpanded
from sagatui.model.status import SagaStatus, StepStatus
from sagatui.packs.loader import load_pack_text
from sagatui.tui.timeline import build_timeline
from tests.engine.harness import Hang, permanent, rig
from tests.packs import numbered

PASSENGERS = [{"name": "Ada", "seat": "1A"}, {"name": "Bo", "seat": "1B"}, {"name": "Cy", "seat": "1C"}]


def trip(concurrency: int = 5) -> SagaDef:
    return SagaDef.model_validate({"name": "trip", "steps": [
        {"name": "book_seat", "action": "airline.book", "compensation": "airline.cancel",
         "for_each": {"field": "passengers"}, "concurrency": concurrency, "retry": {"max_attempts": 1},
         "params": {"passenger": {"ref": "item.name"}, "seat": {"ref": "item.seat"}, "number": {"ref": "index"}},
         "compensation_params": {"cancel_for": {"ref": "item.name"}}},
        {"name": "invoice", "action": "billing.invoice",
         "params": {"seats": {"ref": "steps.book_seat.result[*].seat"}}},
    ]})


async def test_each_element_is_its_own_call_reading_item_and_index():
    async with rig(trip()) as r:
        for passenger in PASSENGERS:
            r.services.script("airline.book", {"id": f"BK-{passenger['name']}", "passenger": passenger["name"],
                                               "seat": passenger["seat"]})
        saga = await r.engine.run("trip", "T1", {"passengers": PASSENGERS})
    assert saga.status is SagaStatus.COMPLETED
    calls = [call for call in r.services.calls if call.operation == "book"]
    assert [(c.step, c.params["passenger"], c.params["seat"], c.params["number"]) for c in calls] == [
        ("book_seat[0]", "Ada", "1A", 0), ("book_seat[1]", "Bo", "1B", 1), ("book_seat[2]", "Cy", "1C", 2)]
    assert len({call.idempotency_key for call in calls}) == 3
    assert r.services.calls[-1].params["seats"] == ["1A", "1B", "1C"]  # the step's result: its elements' results
    (expanded,) = r.events(EventKind.FOR_EACH_EXPANDED)
    assert expanded.step == "book_seat" and expanded.payload_as(ForEachExpanded).items == PASSENGERS
    assert [e.step for e in r.events(EventKind.STEP_SUCCEEDED)][:3] == ["book_seat[0]", "book_seat[1]", "book_seat[2]"]


async def test_a_failed_element_rolls_back_exactly_the_elements_that_took_effect_newest_first():
    async with rig(trip(concurrency=1)) as r:
        r.services.script("airline.book", {"id": "BK-Ada", "passenger": "Ada"}, {"id": "BK-Bo", "passenger": "Bo"},
                          permanent("seat taken"))
        saga = await r.engine.run("trip", "T1", {"passengers": PASSENGERS})
    assert saga.status is SagaStatus.COMPENSATED
    assert saga.failed_step == "book_seat[2]"
    assert r.compensated_steps() == ["book_seat[1]", "book_seat[0]"]
    undo = [call for call in r.services.calls if call.operation == "cancel"]
    assert [call.params["cancel_for"] for call in undo] == ["Bo", "Ada"]  # each undo reads its own element
    assert [call.compensation.forward_result["id"] for call in undo if call.compensation] == ["BK-Bo", "BK-Ada"]
    assert "billing.invoice" not in r.services.actions()
    assert compensation_coverage(r.events()) == []


async def test_once_an_element_failed_no_further_element_starts():
    passengers = [{"name": str(n), "seat": str(n)} for n in range(6)]
    async with rig(trip(concurrency=2)) as r:
        r.services.script("airline.book", Hang(1), permanent("seat taken"))
        saga = await r.engine.run("trip", "T1", {"passengers": passengers})
    assert saga.status is SagaStatus.COMPENSATED
    started = {event.step for event in r.events(EventKind.STEP_STARTED)}
    assert started == {"book_seat[0]", "book_seat[1]"}  # the one under way finished; none started after
    assert r.compensated_steps() == ["book_seat[0]"]
    assert saga.steps["book_seat[5]"].status is StepStatus.PENDING


async def test_concurrency_bounds_the_elements_under_way():
    passengers = [{"name": str(n), "seat": str(n)} for n in range(6)]
    async with rig(trip(concurrency=2)) as r:
        for _ in passengers:
            r.services.script("airline.book", Hang(1))
        await r.engine.run("trip", "T1", {"passengers": passengers})
        finished_at = [event.time for event in r.events(EventKind.STEP_SUCCEEDED) if event.step != "invoice"]
    assert finished_at == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(("saga_input", "words"), [
    ({}, "for_each input.passengers found nothing"),
    ({"passengers": "Ada"}, "found str, not a list"),
])
async def test_a_list_that_is_not_there_fails_the_step_validation_before_any_call(saga_input, words):
    async with rig(trip()) as r:
        saga = await r.engine.run("trip", "T1", saga_input)
    assert saga.status is SagaStatus.FAILED
    assert saga.error is not None and words in saga.error.message
    assert r.services.calls == []


async def test_an_empty_list_runs_no_element_and_the_saga_goes_on():
    async with rig(trip()) as r:
        saga = await r.engine.run("trip", "T1", {"passengers": []})
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["billing.invoice"]
    assert r.services.calls[0].params["seats"] == []


async def test_a_stopped_saga_carries_on_the_open_elements_and_not_the_finished_ones():
    definition = trip(concurrency=1)
    async with rig(definition) as r:
        saga = await r.engine.run("trip", "T1", {"passengers": PASSENGERS})
    events = r.events()
    cut = next(index for index, event in enumerate(events)
               if event.kind is EventKind.ATTEMPT_STARTED and event.step == "book_seat[1]") + 1
    rebuilt = rebuild_sagas({"trip": definition}, events[:cut])["T1"]
    assert rebuilt.saga.fan_outs == {"book_seat": PASSENGERS}
    assert rebuilt.point.calls["book_seat[1]"].resend
    async with rig(definition) as again:
        resumed = await again.engine.continue_saga(rebuilt.saga, rebuilt.point)
    assert resumed.status is SagaStatus.COMPLETED
    assert [call.step for call in again.services.calls] == ["book_seat[1]", "book_seat[2]", "invoice"]
    assert again.events(EventKind.FOR_EACH_EXPANDED) == []
    assert saga.status is SagaStatus.COMPLETED


async def test_the_timeline_names_each_element():
    async with rig(trip()) as r:
        await r.engine.run("trip", "T1", {"passengers": PASSENGERS[:2]})
    lines = [f"{entry.step} {entry.what} {entry.detail}" for entry in build_timeline(r.events()).forward]
    assert "book_seat for each 2 element(s) of input.passengers" in lines, lines
    assert any(line.startswith("book_seat[1] step calls airline.book with passenger=Bo, seat=1B, number=1")
               for line in lines), lines


LINES = [
    "name: fan",                                                      # 1
    "services:",                                                      # 2
    "  payment: {kind: payment}",                                     # 3
    "  email: {kind: notification}",                                  # 4
    "sagas:",                                                         # 5
    "  pay:",                                                         # 6
    "    steps:",                                                     # 7
    "      - name: charge",                                           # 8
    "        action: payment.charge",                                 # 9
    "        compensation: payment.refund",                           # 10
    "        for_each: {field: cards}",                               # 11
    "        params: {card: {ref: item}}",                            # 12
    "      - {name: mail, action: email.send, params: {ids: {ref: 'steps.charge.result[*].payment_id'}}}",  # 13
    "scenarios:",                                                     # 14
    "  one: {saga: pay, inputs: [{amount: 1, cards: ['4242', '5555']}]}",  # 15
]


def test_the_pack_with_a_for_each_loads_and_runs_each_card():
    pack = load_pack_text(numbered.pack_text(LINES), "fan.yaml")
    assert pack.sagas["pay"].steps[0].for_each is not None


@pytest.mark.parametrize(("line", "text", "field", "words"), [
    (11, "        for_each: {ref: steps.mail.result.sent}", "sagas.pay.steps[0].for_each.ref", "runs after this"),
    (13, "      - {name: mail, action: email.send, params: {to: {ref: item.address}}}",
     "sagas.pay.steps[1].params.to", "only in a step with for_each"),
    (11, "        for_each: {field: cards, ref: input.cards}", "sagas.pay.steps[0].for_each", "one of the two"),
])
def test_a_broken_for_each_is_named_by_file_line_and_field(line, text, field, words):
    problem = numbered.only_problem(numbered.pack_text(LINES, {line: text}), "fan.yaml")
    assert (problem.line, problem.field) == (line, field), str(problem)
    assert words in problem.message, str(problem)
