"""A parallel group may hold groups (issue 15 item 9): a nested group's members run with the rest; a
member failing in it fails the saga as any member would, unless an enclosing quorum group decides; a
nested quorum group counts as one member of the group around it. Results nest as the groups do."""

from sagatui.lab.fuzz import compensation_coverage
from sagatui.lab.recovery.rebuild import rebuild_sagas
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import QuorumDecided
from sagatui.model.status import SagaStatus
from sagatui.packs.loader import load_pack_text
from tests.engine.harness import Hang, permanent, rig
from tests.packs import numbered


def trip(outer_quorum: int | None = None, inner_quorum: int | None = None, on_failure: str = "finish") -> SagaDef:
    """Book a flight, a car and, at the same time, lodging: a hotel and a breakfast."""
    lodging: dict = {"name": "lodging", "on_failure": on_failure, "parallel": [
        {"name": "hotel", "action": "hotel.book", "compensation": "hotel.cancel", "retry": {"max_attempts": 1}},
        {"name": "breakfast", "action": "cafe.book", "compensation": "cafe.cancel", "retry": {"max_attempts": 1}},
    ]}
    if inner_quorum is not None:
        lodging["min_successes"] = inner_quorum
    outer: dict = {"name": "bookings", "on_failure": on_failure, "parallel": [
        {"name": "flight", "action": "air.book", "compensation": "air.cancel", "retry": {"max_attempts": 1}},
        lodging,
        {"name": "car", "action": "cars.book", "compensation": "cars.cancel", "retry": {"max_attempts": 1}},
    ]}
    if outer_quorum is not None:
        outer["min_successes"] = outer_quorum
    return SagaDef.model_validate({"name": "trip", "steps": [
        outer,
        {"name": "confirm", "action": "mail.send",
         "params": {"hotel": {"ref": "steps.bookings.result.lodging.hotel.done_by"},
                    "also": {"ref": "steps.lodging.result.breakfast.done_by || 'no breakfast'"}}},
    ]})


async def test_nested_members_run_at_once_and_their_results_nest():
    async with rig(trip()) as r:
        for action in ("air.book", "hotel.book", "cafe.book", "cars.book"):
            r.services.script(action, Hang(1))
        saga = await r.engine.run("trip", "T1", {})
        assert r.clock.now() == 1.0  # the four bookings ran side by side
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.calls[-1].params["hotel"] == "hotel" and r.services.calls[-1].params["also"] == "cafe"


async def test_a_nested_member_failing_rolls_back_everything_that_took_effect():
    async with rig(trip()) as r:
        r.services.script("cafe.book", permanent("no tables"))
        saga = await r.engine.run("trip", "T1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert saga.failed_step == "breakfast"
    assert sorted(r.compensated_steps()) == ["car", "flight", "hotel"]
    assert compensation_coverage(r.events()) == []


async def test_with_cancel_at_every_level_a_nested_failure_stops_them_all():
    async with rig(trip(on_failure="cancel")) as r:
        r.services.script("air.book", Hang(5))
        r.services.script("hotel.book", Hang(5))
        r.services.script("cafe.book", permanent("no tables"))
        r.services.script("cars.book", Hang(5))
        saga = await r.engine.run("trip", "T1", {})
        assert r.clock.now() < 5
    assert saga.status is SagaStatus.COMPENSATED and saga.failed_step == "breakfast"
    assert sorted(r.compensated_steps()) == ["car", "flight", "hotel"]  # in flight: they may have booked


async def test_a_nested_quorum_group_counts_as_one_member_of_the_quorum_around_it():
    async with rig(trip(outer_quorum=2, inner_quorum=2)) as r:
        r.services.script("cafe.book", permanent("no tables"))  # lodging misses its quorum of 2
        saga = await r.engine.run("trip", "T1", {})
    assert saga.status is SagaStatus.COMPLETED_PARTIAL  # flight and car make the outer quorum
    decided = {event.step: event.payload_as(QuorumDecided) for event in r.events(EventKind.GROUP_QUORUM)}
    assert (decided["lodging"].met, decided["lodging"].failed) == (False, ["breakfast"])
    assert (decided["bookings"].met, decided["bookings"].succeeded, decided["bookings"].failed) == (
        True, ["flight", "car"], ["lodging"])
    assert r.compensated_steps() == []  # the failed breakfast had no effect; the hotel was kept


async def test_the_outer_quorum_missed_fails_at_the_first_step_that_failed():
    async with rig(trip(outer_quorum=2)) as r:
        r.services.script("cafe.book", permanent("no tables"))
        r.services.script("cars.book", permanent("no cars"))
        saga = await r.engine.run("trip", "T1", {})
    assert saga.status is SagaStatus.COMPENSATED
    assert saga.failed_step == "breakfast"
    assert sorted(r.compensated_steps()) == ["flight", "hotel"]


async def test_a_stopped_saga_carries_on_inside_the_nested_group():
    definition = trip()
    async with rig(definition) as r:
        r.services.script("hotel.book", Hang(2))
        await r.engine.run("trip", "T1", {})
    events = r.events()
    cut = next(index for index, event in enumerate(events)
               if event.kind is EventKind.STEP_SUCCEEDED and event.step == "hotel")  # the others have ended
    rebuilt = rebuild_sagas({"trip": definition}, events[:cut])["T1"]
    async with rig(definition) as again:
        resumed = await again.engine.continue_saga(rebuilt.saga, rebuilt.point)
    assert resumed.status is SagaStatus.COMPLETED
    assert again.services.actions() == ["hotel.book", "mail.send"]  # the hotel's open call, then on


LINES = [
    "name: nested",                                                   # 1
    "services:",                                                      # 2
    "  payment: {kind: payment}",                                     # 3
    "  email: {kind: notification}",                                  # 4
    "sagas:",                                                         # 5
    "  pay:",                                                         # 6
    "    steps:",                                                     # 7
    "      - name: outer",                                            # 8
    "        parallel:",                                              # 9
    "          - {name: charge, action: payment.charge}",             # 10
    "          - name: inner",                                        # 11
    "            parallel:",                                          # 12
    "              - {name: mail, action: email.send}",               # 13
    "      - {name: after, action: email.send, params: {id: {ref: steps.outer.result.charge.payment_id}}}",  # 14
    "scenarios:",                                                     # 15
    "  one: {saga: pay, inputs: [{amount: 1, card: '4242'}]}",        # 16
]


def test_a_pack_with_nested_groups_loads_and_its_references_are_checked():
    pack = load_pack_text(numbered.pack_text(LINES), "nested.yaml")
    assert [step.name for step in pack.sagas["pay"].all_steps()] == ["charge", "mail", "after"]
    reads_a_sibling = ("              - {name: mail, action: email.send,"
                       " params: {p: {ref: steps.charge.result.payment_id}}}")
    problem = numbered.only_problem(numbered.pack_text(LINES, {13: reads_a_sibling}), "nested.yaml")
    assert (problem.line, problem.field) == (13, "sagas.pay.steps[0].parallel[1].parallel[0].params.p"), str(problem)
    assert "runs at the same time" in problem.message
    problem = numbered.only_problem(numbered.pack_text(
        LINES, {14: "      - {name: after, action: email.send, params: {id: {ref: steps.outer.result.inner.mial}}}"}),
        "nested.yaml")
    assert "'mial' is not one of its members" in problem.message, str(problem)
