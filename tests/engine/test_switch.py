"""A switch runs exactly one branch: the first case the routed value fits, else the default. The choice
is an event, the other branches' steps are skipped, a rollback undoes only what ran, and a process
that stopped carries on down the branch it had chosen."""

import asyncio

import pytest
from pydantic import ValidationError

from sagatui.lab.recovery.rebuild import rebuild_sagas
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.payloads import BranchChosen, StepSkipped
from sagatui.model.status import SagaStatus, StepStatus
from sagatui.packs.loader import load_pack_text
from sagatui.tui.timeline import build_timeline
from tests.engine.harness import permanent, rig
from tests.packs import numbered


def support(default: bool = True) -> SagaDef:
    """Classify a ticket, then hand it to exactly one desk (compensations undo each step)."""
    return SagaDef.model_validate({"name": "support", "steps": [
        {"name": "classify", "action": "tickets.classify", "compensation": "tickets.unclassify"},
        {"name": "route", "switch": {"ref": "steps.classify.result.category"}, "cases": [
            {"equals": "billing", "steps": [
                {"name": "refund", "action": "payment.refund_ticket", "compensation": "payment.charge_again"},
                {"name": "mail_billing", "action": "email.send"},
            ]},
            {"in": ["outage", "bug"], "steps": [
                {"name": "page", "parallel": [
                    {"name": "page_oncall", "action": "pager.page", "compensation": "pager.resolve"},
                    {"name": "open_incident", "action": "incidents.open", "compensation": "incidents.close"},
                ]},
            ]},
        ], **({"default": [{"name": "queue", "action": "queue.put", "compensation": "queue.remove"}]}
              if default else {})},
        {"name": "close", "action": "tickets.close"},
    ]})


async def run(category: str | None, saga: SagaDef | None = None, **scripts):
    async with rig(saga or support()) as r:
        r.services.script("tickets.classify", {"category": category} if category is not None else {"other": 1})
        for action, outcome in scripts.items():
            r.services.script(action.replace("__", "."), outcome)
        result = await r.engine.run("support", "T1", {})
    return result, r


@pytest.mark.parametrize(("category", "case", "branch", "ran"), [
    ("billing", 0, '"billing"', ["payment.refund_ticket", "email.send"]),
    ("bug", 1, 'in ["outage", "bug"]', ["pager.page", "incidents.open"]),
    ("outage", 1, 'in ["outage", "bug"]', ["pager.page", "incidents.open"]),
    ("praise", None, "default", ["queue.put"]),
])
async def test_exactly_one_branch_runs_and_the_choice_is_recorded(category, case, branch, ran):
    saga, r = await run(category)
    assert saga.status is SagaStatus.COMPLETED
    actions = r.services.actions()
    assert actions[0] == "tickets.classify" and actions[-1] == "tickets.close"
    assert sorted(actions[1:-1]) == sorted(ran)
    (chosen,) = r.events(EventKind.BRANCH_CHOSEN)
    payload = chosen.payload_as(BranchChosen)
    assert (chosen.step, payload.value, payload.case, payload.branch) == ("route", category, case, branch)
    skipped = {event.step for event in r.events(EventKind.STEP_SKIPPED)}
    every_branch_step = {"refund", "mail_billing", "page_oncall", "open_incident", "queue"}
    ran_steps = {name for name, record in saga.steps.items() if record.status is StepStatus.SUCCEEDED}
    assert skipped == every_branch_step - ran_steps
    assert all(event.payload_as(StepSkipped).why() == "not on the branch route chose"
               for event in r.events(EventKind.STEP_SKIPPED))


async def test_a_value_no_case_fits_without_a_default_runs_no_branch():
    saga, r = await run("praise", support(default=False))
    assert saga.status is SagaStatus.COMPLETED
    assert r.services.actions() == ["tickets.classify", "tickets.close"]
    assert r.events(EventKind.BRANCH_CHOSEN)[0].payload_as(BranchChosen).branch == "default"


async def test_a_missing_value_takes_the_default_and_records_null():
    _, r = await run(None)
    payload = r.events(EventKind.BRANCH_CHOSEN)[0].payload_as(BranchChosen)
    assert (payload.value, payload.case, payload.branch) == (None, None, "default")
    assert "value" not in r.events(EventKind.BRANCH_CHOSEN)[0].data


async def test_a_failure_after_the_switch_undoes_only_the_branch_that_ran():
    saga, r = await run("bug", tickets__close=permanent("ticket locked"))
    assert saga.status is SagaStatus.COMPENSATED
    assert sorted(r.compensated_steps()) == ["classify", "open_incident", "page_oncall"]
    assert "queue.remove" not in r.services.actions() and "payment.charge_again" not in r.services.actions()


async def test_a_failure_inside_the_branch_stops_the_saga_there():
    saga, r = await run("billing", email__send=permanent("bounced"))
    assert saga.status is SagaStatus.COMPENSATED
    assert r.compensated_steps() == ["refund", "classify"]
    assert "tickets.close" not in r.services.actions()


async def test_a_stopped_saga_carries_on_down_the_branch_it_chose():
    definition = support()
    _, r = await run("billing")
    events = r.events()
    cut = next(index for index, event in enumerate(events) if event.kind is EventKind.STEP_SUCCEEDED
               and event.step == "refund") + 1
    rebuilt = rebuild_sagas({"support": definition}, events[:cut])["T1"]
    assert rebuilt.saga.branches == {"route": 0}
    async with rig(definition) as again:
        again.services.script("tickets.classify", {"category": "bug"})  # would route elsewhere now
        resumed = await again.engine.continue_saga(rebuilt.saga, rebuilt.point)
    assert resumed.status is SagaStatus.COMPLETED
    assert again.services.actions() == ["email.send", "tickets.close"]
    assert again.events(EventKind.BRANCH_CHOSEN) == []


def test_the_timeline_shows_the_branch_taken_and_why_the_others_were_skipped():
    _, r = asyncio.run(run("bug"))
    lines = [f"{entry.step} {entry.what} {entry.detail}" for entry in build_timeline(r.events()).forward]
    assert 'route branch steps.classify.result.category = "bug" -> in ["outage", "bug"]' in lines, lines
    assert "queue skipped not on the branch route chose" in lines


def test_a_case_needs_exactly_one_test():
    with pytest.raises(ValidationError, match="exactly one of `equals`"):
        SagaDef.model_validate({"name": "s", "steps": [{"name": "r", "switch": {"field": "kind"}, "cases": [
            {"equals": "a", "in": ["b"], "steps": [{"name": "x", "action": "a.b"}]}]}]})


def test_step_names_are_unique_across_branches():
    with pytest.raises(ValidationError, match="duplicate step name 'x'"):
        SagaDef.model_validate({"name": "s", "steps": [{"name": "r", "switch": {"field": "kind"}, "cases": [
            {"equals": "a", "steps": [{"name": "x", "action": "a.b"}]}], "default": [{"name": "x", "action": "a.c"}]}]})


LINES = [
    "name: routing",                                             # 1
    "services:",                                                 # 2
    "  payment: {kind: payment}",                                # 3
    "  email: {kind: notification}",                             # 4
    "sagas:",                                                    # 5
    "  pay:",                                                    # 6
    "    steps:",                                                # 7
    "      - {name: charge, action: payment.charge}",            # 8
    "      - name: route",                                       # 9
    "        switch: {ref: steps.charge.result.amount}",         # 10
    "        cases:",                                            # 11
    "          - equals: 10",                                    # 12
    "            steps:",                                        # 13
    "              - {name: thank, action: email.send}",         # 14
    "        default:",                                          # 15
    "          - {name: warn, action: email.send}",              # 16
    "      - {name: after, action: email.send}",                 # 17
    "scenarios:",                                                # 18
    "  one: {saga: pay, inputs: [{amount: 1, card: '4242'}]}",   # 19
]


def test_the_pack_with_a_switch_loads():
    pack = load_pack_text(numbered.pack_text(LINES, {}), "routing.yaml")
    assert [step.name for step in pack.sagas["pay"].all_steps()] == ["charge", "thank", "warn", "after"]


@pytest.mark.parametrize(("line", "text", "field", "words"), [
    (10, "        switch: {ref: steps.charge.result.amout}", "sagas.pay.steps[1].switch.ref", "no field 'amout'"),
    (10, "        switch: {ref: steps.after.result.sent}", "sagas.pay.steps[1].switch.ref", "runs after this switch"),
    (16, "          - {name: warn, action: email.send, params: {to: {ref: steps.thank.result.id}}}",
     "sagas.pay.steps[1].default[0].params.to", "thank is on another branch of switch route"),
    (14, "              - {name: thank, action: emial.send}", "sagas.pay.steps[1].cases[0].steps[0].action",
     "emial"),
])
def test_a_broken_switch_is_named_by_file_line_and_field(line, text, field, words):
    problem = numbered.only_problem(numbered.pack_text(LINES, {line: text}), "routing.yaml")
    assert (problem.line, problem.field) == (line, field), str(problem)
    assert words in problem.message, str(problem)
