"""Search (`/` from any screen): by phone number in any format, reference, or name prefix.
How inbound calls are answered."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label

from db.database import database
from db.money import format_money
from tui.text import data


class SearchScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close"),
        Binding("enter", "open", "Open", id="search.open", priority=True),
        Binding("down", "focus_results", "Results", show=False, id="search.down"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Search: phone, reference or name", style="bold"))
            yield Input(placeholder="e.g. (212) 555-0142, A00000042, smith jo", id="search-input")
            table = DataTable(id="search-results", cursor_type="row")
            table.add_columns(*(Text(label) for label in ("Ref", "Debtor", "Balance", "Matched")))
            yield table
            yield Label(Text("enter open · down to results · escape close", style="dim"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, group="search", exclusive=True, exit_on_error=False)
    def _search(self, text: str) -> None:
        from db.worklist import search_accounts

        app = self.app
        with database.connection_context():
            hits = search_accounts(app.officer, text)
        app.ui(self._show, hits)

    def _show(self, hits) -> None:
        table = self.query_one(DataTable)
        table.clear()
        locale = self.app.settings.locale.locale
        for hit in hits:
            table.add_row(data(hit.reference), data(hit.debtor, limit=30),
                          Text(format_money(hit.balance_minor, hit.currency, locale)), Text(hit.matched),
                          key=str(hit.account_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss()
        self.app.open_account(int(event.row_key.value))

    def action_focus_results(self) -> None:
        self.query_one(DataTable).focus()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.notify("No match yet: type more of the number, reference or name")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.dismiss()
        self.app.open_account(int(key))

    def action_close(self) -> None:
        self.dismiss()
