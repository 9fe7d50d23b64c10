"""Legal escalation: a case moves through the stages one at a time with its dates, letters
and costs; every hold that forbids legal action blocks opening and advancing; an officer's
referral waits for a team lead, whose approval enters the stage; closing gives the account
its status back; the account file and the floor show the stage."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from config import load_settings
from db.approvals import decide
from db.audit import Actor, write_transaction
from db.floor_queue import queue_summary
from db.legal import LegalError, advance, case_view, open_case, post_cost
from db.ledger import balance_by_bucket, ledger_sum, post
from db.models import Account, Approval, AuditEvent, LegalCase, LegalStep, Letter, Officer
from db.worklist import account_file
from tests import floor

SETTINGS = load_settings()
AT = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
LATER = AT + dt.timedelta(days=14)


@pytest.fixture
def office(db):
    team = floor.team()
    people = {name: Actor.for_officer(floor.officer(name, team, role))
              for name, role in (("alice", "officer"), ("lina", "team_lead"))}
    uk = floor.account(team, zone="Europe/London", country="GB", region="ENG", dpd=200, balance=0,
                       phones=(("+442079460123", "home", "good"),))
    post(Actor("test", role="admin"), uk.id, "charge", 2_000_00, effective_date=dt.date(2025, 11, 22))
    return people, Account.get_by_id(uk.id)


def set_account(account, **fields):
    with write_transaction(Actor("test", role="admin")) as tx:
        Account.update(**fields).where(Account.id == account.id).execute()
        tx.audit("test.set", "account", account.id, account_id=account.id)


def test_a_case_goes_stage_by_stage_with_letters_costs_and_a_leads_approval_to_refer(office):
    people, acct = office
    alice, lina = people["alice"], people["lina"]
    case = open_case(SETTINGS, alice, acct.id, note="no contact in 6 months, assets found", at=AT)
    assert case.stage == "review" and Account.get_by_id(acct.id).status == "legal"
    with pytest.raises(LegalError, match="next stage is Letter before claim, not Claim issued"):
        advance(SETTINGS, alice, acct.id, "claim_issued", at=AT)
    advance(SETTINGS, alice, acct.id, "letter_before_claim", note="sent by post", at=AT)
    assert [l.template for l in Letter.select().where(Letter.account == acct.id)] == ["letter-before-claim"]

    # Alice asks to refer; nothing moves until a team lead approves.
    approval = advance(SETTINGS, alice, acct.id, "referred", note="30 days passed, no reply", at=LATER)
    assert isinstance(approval, Approval) and approval.kind == "legal_referral"
    assert LegalCase.get_by_id(case.id).stage == "letter_before_claim"
    with pytest.raises(LegalError, match="already waiting"):
        advance(SETTINGS, alice, acct.id, "referred", at=LATER)
    decide(SETTINGS, lina, approval.id, True, reason="agreed", at=LATER)
    referred = LegalCase.get_by_id(case.id)
    assert referred.stage == "referred" and referred.solicitor == SETTINGS.letters.solicitor.name
    assert sorted(l.template for l in Letter.select().where(Letter.account == acct.id)) == [
        "letter-before-claim", "solicitor-referral"]

    advance(SETTINGS, lina, acct.id, "claim_issued", court_reference="K00AB123", at=LATER)
    post_cost(SETTINGS, lina, acct.id, 115_00, what="court issue fee", at=LATER)
    with pytest.raises(PermissionError):
        post_cost(SETTINGS, alice, acct.id, 10_00, what="postage", at=LATER)
    assert balance_by_bucket(acct.id)["costs"] == 115_00
    assert Account.get_by_id(acct.id).balance_minor == 2_115_00 == ledger_sum(acct.id)

    view = case_view(SETTINGS, lina, acct.id, LATER)
    assert (view.stage, view.court_reference, view.costs_minor, view.next_stage) == ("claim_issued", "K00AB123",
                                                                                     115_00, "judgment")
    assert [(s[1], s[2], s[4]) for s in view.steps] == [
        ("Review", "alice", ""), ("Letter before claim", "alice", "letter-before-claim"),
        ("Referred to solicitor", "lina", "solicitor-referral"), ("Claim issued", "lina", "")]
    assert account_file(SETTINGS, lina, acct.id, LATER).legal == "Legal: Claim issued since 24 Jun 2026, claim K00AB123"
    assert queue_summary(SETTINGS, lina, LATER).legal == {"claim_issued": 1}

    advance(SETTINGS, lina, acct.id, "closed", note="judgment paid", at=LATER)
    assert Account.get_by_id(acct.id).status == "open" and LegalCase.get_by_id(case.id).closed_at is not None
    assert account_file(SETTINGS, lina, acct.id, LATER).legal is None
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity == "legal_case").order_by(AuditEvent.id)]
    assert actions == ["legal.open"] + ["legal.stage"] * 4


@pytest.mark.parametrize("fields, why", [
    ({"last_payment_date": dt.date(2019, 1, 1), "delinquency_date": dt.date(2018, 6, 1)}, "Time-barred"),
    ({"dispute": True}, "disputed"),
    ({"bankruptcy": True}, "bankruptcy"),
    ({"deceased": True}, "deceased"),
    ({"breathing_space_until": dt.date(2026, 7, 1)}, "Breathing space"),
])
def test_every_hold_blocks_opening_and_advancing(office, fields, why):
    people, acct = office
    clean = {k: (False if isinstance(v, bool) else None) for k, v in fields.items()}
    set_account(acct, **fields)
    with pytest.raises(LegalError, match=why):
        open_case(SETTINGS, people["lina"], acct.id, note="try", at=AT)
    assert LegalCase.select().count() == 0 and Account.get_by_id(acct.id).status == "open"
    # Opened while clean, then the hold arrives: no further step, but it can be closed.
    set_account(acct, **{k: v for k, v in clean.items() if v is not None or k in ("breathing_space_until",)},
                **({"delinquency_date": dt.date(2025, 11, 22), "last_payment_date": None}
                   if "last_payment_date" in fields else {}))
    open_case(SETTINGS, people["lina"], acct.id, note="clean now", at=AT)
    set_account(acct, **fields)
    with pytest.raises(LegalError, match=why):
        advance(SETTINGS, people["lina"], acct.id, "letter_before_claim", at=AT)
    advance(SETTINGS, people["lina"], acct.id, "closed", note="cannot proceed", at=AT)
    assert LegalStep.select().count() == 2


def test_a_referral_is_not_approved_once_the_debt_is_disputed(office):
    people, acct = office
    open_case(SETTINGS, people["alice"], acct.id, note="review", at=AT)
    advance(SETTINGS, people["alice"], acct.id, "letter_before_claim", at=AT)
    approval = advance(SETTINGS, people["alice"], acct.id, "referred", at=LATER)
    set_account(acct, dispute=True)
    from db.approvals import ApprovalError

    with pytest.raises(ApprovalError, match="disputed"):
        decide(SETTINGS, people["lina"], approval.id, True, reason="ok", at=LATER)
    assert LegalCase.get().stage == "letter_before_claim"
    assert json.loads(Approval.get_by_id(approval.id).payload)["to"] == "referred"


def test_the_commands(office, db_url):
    _, acct = office

    def run(*args):
        return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "legal", *args], capture_output=True,
                              text=True, timeout=60)

    opened = run("open", acct.reference, "--note", "assets found", "--at", "2026-06-10T16:00:00Z")
    assert opened.returncode == 0 and opened.stdout.strip() == f"{acct.reference}: legal case opened at Review"
    skipped = run("advance", acct.reference, "judgment", "--at", "2026-06-10T16:00:00Z")
    assert skipped.returncode == 1 and "its next stage is Letter before claim" in skipped.stderr
    assert run("advance", acct.reference, "letter_before_claim", "--at", "2026-06-10T16:00:00Z").returncode == 0
    assert run("cost", acct.reference, "25.00", "--what", "tracing agent").returncode == 0
    shown = run("show", acct.reference)
    assert shown.returncode == 0
    assert "letter letter-before-claim" in shown.stdout and "costs $25.00; next: Referred to solicitor" in shown.stdout
    bad = run("cost", acct.reference, "1.234", "--what", "x")
    assert bad.returncode == 1 and "more than 2 decimal places" in bad.stderr


async def test_the_legal_form_on_the_account_screen(office):
    from textual.widgets import Static

    from tests.test_tui import make_app, settle
    from tui.screens.account import AccountScreen

    people, acct = office
    app = make_app(Officer.get_by_id(people["alice"].officer_id))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(acct.id)
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        await pilot.press("e")
        await settle(pilot)
        assert "No open legal case" in str(app.screen.query_one("#legal-case", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Say why" in str(app.screen.query_one("#form-error", Static).render())
        await pilot.press(*"assets found")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen) and LegalCase.get().stage == "review"
        assert "Legal: Review since" in "\n".join(str(s.render()) for s in app.screen.query(Static))
        await pilot.press("e")
        await settle(pilot)
        assert "ctrl+s: Letter before claim" in str(app.screen.query_one("#legal-case", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert LegalCase.get().stage == "letter_before_claim"
