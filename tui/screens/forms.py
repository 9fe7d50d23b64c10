"""The small forms an officer fills in on an account: log a call, add a note, book a
callback, set or clear a hold flag. Each saves through one `db` function in a worker; a
second `ctrl+s` while saving does nothing, so a double press records once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from db.database import database
from tui.text import data


class Form(ModalScreen[bool]):
    """A modal form: `ctrl+s` saves, `escape` cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save"),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]
    TITLE_TEXT = ""
    DRAFT_KIND: str | None = None
    """Forms with free text keep a draft in the database while the officer types."""
    DRAFT_DELAY = 1.5

    def __init__(self, file) -> None:
        super().__init__()
        self.file = file
        self.saving = False
        self._draft_timer = None

    # --- drafts --------------------------------------------------------------------------

    def draft_text(self) -> str:  # pragma: no cover - forms with DRAFT_KIND define it
        return ""

    def restore_draft(self, text: str) -> None:  # pragma: no cover - forms with DRAFT_KIND define it
        pass

    def load_draft(self) -> None:
        if self.DRAFT_KIND:
            self._load_draft()

    @work(thread=True, group="draft-load", exit_on_error=False)
    def _load_draft(self) -> None:
        from db.drafts import load_draft

        with database.connection_context():
            text = load_draft(self.app.officer.id, self.file.id, self.DRAFT_KIND)
        if text:
            self.app.ui(self._restored, text)

    def _restored(self, text: str) -> None:
        self.restore_draft(text)
        self.notify("Restored what you were typing last time", title="Draft")

    def typed(self) -> None:
        """Call on every change: the draft is saved once typing pauses."""
        if not self.DRAFT_KIND or self.saving:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(self.DRAFT_DELAY, self._save_draft_now)

    def _save_draft_now(self) -> None:
        self._save_draft(self.draft_text())

    @work(thread=True, group="draft-save", exclusive=True, exit_on_error=False)
    def _save_draft(self, text: str) -> None:
        from db.drafts import save_draft

        with database.connection_context():
            save_draft(self.actor, self.file.id, self.DRAFT_KIND, text)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.heading(), classes="title")
            yield from self.fields()
            yield Static("", id="form-error", classes="error")
            yield Label(Text("ctrl+s save · escape cancel · tab next field", style="dim"))

    def heading(self) -> Text:
        """The form's title line: what it does, and to which account."""
        return Text(f"{self.TITLE_TEXT}: ") + data(f"{self.file.debtor} {self.file.reference}")

    def fields(self) -> ComposeResult:  # pragma: no cover - each form defines its own
        return iter(())

    def error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Text(message))
        self.saving = False

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.saving:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        try:
            job = self.prepare()
        except ValueError as exc:
            self.error(str(exc))
            return
        self.saving = True
        self._run(job)

    def prepare(self):  # pragma: no cover - each form defines its own
        raise NotImplementedError

    @work(thread=True, group="form-save", exclusive=True, exit_on_error=False)
    def _run(self, job) -> None:
        try:
            with database.connection_context():
                job()
        except (ValueError, PermissionError) as exc:
            self.app.ui(self.error, str(exc))
            return
        self.app.ui(self.dismiss, True)

    @property
    def actor(self):
        from db.audit import Actor

        return Actor.for_officer(self.app.officer)


class CallForm(Form):
    """The call script for the situation, with its steps ticked off by key; then the phone
    and the outcome (arrows, or the outcome's number key); a note is optional. A
    conversation outcome needs the debtor's identity confirmed first (`v`)."""

    TITLE_TEXT = "Log a call"
    DRAFT_KIND = "call"
    BINDINGS = [Binding(str(n), f"pick('{n}')", show=False) for n in range(10)] + [
        Binding("v", "verified", "Identity verified", id="call.verified"),
        Binding("k", "tick", "Tick step", id="call.tick"),
        Binding("t", "script('third-party')", "Third party", id="call.third_party"),
        Binding("m", "script('voicemail')", "Voicemail", id="call.voicemail"),
        Binding("o", "script('payment-options')", "Payment options", id="call.options"),
        Binding("s", "script('standard')", "Main script", id="call.standard"),
    ]

    def __init__(self, file) -> None:
        super().__init__(file)
        self.outcome: str | None = None
        self.verified = False
        self.ticked: dict[str, set[int]] = {}
        spoke_before = any(kind == "conversation" for _w, kind, *_ in
                           [(h[0], h[1].replace(" ", "_")) for h in file.history])
        self.standard = "later-contact" if spoke_before else "first-contact"
        self.script_name = self.standard

    def action_pick(self, key: str) -> None:
        outcomes = self.query_one("#call-outcome", OptionList)
        for index, disposition in enumerate(self.app.settings.dispositions):
            if disposition.key == key:
                outcomes.highlighted = index
                outcomes.focus()

    def action_verified(self) -> None:
        self.verified = True
        if self.script_name in ("first-contact", "later-contact"):
            self.ticked.setdefault(self.script_name, set()).add(0)
        self.show_script()

    def action_tick(self) -> None:
        steps = self._script().steps
        done = self.ticked.setdefault(self.script_name, set())
        for index in range(len(steps)):
            if index not in done:
                if index == 0 and self.script_name in ("first-contact", "later-contact"):
                    self.action_verified()
                    return
                done.add(index)
                break
        self.show_script()

    def action_script(self, name: str) -> None:
        self.script_name = self.standard if name == "standard" else name
        self.show_script()

    def _script(self):
        from tui.call_scripts import render_script, script_context

        return render_script(self.app.settings, self.script_name,
                             script_context(self.app.settings, self.file, self.app.officer))

    def show_script(self) -> None:
        script = self._script()
        done = self.ticked.get(self.script_name, set())
        text = Text()
        text.append_text(data(script.title, "bold"))
        for index, step in enumerate(script.steps):
            text.append("\n")
            text.append("[x] " if index in done else "[ ] ", "green" if index in done else "")
            text.append_text(data(step))
        text.append("\nv verified · k tick · t third party · m voicemail · o options · s main", "dim")
        self.query_one("#call-script", Static).update(text)

    def fields(self) -> ComposeResult:
        from textual.containers import VerticalScroll

        with VerticalScroll(id="call-script-box"):
            yield Static(id="call-script")
        phones = OptionList(*[Option(data(f"{p.number}  {p.kind}  " + ("may call" if p.allowed else "BLOCKED: " + p.why),
                                          limit=70), id=str(p.id)) for p in self.file.phones], id="call-phone")
        yield phones
        yield OptionList(*[Option(Text(f"{d.key or ' '}  {d.label}"), id=d.code) for d in self.app.settings.dispositions],
                         id="call-outcome")
        yield Input(placeholder="Note (optional)", id="call-note", max_length=5000)

    def on_mount(self) -> None:
        for widget_id in ("#call-phone", "#call-outcome"):
            options = self.query_one(widget_id, OptionList)
            if options.option_count:
                options.highlighted = 0
        self.query_one("#call-phone", OptionList).focus()
        self.show_script()
        self.load_draft()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.typed()

    def draft_text(self) -> str:
        return self.query_one("#call-note", Input).value

    def restore_draft(self, text: str) -> None:
        self.query_one("#call-note", Input).value = text

    def prepare(self):
        from db.activity import log_call

        phones = self.query_one("#call-phone", OptionList)
        outcomes = self.query_one("#call-outcome", OptionList)
        if phones.highlighted is None:
            raise ValueError("There is no phone number to log a call against")
        if outcomes.highlighted is None:
            raise ValueError("Pick the outcome of the call")
        phone_id = int(phones.get_option_at_index(phones.highlighted).id)
        outcome = outcomes.get_option_at_index(outcomes.highlighted).id
        line = next(p for p in self.file.phones if p.id == phone_id)
        if not line.allowed:
            from db.compliance import OVERRIDABLE

            hint = ""
            if any(code in OVERRIDABLE for code, _ in line.blocks):
                hint = (" (press escape, then o to override it, audited)" if self.app.officer.role in
                        ("team_lead", "admin") else " (a team lead can override this)")
            raise ValueError(f"This number may not be called now: {line.why}{hint}")
        chosen = next(d for d in self.app.settings.dispositions if d.code == outcome)
        if chosen.conversation and not self.verified:
            raise ValueError("Confirm the debtor's identity first (v): a conversation about the debt "
                             "can only be recorded with the right party")
        note = self.query_one("#call-note", Input).value
        app, account_id = self.app, self.file.id
        self.outcome = outcome
        return lambda: log_call(app.settings, self.actor, account_id, phone_id, outcome, at=app.clock(), note=note)


class NoteForm(Form):
    TITLE_TEXT = "Add a note"
    DRAFT_KIND = "note"

    def fields(self) -> ComposeResult:
        yield TextArea(id="note-text", soft_wrap=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        self.load_draft()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.typed()

    def draft_text(self) -> str:
        return self.query_one(TextArea).text

    def restore_draft(self, text: str) -> None:
        area = self.query_one(TextArea)
        if not area.text:
            area.text = text

    def prepare(self):
        from db.activity import add_note

        text = self.query_one(TextArea).text
        if not text.strip():
            raise ValueError("The note is empty: type it, then ctrl+s")
        if len(text) > 10_000:
            raise ValueError(f"The note is {len(text):,} characters; the limit is 10,000")
        app, account_id = self.app, self.file.id
        return lambda: add_note(self.actor, account_id, text, at=app.clock())


class CallbackForm(Form):
    TITLE_TEXT = "Book a callback"

    def fields(self) -> ComposeResult:
        yield Label(Text(f"When, in the debtor's time ({self.file.time_zone}): YYYY-MM-DD HH:MM"))
        yield Input(placeholder="2026-03-10 14:30", id="callback-when")
        yield Input(placeholder="Note (optional)", id="callback-note", max_length=2000)

    def on_mount(self) -> None:
        self.query_one("#callback-when", Input).focus()

    def prepare(self):
        from db.activity import schedule_callback

        raw = self.query_one("#callback-when", Input).value.strip()
        try:
            local = dt.datetime.strptime(raw, "%Y-%m-%d %H:%M")
        except ValueError:
            raise ValueError(f"{raw!r} is not a time: write it as YYYY-MM-DD HH:MM, e.g. 2026-03-10 14:30") from None
        try:
            zone = ZoneInfo(self.file.time_zone)
        except Exception:
            zone = ZoneInfo("UTC")
        when = local.replace(tzinfo=zone).astimezone(dt.UTC)
        if when <= self.app.clock():
            raise ValueError("That time has passed: a callback must be in the future")
        note = self.query_one("#callback-note", Input).value
        app, account_id = self.app, self.file.id
        return lambda: schedule_callback(app.settings, self.actor, account_id, when, at=app.clock(), note=note)


class FlagForm(Form):
    TITLE_TEXT = "Set or clear a hold"

    def fields(self) -> ComposeResult:
        from db.models import HOLD_FLAGS

        current = {f.split(" ")[0] for f in self.file.flags}
        yield OptionList(*[Option(Text(("clear " if f.replace("_", " ").split(" ")[0] in current else "set ")
                                       + f.replace("_", " ")), id=f) for f in HOLD_FLAGS], id="flag-choice")
        yield Input(placeholder="Reason (required)", id="flag-reason", max_length=2000)

    def on_mount(self) -> None:
        choice = self.query_one(OptionList)
        choice.highlighted = 0
        choice.focus()

    def prepare(self):
        from db.flags import set_flag

        choice = self.query_one(OptionList)
        flag = choice.get_option_at_index(choice.highlighted).id
        reason = self.query_one("#flag-reason", Input).value
        if not reason.strip():
            raise ValueError("Give a reason for the change")
        value = str(choice.get_option_at_index(choice.highlighted).prompt).startswith("set ")
        app, account_id = self.app, self.file.id
        return lambda: set_flag(app.settings, self.actor, account_id, flag, value, reason=reason, at=app.clock())


class PhoneForm(Form):
    TITLE_TEXT = "Mark a phone number"

    def fields(self) -> ComposeResult:
        yield OptionList(*[Option(data(f"{p.number}  {p.kind}  now {p.status.replace('_', ' ')}"), id=str(p.id))
                           for p in self.file.phones], id="phone-choice")
        yield OptionList(Option(Text("good"), id="good"), Option(Text("bad (disconnected, no such number)"), id="bad"),
                         Option(Text("wrong number (not the debtor)"), id="wrong_number"), id="phone-status")
        yield Input(placeholder="Reason (required)", id="phone-reason", max_length=2000)

    def on_mount(self) -> None:
        for widget in self.query(OptionList):
            if widget.option_count:
                widget.highlighted = 0
        self.query_one("#phone-choice", OptionList).focus()

    def prepare(self):
        from db.phones import set_phone_status

        phones = self.query_one("#phone-choice", OptionList)
        if phones.highlighted is None:
            raise ValueError("There is no phone number on this file")
        phone_id = int(phones.get_option_at_index(phones.highlighted).id)
        statuses = self.query_one("#phone-status", OptionList)
        status = statuses.get_option_at_index(statuses.highlighted).id
        reason = self.query_one("#phone-reason", Input).value
        if not reason.strip():
            raise ValueError("Give a reason for the change")
        app = self.app
        return lambda: set_phone_status(app.settings, self.actor, phone_id, status, reason=reason, at=app.clock())
