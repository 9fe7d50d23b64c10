"""A small hand-made floor for tests of the queue and the governor."""

from __future__ import annotations

import datetime as dt
import itertools

from db.audit import Actor, write_transaction
from db.models import Account, Address, Client, Debtor, Officer, Phone, Team

_refs = itertools.count(1)


def team(name="Recoveries") -> Team:
    with write_transaction(Actor("test", role="admin")) as tx:
        row = Team.get_or_none(Team.name == name) or Team.create(name=name)
        tx.audit("team.create", "team", row.id)
    return row


def officer(username, team_row, role="officer") -> Officer:
    with write_transaction(Actor("test", role="admin")) as tx:
        row = Officer.create(username=username, name=username.title(), role=role, team=team_row)
        tx.audit("officer.add", "officer", row.id)
    return row


def account(team_row, *, zone="America/New_York", country="US", region="NY", jurisdiction=None,
            phones=(("+12125550100", "mobile", "good"),), balance=100_00, dpd=100,
            today=dt.date(2026, 6, 10), **fields) -> Account:
    n = next(_refs)
    with write_transaction(Actor("test", role="admin")) as tx:
        client = Client.get_or_none(Client.code == "TST") or Client.create(code="TST", name="Test Creditor")
        debtor = Debtor.create(first_name=f"Debtor{n}", last_name="Test", search_name=f"test debtor{n}")
        if zone is not None:
            Address.create(debtor=debtor, line1="1 Main St", city="Town", region=region, country=country,
                           time_zone=zone, postcode="00000")
        for number, kind, status in phones:
            Phone.create(debtor=debtor, number=number, kind=kind, status=status)
        acct = Account.create(reference=f"T{n:06d}", client=client, client_reference=f"C{n}", debtor=debtor,
                              jurisdiction=jurisdiction or f"{country}-{region}", placed_on=today,
                              delinquency_date=today - dt.timedelta(days=dpd), balance_minor=balance,
                              team=team_row, **fields)
        tx.audit("account.create", "account", acct.id, account_id=acct.id)
    return acct
