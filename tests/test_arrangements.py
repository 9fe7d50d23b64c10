"""Arrangements, payments, promises and approvals against a real database (SQLite file, or
PostgreSQL with ARREARS_TEST_DATABASE_URL): what the ledger, the installments and the
queue hold after each step."""

import datetime as dt
from decimal import Decimal

import pytest

from config import load_settings
from db.approvals import ApprovalError, decide, pending_approvals, request_write_off
from db.arrangements import ArrangementError, cancel_plan, save_plan
from db.audit import Actor
from db.ledger import accounts_out_of_balance, balance_by_bucket, ledger_sum, post
from db.models import Account, Allocation, Approval, AuditEvent, Installment, LedgerEntry, Letter, Plan, Promise
from db.payments import PaymentError, post_payment, reverse_payment
from db.plans import PlanRequest
from db.promises import PromiseError, evaluate, judge, record_promise
from db.queue import TIER
from tests import floor

TODAY = dt.date(2026, 6, 10)
NOON = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return NOON + dt.timedelta(days=n)


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def office(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    lead = floor.officer("lead", team, role="team_lead")
    account = floor.account(team, balance=0, today=TODAY)
    admin = Actor("test", role="admin")
    post(admin, account.id, "charge", 900_00, effective_date=TODAY)
    post(admin, account.id, "fee", 50_00, bucket="fees", effective_date=TODAY)
    post(admin, account.id, "interest", 50_00, bucket="interest", effective_date=TODAY)
    return {"alice": Actor.for_officer(alice), "lead": Actor.for_officer(lead), "account": account.id}


def monthly(amount, count, first=TODAY + dt.timedelta(days=5), **kw):
    return PlanRequest(amount, first, "monthly", count=count, **kw)


def installments(plan_id):
    return [(i.paid_minor, i.status, i.carried_minor)
            for i in Installment.select().where(Installment.plan == plan_id).order_by(Installment.number)]


def test_saving_a_plan_writes_the_arrangement_activity_and_letter_together(settings, office):
    saved = save_plan(settings, office["alice"], office["account"], monthly(1000_00, 4), at=NOON)
    assert saved.approval is None and saved.plan.status == "active"
    assert [(i.amount_minor, i.due_on) for i in Installment.select().where(Installment.plan == saved.plan.id)
            .order_by(Installment.number)] == [(250_00, dt.date(2026, 6, 15)), (250_00, dt.date(2026, 7, 15)),
                                               (250_00, dt.date(2026, 8, 15)), (250_00, dt.date(2026, 9, 15))]
    assert Account.get_by_id(office["account"]).status == "arrangement"
    assert [(l.template, l.status) for l in Letter.select()] == [("plan-confirmation", "queued")]
    assert AuditEvent.select().where(AuditEvent.action == "plan.create").count() == 1
    with pytest.raises(ArrangementError, match="already has a plan"):
        save_plan(settings, office["alice"], office["account"], monthly(1000_00, 4), at=NOON)
    cancel_plan(settings, office["alice"], saved.plan.id, reason="customer asked for weekly", at=NOON)
    assert Account.get_by_id(office["account"]).status == "open"
    with pytest.raises(ArrangementError, match="has passed"):
        save_plan(settings, office["alice"], office["account"], monthly(1000_00, 4, first=TODAY - dt.timedelta(days=1)),
                  at=NOON)


def test_payment_follows_the_waterfall_and_pays_the_oldest_installment(settings, office):
    saved = save_plan(settings, office["alice"], office["account"], monthly(1000_00, 4), at=NOON)
    posted = post_payment(settings, office["alice"], office["account"], 300_00, method="card", paid_on=TODAY,
                          key="card:TX1", reference="TX1", at=NOON)
    assert posted.by_bucket == {"fees": 50_00, "interest": 50_00, "principal": 200_00}
    assert posted.allocated == [("installment", 1, 250_00), ("installment", 2, 50_00)]
    assert installments(saved.plan.id)[:2] == [(250_00, "kept", 0), (50_00, "open", 0)]
    assert balance_by_bucket(office["account"]) == {"principal": 700_00, "interest": 0, "fees": 0, "costs": 0}
    account = Account.get_by_id(office["account"])
    assert account.balance_minor == 700_00 == ledger_sum(office["account"])
    assert account.last_payment_date == TODAY
    # The same key again (a double submit, a file imported twice) posts nothing.
    entries = LedgerEntry.select().count()
    again = post_payment(settings, office["alice"], office["account"], 300_00, method="card", paid_on=TODAY,
                         key="card:TX1", reference="TX1", at=NOON)
    assert again.duplicate and again.head.id == posted.head.id
    assert LedgerEntry.select().count() == entries and Allocation.select().count() == 2
    assert accounts_out_of_balance() == []


def test_reversal_reopens_what_the_payment_settled(settings, office):
    saved = save_plan(settings, office["alice"], office["account"], monthly(1000_00, 4), at=NOON)
    post_payment(settings, office["alice"], office["account"], 300_00, method="cheque", paid_on=TODAY,
                 key="chq:1001", reference="1001", at=NOON)
    reverse_payment(settings, office["alice"], "chq:1001", reason="cheque returned unpaid", at=day(1))
    assert installments(saved.plan.id)[:2] == [(0, "open", 0), (0, "open", 0)]
    assert balance_by_bucket(office["account"]) == {"principal": 900_00, "interest": 50_00, "fees": 50_00, "costs": 0}
    account = Account.get_by_id(office["account"])
    assert account.balance_minor == 1000_00 == ledger_sum(office["account"])
    assert account.last_payment_date is None  # a bounced cheque never restarted limitation
    assert sum(a.amount_minor for a in Allocation.select()) == 0
    with pytest.raises(PaymentError, match="already been reversed"):
        reverse_payment(settings, office["alice"], "chq:1001", reason="again", at=day(1))
    # Reversed after the first installment's grace period: it is broken at once.
    post_payment(settings, office["alice"], office["account"], 250_00, method="cheque", paid_on=TODAY,
                 key="chq:1002", reference="1002", at=NOON)
    reverse_payment(settings, office["alice"], "chq:1002", reason="cheque returned unpaid", at=day(10))
    assert installments(saved.plan.id)[0] == (0, "broken", 0)
    assert accounts_out_of_balance() == []


@pytest.mark.parametrize("paid,at_day,expected", [
    (0, 3, None),         # inside the grace days: still open
    (0, 4, "broken"),
    (95_00, 4, "kept"),   # the tolerance keeps it
    (94_99, 4, "partial"),
    (100_00, -5, "kept"),  # paid in full before the due date: kept at once
])
def test_judging_with_grace_and_tolerance(paid, at_day, expected):
    assert judge(100_00, paid, TODAY, TODAY + dt.timedelta(days=at_day), grace_days=3,
                 tolerance_percent=95) == expected


def test_promises_kept_partial_and_broken_and_the_queue(settings, office):
    promise = record_promise(settings, office["alice"], office["account"], 100_00, TODAY + dt.timedelta(days=2), at=NOON)
    assert Account.get_by_id(office["account"]).promise_due_on == TODAY + dt.timedelta(days=2)
    post_payment(settings, office["alice"], office["account"], 40_00, method="card", paid_on=TODAY, key="c1",
                 reference="c1", at=NOON)
    assert evaluate(settings, Actor.system("evaluate"), day(5)).promises == {}  # due +2, grace 3: decided after day 5
    result = evaluate(settings, Actor.system("evaluate"), day(6))
    assert result.promises == {"partial": 1}
    assert Promise.get_by_id(promise.id).status == "partial"
    account = Account.get_by_id(office["account"])
    # A missed promise puts the account in the promise tier until someone speaks to the debtor.
    assert account.promise_due_on == TODAY + dt.timedelta(days=2)
    assert account.queue_priority is not None and account.queue_priority >= 2 * TIER
    with pytest.raises(PromiseError, match="has passed"):
        record_promise(settings, office["alice"], office["account"], 10_00, TODAY - dt.timedelta(days=1), at=NOON)
    with pytest.raises(PromiseError, match="up to 30 days ahead"):
        record_promise(settings, office["alice"], office["account"], 10_00, TODAY + dt.timedelta(days=45), at=NOON)


def test_missed_installments_carry_the_shortfall_then_break_the_arrangement(settings, office):
    request = PlanRequest(900_00, TODAY, "weekly", count=3)
    saved = save_plan(settings, office["alice"], office["account"], request, at=NOON)
    post_payment(settings, office["alice"], office["account"], 100_00, method="card", paid_on=TODAY, key="w1",
                 reference="w1", at=NOON)
    evaluate(settings, Actor.system("evaluate"), day(4))
    # 100 of 300 paid: partial, and the 200 short is due with the next installment.
    assert installments(saved.plan.id) == [(100_00, "partial", 0), (0, "open", 200_00), (0, "open", 0)]
    assert Plan.get_by_id(saved.plan.id).status == "active"
    result = evaluate(settings, Actor.system("evaluate"), day(11))
    assert result.plans_broken == 1
    assert Plan.get_by_id(saved.plan.id).status == "broken"
    assert installments(saved.plan.id) == [(100_00, "partial", 0), (0, "broken", 200_00), (0, "cancelled", 500_00)]
    account = Account.get_by_id(office["account"])
    assert account.status == "open"
    assert account.queue_priority >= 2 * TIER  # back at the top of the queue
    assert [l.template for l in Letter.select().order_by(Letter.id)] == ["plan-confirmation", "broken-arrangement"]


def test_plan_outside_policy_waits_for_a_team_lead(settings, office):
    saved = save_plan(settings, office["alice"], office["account"],
                      monthly(1000_00, 1, discount_percent=Decimal(50)), at=NOON)
    assert saved.plan.status == "pending_approval" and saved.approval.kind == "settlement"
    assert any("below the client's floor of 60%" in b for b in saved.breaches)
    assert any("above your limit" in b for b in saved.breaches)
    assert Letter.select().count() == 0 and Account.get_by_id(office["account"]).status == "open"
    waiting = pending_approvals(office["lead"])
    assert [(w.kind, w.reference) for w in waiting] == [("settlement", Account.get_by_id(office["account"]).reference)]
    with pytest.raises(PermissionError):
        decide(settings, office["alice"], saved.approval.id, True, at=NOON)
    with pytest.raises(ApprovalError, match="say why"):
        decide(settings, office["lead"], saved.approval.id, False, at=NOON)
    decide(settings, office["lead"], saved.approval.id, True, reason="hardship evidence seen", at=NOON)
    assert Plan.get_by_id(saved.plan.id).status == "active"
    assert Plan.get_by_id(saved.plan.id).approved_by_id == office["lead"].officer_id
    assert [l.template for l in Letter.select()] == ["plan-confirmation"]
    with pytest.raises(ApprovalError, match="already approved"):
        decide(settings, office["lead"], saved.approval.id, False, reason="changed my mind", at=NOON)
    # Paying the settled amount completes the plan and settles the rest.
    post_payment(settings, office["alice"], office["account"], 500_00, method="bank_transfer", paid_on=TODAY,
                 key="bt:1", reference="1", at=NOON)
    account = Account.get_by_id(office["account"])
    assert Plan.get_by_id(saved.plan.id).status == "completed"
    assert account.balance_minor == 0 == ledger_sum(office["account"]) and account.status == "settled"
    assert LedgerEntry.select().where(LedgerEntry.kind == "settlement").get().amount_minor == -500_00


def test_refused_plan_is_cancelled(settings, office):
    saved = save_plan(settings, office["alice"], office["account"], monthly(1000_00, 60), at=NOON)
    assert saved.approval.kind == "plan_outside_policy"
    decide(settings, office["lead"], saved.approval.id, False, reason="too long: offer 36 months", at=NOON)
    assert Plan.get_by_id(saved.plan.id).status == "cancelled"
    assert Approval.get_by_id(saved.approval.id).reason == "too long: offer 36 months"
    assert AuditEvent.select().where(AuditEvent.action == "approval.refuse").count() == 1


def test_write_off_above_the_limit_needs_approval(settings, office):
    approval = request_write_off(settings, office["alice"], office["account"], 50_00, reason="fee charged in error",
                                 at=NOON)
    assert approval.status == "pending" and LedgerEntry.select().where(LedgerEntry.kind == "write_off").count() == 0
    decide(settings, office["lead"], approval.id, True, at=NOON)
    entry = LedgerEntry.select().where(LedgerEntry.kind == "write_off").get()
    assert entry.amount_minor == -50_00
    assert Account.get_by_id(office["account"]).balance_minor == 950_00 == ledger_sum(office["account"])
    with pytest.raises(ApprovalError, match="more than the balance"):
        request_write_off(settings, office["alice"], office["account"], 5000_00, reason="x", at=NOON)
