"""The live sagas table (filterable by status) and the needs-attention inbox."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.binding import Binding

from sagatui.model.status import SagaStatus
from sagatui.tui.badges import saga_status
from sagatui.tui.messages import OpenTimeline, ResolveSaga, RetryCompensation
from sagatui.tui.saga_board import SagaBoard, SagaRow
from sagatui.tui.widgets.keyed_table import KeyedTable

STATUS_FILTERS: tuple[SagaStatus | None, ...] = (None, *SagaStatus)
SHOWN_SAGAS = 200  # at least the newest this many; older ones are in the store (their timelines still open)


def _step(row: SagaRow) -> Text:
    if row.step is None:
        return Text("")
    return Text(f"↩ {row.step}", style="magenta") if row.undoing else Text(row.step)


def _age(row: SagaRow, now: float) -> Text:
    return Text(f"{row.age(now):.1f}s", style="dim" if row.ended is not None else "")


class _SagaList(KeyedTable):
    """Enter opens the timeline of the saga under the cursor."""

    @on(KeyedTable.RowSelected)
    def _open(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenTimeline(event.row_key.value))


class SagaTable(_SagaList):
    BINDINGS = [
        Binding("enter", "select_cursor", "Timeline", tooltip="open the highlighted saga's timeline"),
        Binding("slash", "next_filter", "Filter", tooltip="next status filter: all, running, compensating, "
                                                           "completed, ..."),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("saga", "saga", 6), ("status", "status", 15), ("step", "step", 22),
                          ("attempts", "att", 3), ("age", "age", 7), ("scenario", "scenario", None)],
                         follow_tail=True, id=id)
        self.status_filter: SagaStatus | None = None

    def show(self, board: SagaBoard, now: float) -> None:
        """Under load the oldest rows are dropped in batches (the table grows to twice SHOWN_SAGAS, then
        is cut back): removing a row reflows the whole screen, so doing it on every tick would not keep up."""
        window = board.rows(self.status_filter, 2 * SHOWN_SAGAS)
        keys = [row.saga_id for row in window]
        oldest = self.oldest_key
        rows = window[keys.index(oldest):] if oldest in keys else window[-SHOWN_SAGAS:]
        self.sync({row.saga_id: (row.saga_id, saga_status(row.status), _step(row), str(row.attempts),
                                 _age(row, now), row.scenario) for row in rows})

    def action_next_filter(self) -> None:
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]


class AttentionTable(_SagaList):
    """Sagas whose rollback did not complete: retry the compensation, or resolve with a note."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Timeline", tooltip="open the highlighted saga's timeline"),
        Binding("t", "retry", "Retry undo", tooltip="run the compensations that did not complete again"),
        Binding("n", "resolve", "Resolve…", tooltip="mark the saga resolved, with a note of what was done "
                                                     "by hand"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("saga", "saga", 6), ("problem", "what did not undo", None), ("age", "age", 7),
                          ("scenario", "scenario", None)], id=id)

    def show(self, board: SagaBoard, now: float) -> None:
        self.sync({row.saga_id: (row.saga_id, Text(row.problem, style="red"), _age(row, now), row.scenario)
                   for row in board.needing_attention()})

    def action_retry(self) -> None:
        if self.selected_key is not None:
            self.post_message(RetryCompensation(self.selected_key))

    def action_resolve(self) -> None:
        if self.selected_key is not None:
            self.post_message(ResolveSaga(self.selected_key))
