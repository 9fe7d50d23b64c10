"""Approvals (`v` for team leads): plans outside policy, settlements and write-offs waiting
for a decision, oldest first. `a` approves, `d` refuses with a reason the officer reads;
both are carried out and audited in one transaction."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Static

from db.database import database
from db.money import format_money
from tui.text import data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.title_bar import TitleBar

COLUMNS = (("Asked", 12), ("Kind", 11), ("Ref", 9), ("Debtor", 14), ("Amount", 10), ("By", 8))


def approval_cells(app, row) -> list[Text]:
    """A waiting request as the approvals screen and the floor list it (COLUMNS), asked
    time in the officers' zone."""
    from db.approvals import KIND_LABELS

    locale = app.settings.locale.locale
    return [Text(f"{app.shown_time(row.requested_at):%d %b %H:%M}"), Text(KIND_LABELS.get(row.kind, row.kind)),
            data(row.reference), data(row.debtor, limit=14),
            Text(format_money(row.amount_minor, row.currency, locale) if row.amount_minor else "-"),
            data(row.requested_by)]


class ApprovalsScreen(Screen):
    BINDINGS = [
        Binding("a", "approve", "Approve", id="approvals.approve"),
        Binding("d", "refuse", "Refuse", id="approvals.refuse"),
        Binding("r", "refresh", "Refresh", id="approvals.refresh"),
        Binding("escape", "back", "Back", id="approvals.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(Text("Loading approvals…"), id="approvals-status", classes="status-line")
        yield DataTable(id="approvals-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="approvals-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(Text(label), width=width)
        self.action_refresh()

    def action_refresh(self) -> None:
        self._load()

    @work(thread=True, group="approvals-load", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        from db.approvals import pending_approvals
        from db.audit import Actor

        app = self.app
        with database.connection_context():
            rows = pending_approvals(Actor.for_officer(app.officer))
        app.ui(self._show, rows)

    def _show(self, rows) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            table.add_row(*approval_cells(self.app, row), key=str(row.id))
        status = (f"{len(rows)} waiting for you · a approve · d refuse (with a reason)" if rows
                  else "Nothing is waiting for your approval.")
        self.query_one("#approvals-status", Static).update(Text(status))
        self._detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _current(self):
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _detail(self) -> None:
        row = self._current()
        self.query_one("#approvals-detail", Static).update(
            data(row.detail, newlines=False, limit=300) if row else Text(""))

    def action_approve(self) -> None:
        row = self._current()
        if row is not None:
            self.app.push_screen(ReasonForm(row, approve=True), lambda done: done and self.action_refresh())

    def action_refuse(self) -> None:
        row = self._current()
        if row is not None:
            self.app.push_screen(ReasonForm(row, approve=False), lambda done: done and self.action_refresh())

    def action_back(self) -> None:
        self.app.pop_screen()


class ReasonForm(ModalScreen[bool]):
    """The decision's reason: required to refuse, optional to approve."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Decide", id="reason.save"),
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
    ]

    def __init__(self, row, *, approve: bool) -> None:
        super().__init__()
        self.row = row
        self.approve = approve
        self.saving = False

    def compose(self) -> ComposeResult:
        verb = "Approve" if self.approve else "Refuse"
        with Vertical(classes="dialog"):
            yield Label(Text(f"{verb}: ") + data(f"{self.row.reference} {self.row.debtor}"), classes="title")
            yield Static(data(self.row.detail, limit=400))
            yield Input(placeholder="Reason" + (" (optional)" if self.approve else " (required)"), id="reason",
                        max_length=2000)
            yield Static("", id="form-error", classes="error")
            yield Label(Text("ctrl+s decide · escape cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.saving:
            return
        reason = self.query_one(Input).value
        if not self.approve and not reason.strip():
            self.query_one("#form-error", Static).update(Text("Give a reason: the officer will read it"))
            return
        self.saving = True
        self._decide(reason)

    @work(thread=True, group="approval-decide", exclusive=True, exit_on_error=False)
    def _decide(self, reason: str) -> None:
        from db.approvals import decide
        from db.audit import Actor

        app = self.app
        try:
            with database.connection_context():
                decide(app.settings, Actor.for_officer(app.officer), self.row.id, self.approve, reason=reason,
                       at=app.clock())
        except (ValueError, PermissionError) as exc:
            app.ui(self._failed, str(exc))
            return
        app.ui(self.dismiss, True)

    def _failed(self, message: str) -> None:
        self.saving = False
        self.query_one("#form-error", Static).update(Text(message))
