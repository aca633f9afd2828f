"""The waterfall's rows, bars and marks, from a saga's events: attempts as bars at their clock times,
a retry's backoff as a labelled gap, a fallback hop and a breaker rejection marked, skipped steps noted,
the compensations after the forward rows; drawn to the width given, at 80 columns as at 200."""

import io

from rich.console import Console

from sagatui.model.definitions import SagaDef
from sagatui.tui.waterfall import build_waterfall, render_waterfall
from tests.engine.harness import Hang, permanent, rig, transient

SAGA = SagaDef.model_validate({"name": "trip", "steps": [
    {"name": "flight", "action": "air.book", "compensation": "air.cancel", "fallbacks": ["backup.book"],
     "retry": {"max_attempts": 2, "initial_delay": "1s"}},
    {"name": "car", "action": "cars.book", "when": {"field": "car", "equals": True}},
    {"name": "charge", "action": "pay.charge"},
]})


async def test_rows_bars_gaps_and_marks_follow_the_events():
    async with rig(SAGA) as r:
        r.services.script("air.book", transient(), transient())
        r.services.script("backup.book", Hang(2))
        r.services.script("pay.charge", permanent())
        await r.engine.run("trip", "T1", {"car": False})
    waterfall = build_waterfall(r.events())
    rows = {row.label: row for row in waterfall.rows}
    assert list(rows) == ["flight", "car", "charge", "↺ flight"]
    flight = rows["flight"]
    assert [(bar.start, bar.end, bar.outcome) for bar in flight.bars] == [
        (0.0, 0.0, "error"), (1.0, 1.0, "error"), (1.0, 3.0, "ok")]
    assert [(gap.start, gap.delay) for gap in flight.gaps] == [(0.0, 1.0)]
    assert [mark.symbol for mark in flight.marks] == ["→"]
    assert rows["car"].note.startswith("condition not met") and not rows["car"].bars
    assert rows["↺ flight"].undo and [bar.outcome for bar in rows["↺ flight"].bars] == ["undo"]
    assert (waterfall.start, waterfall.end) == (0.0, 3.0)


async def test_it_is_drawn_to_the_width_it_is_given():
    async with rig(SAGA) as r:
        r.services.script("air.book", transient())
        await r.engine.run("trip", "T1", {"car": True})
    waterfall = build_waterfall(r.events())
    for width in (80, 200):
        lines = [line.plain for line in render_waterfall(waterfall, width)]
        assert all(len(part) <= width for line in lines for part in line.split("\n")), (width, lines)
        assert lines[-1].split("\n")[-1].strip().endswith("1.000s")  # the axis, to the saga's end
        assert "··1s··" in lines[0]  # the flight's backoff, written in its gap
    console = Console(width=80, record=True, color_system=None, file=io.StringIO())
    console.print(waterfall)
    assert "flight" in console.export_text()
