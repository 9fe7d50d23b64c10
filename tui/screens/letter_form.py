"""Asking for a letter (`l` on an account): pick a template, read the letter as text, then
`ctrl+s` queues it for the letter workers. Templates a hold forbids are listed with the
reason and cannot be queued. Rendering to PDF happens on the server, never here."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from db.database import database
from tui.screens.forms import Form
from tui.text import data


class LetterForm(Form):
    TITLE_TEXT = "Send a letter"
    CSS_PATH = "letter_form.tcss"

    def __init__(self, file) -> None:
        super().__init__(file)
        self.choices = []
        self.preview_for: str | None = None

    def fields(self) -> ComposeResult:
        yield OptionList(Option(Text("Loading the templates…"), disabled=True), id="letter-template")
        yield Input(placeholder="Recipient's name", id="letter-to-name", max_length=120)
        yield Input(placeholder="Recipient's address, lines separated by commas", id="letter-to-address",
                    max_length=400)
        yield Input(placeholder="Policy number (optional)", id="letter-policy", max_length=60)
        with VerticalScroll(id="letter-preview"):
            yield Static(Text("Pick a letter to read it here."), id="letter-text")

    def on_mount(self) -> None:
        for widget_id in ("#letter-to-name", "#letter-to-address", "#letter-policy"):
            self.query_one(widget_id).display = False
        self.query_one("#letter-template", OptionList).focus()
        self._load_choices()

    @work(thread=True, group="letter-choices", exit_on_error=False)
    def _load_choices(self) -> None:
        from letters.catalogue import choices

        with database.connection_context():
            found = choices(self.app.settings, self.file.id, self.app.clock())
        self.app.ui(self._show_choices, found)

    def _show_choices(self, found) -> None:
        self.choices = found
        options = self.query_one("#letter-template", OptionList)
        options.clear_options()
        for choice in found:
            label = Text(f"{choice.spec.title}")
            if choice.spec.recipient != "debtor":
                label.append(f" (to the {choice.spec.recipient.replace('_', ' ')})", style="italic")
            if not choice.allowed:
                label.stylize("dim")
                label.append(" held: ", style="bold")
                label.append_text(data("; ".join(choice.reasons)))
            options.add_option(Option(label, id=choice.spec.name))
        first = next((i for i, c in enumerate(found) if c.allowed), 0)
        options.highlighted = first

    @property
    def chosen(self):
        options = self.query_one("#letter-template", OptionList)
        if options.highlighted is None or not self.choices:
            return None
        return self.choices[options.highlighted]

    @on(OptionList.OptionHighlighted, "#letter-template")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        choice = self.chosen
        if choice is None:
            return
        from db.letter_queue import ASKS_FOR_RECIPIENT

        asks = choice.spec.recipient in ASKS_FOR_RECIPIENT
        self.query_one("#letter-to-name").display = asks
        self.query_one("#letter-to-address").display = asks
        self.query_one("#letter-policy").display = choice.spec.name == "insurer"
        self.error("")
        self._preview(choice.spec.name)

    def _inputs(self) -> dict:
        choice = self.chosen
        from db.letter_queue import ASKS_FOR_RECIPIENT

        inputs: dict = {}
        if choice is not None and choice.spec.recipient in ASKS_FOR_RECIPIENT:
            name = self.query_one("#letter-to-name", Input).value.strip()
            lines = [part.strip() for part in self.query_one("#letter-to-address", Input).value.split(",")]
            inputs["recipient"] = {"name": name or "(recipient's name)",
                                   "address": [line for line in lines if line] or ["(recipient's address)"]}
            policy = self.query_one("#letter-policy", Input).value.strip()
            if policy:
                inputs["policy_number"] = policy
        return inputs

    @on(Input.Changed)
    def _typed_recipient(self, event: Input.Changed) -> None:
        if self.chosen is not None:
            self._preview(self.chosen.spec.name)

    @work(thread=True, group="letter-preview", exclusive=True, exit_on_error=False)
    def _preview(self, template: str) -> None:
        from db.governor import check_letter
        from letters.context import ContextError
        from letters.render import Templates

        from db.letter_queue import local_today

        inputs = self._inputs()
        try:
            with database.connection_context():
                at = self.app.clock()
                inputs["sent_on"] = local_today(self.app.settings, at).isoformat()
                decision = check_letter(self.app.settings, self.file.id, template, at)
                if decision.disclosures:
                    inputs["disclosures"] = list(decision.disclosures)
                templates = Templates(self.app.settings)
                text = templates.text(template, templates.context(self.file.id, template, inputs))
        except ContextError as exc:
            text = f"This letter cannot be written for this account: {exc}."
        self.app.ui(self._show_preview, template, text)

    def _show_preview(self, template: str, text: str) -> None:
        if self.chosen is None or self.chosen.spec.name != template:
            return  # the officer has moved on
        self.preview_for = template
        self.query_one("#letter-text", Static).update(Text(text))
        self.query_one("#letter-preview", VerticalScroll).scroll_home(animate=False)

    def prepare(self):
        from db.letter_queue import ASKS_FOR_RECIPIENT, request_letter

        choice = self.chosen
        if choice is None:
            raise ValueError("Pick a letter first")
        if not choice.allowed:
            raise ValueError(f"{choice.spec.title} may not be sent: " + "; ".join(choice.reasons))
        if self.preview_for != choice.spec.name:
            raise ValueError("Read the letter first: its text is still loading")
        inputs = self._inputs()
        if choice.spec.recipient in ASKS_FOR_RECIPIENT:
            if not self.query_one("#letter-to-name", Input).value.strip():
                raise ValueError("Give the recipient's name")
            if not self.query_one("#letter-to-address", Input).value.strip():
                raise ValueError("Give the recipient's address")
        app, account_id, actor, template = self.app, self.file.id, self.actor, choice.spec.name

        def queue() -> None:
            from db.letter_queue import LetterError

            try:
                letter = request_letter(app.settings, actor, account_id, template, inputs, app.clock())
            except LetterError as exc:
                raise ValueError(str(exc)) from None
            app.ui(app.notify, f"{choice.spec.title} queued (letter {letter.id}); it will be printed on the server",
                   title="Letter", markup=False)
        return queue
