"""Who else is on an account, and the debtor's other accounts.

Related parties: co-debtors and guarantors (who owe too), the employer, the solicitor or
attorney of record, third parties the debtor has authorised the floor to speak to; each
with contact details. Recording an attorney of record sets the account's
attorney-represented hold in the same transaction, so the compliance governor stops
collection calls to the debtor: contact goes to the attorney.

Linked debts: one debtor's accounts (the same debtor record, or the same national id, or
the same name and date of birth), shown together; a payment the debtor makes towards all
of them is split by a rule the officer picks and posted to each account in one
transaction (each part idempotent under its own key).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.models import PARTY_ROLES, Account, Client, Debtor, RelatedParty
from db.scope import account_for

ROLE_LABELS = {"co_debtor": "Co-debtor", "guarantor": "Guarantor", "employer": "Employer",
               "attorney": "Attorney of record", "third_party": "Authorised third party"}
SPLIT_RULES = {"oldest": "oldest debt first", "largest": "largest balance first",
               "proportional": "in proportion to the balances"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class PartyError(ValueError):
    """A party or a split that cannot be recorded; the message says what to fix."""


def add_party(settings, actor: Actor, account_id: int, role: str, name: str, *, phone: str | None = None,
              email: str | None = None, address: str | None = None, reference: str | None = None,
              note: str | None = None, at: dt.datetime | None = None) -> RelatedParty:
    import phonenumbers

    if role not in PARTY_ROLES:
        raise PartyError(f"role must be one of {', '.join(PARTY_ROLES)}, not {role!r}")
    name = (name or "").strip()
    if not name:
        raise PartyError("a party needs a name")
    if len(name) > 120:
        raise PartyError("the name is longer than 120 characters")
    email = (email or "").strip() or None
    if email and not _EMAIL.match(email):
        raise PartyError(f"{email!r} is not an e-mail address")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, PartyError)
        number = None
        if phone and phone.strip():
            try:
                parsed = phonenumbers.parse(phone, account.jurisdiction.split("-")[0])
                if not phonenumbers.is_valid_number(parsed):
                    raise phonenumbers.NumberParseException(0, "invalid")
            except phonenumbers.NumberParseException:
                raise PartyError(f"{phone!r} is not a valid phone number") from None
            number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if role == "attorney" and not (number or email or (address or "").strip()):
            raise PartyError("an attorney of record needs a phone, an e-mail or an address: contact goes there")
        party = RelatedParty.create(account=account_id, role=role, name=name, phone=number, email=email,
                                    address=(address or "").strip() or None, reference=(reference or "").strip() or None,
                                    note=(note or "").strip() or None)
        tx.audit("party.add", "related_party", party.id, account_id=account_id, changes={"role": role, "name": name})
        if role == "attorney" and not account.attorney_represented:
            Account.update(attorney_represented=True).where(Account.id == account_id).execute()
            tx.audit("flag.set", "account", account_id, account_id=account_id,
                     changes={"attorney_represented": [False, True], "reason": f"attorney of record: {name}"})
            from db.queue import refresh_accounts

            refresh_accounts(settings, [account_id], at or dt.datetime.now(dt.UTC))
    return party


def remove_party(settings, actor: Actor, party_id: int, *, reason: str, at: dt.datetime | None = None) -> None:
    """The party is no longer on the account (kept in the file, marked inactive). The
    attorney hold stays until a lead clears it with its own reason (`f` on the account)."""
    if not reason.strip():
        raise PartyError("say why the party is removed")
    with write_transaction(actor) as tx:
        party = RelatedParty.get_or_none(RelatedParty.id == party_id)
        if party is None or not party.active:
            raise PartyError(f"there is no active party {party_id}")
        account_for(actor, party.account_id, PartyError)
        RelatedParty.update(active=False).where(RelatedParty.id == party_id).execute()
        tx.audit("party.remove", "related_party", party_id, account_id=party.account_id,
                 changes={"role": party.role, "name": party.name, "reason": reason.strip()})


def parties_of(actor: Actor, account_id: int) -> list[RelatedParty]:
    account_for(actor, account_id)
    return list(RelatedParty.select().where(RelatedParty.account == account_id, RelatedParty.active == True)  # noqa: E712
                .order_by(RelatedParty.id))


@dataclass
class LinkedAccount:
    id: int
    reference: str
    client: str
    balance_minor: int
    currency: str
    status: str
    delinquency_date: dt.date | None


def linked_accounts(actor: Actor, account_id: int) -> list[LinkedAccount]:
    """The debtor's other open accounts in the actor's scope, oldest debt first."""
    account = account_for(actor, account_id)
    debtor = Debtor.get_by_id(account.debtor_id)
    # The same person: this debtor, or a debtor with the same national id, or the same
    # name and date of birth. Each is an indexed lookup of its own (asked as one OR across
    # the join, the database read every account).
    debtors = {debtor.id}
    if debtor.national_id:
        debtors.update(r[0] for r in Debtor.select(Debtor.id).where(Debtor.national_id == debtor.national_id).tuples())
    if debtor.date_of_birth:
        debtors.update(r[0] for r in Debtor.select(Debtor.id).where(
            Debtor.search_name == debtor.search_name, Debtor.date_of_birth == debtor.date_of_birth).tuples())
    query = (Account.select(Account, Client.code)
             .join_from(Account, Client, on=(Account.client == Client.id))
             .where(Account.debtor.in_(sorted(debtors)), Account.id != account_id,
                    Account.status.not_in(["closed", "settled", "paid", "recalled"])))
    if actor.role not in ("admin", "system"):
        query = query.where(Account.team == actor.team_id)
    return [LinkedAccount(a.id, a.reference, a.client.code, a.balance_minor, a.currency, a.status, a.delinquency_date)
            for a in query.order_by(Account.delinquency_date, Account.id)]


def split(amount_minor: int, accounts: list[tuple[int, int, dt.date | None]], rule: str) -> list[tuple[int, int]]:
    """(account id, part) for a payment over accounts given as (id, balance, first
    delinquency); parts never exceed a balance, and sum to the amount (any overpayment goes
    to the first account). Pure: tested with hypothesis."""
    if rule not in SPLIT_RULES:
        raise PartyError(f"rule must be one of {', '.join(SPLIT_RULES)}, not {rule!r}")
    if amount_minor <= 0:
        raise PartyError("the payment must be more than zero")
    owing = [(i, b, d) for i, b, d in accounts if b > 0]
    if not owing:
        raise PartyError("none of these accounts has a balance")
    parts: dict[int, int] = {i: 0 for i, _b, _d in owing}
    if rule == "proportional":
        total = sum(b for _i, b, _d in owing)
        left = min(amount_minor, total)
        for i, b, _d in owing:
            parts[i] = left * b // total
        remainder = min(amount_minor, total) - sum(parts.values())
        for i, b, _d in sorted(owing, key=lambda o: -o[1]):  # cents left by rounding: largest balances first
            if remainder <= 0:
                break
            take = min(remainder, b - parts[i])
            parts[i] += take
            remainder -= take
    else:
        order = (sorted(owing, key=lambda o: (o[2] or dt.date.max, o[0])) if rule == "oldest"
                 else sorted(owing, key=lambda o: (-o[1], o[0])))
        left = amount_minor
        for i, b, _d in order:
            take = min(left, b)
            parts[i] = take
            left -= take
    over = amount_minor - sum(parts.values())
    if over:
        first = owing[0][0] if rule == "proportional" else (
            sorted(owing, key=lambda o: (o[2] or dt.date.max, o[0]))[0][0] if rule == "oldest"
            else sorted(owing, key=lambda o: (-o[1], o[0]))[0][0])
        parts[first] += over
    return [(i, p) for i, p in parts.items() if p > 0]


def post_split_payment(settings, actor: Actor, account_id: int, amount_minor: int, *, rule: str, method: str,
                       paid_on: dt.date, key: str, with_accounts: list[int] | None = None,
                       at: dt.datetime | None = None) -> list[tuple[int, int]]:
    """One payment from the debtor over this account and their linked ones (or the listed
    ones), split by `rule`, every part posted in one transaction (each idempotent under
    `key/<account>`). Returns (account id, part)."""
    from peewee import fn

    from db.models import LedgerEntry
    from db.payments import PaymentError, post_payment

    # Sent before (a double press, a retried request): the parts already posted, unchanged.
    posted = (LedgerEntry.select(LedgerEntry.account, fn.SUM(LedgerEntry.amount_minor))
              .where(LedgerEntry.batch.startswith(f"{key}/"), LedgerEntry.kind == "payment")
              .group_by(LedgerEntry.account).order_by(LedgerEntry.account).tuples())
    if posted:
        return [(account, -int(part)) for account, part in posted]
    linked = {a.id: a for a in linked_accounts(actor, account_id)}
    chosen = [account_id] + [i for i in (with_accounts if with_accounts is not None else linked) if i != account_id]
    unknown = [i for i in chosen[1:] if i not in linked]
    if unknown:
        raise PartyError("a payment can be split only over the same debtor's accounts")
    own = account_for(actor, account_id)
    currencies = {own.currency} | {linked[i].currency for i in chosen[1:]}
    if len(currencies) > 1:
        raise PartyError("these accounts are in different currencies: take a payment on each")
    rows = [(own.id, own.balance_minor, own.delinquency_date)] + \
        [(i, linked[i].balance_minor, linked[i].delinquency_date) for i in chosen[1:]]
    parts = split(amount_minor, rows, rule)
    with write_transaction(actor) as tx:
        for part_account, part in parts:
            try:
                post_payment(settings, actor, part_account, part, method=method, paid_on=paid_on,
                             key=f"{key}/{part_account}", at=at)
            except PaymentError as exc:
                raise PartyError(str(exc)) from None
        tx.audit("payment.split", "account", account_id, account_id=account_id,
                 changes={"amount_minor": amount_minor, "rule": rule, "parts": parts, "key": key})
    return parts
