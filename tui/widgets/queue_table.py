"""The queue's table: a `DataTable` that remembers how it drew each row across reloads.

The queue is read again every time the officer comes back to it, and a `DataTable` forgets
every row it has drawn whenever a row is added: drawing the twenty visible rows again cost
about 10 ms of the `escape` back to the queue, although most rows come back unchanged and
in the same place. This table keeps each drawn row line keyed by what decides how it looks
(its text and styles, its position, whether the cursor is on it, the table's styles and
widths), so only the rows that did change or move are drawn again; `down` reuses the lines
of rows the cursor has been on before. Nothing else about the table differs.
"""

from __future__ import annotations

from rich.text import Text
from textual.cache import LRUCache
from textual.widgets import DataTable

DRAWN_LINES = 256  # a few pages of rows, each with and without the cursor


def _looks(cell) -> tuple:
    """What decides how a cell looks, as a key."""
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), cell.justify, tuple((s.start, s.end, str(s.style)) for s in cell.spans))
    return (type(cell).__name__, str(cell))


class QueueTable(DataTable):
    """A `DataTable` whose drawn rows outlive `clear` and `add_row`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._drawn: LRUCache = LRUCache(DRAWN_LINES)
        self._looks: dict = {}

    def add_row(self, *cells, height: int | None = 1, key: str | None = None, label=None):
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        self._looks[row_key] = tuple(_looks(cell) for cell in cells) + (height, _looks(label))
        return row_key

    def remove_row(self, row_key) -> None:
        super().remove_row(row_key)
        self._looks.pop(row_key, None)

    def update_cell(self, row_key, column_key, value, *, update_width: bool = False) -> None:
        super().update_cell(row_key, column_key, value, update_width=update_width)
        self._looks.pop(row_key, None)  # drawn afresh from now on (a row key equals its string)

    def clear(self, columns: bool = False):
        self._looks = {}
        if columns:
            self._drawn.clear()
        return super().clear(columns)

    def notify_style_update(self) -> None:
        self._drawn.clear()  # a theme or a style changed: every line looks different now
        super().notify_style_update()

    def _render_line(self, y: int, x1: int, x2: int, base_style):
        if self.cursor_type != "row":  # the cursor's column would matter too: not kept
            return super()._render_line(y, x1, x2, base_style)
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        if row_key is self._header_row_key:
            looks, row_index = ("header",), -1
        else:
            looks, row_index = self._looks.get(row_key), self._row_locations.get(row_key)
            if looks is None or row_index is None:
                return super()._render_line(y, x1, x2, base_style)
        # The row's index is part of the key: it is in each cell's style, where a mouse
        # click finds the row it landed on, and it decides the zebra stripe.
        cursor, hover = self.cursor_coordinate, self.hover_coordinate
        key = (looks, row_index, line_no, x1, x2, base_style, self.show_cursor,
               cursor.row == row_index, hover.row == row_index, self._show_hover_cursor,
               self._pseudo_class_state, self.size.width, self.fixed_rows, self.fixed_columns,
               self.show_row_labels, self._labelled_row_exists, self.zebra_stripes,
               tuple((column.key, _looks(column.label), column.get_render_width(self)) for column in self.ordered_columns))
        strip = self._drawn.get(key)
        if strip is None:
            strip = super()._render_line(y, x1, x2, base_style)
            self._drawn[key] = strip
        return strip
