"""A team lead lifts the blocks the rules allow to be lifted (call-frequency caps and the
cool-off after a conversation) on one account for a number of hours, with a reason (`o` on
an account). Holds and call hours cannot be lifted; the form says so. Audited."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from db.compliance import OVERRIDABLE
from tui.screens.forms import Form
from tui.text import data


class OverrideForm(Form):
    TITLE_TEXT = "Override a block"

    def overridable(self) -> dict[str, str]:
        """The liftable blocks on the account's numbers now: code → the rule's words."""
        found: dict[str, str] = {}
        for phone in self.file.phones:
            for code, words in phone.blocks:
                if code in OVERRIDABLE:
                    found.setdefault(code, words)
        return found

    def fields(self) -> ComposeResult:
        blocks = self.overridable()
        if blocks:
            text = Text("Lifts, on this account only:\n", style="bold")
            for words in blocks.values():
                text.append("- ")
                text.append_text(data(words, limit=200))
                text.append("\n")
            text.append("The debtor's call hours and any hold still apply.", style="dim")
        else:
            text = Text("Nothing on this account can be overridden now. Holds (cease, dispute, bankruptcy…), "
                        "bad numbers and the debtor's call hours are never lifted.")
        yield Static(text, id="override-blocks")
        yield Label(Text("For how many hours"))
        yield Input("24", id="override-hours", max_length=3)
        yield Input(placeholder="Reason (required; it is audited)", id="override-reason", max_length=2000)

    def on_mount(self) -> None:
        self.query_one("#override-reason", Input).focus()

    def prepare(self):
        from db.governor import OverrideError, grant_override

        codes = sorted(self.overridable())
        if not codes:
            raise ValueError("There is no block here that may be overridden")
        raw = self.query_one("#override-hours", Input).value.strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 168:
            raise ValueError("Hours: a whole number from 1 to 168")
        reason = self.query_one("#override-reason", Input).value
        if not reason.strip():
            raise ValueError("Give a reason: it goes in the audit trail")
        app, actor, account_id, hours = self.app, self.actor, self.file.id, int(raw)

        def grant() -> None:
            try:
                grant_override(actor, account_id, codes, reason, hours=hours, at=app.clock(), settings=app.settings)
            except OverrideError as exc:
                raise ValueError(str(exc)) from None
            app.ui(app.notify, f"Override granted for {hours} h", title="Compliance", markup=False)
        return grant
