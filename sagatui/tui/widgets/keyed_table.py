"""A DataTable refreshed by keyed diff: `sync()` adds and removes rows and updates only the cells that
changed, so a refresh costs what changed rather than the table's size, and the cursor stays on its row.
One column may give way: in a narrow table its cells end in an ellipsis, so the others show whole.
Every table moves as vim does besides the arrows (j k, g G, ctrl+d ctrl+u: Area.TABLES), and may be
filtered by words (`filter_by`; its `/` is its panel's, see widgets/filter_field.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from sagatui.plain_text import plain, plain_text
from sagatui.tui.actions import Area, bindings
from sagatui.tui.event_filter import TextFilter

Cell = str | Text
NAME_MIN = 7  # a name cut to leave the other columns room keeps this many characters (ellipsis included)
Column = tuple[str, str, int | None]  # key, label, width (None: fit the content)


def _look(cell: Cell) -> object:
    """What a cell looks like. `Text.__eq__` ignores the base style, and a row that only turned dim
    (a saga that ended) must still be redrawn."""
    return (cell.plain, str(cell.style), cell.spans) if isinstance(cell, Text) else cell


def clipped(text: str, width: int) -> str:
    """`text`, its end replaced by an ellipsis when it is longer than `width`."""
    return text if len(text) <= width else text[:width - 1] + "…"


def _shown_as(cell: Cell) -> Text:
    """A cell as the table draws it: plain text (a str cell would be read as markup, and names, SKUs and
    errors come from packs and services), on one line as a str cell would be."""
    return plain_text(cell) if isinstance(cell, Text) else Text(plain(cell), no_wrap=True, end="")


def _width(cell: Cell) -> int:
    return len(cell.plain) if isinstance(cell, Text) else len(cell)


def cell_text(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _same_cells(new: Sequence[Cell], old: Sequence[Cell]) -> bool:
    return len(new) == len(old) and all(_look(a) == _look(b) for a, b in zip(new, old, strict=True))


class KeyedTable(DataTable[Cell]):
    BINDINGS = bindings(Area.TABLES)

    def __init__(
        self, columns: Sequence[Column], *, follow_tail: bool = False, cursor: bool = True, id: str | None = None,
        classes: str | None = None, gives_way: str | None = None,
    ) -> None:
        """`gives_way`: the key of a column (of str cells) cut to what the others leave in a narrow table,
        down to NAME_MIN characters."""
        super().__init__(cursor_type="row" if cursor else "none", id=id, classes=classes)
        self._columns = tuple(columns)
        self._follow_tail = follow_tail
        self._gives_way = [key for key, _, _ in self._columns].index(gives_way) if gives_way else None
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self.text_filter = TextFilter()
        self._unfiltered: dict[str, Sequence[Cell]] = {}  # what `show_rows` was last given
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
        if self._gives_way is not None:
            rows = self._give_way(rows)
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
                        self.update_cell(key, column, _shown_as(new_cell),
                                         update_width=self._auto_width(column))
                self._shown[key] = cells
        for key in added:
            cells = tuple(rows[key])
            self.add_row(*map(_shown_as, cells), key=key)
            self._shown[key] = cells
        self._restore_cursor(selected, at_tail and self._follow_tail)

    def show_rows(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """`sync` the rows that pass the text filter (all of them are kept, to filter again)."""
        self._unfiltered = dict(rows)
        text_filter = self.text_filter
        self.sync(rows if text_filter.everything else
                  {key: cells for key, cells in rows.items() if text_filter.matches(*map(cell_text, cells))})

    def filter_by(self, text_filter: TextFilter) -> None:
        """Show only the rows that hold every word of `text_filter`, from now on."""
        self.text_filter = text_filter
        self.refilter()

    def refilter(self) -> None:
        """Show the rows last shown again, through the filter as it is now."""
        self.show_rows(self._unfiltered)

    def action_half_page(self, direction: int) -> None:
        """ctrl+d / ctrl+u (`direction` 1 / -1): the rows and the cursor move half the table's height."""
        height = self.scrollable_content_region.height - (self.header_height if self.show_header else 0)
        rows = max(1, height // 2)
        self.scroll_relative(y=direction * rows, animate=False, force=True)
        if self.cursor_type != "none" and self.row_count:
            self.move_cursor(row=max(0, min(self.row_count - 1, self.cursor_row + direction * rows)), animate=False)

    def _give_way(self, rows: Mapping[str, Sequence[Cell]]) -> dict[str, Sequence[Cell]]:
        """`rows` with the cells of the column that gives way cut to the room the other columns leave."""
        assert self._gives_way is not None
        room = self.scrollable_content_region.width
        if not room or not rows:
            return dict(rows)  # not laid out yet
        for index, (_, label, width) in enumerate(self._columns):
            if index != self._gives_way:
                room -= width or max(len(label), *(_width(cells[index]) for cells in rows.values()))
        room -= 2 * self.cell_padding * len(self._columns)  # every cell is padded on both sides
        if not self.styles.scrollbar_size_horizontal:
            room += self.cell_padding  # no scrollbar to show it: the last column's blank padding may fall off the edge
        room = max(NAME_MIN, room)
        index = self._gives_way
        return {key: (*cells[:index], clipped(str(cells[index]), room), *cells[index + 1:])
                for key, cells in rows.items()}

    def on_show(self) -> None:
        """Laid out again after being hidden (its view picked). A sync just before the layout scrolled with
        the size the table had while hidden, and Textual moves a scrollbar's thumb only while the scrollbar
        is on show: scroll to the cursor again with the real size, and put the thumb where the rows are."""
        if self.row_count and self.cursor_type != "none":
            self.move_cursor(row=self.cursor_row, animate=False, scroll=True)
        self.vertical_scrollbar.position = self.scroll_y  # even if not shown yet: it may show at the next layout

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
