"""The saga language over the user's own services: a parallel group, a fallback to another of their
services, a condition and a data reference, built in Python and run as a pack's would be."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

import pytest

import sagatui
from sagatui import parallel, ref, saga, scenario, step
from sagatui.lab.trial import run_trial
from sagatui.packs.errors import PackError


def mail_app(calls: list[str]) -> sagatui.App:
    primary, backup = sagatui.Service("primary"), sagatui.Service("backup")

    @primary.operation
    async def send(ctx: sagatui.CallContext, to: str) -> dict[str, Any]:
        calls.append(f"primary.send {to}")
        raise sagatui.Transient("primary relay down")

    @backup.operation(name="send")
    async def backup_send(ctx: sagatui.CallContext, to: str) -> dict[str, Any]:
        calls.append(f"backup.send {to}")
        return {"message_id": f"M-{to}"}

    @backup.operation
    async def audit(ctx: sagatui.CallContext, message: str, vip: bool) -> dict[str, Any]:
        calls.append(f"backup.audit {message}")
        return {}

    quick = {"max_attempts": 2, "initial_delay": "10ms", "jitter": "none"}
    return sagatui.App("mail", services=[primary, backup], sagas=[saga(
        "notify",
        parallel("tell", step("tell_a", send, params={"to": "a"}, retry=quick, fallbacks=[backup_send]),
                 step("tell_b", send, params={"to": "b"}, retry=quick, fallbacks=["backup.send"])),
        step("audit", audit, params={"message": ref("steps.tell_a.result.message_id")},
             when={"field": "vip", "equals": True}),
    )], scenarios={"vip": scenario("notify", inputs=[{"vip": True}]),
                   "plain": scenario("notify", inputs=[{"vip": False}])})


@pytest.mark.parametrize(("scenario_name", "audited"), [("vip", True), ("plain", False)])
async def test_groups_fallbacks_conditions_and_references(tmp_path: Path, scenario_name: str, audited: bool) -> None:
    calls: list[str] = []
    outcome = await run_trial(mail_app(calls), scenario_name, tmp_path / "d.db")
    assert outcome.statuses == {"S-0001": "completed"}
    assert sorted(calls) == sorted(["primary.send a", "primary.send a", "backup.send a",
                                    "primary.send b", "primary.send b", "backup.send b",
                                    *(["backup.audit M-a"] if audited else [])])


class Sent(TypedDict):
    message_id: str


def test_a_reference_to_a_field_a_typed_result_lacks_is_refused() -> None:
    relay = sagatui.Service("relay")

    @relay.operation
    async def send(ctx: sagatui.CallContext) -> Sent:
        return {"message_id": "M-1"}

    app = sagatui.App("typed", services=[relay], sagas=[saga(
        "s", step("send", send), step("again", send, params={"id": ref("steps.send.result.mesage_id")}))],
        scenarios={"x": scenario("s", inputs=[{}])})
    with pytest.raises(PackError, match=r"the result of send \(relay.send\) has no field 'mesage_id' "
                                        r"\(it has: message_id\)"):
        app.pack  # noqa: B018 (building it checks it)


def test_two_apps_of_the_same_file_name_stay_apart(tmp_path: Path) -> None:
    from sagatui.code.loading import load_app

    apps = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "app.py").write_text(
            f"import sagatui\napp = sagatui.App({folder!r}, services=[], sagas=[], scenarios={{}})\n",
            encoding="utf-8")
        apps.append(load_app(str(tmp_path / folder / "app.py")))
    assert [app.name for app in apps] == ["one", "two"]


async def test_an_invariant_of_the_users_own_may_say_what_is_held(tmp_path: Path) -> None:
    calls: list[str] = []
    app = mail_app(calls)

    @app.invariant
    async def letters_accounted(end: sagatui.RunEnd) -> sagatui.Findings:
        return sagatui.Findings(held=[f"{saga.saga_id} waits for a postman" for saga in end.sagas])

    @app.invariant
    async def raises(end: sagatui.RunEnd) -> list[str]:
        raise RuntimeError("no ledger")

    outcome = await run_trial(app, "plain", tmp_path / "d.db")
    assert outcome.invariants["letters_accounted"] == "held"
    assert outcome.invariants["raises"] == "fail"
    assert "invariant raises: the check raised RuntimeError: no ledger" in outcome.problems()
