"""Every list's filter field (`/`): the event stream's, and the sagas', scenarios' and needs-attention
tables'. A `FilterPanel` is a list under its field, hidden until `/` opens it with the filter as it is:
Enter applies what was typed, Escape leaves the filter as it was, and either gives the focus back to
the list."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from sagatui.plain_text import plain
from sagatui.tui.actions import Area, bindings
from sagatui.tui.event_filter import FilterError, TextFilter
from sagatui.tui.widgets.keyed_table import KeyedTable


class FilterInput(Input):
    """The filter field: Enter applies, Escape leaves the filter as it was."""

    BINDINGS = bindings(Area.EVENT_FILTER)
    DEFAULT_CSS = """
    FilterInput, FilterInput:focus { height: 1; border: none; padding: 0 1; }
    """

    class Cancelled(Message):
        pass

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())


class FilterPanel(Vertical):
    """A list under its filter field. Subclasses compose the field (a `FilterInput` with the class
    `hidden`) and the list, and say what the filter reads as text and what applying one does."""

    def filter_text(self) -> str:
        """The filter as it is, as the field shows it."""
        raise NotImplementedError

    def apply_filter(self, text: str) -> None:
        """Filter by `text`, as typed; FilterError when it reads as no filter (the field stays open)."""
        raise NotImplementedError

    def filtered(self) -> Widget:
        """The list: the focus goes back to it when the field closes."""
        raise NotImplementedError

    def action_edit_filter(self) -> None:
        field = self.query_one(FilterInput)
        field.value = self.filter_text()
        field.remove_class("hidden")
        field.focus()

    @on(FilterInput.Submitted)
    def _apply_filter(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.apply_filter(event.value)
        except FilterError as error:
            self.notify(str(error), severity="error")
            return
        self._close_filter()

    @on(FilterInput.Cancelled)
    def _cancel_filter(self, event: FilterInput.Cancelled) -> None:
        event.stop()
        self._close_filter()

    def _close_filter(self) -> None:
        self.query_one(FilterInput).add_class("hidden")
        self.filtered().focus()


def open_filter(widget: Widget) -> None:
    """`/` on a list: open the field of the panel it is in."""
    for node in widget.ancestors:
        if isinstance(node, FilterPanel):
            node.action_edit_filter()
            return


def filter_subtitle(text_filter: TextFilter) -> str:
    """A filtered table's panel says so on its bottom border (as markup: the words are the user's)."""
    return "" if text_filter.everything else f"[dim]filter:[/] [b]{escape(plain(str(text_filter)))}[/]"


class TablePanel(FilterPanel):
    """A table under its filter field: the rows that hold every word typed, in any cell."""

    DEFAULT_CSS = """
    TablePanel > KeyedTable { height: 1fr; }
    """

    def __init__(self, table: KeyedTable, *, placeholder: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = table
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=self._placeholder, classes="hidden")
        yield self.table

    def filter_text(self) -> str:
        return str(self.table.text_filter)

    def apply_filter(self, text: str) -> None:
        self.table.filter_by(TextFilter.parse(text))
        self.border_subtitle = filter_subtitle(self.table.text_filter)

    def filtered(self) -> Widget:
        return self.table
