"""A DataTable refreshed by keyed diff: `sync()` adds and removes rows and updates only the cells that
changed, so a refresh costs what changed rather than the table's size, and the cursor stays on its row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

Cell = str | Text
Column = tuple[str, str, int | None]  # key, label, width (None: fit the content)


def _look(cell: Cell) -> object:
    """What a cell looks like. `Text.__eq__` ignores the base style, and a row that only turned dim
    (a saga that ended) must still be redrawn."""
    return (cell.plain, str(cell.style), cell.spans) if isinstance(cell, Text) else cell


def _same_cells(new: Sequence[Cell], old: Sequence[Cell]) -> bool:
    return len(new) == len(old) and all(_look(a) == _look(b) for a, b in zip(new, old, strict=True))


class KeyedTable(DataTable[Cell]):
    def __init__(
        self, columns: Sequence[Column], *, follow_tail: bool = False, cursor: bool = True, id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(cursor_type="row" if cursor else "none", id=id, classes=classes)
        self._columns = tuple(columns)
        self._follow_tail = follow_tail
        self._shown: dict[str, tuple[Cell, ...]] = {}
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self._shown or not 0 <= self.cursor_row < self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """Show `rows` (key -> cells, in display order). New keys are appended, so when the order of
        rows already shown changes, or most of them go, the table is rebuilt instead."""
        selected = self.selected_key
        at_tail = self.row_count == 0 or self.cursor_row >= self.row_count - 1
        kept = [key for key in self._shown if key in rows]
        added = [key for key in rows if key not in self._shown]
        if kept + added != list(rows) or len(self._shown) - len(kept) > len(kept):
            self.clear()
            self._shown.clear()
            kept, added = [], list(rows)
        for key in [key for key in self._shown if key not in rows]:
            self.remove_row(key)
            del self._shown[key]
        columns = [key for key, _, _ in self._columns]
        for key in kept:
            cells = tuple(rows[key])
            old = self._shown[key]
            if not _same_cells(cells, old):
                for column, new_cell, old_cell in zip(columns, cells, old, strict=True):
                    if _look(new_cell) != _look(old_cell):
                        self.update_cell(key, column, new_cell, update_width=self._auto_width(column))
                self._shown[key] = cells
        for key in added:
            cells = tuple(rows[key])
            self.add_row(*cells, key=key)
            self._shown[key] = cells
        self._restore_cursor(selected, at_tail and self._follow_tail)

    def on_show(self) -> None:
        """Laid out again after being hidden (its view picked). A sync just before the layout scrolled with
        the size the table had while hidden, and Textual moves a scrollbar's thumb only while the scrollbar
        is on show: scroll to the cursor again with the real size, and put the thumb where the rows are."""
        if self.row_count:
            self.move_cursor(row=self.cursor_row, animate=False, scroll=True)
        self.vertical_scrollbar.position = self.scroll_y

    def _auto_width(self, column: str) -> bool:
        return any(key == column and width is None for key, _, width in self._columns)

    def _restore_cursor(self, selected: str | None, to_tail: bool) -> None:
        if not self._shown:
            return
        if to_tail:
            self.move_cursor(row=self.row_count - 1, animate=False, scroll=True)
            return
        if selected is None:
            return
        try:
            row = self.get_row_index(selected)
        except RowDoesNotExist:
            return
        if row != self.cursor_row:
            self.move_cursor(row=row, animate=False, scroll=False)
