"""The account's legal case (`e` on an account): its stage, the steps so far and anything
that blocks legal action; `ctrl+s` opens a case, or moves it to its next stage (an
officer's referral goes to a team lead), `ctrl+k` closes it. The rules are `db.legal`'s."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, Static

from db.database import database
from tui.screens.forms import Form
from tui.text import data


class LegalForm(Form):
    TITLE_TEXT = "Legal"
    BINDINGS = [Binding("ctrl+k", "close_case", "Close the case", id="legal.close")]

    def __init__(self, file) -> None:
        super().__init__(file)
        self.view = None
        self.loaded = False

    def fields(self) -> ComposeResult:
        yield Static(Text("Loading the case…"), id="legal-case")
        yield Input(placeholder="Note: what happened, or why (required to open a case)", id="legal-note",
                    max_length=2000)
        yield Input(placeholder="Court claim number (when the claim is issued)", id="legal-court", max_length=40)

    def on_mount(self) -> None:
        self.query_one("#legal-note", Input).focus()
        self._load()

    @work(thread=True, group="legal-load", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        from db.legal import case_view

        app = self.app
        with database.connection_context():
            view = case_view(app.settings, self.actor, self.file.id, app.clock())
        app.ui(self._show, view)

    def _show(self, view) -> None:
        from db.legal import label

        self.view, self.loaded = view, True
        text = Text()
        stages = self.app.settings.legal.stages
        if view is None or view.stage == stages[-1]:
            text.append("No open legal case. ctrl+s opens one for review.\n", "bold")
        else:
            text.append_text(data(view.line(), "bold"))
            text.append("\n")
            for at, stage, by, note, letter in view.steps[-3:]:
                text.append(f"{self.app.shown_time(at):%d %b %Y}  {stage}  ")
                text.append_text(data(" ".join(x for x in (by, note, f"[{letter}]" if letter else "") if x), limit=50))
                text.append("\n")
            if view.referral_waiting:
                text.append("A referral is waiting for a team lead.\n", "yellow")
            elif view.next_stage:
                ask = view.next_stage == self.app.settings.legal.approval_to and \
                    self.app.officer.role not in ("team_lead", "admin")
                text.append(f"ctrl+s: {label(view.next_stage)}" + (" (asks a team lead)" if ask else "")
                            + " · ctrl+k: close the case\n")
        for reason in (view.blocked if view else []):
            text.append_text(data(f"Blocked: {reason}", "yellow", limit=120))
            text.append("\n")
        self.query_one("#legal-case", Static).update(text)

    def prepare(self):
        from db.legal import LegalError, open_case

        if not self.loaded:
            raise ValueError("Still loading the case")
        note = self.query_one("#legal-note", Input).value
        court = self.query_one("#legal-court", Input).value.strip() or None
        app, actor, account_id, view = self.app, self.actor, self.file.id, self.view
        stages = app.settings.legal.stages
        if view is None or view.stage == stages[-1]:
            if not note.strip():
                raise ValueError("Say why the account should go to legal")

            def job() -> None:
                try:
                    open_case(app.settings, actor, account_id, note=note, at=app.clock())
                except LegalError as exc:
                    raise ValueError(str(exc)) from None
            return job
        if view.referral_waiting:
            raise ValueError("A referral is waiting for a team lead: nothing to do until they decide")
        if view.next_stage is None:
            raise ValueError("The case is at its last stage: ctrl+k closes it")
        return self._advance(view.next_stage, note, court)

    def _advance(self, to: str, note: str, court: str | None):
        from db.legal import LegalError, advance, label
        from db.models import Approval

        app, actor, account_id = self.app, self.actor, self.file.id

        def job() -> None:
            try:
                result = advance(app.settings, actor, account_id, to, note=note, court_reference=court, at=app.clock())
            except LegalError as exc:
                raise ValueError(str(exc)) from None
            message = ("Referral sent to your team lead" if isinstance(result, Approval)
                       else f"Legal: {label(to)}")
            app.ui(app.notify, message, title="Legal", markup=False)
        return job

    def action_close_case(self) -> None:
        stages = self.app.settings.legal.stages
        if self.view is None or self.view.stage == stages[-1]:
            self.error("There is no open case to close")
            return
        if self.saving:
            return
        note = self.query_one("#legal-note", Input).value
        if not note.strip():
            self.error("Say why the case closes (paid, withdrawn, not worth pursuing…)")
            return
        self.saving = True
        self._run(self._advance(stages[-1], note, None))
