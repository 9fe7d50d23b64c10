"""The money commands of `arrears`: the plan calculator (`arrears plan`), posting and
reversing payments, and the daily judging of promises and installments."""

from __future__ import annotations

import datetime as dt
import json
import sys
from decimal import Decimal, InvalidOperation

import click

from tui.cli_context import Context, Failure, pass_ctx


def _amount(option: str, text: str | None, exponent: int, *, allow_zero: bool = False) -> int | None:
    from db.money import MoneyError, parse_amount

    if text is None:
        return None
    try:
        return parse_amount(text, exponent=exponent, allow_zero=allow_zero)
    except MoneyError as exc:
        raise Failure(f"{option}: {exc}", exit_code=2) from None


def _date(option: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Failure(f"{option} {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31", exit_code=2) from None


def _percent(option: str, text: str | None) -> Decimal:
    if text is None:
        return Decimal(0)
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation:
        raise Failure(f"{option} {text!r} is not a number, e.g. 9.9", exit_code=2) from None
    if not value.is_finite() or value < 0:
        raise Failure(f"{option} {text!r} must be zero or more", exit_code=2)
    if value.as_tuple().exponent < -2:
        raise Failure(f"{option} {text!r} has more than 2 decimal places", exit_code=2)
    return value


def _count(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise Failure(f"--count {text!r} is not a whole number", exit_code=2) from None
    if value < 1:
        raise Failure(f"--count {text!r}: a plan has at least 1 installment", exit_code=2)
    return value


def schedule_json(schedule, exponent: int) -> dict:
    from db.money import plain

    money = lambda minor: plain(minor, exponent=exponent)  # noqa: E731
    return {
        "amount_due": money(schedule.amount_due_minor),
        "deposit": money(schedule.deposit_minor),
        "settled_amount": money(schedule.settled_minor),
        "frequency": schedule.request.frequency,
        "installments": [{"number": i.number, "due": i.due.isoformat(), "amount": money(i.amount_minor),
                          "interest": money(i.interest_minor), "principal": money(i.principal_minor)}
                         for i in schedule.installments],
        "total": money(schedule.total_minor),
        "total_interest": money(schedule.total_interest_minor),
    }


@click.command("plan")
@click.option("--amount-due", required=True, metavar="AMOUNT", help="What the plan must cover, e.g. 1000.00.")
@click.option("--first-due", required=True, metavar="DATE", help="First installment's date, YYYY-MM-DD.")
@click.option("--frequency", required=True, metavar="FREQ", help="weekly, fortnightly, four-weekly or monthly.")
@click.option("--count", metavar="N", help="Number of installments (or give --installment).")
@click.option("--installment", metavar="AMOUNT", help="Installment amount (or give --count).")
@click.option("--deposit", metavar="AMOUNT", help="Paid today, not part of the installments.")
@click.option("--discount-percent", metavar="PCT", help="Settlement discount off the amount due.")
@click.option("--apr", metavar="PCT", help="Annual rate: equal payments by the annuity formula.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@pass_ctx
def plan_command(ctx: Context, amount_due, first_due, frequency, count, installment, deposit, discount_percent, apr,
                 as_json) -> None:
    """Work out a payment plan's schedule. `total` is everything the customer pays: the
    deposit and every installment."""
    from db.money import exponent_of, format_money
    from db.plans import PlanError, PlanRequest, plan

    exponent = exponent_of(ctx.settings.locale.currency)
    if (count is None) == (installment is None):
        raise Failure("give either --count or --installment", exit_code=2)
    request = PlanRequest(
        amount_due_minor=_amount("--amount-due", amount_due, exponent),
        first_due=_date("--first-due", first_due),
        frequency=frequency.strip().lower(),
        count=_count(count),
        installment_minor=_amount("--installment", installment, exponent),
        deposit_minor=_amount("--deposit", deposit, exponent, allow_zero=True) or 0,
        discount_percent=_percent("--discount-percent", discount_percent),
        apr_percent=_percent("--apr", apr),
    )
    try:
        schedule = plan(request)
    except PlanError as exc:
        raise Failure(str(exc), exit_code=2) from None
    if as_json:
        click.echo(json.dumps(schedule_json(schedule, exponent), indent=2))
        return
    currency, locale = ctx.settings.locale.currency, ctx.settings.locale.locale
    money = lambda minor: format_money(minor, currency, locale)  # noqa: E731
    click.echo(f"{'No.':>4}  {'Due':<10}  {'Amount':>14}  {'Interest':>12}  {'Principal':>14}")
    for i in schedule.installments:
        click.echo(f"{i.number:>4}  {i.due.isoformat():<10}  {money(i.amount_minor):>14}  "
                   f"{money(i.interest_minor):>12}  {money(i.principal_minor):>14}")
    click.echo(f"amount due {money(schedule.amount_due_minor)}, settled for {money(schedule.settled_minor)}, "
               f"deposit {money(schedule.deposit_minor)}")
    click.echo(f"total {money(schedule.total_minor)}, of which interest {money(schedule.total_interest_minor)}")


# --- payments ---------------------------------------------------------------------------------

@click.group("payments")
def payments_group() -> None:
    """Post, reverse and list payments."""


def _account_id(reference: str) -> int:
    from db.accounts import AccountNotFound, find_by_reference

    try:
        return find_by_reference(reference).id
    except AccountNotFound as exc:
        raise Failure(str(exc)) from None


@payments_group.command("post")
@click.argument("reference")
@click.argument("amount")
@click.option("--method", required=True, metavar="METHOD", help="card, bank_transfer, direct_debit, cheque or cash.")
@click.option("--reference", "payment_reference", metavar="TEXT", help="The bank or card transaction reference.")
@click.option("--date", "paid_on", metavar="DATE", help="When it was paid, YYYY-MM-DD (default today).")
@click.option("--key", metavar="KEY", help="Idempotency key (default: the method and transaction reference).")
@pass_ctx
def payments_post(ctx: Context, reference, amount, method, payment_reference, paid_on, key) -> None:
    """Post a payment to account REFERENCE: split over the balance buckets, allocated to
    the oldest open installment or promise. The same key twice posts once."""
    from db.audit import Actor
    from db.money import exponent_of, format_money
    from db.payments import PaymentError, post_payment

    db = ctx.open_db()
    settings = ctx.settings
    with db.connection_context():
        account_id = _account_id(reference)
        from db.models import Account

        currency = Account.get_by_id(account_id).currency
        minor = _amount("AMOUNT", amount, exponent_of(currency))
        if not key:
            if not payment_reference:
                raise Failure("give --reference (the transaction reference) or --key, so posting twice posts once",
                              exit_code=2)
            key = f"{method}:{payment_reference.strip()}"
        day = _date("--date", paid_on) or dt.datetime.now(dt.UTC).date()
        try:
            posted = post_payment(settings, Actor.cli(), account_id, minor, method=method, paid_on=day, key=key,
                                  reference=payment_reference)
        except PaymentError as exc:
            raise Failure(str(exc), exit_code=2) from None
    money = lambda m: format_money(m, currency, settings.locale.locale)  # noqa: E731
    if posted.duplicate:
        click.echo(f"already posted under key {key!r}: nothing new written")
        return
    parts = ", ".join(f"{bucket} {money(v)}" for bucket, v in posted.by_bucket.items())
    click.echo(f"posted {money(minor)} to {reference} ({parts}) under key {key!r}")
    for kind, which, value in posted.allocated:
        click.echo(f"  paid {money(value)} towards {kind} {which}")


@payments_group.command("split")
@click.argument("reference")
@click.argument("amount")
@click.option("--rule", type=click.Choice(["oldest", "largest", "proportional"]), required=True,
              help="How the payment is shared over the debtor's accounts.")
@click.option("--method", required=True, metavar="METHOD", help="card, bank_transfer, direct_debit, cheque or cash.")
@click.option("--key", required=True, metavar="KEY", help="Idempotency key: the same key twice posts once.")
@click.option("--date", "paid_on", metavar="DATE", help="When it was paid, YYYY-MM-DD (default today).")
@pass_ctx
def payments_split(ctx: Context, reference, amount, rule, method, key, paid_on) -> None:
    """One payment from the debtor over account REFERENCE and their other accounts, split
    by the rule and posted to each in one transaction."""
    from db.audit import Actor
    from db.models import Account
    from db.money import exponent_of, format_money
    from db.parties import PartyError, post_split_payment

    db = ctx.open_db()
    settings = ctx.settings
    with db.connection_context():
        account_id = _account_id(reference)
        currency = Account.get_by_id(account_id).currency
        minor = _amount("AMOUNT", amount, exponent_of(currency))
        day = _date("--date", paid_on) or dt.datetime.now(dt.UTC).date()
        try:
            parts = post_split_payment(settings, Actor.cli(), account_id, minor, rule=rule, method=method,
                                       paid_on=day, key=key)
        except PartyError as exc:
            raise Failure(str(exc), exit_code=2) from None
        refs = {a.id: a.reference for a in Account.select().where(Account.id.in_([p[0] for p in parts]))}
    for part_account, part in parts:
        click.echo(f"{refs[part_account]}: {format_money(part, currency, settings.locale.locale)}")


@payments_group.command("reverse")
@click.argument("key")
@click.option("--reason", required=True, help="Why, e.g. 'cheque returned unpaid'.")
@pass_ctx
def payments_reverse(ctx: Context, key: str, reason: str) -> None:
    """Reverse the payment posted under KEY (a bounced cheque, a recalled card payment)."""
    from db.audit import Actor
    from db.payments import PaymentError, reverse_payment

    db = ctx.open_db()
    with db.connection_context():
        try:
            rows = reverse_payment(ctx.settings, Actor.cli(), key, reason=reason)
        except PaymentError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"reversed payment {key!r} ({len(rows)} ledger entr{'y' if len(rows) == 1 else 'ies'})")


@payments_group.command("list")
@click.argument("reference")
@pass_ctx
def payments_list(ctx: Context, reference: str) -> None:
    """An account's payments, newest first, with their keys (for reversing)."""
    from db.money import format_money
    from db.models import Account
    from db.payments import payments_of

    db = ctx.open_db()
    with db.connection_context():
        account_id = _account_id(reference)
        currency = Account.get_by_id(account_id).currency
        rows = payments_of(account_id)
    if not rows:
        click.echo("no payments")
    for row in rows:
        click.echo(f"{row['paid_on']}  {format_money(row['amount_minor'], currency, ctx.settings.locale.locale):>12}  "
                   f"{row['method'] or '-':<13} {'REVERSED ' if row['reversed'] else ''}{row['key']}")


# --- promises -------------------------------------------------------------------------------

@click.group("promises")
def promises_group() -> None:
    """Promises to pay and installments."""


@promises_group.command("evaluate")
@click.option("--at", "at", metavar="ISO-TIME", help="Judge as of this instant (default now).")
@pass_ctx
def promises_evaluate(ctx: Context, at: str | None) -> None:
    """Judge every due promise and installment (kept, partial, broken) and break
    arrangements with too many missed: run daily (cron), after the payments import."""
    from db.audit import Actor
    from db.promises import evaluate
    from tui.cli_context import _instant

    db = ctx.open_db()
    with db.connection_context():
        result = evaluate(ctx.settings, Actor.system("evaluate"), _instant(at))
    click.echo(result.summary())


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `arrears plan`, `arrears payments` or `arrears promises`")
