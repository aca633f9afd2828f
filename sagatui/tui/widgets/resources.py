"""The resource tables that prove a rollback put everything back, under invariant badges that turn
red the moment a rule breaks. Read from the store (committed rows), never from the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from sagatui.model.status import InvariantState
from sagatui.plain_text import plain
from sagatui.store.invariants import InvariantResult
from sagatui.store.summaries import ACTIVITY_TABLES, ActivityTotal
from sagatui.tui.tones import style
from sagatui.tui.widgets.keyed_table import Column, KeyedTable
from sagatui.tui.widgets.quiet_static import QuietStatic

INVARIANT_LABELS = {
    "stock_conserved": "stock conserved",
    "nothing_leaked": "nothing leaked",
    "charges_refunded": "charges refunded",
    "all_terminal": "all settled",
}

_SECTIONS: dict[str, tuple[str, list[Column]]] = {
    "stock": ("Inventory per SKU", [("service", "service", None), ("sku", "sku", None), ("initial", "initial", None),
                                    ("available", "available", None), ("reserved", "reserved", None),
                                    ("shipped", "shipped", None)]),
    "capacity": ("Capacity", [("service", "service", None), ("capacity", "capacity", None),
                              ("booked", "booked", None), ("free", "free", None)]),
    "balances": ("Balances", [("service", "service", None), ("account", "account", None),
                              ("initial", "initial", None), ("balance", "balance", None)]),
    "activity": ("Payments, refunds, shipments, bookings, …", [
        ("table", "table", None), ("service", "service", None), ("state", "state", None), ("rows", "rows", None),
        ("total", "total", None)]),
    "held": ("Reservations held (newest)", [("reservation", "reservation", 11), ("sku", "sku", None),
                                            ("quantity", "qty", None), ("saga", "saga", 6)]),
}


def _count(value: float | None) -> str:
    """Units, rows, places: whole numbers, whatever type the store handed them over in."""
    return "" if value is None else f"{round(value):,}"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _total(total: ActivityTotal) -> str:
    """A table's total is money where it sums amounts, a count where it sums quantities."""
    return _money(total.total) if ACTIVITY_TABLES[total.table][1] == "amount" else _count(total.total)


def _changed(now: float, initial: float, shown: Callable[[float | None], str] = _count) -> Text:
    """A value that differs from where it started is highlighted: a finished rollback shows none."""
    return Text(shown(now), style="" if now == initial else style("bold warning"))


class InvariantBadges(QuietStatic):
    def show(self, results: list[InvariantResult], in_flight: int, unsettled: bool) -> None:
        """`all settled` only counts as broken once nothing is in flight or uncommitted any more."""
        badges = Text()
        problems: list[str] = []
        for result in results:
            label = INVARIANT_LABELS.get(result.name, result.name)
            if result.state is InvariantState.HELD:  # sagas needing attention still hold something: not ok
                badges.append(f" ! {label}: {len(result.held)} held ", style=style("bold on held"))
                problems.extend(result.held[:2])
            elif result.ok and result.accepted:  # holds once what resolved sagas still hold is accepted
                badges.append(f" ✓ {label} ({len(result.accepted)} resolved) ", style=style("bold on warning"))
            elif result.ok:
                badges.append(f" ✓ {label} ", style=style("bold on ok"))
            elif result.name == "all_terminal" and unsettled:
                badges.append(f" … {in_flight} in flight " if in_flight else " … committing ",
                              style=style("bold on muted"))
            else:
                badges.append(f" ✗ {label} ", style=style("bold on error"))
                problems.extend(result.details[:2])
            badges.append(" ")
        for problem in problems[:3]:
            badges.append("\n" + plain(problem), style=style("held" if "needs attention" in problem else "error"))
        self.update_if_changed(badges, wraps=True)  # more badges than fit a line wrap: its height changes


class ResourcePanel(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield InvariantBadges("checking invariants…", id="invariants")
        for key, (title, columns) in _SECTIONS.items():
            yield Static(title, classes="section-title hidden", id=f"{key}-title")
            yield KeyedTable(columns, cursor=False, id=f"{key}-table", classes="resource-table hidden")

    def show(self, tables: dict[str, list[dict[str, Any]]], activity: list[ActivityTotal],
             held: list[dict[str, Any]]) -> None:
        self._section("stock", {
            f"{r['service']}/{r['sku']}": (r["service"], r["sku"], _count(r["initial"]),
                                           _changed(r["available"], r["initial"]), _changed(r["reserved"], 0),
                                           _changed(r["shipped"], 0))
            for r in tables.get("stock", [])})
        self._section("capacity", {
            r["service"]: (r["service"], _count(r["capacity"]), _changed(r["booked"], 0),
                           _count(r["capacity"] - r["booked"]))
            for r in tables.get("capacity", [])})
        self._section("balances", {
            f"{r['service']}/{r['account']}": (r["service"], r["account"], _money(r["initial"]),
                                               _changed(r["balance"], r["initial"], _money))
            for r in tables.get("balances", [])})
        self._section("activity", {
            f"{t.table}/{t.service}/{t.state}": (t.table, t.service, t.state, _count(t.rows), _total(t))
            for t in activity})
        self._section("held", {  # keyed by position: the newest change on every read, and cells update in place
            str(position): (r["reservation_id"], r["sku"], _count(r["quantity"]), r["saga_id"])
            for position, r in enumerate(held)})

    def _section(self, key: str, rows: dict[str, tuple[Any, ...]]) -> None:
        self.query_one(f"#{key}-title").set_class(not rows, "hidden")
        table = self.query_one(f"#{key}-table", KeyedTable)
        table.set_class(not rows, "hidden")
        table.sync(rows)
