"""`arrears account show`: the facts and each phone's may_call decision, for people and scripts."""

import datetime as dt
import json
import subprocess
import sys

from db.activity import log_call
from db.audit import Actor
from db.models import Phone
from tests import floor


def show(db_url, *args):
    return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "account", "show", *args],
                          capture_output=True, text=True, timeout=120)


def test_account_show_json_and_text(db, db_url):
    from config import load_settings

    team = floor.team()
    alice = floor.officer("alice", team)
    acct = floor.account(team, balance=1234_56, phones=(("+12125550100", "mobile", "good"),
                                                        ("+12125550101", "home", "bad")), dispute=True)
    phone = Phone.get(Phone.number == "+12125550100")
    log_call(load_settings(), Actor.for_officer(alice), acct.id, phone.id, "no_answer",
             at=dt.datetime(2026, 6, 10, 14, 0, tzinfo=dt.UTC))
    db.close()
    proc = show(db_url, acct.reference, "--at", "2026-06-10T16:00:00Z", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"reference", "balance", "flags", "claimed_by", "phones"} <= set(data)
    assert data["balance"] == "1234.56" and data["flags"] == ["dispute"] and data["claimed_by"] is None
    mobile, home = data["phones"]
    assert mobile["number"] == "+12125550100" and mobile["kind"] == "mobile"
    assert mobile["may_call"]["allowed"] is False
    assert any("disputed" in r for r in mobile["may_call"]["reasons"])
    assert "Number marked bad" in home["may_call"]["reasons"]
    text = show(db_url, acct.reference, "--at", "2026-06-10T16:00:00Z")
    assert "may not call" in text.stdout and "dispute" in text.stdout


def test_account_show_next_allowed_time(db, db_url):
    team = floor.team()
    acct = floor.account(team, zone="America/Los_Angeles", region="CA", phones=(("+12135550100", "mobile", "good"),))
    db.close()
    data = json.loads(show(db_url, acct.reference, "--at", "2026-06-10T14:30:00Z", "--json").stdout)
    decision = data["phones"][0]["may_call"]
    assert decision["allowed"] is False
    assert decision["next_allowed_at"] == "2026-06-10T15:00:00+00:00"  # 08:00 in Los Angeles


def test_account_show_errors(db, db_url):
    db.close()
    missing = show(db_url, "NOPE")
    assert missing.returncode == 1 and "no account with reference 'NOPE'" in missing.stderr
    bad_time = show(db_url, "NOPE", "--at", "yesterday")
    assert bad_time.returncode == 2 and "not an ISO time" in bad_time.stderr
