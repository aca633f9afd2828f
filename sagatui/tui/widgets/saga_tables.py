"""The live sagas table (filterable by status and by words) and the needs-attention inbox."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widget import Widget

from sagatui.model.durations import format_duration
from sagatui.model.status import SagaStatus
from sagatui.tui.actions import Area, bindings
from sagatui.tui.badges import saga_status
from sagatui.tui.messages import (
    CancelSaga,
    DecideApproval,
    OpenTimeline,
    ProveSaga,
    ResolveMany,
    ResolveSaga,
    RetryCompensation,
    RetryMany,
)
from sagatui.tui.saga_board import SagaBoard, SagaRow
from sagatui.tui.tones import style
from sagatui.tui.widgets.filter_field import open_filter
from sagatui.tui.widgets.keyed_table import KeyedTable

STATUS_FILTERS: tuple[SagaStatus | None, ...] = (None, *SagaStatus)
SHOWN_SAGAS = 200  # the newest; older ones are in the store (and their timelines still open)


def _step(row: SagaRow) -> Text:
    if row.step is None:
        return Text("")
    return Text(f"↩ {row.step}", style=style("undo")) if row.undoing else Text(row.step)


def _age(row: SagaRow, now: float) -> Text:
    return Text(f"{row.age(now):.1f}s", style="dim" if row.ended is not None else "")


class _SagaList(KeyedTable):
    """Enter opens the timeline of the saga under the cursor, `y` copies its id, `/` filters the rows."""

    def saga_of(self, row_key: str) -> str:
        return row_key

    def action_copy(self) -> None:
        key = self.selected_key
        if key is None:
            self.notify("no saga highlighted: nothing copied", severity="warning", timeout=2)
            return
        saga_id = self.saga_of(key)
        self.app.copy_to_clipboard(saga_id)
        self.notify(f"copied {saga_id}", timeout=2)

    def action_edit_filter(self) -> None:
        open_filter(self)

    def action_cancel_saga(self) -> None:
        if self.selected_key is not None:
            self.post_message(CancelSaga(self.saga_of(self.selected_key)))

    def action_decide(self, approve: bool) -> None:
        if self.selected_key is not None:
            self.post_message(DecideApproval(self.saga_of(self.selected_key), approve))

    def action_prove(self) -> None:
        if self.selected_key is not None:
            self.post_message(ProveSaga(self.saga_of(self.selected_key)))

    @on(KeyedTable.RowSelected)
    def _open(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenTimeline(self.saga_of(event.row_key.value)))


class SagaTable(_SagaList):
    """The newest sagas, following the tail like a log: rows are slots, refilled cell by cell, so under
    load the table never adds or removes a row (each of which reflows the whole screen). Moving the
    cursor up freezes the rows on the sagas they show, so the one under the cursor stays put; back on
    the last row, it follows again."""

    BINDINGS = bindings(Area.SAGAS)

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("saga", "saga", 6), ("status", "status", 15), ("step", "step", 22),
                          ("attempts", "att", 3), ("age", "age", 7), ("scenario", "scenario", None)],
                         follow_tail=True, id=id, gives_way="scenario")
        self.status_filter: SagaStatus | None = None
        self.saga_ids: list[str] = []  # the saga in each row, top to bottom
        self._drawn_from: tuple[SagaBoard, float] | None = None  # to draw again when the filter changes

    # The refresher titles this table (its status filter, whether it holds); the border the title is drawn on
    # is the panel's the table sits in, under its filter field (widgets/filter_field.py: TablePanel).
    @property
    def border_title(self) -> str | None:
        return self.parent.border_title if isinstance(self.parent, Widget) else None

    @border_title.setter
    def border_title(self, title: str | None) -> None:
        if isinstance(self.parent, Widget):
            self.parent.border_title = title

    @property
    def following(self) -> bool:
        return self.row_count == 0 or self.cursor_row >= self.row_count - 1

    def saga_of(self, row_key: str) -> str:
        return self.saga_ids[int(row_key)]

    def show(self, board: SagaBoard, now: float) -> None:
        """The newest sagas that pass both filters (of every saga the board holds, not only of those shown),
        following; or the sagas the rows hold, holding."""
        self._drawn_from = board, now
        text_filter = self.text_filter
        if not self.following:
            rows = [row for row in map(board.get, self.saga_ids) if row is not None]
        elif text_filter.everything:
            rows = board.rows(self.status_filter, SHOWN_SAGAS)
        else:
            rows = [row for row in board.rows(self.status_filter, sys.maxsize)
                    if text_filter.matches(row.saga_id, row.status.value, row.step or "", row.scenario)]
            rows = rows[-SHOWN_SAGAS:]
        self.saga_ids = [row.saga_id for row in rows]
        self.sync({str(slot): (row.saga_id, saga_status(row.status), _step(row), str(row.attempts),
                               _age(row, now), row.scenario) for slot, row in enumerate(rows)})

    def action_follow(self) -> None:
        self.move_cursor(row=self.row_count - 1, animate=False)

    def action_next_filter(self) -> None:
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        self.action_follow()  # a new filter follows the newest again

    def refilter(self) -> None:
        """A new text filter follows the newest again, drawn at once (the refresher draws the table only when
        the board, the clock or the status filter moved)."""
        self.action_follow()
        if self._drawn_from is not None:
            self.show(*self._drawn_from)


class AttentionTable(_SagaList):
    """The operator's inbox: sagas waiting for a decision at an approval step (approve or reject), then
    sagas whose rollback did not complete (retry the compensation, or resolve with a note)."""

    BINDINGS = bindings(Area.ATTENTION)

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("saga", "saga", 6), ("problem", "what it needs", None), ("age", "age", 7),
                          ("scenario", "scenario", None)], id=id)
        self._needing: set[str] = set()

    def show(self, board: SagaBoard, now: float) -> None:
        asks, problem = style("bold warning"), style("error")
        rows = {row.saga_id: (row.saga_id, Text(f"{row.problem} · {format_duration(max(0.0, (row.due or now) - now))}"
                                                f" left", style=asks), _age(row, now), row.scenario)
                for row in board.waiting_approval()}
        needing = {row.saga_id: (row.saga_id, Text(row.problem, style=problem), _age(row, now), row.scenario)
                   for row in board.needing_attention()}
        self._needing = set(needing)
        rows.update(needing)
        self.show_rows(rows)

    def action_retry(self) -> None:
        if self.selected_key is not None:
            self.post_message(RetryCompensation(self.selected_key))

    def action_resolve(self) -> None:
        if self.selected_key is not None:
            self.post_message(ResolveSaga(self.selected_key))

    def action_retry_shown(self) -> None:
        self._act_on_shown(RetryMany, "retry")

    def action_resolve_shown(self) -> None:
        self._act_on_shown(ResolveMany, "resolve")

    def _act_on_shown(self, message: Callable[[list[str]], Message], verb: str) -> None:
        """Post `message` for the rows on screen (through the filter) that need attention, not those waiting
        for a decision; with none, say so."""
        chosen = [str(key.value) for key in self.rows if key.value is not None and key.value in self._needing]
        if chosen:
            self.post_message(message(chosen))
        else:
            self.notify(f"no saga needing attention shown: nothing to {verb}", severity="warning", timeout=2)
