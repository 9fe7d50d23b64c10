"""The queue's table draws rows again from what it remembers: what it shows after a reload
must be the new rows, in their new places, never a line remembered from before."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable

from tui.widgets.queue_table import QueueTable


class TableApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self):
        table = QueueTable(cursor_type="row", zebra_stripes=True)
        table.add_column(Text("Account"), width=30)
        yield table

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.selected.append(event.row_key.value)


def fill(table: QueueTable, rows: list[tuple[str, str]]) -> None:
    table.clear()
    for key, text in rows:
        table.add_row(Text(text), key=key)


def shown(table: QueueTable, rows: int) -> list[str]:
    return [table.render_line(y).text.strip() for y in range(1, rows + 1)]


async def test_a_reloaded_queue_shows_the_new_rows_in_their_new_places():
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(QueueTable)
        fill(table, [("1", "Ann 10.00"), ("2", "Bob 20.00"), ("3", "Cy 30.00")])
        await pilot.pause()
        assert shown(table, 3) == ["Ann 10.00", "Bob 20.00", "Cy 30.00"]
        # The same keys again: Cy moved to the top, Bob's balance changed.
        fill(table, [("3", "Cy 30.00"), ("1", "Ann 10.00"), ("2", "Bob 25.00")])
        await pilot.pause()
        assert shown(table, 3) == ["Cy 30.00", "Ann 10.00", "Bob 25.00"]
        # The cursor is drawn on the row it is on, and only there, after each move.
        first = table.render_line(1)
        await pilot.press("down")
        assert table.render_line(2).text.strip() == "Ann 10.00"
        assert table.render_line(2) != table.render_line(3)  # the cursor row looks different
        assert table.render_line(1).text.strip() == "Cy 30.00" and table.render_line(1) != first
        await pilot.press("up")
        assert table.render_line(1) == first


async def test_a_click_after_a_reload_lands_on_the_row_under_it():
    """Each drawn cell carries its row's index, which a click reads: a row that moved must
    not come back with the index of where it was."""
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(QueueTable)
        fill(table, [("1", "Ann"), ("2", "Bob"), ("3", "Cy"), ("4", "Dee")])
        await pilot.pause()
        assert shown(table, 4) == ["Ann", "Bob", "Cy", "Dee"]
        fill(table, [("3", "Cy"), ("4", "Dee"), ("1", "Ann"), ("2", "Bob")])
        await pilot.pause()
        await pilot.click(QueueTable, offset=(2, 2))  # the second row: Dee, who was fourth
        await pilot.pause()
        assert table.cursor_row == 1 and app.selected == []
        await pilot.click(QueueTable, offset=(2, 2))  # on the cursor's row: it opens
        await pilot.pause()
        assert app.selected == ["4"]


async def test_a_theme_change_draws_the_rows_again():
    app = TableApp()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(QueueTable)
        fill(table, [("1", "Ann"), ("2", "Bob")])
        await pilot.pause()
        before = table.render_line(2)
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        after = table.render_line(2)
        assert after.text == before.text
        assert after != before  # the new theme's colours, not the old lines
