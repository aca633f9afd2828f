"""Make the README's screenshots: SVG from the real app (headless), PNG through `rsvg-convert`
(apt-get install librsvg2-bin). Run from the repository root:

    python screenshots/make_screenshots.py [NAME...]    # every shot, or only those named

- main-outage: the board at 200x50 while payment is offline under load: the breaker open and counting
  down to half-open, sagas compensating, resources and invariants live (real-time clock).
- timeline-compensated: the timeline of a saga whose shipment failed after the card was charged.
- resources-held: the resources view after the refund gateway was down during a rollback: the charge
  nobody could refund is held, awaiting an operator, not shown as ok.
- help: the key list.
- metrics-load: the metrics view's charts at 160x50 after the ecommerce load with its two outages.
- light-theme: the sagas view in sagatui-light after the refund gateway was down.
- inbox-approvals: two deposits waiting for a manager, in the attention view's inbox.
- timeline-self-healing: a saga that diagnosed and reset a stuck settlement API between two attempts.
- bulkhead-load: thirty quotes against an engine taking 4 at a time: the bulkhead table full, tries queued.
- fork-compared: `f` in the timeline of a saga undone because shipping was down: the run forked before it with
  shipping back online, side by side with the run.
- own-code: examples/shop (the user's own code over real HTTP) after its busy_day: the sagas, the shop's
  invariants among the badges.
- prove-matrix: `P` on an order of tests/proofs/refund_does_nothing.yaml (a refund that gives nothing back): the
  failure matrix, every case where the charge took effect and was rolled back failing its world check.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList

from sagatui.code.loading import load_app
from sagatui.lab.session import LabSettings
from sagatui.model.status import BreakerState
from sagatui.packs.bundled import read_pack
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.compare import CompareScreen
from sagatui.tui.screens.dialogs import FaultPicker, ServicePicker
from sagatui.tui.screens.proof import ProofMatrix, ProofScreen
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import ScenarioTable

HERE = Path(__file__).resolve().parent


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the app never got there")


def save(app: SagaDashboard, name: str) -> None:
    """Write NAME.svg, and NAME.png from it. rsvg drops leading no-break spaces in a text run, so the
    PNG is made from a copy that uses preserved ordinary spaces instead."""
    svg = app.export_screenshot(title="sagatui")
    (HERE / f"{name}.svg").write_text(svg, encoding="utf-8")
    with tempfile.NamedTemporaryFile("w", suffix=".svg", encoding="utf-8") as for_png:
        for_png.write(svg.replace("&#160;", " ").replace("<svg ", '<svg xml:space="preserve" ', 1))
        for_png.flush()
        subprocess.run(["rsvg-convert", for_png.name, "-o", str(HERE / f"{name}.png")], check=True)
    print(f"screenshots/{name}.svg, screenshots/{name}.png")


def dashboard(folder: str, speed: float | None, pack: str = "ecommerce", theme: str | None = None) -> SagaDashboard:
    source = read_pack(pack)
    return SagaDashboard(LabSettings(source.pack, source.text, source.path, Path(folder) / "shots.db", seed=1,
                                     speed=speed), theme=theme)


async def main_during_an_outage(folder: str) -> None:
    app = dashboard(folder, speed=1.0)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.refresher is not None)
        await pilot.press("l")  # the load generator at the workload's 20 sagas/s
        await pilot.pause(2.0)
        await pilot.press("2")  # payment goes offline

        def breaker_open() -> bool:
            breakers = {breaker.name: breaker for breaker in app.refresher.view.breakers} if app.refresher else {}
            breaker = breakers.get("payment_gateway")
            return breaker is not None and breaker.state is BreakerState.OPEN and breaker.trips >= 2

        await wait_for(pilot, breaker_open)
        await save_settled(app, pilot, "main-outage", 0.6)
        await pilot.press("q")


async def start_scenario(app: SagaDashboard, pilot: Pilot[None], scenario: str) -> None:
    """Start `scenario` from the scenarios view, as a user does."""
    await wait_for(pilot, lambda: app.refresher is not None)
    table = app.main.query_one(ScenarioTable)
    await wait_for(pilot, lambda: table.row_count)
    table.move_cursor(row=table.get_row_index(scenario))
    await pilot.press("enter")


async def save_settled(app: SagaDashboard, pilot: Pilot[None], name: str, settle: float) -> None:
    """Let the panels draw for `settle` seconds, clear the notifications, and save the shot as `name`."""
    await pilot.pause(settle)
    app.clear_notifications()
    await pilot.pause(0.2)
    save(app, name)


async def run_one_saga(app: SagaDashboard, pilot: Pilot[None], scenario: str) -> None:
    """Start `scenario` from the scenarios view and wait until its saga S-0001 ended."""
    await start_scenario(app, pilot, scenario)
    await wait_for(pilot, lambda: app.refresher is not None and (row := app.refresher.board.get("S-0001")) is not None
                   and row.ended is not None)


async def timeline_shot(folder: str, pack: str, scenario: str, status: str, size: tuple[int, int], name: str,
                        keys: tuple[str, ...] = ()) -> None:
    """The timeline of S-0001 of `scenario`, once it ended with `status` (then `keys` pressed)."""
    app = dashboard(folder, speed=None, pack=pack)
    async with app.run_test(size=size) as pilot:
        await run_one_saga(app, pilot, scenario)
        await pilot.press("s", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None
                       and app.screen.timeline.saga.status == status)
        await pilot.press(*keys)
        app.clear_notifications()
        await pilot.pause(0.2)
        save(app, name)
        await pilot.press("escape", "q")


async def timeline_of_a_compensated_saga(folder: str) -> None:
    await timeline_shot(folder, "ecommerce", "shipping_outage_after_payment", "compensated", (100, 44),
                        "timeline-compensated")


async def waterfall_of_a_compensated_saga(folder: str) -> None:
    await timeline_shot(folder, "ecommerce", "shipping_outage_after_payment", "compensated", (100, 20),
                        "waterfall-compensated", ("w",))


async def timeline_of_a_routed_ticket(folder: str) -> None:
    """orchestration's crm_down_quorum_met: a quorum met without the CRM, the switch's branch, the skips."""
    await timeline_shot(folder, "orchestration", "crm_down_quorum_met", "completed_partial", (120, 50),
                        "timeline-routed")


async def resources_with_a_held_charge(folder: str) -> None:
    app = dashboard(folder, speed=None)
    async with app.run_test(size=(120, 36)) as pilot:
        await run_one_saga(app, pilot, "refund_gateway_down")
        await pilot.press("r")
        await wait_for(pilot, lambda: app.refresher is not None and app.refresher.held_invariants)
        await save_settled(app, pilot, "resources-held", 0.5)
        await pilot.press("q")


async def help_screen(folder: str) -> None:
    app = dashboard(folder, speed=None)
    async with app.run_test(size=(100, 44)) as pilot:
        await wait_for(pilot, lambda: app.refresher is not None)
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        save(app, "help")
        await pilot.press("escape", "q")


async def metrics_after_a_load(folder: str) -> None:
    app = dashboard(folder, speed=None)
    async with app.run_test(size=(160, 50)) as pilot:
        await run_one_saga(app, pilot, "load_with_outages")
        await wait_for(pilot, lambda: app.refresher is not None and app.refresher.view.metrics.started == 300
                       and not app.refresher.board.in_flight, timeout=120)
        await pilot.press("m")
        await save_settled(app, pilot, "metrics-load", 1.0)
        await pilot.press("q")


async def sagas_in_the_light_theme(folder: str) -> None:
    app = dashboard(folder, speed=None, theme="sagatui-light")
    async with app.run_test(size=(120, 30)) as pilot:
        await run_one_saga(app, pilot, "refund_gateway_down")
        await pilot.press("s")
        await save_settled(app, pilot, "light-theme", 0.8)
        await pilot.press("q")


async def inbox_waiting_for_decisions(folder: str) -> None:
    """resilience's manager_approval in real time: both deposits wait for a manager (the scenario's own
    decisions come at 2s and 3s), shown in the attention view's inbox."""
    app = dashboard(folder, speed=1.0, pack="resilience")
    async with app.run_test(size=(140, 30)) as pilot:
        await start_scenario(app, pilot, "manager_approval")
        await wait_for(pilot, lambda: app.refresher is not None and len(app.refresher.board.waiting_approval()) == 2)
        await pilot.press("a")
        await save_settled(app, pilot, "inbox-approvals", 0.4)
        await pilot.press("q")


async def timeline_of_a_self_healing_saga(folder: str) -> None:
    """resilience's self_healing: diagnose, the route to reset, the retry that gets through."""
    await timeline_shot(folder, "resilience", "self_healing", "completed", (110, 34), "timeline-self-healing")


async def bulkhead_under_load(folder: str) -> None:
    """resilience's bulkhead in real time: four calls in flight, tries waiting, refusals counted."""
    app = dashboard(folder, speed=1.0, pack="resilience")
    async with app.run_test(size=(160, 40)) as pilot:
        await start_scenario(app, pilot, "bulkhead")

        def full_and_queued() -> bool:
            views = app.refresher.view.bulkheads if app.refresher else []
            return any(view.in_flight == view.max_concurrent and view.queued and view.rejected for view in views)

        await wait_for(pilot, full_and_queued)
        await pilot.press("e")
        await save_settled(app, pilot, "bulkhead-load", 0.3)
        await pilot.press("q")


async def fork_compared(folder: str) -> None:
    """ecommerce's shipping_outage_after_payment, forked before S-0001 with shipping online, beside the run."""
    app = dashboard(folder, speed=None)
    async with app.run_test(size=(110, 36)) as pilot:
        await run_one_saga(app, pilot, "shipping_outage_after_payment")
        await pilot.press("s", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None)
        await pilot.press("f")
        for picker, option in ((ServicePicker, list(app.settings.pack.services).index("shipping")), (FaultPicker, 0)):
            await wait_for(pilot, lambda picker=picker: isinstance(app.screen, picker))
            app.screen.query_one(OptionList).highlighted = option
            await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), timeout=120)
        await save_settled(app, pilot, "fork-compared", 0.3)
        await pilot.press("escape", "q")


async def prove_matrix(folder: str) -> None:
    """The order of the planted-bug pack proved from its row in the sagas view, a leaking case highlighted."""
    app = dashboard(folder, speed=None, pack="tests/proofs/refund_does_nothing.yaml")
    async with app.run_test(size=(120, 40)) as pilot:
        await run_one_saga(app, pilot, "successful_order")
        await pilot.press("s", "P")
        await wait_for(pilot, lambda: isinstance(app.screen, ProofScreen) and app.screen.finished, timeout=300)
        forward = app.screen.query_one("#proof-forward", ProofMatrix)
        forward.move_cursor(row=forward.get_row_index("create_shipment"), column=0)
        await save_settled(app, pilot, "prove-matrix", 0.3)
        await pilot.press("escape", "q")


async def own_code_busy_day(folder: str) -> None:
    """examples/shop (the user's own code, real HTTP on 127.0.0.1) after busy_day (its processor degrading,
    down, losing replies): the sagas it rolled back, and the shop's own invariants among the badges."""
    app_code = load_app(str(HERE.parent / "examples" / "shop" / "app.py"))
    app = SagaDashboard(LabSettings(app_code.pack, app_code.pack_text, None, Path(folder) / "shop.db", seed=1,
                                    speed=None, code=app_code))
    async with app.run_test(size=(180, 45)) as pilot:
        await wait_for(pilot, lambda: app.refresher is not None)
        app.main.query_one(ScenarioTable).focus()  # at this size every view is on screen: the scenarios' takes keys
        await start_scenario(app, pilot, "busy_day")
        await wait_for(pilot, lambda: app.refresher is not None and (last := app.refresher.board.get("S-0030"))
                       is not None and last.ended is not None and not app.refresher.board.in_flight, timeout=120)
        await save_settled(app, pilot, "own-code", 1.0)
        await pilot.press("q")


SHOTS: dict[str, Callable[[str], Awaitable[None]]] = {
    "main-outage": main_during_an_outage,
    "timeline-compensated": timeline_of_a_compensated_saga,
    "waterfall-compensated": waterfall_of_a_compensated_saga,
    "timeline-routed": timeline_of_a_routed_ticket,
    "resources-held": resources_with_a_held_charge,
    "help": help_screen,
    "metrics-load": metrics_after_a_load,
    "light-theme": sagas_in_the_light_theme,
    "inbox-approvals": inbox_waiting_for_decisions,
    "timeline-self-healing": timeline_of_a_self_healing_saga,
    "bulkhead-load": bulkhead_under_load,
    "fork-compared": fork_compared,
    "prove-matrix": prove_matrix,
    "own-code": own_code_busy_day,
}


async def make(names: list[str]) -> None:
    unknown = sorted(set(names) - set(SHOTS))
    if unknown:
        raise SystemExit(f"no shot named {', '.join(unknown)}; the shots: {', '.join(SHOTS)}")
    for name in names or list(SHOTS):
        with tempfile.TemporaryDirectory() as folder:
            await SHOTS[name](folder)


if __name__ == "__main__":
    asyncio.run(make(sys.argv[1:]))
