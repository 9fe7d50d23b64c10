"""Identity (`i` on an account): an officer checks what a caller says against the file
without seeing it; a team lead or admin may reveal the full details, giving a reason.
Both are audited."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Input, Static

from db.database import database
from tui.screens.forms import Form
from tui.text import data


class IdentityForm(Form):
    TITLE_TEXT = "Identity"

    @property
    def may_reveal(self) -> bool:
        from db.pii import REVEAL_ROLES

        return self.app.officer.role in (*REVEAL_ROLES, "admin")

    def fields(self) -> ComposeResult:
        yield Static(data(self.file.identity))
        if self.may_reveal:
            yield Input(placeholder="Why you need the full details (required)", id="identity-reason", max_length=500)
        else:
            yield Input(placeholder="Date of birth the caller gives, YYYY-MM-DD", id="identity-dob", max_length=10)
            yield Input(placeholder="or the last 4 of their ID", id="identity-last4", max_length=4)
        yield Static("", id="identity-result")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def prepare(self):
        from db.pii import reveal_identity, verify_identity

        actor, account_id = self.actor, self.file.id
        if self.may_reveal:
            reason = self.query_one("#identity-reason", Input).value
            if not reason.strip():
                raise ValueError("Say why you need to see the customer's personal details")
            return lambda: reveal_identity(actor, account_id, reason)
        typed = self.query_one("#identity-dob", Input).value.strip()
        last4 = self.query_one("#identity-last4", Input).value.strip()
        born = None
        if typed:
            try:
                born = dt.date.fromisoformat(typed)
            except ValueError:
                raise ValueError(f"{typed!r} is not a date: type it as YYYY-MM-DD, e.g. 1984-03-07") from None
        if not born and not last4:
            raise ValueError("Enter the date of birth or the last 4 of the ID the caller gives")
        return lambda: verify_identity(actor, account_id, date_of_birth=born, national_id_last4=last4 or None)

    # The form stays open to show its answer.
    @work(thread=True, group="form-save", exclusive=True, exit_on_error=False)
    def _run(self, job) -> None:
        try:
            with database.connection_context():
                answer = job()
        except (ValueError, PermissionError) as exc:
            self.app.ui(self.error, str(exc))
            return
        self.app.ui(self._show, answer)

    def _show(self, answer) -> None:
        self.saving = False
        self.query_one("#form-error", Static).update("")
        result = self.query_one("#identity-result", Static)
        if isinstance(answer, bool):
            result.update(Text("Matches the file: identity confirmed" if answer
                               else "Does not match the file: do not discuss the account", style="bold"))
        else:
            result.update(Text("Born ") + data(answer.date_of_birth) + Text(" · ID ") + data(answer.national_id)
                          + Text("  (this view is recorded)", style="dim"))
