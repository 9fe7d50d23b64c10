"""One officer's day (`enter` on an officer of the floor): their figures and everything they
logged today, newest first, for a team lead coaching or checking a query."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from db.database import database
from db.money import format_money
from tui.text import data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.title_bar import TitleBar

COLUMNS = (("Time", 5), ("Ref", 9), ("What", 12), ("Outcome or note", 46))


class OfficerDayScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="officer_day.back"),
        Binding("r", "refresh", "Refresh", id="officer_day.refresh"),
        Binding("g", "reassign", "Reassign theirs", id="officer_day.reassign"),
    ]

    def __init__(self, username: str) -> None:
        super().__init__()
        self.username = username

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(data(f"Loading {self.username}'s day…"), id="day-status", classes="status-line")
        yield Static(id="day-figures", classes="status-line")
        yield DataTable(id="day-table", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(Text(label), width=width)
        table.focus()
        self.action_refresh()

    def action_refresh(self) -> None:
        self._load()

    @work(thread=True, group="officer-day", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        from db.audit import Actor
        from db.figures import officer_day
        from db.promises import floor_today

        app = self.app
        try:
            with database.connection_context():
                day = floor_today(app.settings, app.clock())
                result = officer_day(app.settings, Actor.for_officer(app.officer), self.username, day)
        except (LookupError, PermissionError) as exc:
            app.ui(self.query_one("#day-status", Static).update, data(str(exc)))
            return
        app.ui(self._show, day, *result)

    def _show(self, day, officer, entries) -> None:
        settings = self.app.settings
        money = lambda minor: format_money(minor, settings.locale.currency, settings.locale.locale)  # noqa: E731
        f = officer.figures
        title = data(f"{officer.name} ({officer.username}) · {officer.team}", limit=50)
        title.append(f" · {day:%a %d %b}")
        self.query_one("#day-status", Static).update(title)
        self.query_one("#day-figures", Static).update(Text(
            f"Calls {f.calls} · RPC {f.contacts} · promises {f.promises} ({money(f.promised_minor)}) · "
            f"collected {money(f.collected_minor)}"))
        table = self.query_one(DataTable)
        table.clear()
        for entry in entries:
            table.add_row(Text(f"{self.app.shown_time(entry.at):%H:%M}"), data(entry.reference), Text(entry.kind),
                          data(entry.what, limit=46))
        if not entries:
            table.add_row(Text("-"), Text("-"), Text("-"), Text("Nothing logged yet today"))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reassign(self) -> None:
        from tui.screens.floor_forms import ReassignForm

        self.app.push_screen(ReassignForm(owner=self.username))
