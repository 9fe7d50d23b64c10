"""The payment-plan calculator (`p` on an account): the schedule re-planned on every
keystroke, the client's policy and the customer's affordability beside it, and `ctrl+s`
to save it as an arrangement (or send it to a team lead when it is outside policy).

The calculator is pure arithmetic, so it runs on the event loop as the officer types;
loading the account's policy and saving go through thread workers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Input, Label, Static

from db.database import database
from db.money import MoneyError, exponent_of, format_money, parse_amount
from db.plans import FREQUENCIES, PlanError, PlanRequest, affordability, guidelines_on, plan
from tui.text import clean, data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.title_bar import TitleBar

SHORT_FREQUENCIES = {"w": "weekly", "f": "fortnightly", "4": "four-weekly", "m": "monthly"}
SCHEDULE_COLUMNS = (("No.", 4), ("Due", 11), ("Amount", 12), ("Interest", 10))


class PlanScreen(Screen):
    """Negotiate a plan with the customer on the line."""

    CSS_PATH = "plan.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save plan", id="plan.save"),
        Binding("ctrl+o", "statement", "Income & spending", id="plan.statement"),
        Binding("escape", "back", "Back", id="plan.back"),
    ]

    def __init__(self, file) -> None:
        super().__init__()
        self.file = file
        self.context = None
        self.statement = None
        self.schedule = None
        self.saving = False
        self.exponent = exponent_of(file.currency)

    def money(self, minor: int) -> str:
        return format_money(minor, self.file.currency, self.app.settings.locale.locale)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Label(Text("Payment plan: ") + data(f"{self.file.debtor} {self.file.reference}"), classes="title")
        first = self.app.clock().date() + dt.timedelta(days=7)
        with Grid(id="plan-fields"):
            yield Label("Amount")
            yield Input(self._plain(self.file.balance_minor), id="plan-amount")
            yield Label("First due")
            yield Input(first.isoformat(), id="plan-first", placeholder="YYYY-MM-DD")
            yield Label("Frequency")
            yield Input("monthly", id="plan-frequency", suggester=SuggestFromList(FREQUENCIES),
                        placeholder="w f 4 m")
            yield Label("Count")
            yield Input("12", id="plan-count")
            yield Label("Installmt")
            yield Input("", id="plan-installment", placeholder="or count")
            yield Label("Deposit")
            yield Input("", id="plan-deposit", placeholder="0.00")
            yield Label("Disc %")
            yield Input("", id="plan-discount", placeholder="0")
            yield Label("APR %")
            yield Input("", id="plan-apr", placeholder="0")
        yield Static(Text("Loading the client's policy…"), id="plan-summary")
        with Horizontal(id="plan-body"):
            yield DataTable(id="plan-schedule", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="plan-side"):
                yield Static(id="plan-policy")
                yield Static(id="plan-afford")
        yield KeyFooter()

    def _plain(self, minor: int) -> str:
        from db.money import plain

        return plain(max(minor, 0), exponent=self.exponent)

    def on_mount(self) -> None:
        table = self.query_one("#plan-schedule", DataTable)
        for label, width in SCHEDULE_COLUMNS:
            table.add_column(Text(label), width=width)
        self.query_one("#plan-amount", Input).focus()
        self._load_context()
        self.replan()

    @work(thread=True, group="plan-context", exclusive=True, exit_on_error=False)
    def _load_context(self) -> None:
        from db.arrangements import plan_context
        from db.audit import Actor

        app = self.app
        with database.connection_context():
            context = plan_context(app.settings, Actor.for_officer(app.officer), self.file.id, app.clock())
        app.ui(self._context_loaded, context)

    def _context_loaded(self, context) -> None:
        self.context = context
        if self.statement is None:
            self.statement = context.statement
        if context.live_plan:
            self.notify(f"This account already has a plan ({clean(context.live_plan)}): cancel it before saving a new one",
                        severity="warning", markup=False)
        self.replan()

    # --- planning ------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        self.replan()

    def value(self, name: str) -> str:
        return self.query_one(f"#plan-{name}", Input).value.strip()

    def request(self) -> PlanRequest:
        """The request the fields describe, or ValueError saying which field to fix."""
        def amount(name: str, label: str, *, optional: bool = False, zero: bool = False) -> int | None:
            text = self.value(name)
            if optional and not text:
                return None
            try:
                return parse_amount(text, exponent=self.exponent, allow_zero=zero)
            except MoneyError as exc:
                raise ValueError(f"{label}: {exc}") from None

        def percent(name: str, label: str) -> Decimal:
            text = self.value(name).rstrip("%")
            if not text:
                return Decimal(0)
            try:
                value = Decimal(text)
            except InvalidOperation:
                raise ValueError(f"{label}: {text!r} is not a number") from None
            if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:
                raise ValueError(f"{label}: use a number from 0 with at most 2 decimals")
            return value

        try:
            first = dt.date.fromisoformat(self.value("first"))
        except ValueError:
            raise ValueError(f"First due: {self.value('first')!r} is not a date; write YYYY-MM-DD") from None
        frequency = self.value("frequency").lower()
        frequency = SHORT_FREQUENCIES.get(frequency, frequency)
        count_text = self.value("count")
        installment = amount("installment", "Installment", optional=True)
        if count_text and installment is not None:
            raise ValueError("Fill in Count or Installment, not both")
        count = None
        if count_text:
            if not count_text.isdigit() or int(count_text) < 1:
                raise ValueError(f"Count: {count_text!r} is not a whole number of installments")
            count = int(count_text)
        elif installment is None:
            raise ValueError("Fill in Count or Installment")
        return PlanRequest(amount("amount", "Amount"), first, frequency, count=count, installment_minor=installment,
                           deposit_minor=amount("deposit", "Deposit", optional=True, zero=True) or 0,
                           discount_percent=percent("discount", "Discount"), apr_percent=percent("apr", "APR"))

    def replan(self) -> None:
        summary = self.query_one("#plan-summary", Static)
        try:
            self.schedule = plan(self.request())
        except (ValueError, PlanError) as exc:
            self.schedule = None
            summary.update(Text(str(exc), style="bold red"))
            self.query_one("#plan-schedule", DataTable).clear()
            return
        s = self.schedule
        line = Text()
        line.append(f"{len(s.installments)} x {self.money(s.regular_minor)} {s.request.frequency}", "bold")
        if len(s.installments) > 1 and s.installments[-1].amount_minor != s.regular_minor:
            line.append(f", last {self.money(s.installments[-1].amount_minor)}")
        line.append(f" · ends {s.last_due:%d %b %Y} · total {self.money(s.total_minor)}")
        if s.discount_minor:
            line.append(f" · settles {self.money(s.settled_minor)}")
        if s.total_interest_minor:
            line.append(f" · interest {self.money(s.total_interest_minor)}")
        summary.update(line)
        table = self.query_one("#plan-schedule", DataTable)
        table.clear()
        for row in s.installments:
            table.add_row(Text(str(row.number)), Text(f"{row.due:%d %b %Y}"), Text(self.money(row.amount_minor)),
                          Text(self.money(row.interest_minor)))
        self._show_checks()

    def _show_checks(self) -> None:
        from db.arrangements import approval_breaches

        policy = self.query_one("#plan-policy", Static)
        afford = self.query_one("#plan-afford", Static)
        s = self.schedule
        if s is None:
            return
        if self.context is None:
            policy.update(Text("Checking the client's policy…", style="dim"))
        else:
            breaches = approval_breaches(s, self.context.policy, self.context.officer_limit_minor,
                                         self.context.today, self.money)
            if s.request.first_due < self.context.today:
                breaches.insert(0, "the first payment date has passed")
            text = Text()
            if breaches:
                text.append("Needs a team lead:\n", "bold yellow")
                for b in breaches:
                    text.append_text(data("- " + b + "\n", "yellow"))
            else:
                text.append("Inside the client's policy\n", "bold green")
            if s.amount_due_minor > self.context.balance_minor:
                text.append(f"More than the balance of {self.money(self.context.balance_minor)}\n", "bold red")
            policy.update(text)
        text = Text()
        if self.statement is None:
            text.append("No income and spending taken: ctrl+o", "dim")
        else:
            guidelines = guidelines_on(self.app.settings, self.app.clock().date(), exponent=self.exponent)
            result = affordability(self.statement, s.regular_minor, s.request.frequency, guidelines,
                                   format_money=self.money)
            text.append(f"A month: {self.money(result.monthly_installment_minor)} of "
                        f"{self.money(result.disposable_minor)} left\n")
            text.append("Fits the budget\n" if result.fits else "Does not fit the budget\n",
                        "bold green" if result.fits else "bold red")
            for flag in result.flags:
                text.append("! " + flag + "\n", "yellow")
        afford.update(text)

    # --- actions -------------------------------------------------------------------------

    def action_statement(self) -> None:
        from tui.screens.statement import StatementForm

        def done(statement) -> None:
            if statement is not None:
                self.statement = statement
                self._show_checks()

        self.app.push_screen(StatementForm(self.file, self.statement), done)

    def action_back(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.saving:
            return
        if self.schedule is None:
            self.notify("Fix the plan first: the line under the fields says what is wrong", severity="error")
            return
        self.saving = True
        self._save(self.schedule.request, self.statement)

    @work(thread=True, group="plan-save", exclusive=True, exit_on_error=False)
    def _save(self, request: PlanRequest, statement) -> None:
        from db.arrangements import save_plan
        from db.audit import Actor

        app = self.app
        try:
            with database.connection_context():
                saved = save_plan(app.settings, Actor.for_officer(app.officer), self.file.id, request,
                                  statement=statement, at=app.clock(), format_money=self.money)
        except (ValueError, PermissionError) as exc:
            app.ui(self._save_failed, str(exc))
            return
        app.ui(self._saved, saved)

    def _save_failed(self, message: str) -> None:
        self.saving = False
        self.notify(message, title="Not saved", severity="error", markup=False)

    def _saved(self, saved) -> None:
        if saved.approval is not None:
            self.notify("Sent to your team lead for approval: " + "; ".join(saved.breaches), title="Plan proposed",
                        severity="warning", markup=False, timeout=8)
        else:
            self.notify("Plan agreed; the confirmation letter is queued", title="Plan saved", markup=False)
        self.dismiss(True)
