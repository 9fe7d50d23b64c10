"""The team lead's forms on the floor: reassign accounts (`g`) and set the team's queue
strategy (`t`). Each saves through `db.assignments` in a worker; both are audited there."""

from __future__ import annotations

import re

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from db.database import database
from tui.screens.forms import Form
from tui.text import data

BUCKETS = ("0-30", "31-60", "61-90", "91-180", "180+")


class ReassignForm(Form):
    """Move accounts to an officer or back to the team's pool: named by reference, or a
    days-past-due bucket (optionally only those now with one officer, or the pool)."""

    TITLE_TEXT = "Reassign accounts"
    BINDINGS = [
        Binding("down", "app.focus_next", "Next field", show=False),
        Binding("up", "app.focus_previous", "Previous field", show=False),
    ]

    def __init__(self, *, bucket: str | None = None, owner: str | None = None, team: str | None = None) -> None:
        super().__init__(None)
        self.bucket = bucket
        self.owner = owner
        self.team = team

    def heading(self) -> Text:
        return Text(self.TITLE_TEXT)

    def fields(self) -> ComposeResult:
        rows = (("refs", "References", "", "e.g. A0000012 A0000040; or leave empty", 4000),
                ("bucket", "Bucket", self.bucket, "0-30, 31-60, 61-90, 91-180 or 180+", 6),
                ("owner", "Now with", self.owner, "an officer, or pool; empty: anyone", 32),
                ("count", "How many", "", "empty: all that match, best first", 7),
                ("to", "Move to", "", "an officer, or pool", 32))
        for name, label, value, hint, length in rows:
            with Horizontal(classes="form-row"):
                yield Label(label, classes="form-label")
                yield Input(value or "", placeholder=hint, id=f"reassign-{name}", max_length=length)
        yield Static(Text("Officers: …", style="dim"), id="reassign-officers")

    def on_mount(self) -> None:
        self.query_one("#reassign-to" if (self.bucket or self.owner) else "#reassign-refs", Input).focus()
        self._load_officers()

    @work(thread=True, group="reassign-officers", exit_on_error=False)
    def _load_officers(self) -> None:
        from db.assignments import assignable_officers

        with database.connection_context():
            names = assignable_officers(self.actor, self.team)
        hint = Text("Officers: ", style="dim")
        hint.append_text(data(", ".join(names) or "-", "dim", limit=140))
        self.app.ui(self.query_one("#reassign-officers", Static).update, hint)

    def prepare(self):
        from db.assignments import AssignmentError, reassign, select_accounts

        value = lambda name: self.query_one(f"#reassign-{name}", Input).value.strip()  # noqa: E731
        refs = [r for r in re.split(r"[\s,;]+", value("refs")) if r]
        bucket, owner, count, to = value("bucket") or None, value("owner") or None, value("count"), value("to")
        if not refs and bucket is None and owner is None:
            raise ValueError("Give account references, a bucket (0-30 … 180+), or whose accounts to move")
        if bucket is not None and bucket not in BUCKETS:
            raise ValueError(f"Bucket: one of {', '.join(BUCKETS)}")
        if count and (not count.isdigit() or int(count) < 1):
            raise ValueError("How many: a whole number above 0, or empty for all")
        if not to:
            raise ValueError("Move to: an officer's username, or pool")
        app, actor, team = self.app, self.actor, self.team

        def move() -> None:
            try:
                ids, refused = select_accounts(app.settings, actor, app.clock(), references=refs or None,
                                               bucket=bucket, owner=owner, team=team,
                                               limit=int(count) if count else None)
                if not ids:
                    raise ValueError("No account matches: " + ("; ".join(refused[:3]) or "nothing to move"))
                result = reassign(app.settings, actor, ids, to, app.clock())
            except AssignmentError as exc:
                raise ValueError(str(exc)) from None
            refused += result.refused
            message = f"Moved {result.moved:,} account(s) to {to}"
            if result.already:
                message += f"; {result.already:,} were there already"
            if refused:
                message += f"; {len(refused):,} left where they were: " + "; ".join(refused[:3])
            app.ui(app.notify, message, title="Reassigned", markup=False, timeout=10)
        return move


class StrategyForm(Form):
    """Choose the order the team's queue is worked in (the strategies are in settings)."""

    TITLE_TEXT = "Queue strategy"

    def __init__(self, *, team: str | None = None, current: str | None = None) -> None:
        super().__init__(None)
        self.team = team
        self.current = current

    def heading(self) -> Text:
        return Text(f"{self.TITLE_TEXT}: ") + data(self.team or "your team")

    def fields(self) -> ComposeResult:
        options = []
        for name, weights in self.app.settings.queue.strategies.items():
            label = Text(name + (" (now)" if name == self.current else ""), style="bold")
            label.append(f"  days past due {weights.days_past_due} · balance {weights.balance} · "
                         f"since last contact {weights.since_last_contact}", style="")
            options.append(Option(label, id=name))
        yield Label(Text("Callbacks due and promises due or broken always come first; then accounts are "
                         "scored by these weights."))
        yield OptionList(*options, id="strategy-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = list(self.app.settings.queue.strategies)
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_save()

    def prepare(self):
        from db.assignments import AssignmentError, set_strategy

        options = self.query_one(OptionList)
        if options.highlighted is None:
            raise ValueError("Pick a strategy (arrows, then ctrl+s or enter)")
        strategy = options.get_option_at_index(options.highlighted).id
        app, actor, team = self.app, self.actor, self.team

        def save() -> None:
            try:
                set_strategy(app.settings, actor, team, strategy, app.clock())
            except AssignmentError as exc:
                raise ValueError(str(exc)) from None
        return save
