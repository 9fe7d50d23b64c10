"""The money forms on an account: take a payment (`$`), record a promise to pay (`w`), and
ask for a settlement or a write-off (`s`). Each saves through one `db` function in a worker;
a payment carries a key made when the form opens, so a double `ctrl+s` posts once."""

from __future__ import annotations

import datetime as dt
import uuid

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from db.money import MoneyError, exponent_of, format_money, parse_amount, plain
from tui.screens.forms import Form


class MoneyForm(Form):
    """A form with amounts and dates in the account's currency."""

    def money(self, minor: int) -> str:
        return format_money(minor, self.file.currency, self.app.settings.locale.locale)

    def amount(self, widget_id: str, label: str) -> int:
        try:
            return parse_amount(self.query_one(widget_id, Input).value, exponent=exponent_of(self.file.currency),
                                allow_zero=False)
        except MoneyError as exc:
            raise ValueError(f"{label}: {exc}") from None

    def date(self, widget_id: str, label: str) -> dt.date:
        raw = self.query_one(widget_id, Input).value.strip()
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{label}: {raw!r} is not a date; write YYYY-MM-DD") from None

    def today(self) -> dt.date:
        from db.promises import floor_today

        return floor_today(self.app.settings, self.app.clock())

    def plain(self, minor: int) -> str:
        return plain(minor, exponent=exponent_of(self.file.currency))


class PaymentForm(MoneyForm):
    TITLE_TEXT = "Take a payment"

    def __init__(self, file) -> None:
        super().__init__(file)
        # Made once per form: sending the form twice (double ctrl+s, a retry after a
        # dropped link) posts one payment.
        self.key = f"screen:{uuid.uuid4()}"

    def fields(self) -> ComposeResult:
        from db.payments import METHODS

        due = self._next_due()
        yield Label(Text(f"Balance {self.money(self.file.balance_minor)}" +
                         (f" · next installment {self.money(due)}" if due else "")))
        yield Input(self.plain(due) if due else "", placeholder="Amount, e.g. 150.00", id="pay-amount")
        yield OptionList(*[Option(Text(label), id=code) for code, label in METHODS.items()], id="pay-method")
        yield Input(self.today().isoformat(), placeholder="Paid on YYYY-MM-DD", id="pay-date")
        yield Input(placeholder="Card or bank reference (optional)", id="pay-reference", max_length=64)

    def _next_due(self) -> int | None:
        for _number, _due, amount, paid, status in self.file.installments:
            if status == "open":
                return max(amount - paid, 0) or None
        return None

    def on_mount(self) -> None:
        methods = self.query_one("#pay-method", OptionList)
        methods.highlighted = 0
        self.query_one("#pay-amount", Input).focus()

    def prepare(self):
        from db.payments import post_payment

        amount = self.amount("#pay-amount", "Amount")
        paid_on = self.date("#pay-date", "Paid on")
        if paid_on > self.today():
            raise ValueError("Paid on is in the future: post a payment once it has been made")
        methods = self.query_one("#pay-method", OptionList)
        method = methods.get_option_at_index(methods.highlighted).id
        reference = self.query_one("#pay-reference", Input).value
        app, account_id, key, actor = self.app, self.file.id, self.key, self.actor

        def job():
            posted = post_payment(app.settings, actor, account_id, amount, method=method, paid_on=paid_on, key=key,
                                  reference=reference, at=app.clock())
            if not posted.duplicate:
                app.ui(app.notify, f"Payment of {self.money(amount)} posted", title="Payment", markup=False)
        return job


class PromiseForm(MoneyForm):
    TITLE_TEXT = "Promise to pay"

    def fields(self) -> ComposeResult:
        yield Label(Text(f"Balance {self.money(self.file.balance_minor)}: how much, and by when?"))
        yield Input(placeholder="Amount, e.g. 50.00", id="promise-amount")
        yield Input((self.today() + dt.timedelta(days=7)).isoformat(), placeholder="Due YYYY-MM-DD",
                    id="promise-due")
        yield Input(placeholder="Note (optional): how they will pay", id="promise-note", max_length=2000)

    def on_mount(self) -> None:
        self.query_one("#promise-amount", Input).focus()

    def prepare(self):
        from db.promises import record_promise

        amount = self.amount("#promise-amount", "Amount")
        due = self.date("#promise-due", "Due")
        if due < self.today():
            raise ValueError("That date has passed: a promise is for today or later")
        note = self.query_one("#promise-note", Input).value
        app, account_id, actor = self.app, self.file.id, self.actor
        return lambda: record_promise(app.settings, actor, account_id, amount, due, at=app.clock(), note=note)


class SettleForm(MoneyForm):
    """A settlement (accept an amount in full and final settlement, paid by a date) or a
    write-off; above the officer's limit either goes to a team lead."""

    TITLE_TEXT = "Settle or write off"

    def fields(self) -> ComposeResult:
        yield OptionList(Option(Text("Settle: accept an amount in full and final settlement"), id="settle"),
                         Option(Text("Write off part or all of the balance"), id="write_off"), id="settle-kind")
        yield Label(Text(f"Balance {self.money(self.file.balance_minor)}"))
        yield Input(placeholder="Amount (to accept, or to write off)", id="settle-amount")
        yield Input((self.today() + dt.timedelta(days=14)).isoformat(), placeholder="Pay by YYYY-MM-DD (settlement)",
                    id="settle-by")
        yield Input(placeholder="Reason (required)", id="settle-reason", max_length=2000)

    def on_mount(self) -> None:
        kind = self.query_one("#settle-kind", OptionList)
        kind.highlighted = 0
        kind.focus()

    def prepare(self):
        from db.approvals import request_write_off
        from db.arrangements import save_plan
        from db.plans import PlanRequest

        kinds = self.query_one("#settle-kind", OptionList)
        kind = kinds.get_option_at_index(kinds.highlighted).id
        amount = self.amount("#settle-amount", "Amount")
        reason = self.query_one("#settle-reason", Input).value
        if not reason.strip():
            raise ValueError("Give a reason: the team lead and the audit trail read it")
        if amount > self.file.balance_minor:
            raise ValueError(f"Amount: more than the balance of {self.money(self.file.balance_minor)}")
        app, account_id, actor, money = self.app, self.file.id, self.actor, self.money
        if kind == "write_off":
            def write_off():
                approval = request_write_off(app.settings, actor, account_id, amount, reason=reason, at=app.clock(),
                                             format_money=money)
                app.ui(app.notify, "Written off" if approval.status == "approved" else "Sent to your team lead",
                       title="Write-off", markup=False)
            return write_off
        by = self.date("#settle-by", "Pay by")
        request = PlanRequest(self.file.balance_minor, by, "monthly", count=1, settle_for_minor=amount)

        def settle():
            saved = save_plan(app.settings, actor, account_id, request, at=app.clock(), format_money=money)
            app.ui(app.notify, "Sent to your team lead: " + "; ".join(saved.breaches) if saved.approval
                   else f"Settlement agreed: {money(amount)} by {by:%d %b %Y}", title="Settlement", markup=False)
        return settle
