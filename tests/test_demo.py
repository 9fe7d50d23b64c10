"""The demo floor: deterministic, realistic, and its ledgers add up."""

import datetime as dt
import sqlite3
import subprocess
import sys

import pytest
from peewee import fn

from db.demo import DemoError, generate
from db.ledger import accounts_out_of_balance
from db.models import Account, Activity, Address, Client, LedgerEntry, Officer, Phone, Team
from tests.conftest import PG_URL

AS_OF = dt.date(2026, 11, 2)
DOMAIN_TABLES = ["team", "officer", "client", "debtor", "address", "phone", "account", "ledger_entry",
                 "activity", "promise", "plan", "installment", "letter"]


@pytest.fixture
def floor(db, admin):
    generate(admin, accounts=600, seed=3, as_of=AS_OF, batch=250)
    return db


def test_demo_floor_is_realistic(floor):
    assert Account.select().count() == 600
    assert 3 <= Client.select().count() <= 5
    assert {t.name for t in Team.select()} == {"Recoveries", "Specialist"}
    roles = {o.username: o.role for o in Officer.select()}
    assert roles == {"admin": "admin", "lead": "team_lead", "alice": "officer", "bob": "officer",
                     "carol": "officer", "dave": "officer"}
    lo, hi = Account.select(fn.MIN(Account.balance_minor), fn.MAX(Account.balance_minor)).scalar(as_tuple=True)
    assert 25_00 <= lo and hi <= 25_000_00
    first, last = Account.select(fn.MIN(Account.delinquency_date), fn.MAX(Account.delinquency_date)).scalar(as_tuple=True)
    first, last = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in (first, last)]
    assert (AS_OF - last).days >= 1 and (AS_OF - first).days <= 900
    countries = {a.country for a in Address.select(Address.country).distinct()}
    assert countries == {"US", "GB"}
    zones = {a.time_zone for a in Address.select(Address.time_zone).distinct()}
    assert {"America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"} <= zones
    per_debtor = Phone.select(Phone.debtor, fn.COUNT(Phone.id).alias("n")).group_by(Phone.debtor)
    counts = {row.n for row in per_debtor}
    assert counts <= {1, 2, 3} and len(counts) >= 2
    assert Phone.select().where(Phone.status != "good").count() > 0
    assert Activity.select().count() > 600
    assert Account.select().where(Account.dispute | Account.cease | Account.vulnerable).count() > 0


def test_demo_ledgers_sum_to_balances(floor):
    assert accounts_out_of_balance() == []
    total = LedgerEntry.select(fn.SUM(LedgerEntry.amount_minor)).scalar()
    assert total == Account.select(fn.SUM(Account.balance_minor)).scalar()


def test_demo_refuses_a_floor_with_accounts(floor, admin):
    with pytest.raises(DemoError, match="already has accounts"):
        generate(admin, accounts=10, seed=3, as_of=AS_OF)


def _dump(path):
    conn = sqlite3.connect(path)
    return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in DOMAIN_TABLES}


@pytest.mark.skipif(PG_URL is not None, reason="compares two SQLite files; PostgreSQL runs the other demo tests")
def test_same_seed_same_data(tmp_path):
    dumps = []
    for name in ("one", "two"):
        url = f"sqlite:///{tmp_path / name}.db"
        proc = subprocess.run([sys.executable, "-m", "tui.cli", "--db", url, "demo", "--accounts", "700",
                               "--seed", "7", "--as-of", "2026-11-02"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "700 accounts" in proc.stdout
        dumps.append(_dump(tmp_path / f"{name}.db"))
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["account"]) == 700
    # and a different seed gives a different floor
    url = f"sqlite:///{tmp_path / 'three'}.db"
    subprocess.run([sys.executable, "-m", "tui.cli", "--db", url, "demo", "--accounts", "700", "--seed", "8",
                    "--as-of", "2026-11-02"], check=True, capture_output=True, timeout=300)
    assert _dump(tmp_path / "three.db")["debtor"] != dumps[0]["debtor"]
