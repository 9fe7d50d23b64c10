"""`arrears legal`: an account's legal case from the command line (the rules are in
`db/legal.py`): open it, move it a stage on, post a cost, show it."""

from __future__ import annotations

import click

from tui.cli_context import Context, Failure, _instant, pass_ctx


@click.group("legal")
def legal_group() -> None:
    """Legal escalation."""


def _account_id(reference: str) -> int:
    from db.models import Account

    account = Account.get_or_none(Account.reference == reference)
    if account is None:
        raise Failure(f"there is no account {reference}")
    return account.id


@legal_group.command("open")
@click.argument("reference")
@click.option("--note", required=True, help="Why the account goes to legal.")
@click.option("--at", "at", metavar="ISO-TIME", hidden=True)
@pass_ctx
def legal_open(ctx: Context, reference: str, note: str, at: str | None) -> None:
    """Open a legal case (refused for time-barred, disputed, bankrupt or deceased debts)."""
    from db.audit import Actor
    from db.legal import LegalError, label, open_case

    db = ctx.open_db()
    with db.connection_context():
        try:
            case = open_case(ctx.settings, Actor.cli(), _account_id(reference), note=note, at=_instant(at))
        except LegalError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"{reference}: legal case opened at {label(case.stage)}")


@legal_group.command("advance")
@click.argument("reference")
@click.argument("stage")
@click.option("--note", default="", help="What happened.")
@click.option("--court-ref", help="The court's claim number (claim issued).")
@click.option("--at", "at", metavar="ISO-TIME", hidden=True)
@pass_ctx
def legal_advance(ctx: Context, reference: str, stage: str, note: str, court_ref: str | None, at: str | None) -> None:
    """Move the case to STAGE: the next one, or the last to close it."""
    from db.audit import Actor
    from db.legal import LegalError, advance, label

    db = ctx.open_db()
    with db.connection_context():
        try:
            advance(ctx.settings, Actor.cli(), _account_id(reference), stage, note=note, court_reference=court_ref,
                    at=_instant(at))
        except LegalError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"{reference}: {label(stage)}")


@legal_group.command("cost")
@click.argument("reference")
@click.argument("amount")
@click.option("--what", required=True, help="Court fee, solicitor's fee, …")
@pass_ctx
def legal_cost(ctx: Context, reference: str, amount: str, what: str) -> None:
    """Add a legal cost to the debt (the ledger's costs bucket)."""
    from db.audit import Actor
    from db.legal import LegalError, post_cost
    from db.models import Account
    from db.money import MoneyError, exponent_of, format_money, parse_amount

    db = ctx.open_db()
    with db.connection_context():
        account_id = _account_id(reference)
        currency = Account.get_by_id(account_id).currency
        try:
            minor = parse_amount(amount, exponent=exponent_of(currency), allow_zero=False)
            post_cost(ctx.settings, Actor.cli(), account_id, minor, what=what)
        except (LegalError, MoneyError) as exc:
            raise Failure(str(exc)) from None
    click.echo(f"{reference}: cost of {format_money(minor, currency, ctx.settings.locale.locale)} posted ({what})")


@legal_group.command("show")
@click.argument("reference")
@pass_ctx
def legal_show(ctx: Context, reference: str) -> None:
    """The account's legal case: its stages with dates, letters and costs."""
    from db.audit import Actor
    from db.legal import case_view, label
    from db.models import Account
    from db.money import format_money

    db = ctx.open_db()
    with db.connection_context():
        account_id = _account_id(reference)
        view = case_view(ctx.settings, Actor.cli(), account_id)
        currency = Account.get_by_id(account_id).currency
    if view is None:
        click.echo(f"{reference}: no legal case")
        return
    click.echo(f"{reference}: {view.line()}")
    for at, stage, by, note, letter in view.steps:
        extra = "; ".join(x for x in (note, f"letter {letter}" if letter else "") if x)
        click.echo(f"  {at:%Y-%m-%d %H:%M}  {stage:<22} {by:<10} {extra}".rstrip())
    click.echo(f"  costs {format_money(view.costs_minor, currency, ctx.settings.locale.locale)}"
               + (f"; next: {label(view.next_stage)}" if view.next_stage else ""))
    for reason in view.blocked:
        click.echo(f"  blocked: {reason}")


@click.group("parties")
def parties_group() -> None:
    """Related parties on an account."""


@parties_group.command("add")
@click.argument("reference")
@click.option("--role", required=True, type=click.Choice(["co_debtor", "guarantor", "employer", "attorney",
                                                          "third_party"]))
@click.option("--name", required=True)
@click.option("--phone")
@click.option("--email")
@click.option("--address")
@click.option("--party-ref", "party_ref", help="Their own reference (a firm's matter number).")
@pass_ctx
def parties_add(ctx: Context, reference, role, name, phone, email, address, party_ref) -> None:
    """Add a party (an attorney of record puts the debtor out of reach of collection calls)."""
    from db.audit import Actor
    from db.parties import PartyError, add_party

    db = ctx.open_db()
    with db.connection_context():
        try:
            party = add_party(ctx.settings, Actor.cli(), _account_id(reference), role, name, phone=phone, email=email,
                              address=address, reference=party_ref)
        except PartyError as exc:
            raise Failure(str(exc), exit_code=2) from None
    click.echo(f"{reference}: {role} {party.name} added (party {party.id})")


@parties_group.command("list")
@click.argument("reference")
@pass_ctx
def parties_list(ctx: Context, reference) -> None:
    """The account's parties and the debtor's other accounts."""
    from db.audit import Actor
    from db.parties import ROLE_LABELS, linked_accounts, parties_of

    db = ctx.open_db()
    with db.connection_context():
        account_id = _account_id(reference)
        parties = parties_of(Actor.cli(), account_id)
        linked = linked_accounts(Actor.cli(), account_id)
    for p in parties:
        click.echo(f"{p.id:>6}  {ROLE_LABELS.get(p.role, p.role):<24} {p.name}  "
                   + "  ".join(x for x in (p.phone, p.email, p.reference) if x))
    for a in linked:
        click.echo(f"  same debtor: {a.reference} ({a.client}) {a.status}")


@parties_group.command("remove")
@click.argument("party_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
def parties_remove(ctx: Context, party_id: int, reason: str) -> None:
    """A party is no longer on the account (kept in its history)."""
    from db.audit import Actor
    from db.parties import PartyError, remove_party

    db = ctx.open_db()
    with db.connection_context():
        try:
            remove_party(ctx.settings, Actor.cli(), party_id, reason=reason)
        except PartyError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"party {party_id} removed")
