"""Letters against a real database: every template rendered to PDF and read back, hostile
customer data, the letter's dates, asking for letters through the holds, the worker's
retries, and re-printing."""

import datetime as dt
import hashlib
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from config import load_settings
from db.arrangements import save_plan
from db.audit import Actor, write_transaction
from db.letter_dates import (us_assumed_receipt, uk_deemed_service, uk_remedy_date, validation_period_ends)
from db.letter_queue import LetterError, claim_letter, new_token, reprint_letter, request_letter
from db.ledger import post
from db.models import Account, Activity, AuditEvent, Debtor, Letter
from db.payments import post_payment
from db.plans import PlanRequest, Statement
from letters.catalogue import TEMPLATES
from letters.render import PdfRenderer, Templates
from letters.worker import Worker
from tests import floor

SENT = dt.date(2026, 6, 10)
NOON = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
HOSTILE = '<img src="file:///etc/passwd"> & <b>x</b>'


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ARREARS_LETTERS__DIRECTORY", str(tmp_path / "letters"))
    return load_settings()


def _account(team, *, country="US", region="NY", currency="USD", name=("Ada", "Lovelace"), dpd=100, **fields):
    account = floor.account(team, country=country, region=region, balance=0, today=SENT, dpd=dpd,
                            zone="America/New_York" if country == "US" else "Europe/London", **fields)
    with write_transaction(Actor("test", role="admin")) as tx:
        Debtor.update(first_name=name[0], last_name=name[1]).where(Debtor.id == account.debtor_id).execute()
        # Placed a month ago: the itemisation date of the validation notice.
        Account.update(currency=currency, placed_on=SENT - dt.timedelta(days=30)).where(
            Account.id == account.id).execute()
        tx.audit("test.rename", "debtor", account.debtor_id)
    admin = Actor("test", role="admin")
    post(admin, account.id, "charge", 1200_00, effective_date=SENT - dt.timedelta(days=dpd))
    post(admin, account.id, "interest", 37_50, bucket="interest", effective_date=SENT - dt.timedelta(days=10))
    post(admin, account.id, "fee", 25_00, bucket="fees", effective_date=SENT - dt.timedelta(days=5))
    return Account.get_by_id(account.id)


@pytest.fixture
def office(db, settings):
    team = floor.team()
    alice = floor.officer("alice", team)
    us = _account(team, dpd=100)
    uk = _account(team, country="GB", region="ENG", currency="GBP", name=("Bryn", "Jones"), jurisdiction="GB-ENG")
    actor = Actor.for_officer(alice)
    # A payment on the US account, then a plan taken with an income and expenditure statement.
    post_payment(settings, actor, us.id, 62_50, method="card", paid_on=SENT - dt.timedelta(days=1),
                 key="pay-1", at=NOON)
    statement = Statement(2, 1, {"earnings": 2100_00, "benefits": 150_00},
                          {"home_and_contents": 900_00, "food_and_housekeeping": 520_00, "utilities": 210_00})
    save_plan(settings, actor, us.id, PlanRequest(1200_00, SENT + dt.timedelta(days=7), "monthly", count=6),
              statement=statement, at=NOON)
    return {"actor": actor, "us": Account.get_by_id(us.id), "uk": Account.get_by_id(uk.id), "team": team}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return " ".join(text.split())


THIRD_PARTY = {"recipient": {"name": "Northwind Insurance plc", "address": ["1 Policy Way", "Leeds"]},
               "policy_number": "PPI-7781"}


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_every_template_renders_with_the_debtor_the_amounts_and_the_dates(settings, office, template):
    account = office["uk"] if template in ("arrears-notice", "default-notice", "letter-before-claim") else office["us"]
    inputs = {"sent_on": SENT.isoformat(), **(THIRD_PARTY if template in ("insurer", "employer") else {})}
    out = PdfRenderer(settings).render(account.id, template, inputs)
    text = flat(pdf_text(out.pdf))
    name = "Bryn Jones" if account == office["uk"] else "Ada Lovelace"
    assert name in text
    assert f"Ref {account.reference}" in text and "Page 1 of" in text
    sent = "10 June 2026" if account == office["uk"] else "June 10, 2026"
    assert sent in text
    balance = "£1,262.50" if account == office["uk"] else "$1,200.00"
    expected = {
        "reminder": [balance, "June 24, 2026"],  # pay within 14 days
        "second-notice": [balance],
        "final-demand": [balance, "may take legal action"],
        "validation-notice": ["$1,200.00", "+ $37.50", "+ $25.00", "– $62.50", "June 17, 2026", "July 17, 2026",
                              "debt collector"],
        "arrears-notice": [balance, "Consumer Credit Act 1974"],
        "default-notice": [balance, "12 June 2026", "27 June 2026"],
        "letter-before-claim": [balance, "10 July 2026", "Reply Form", "Information Sheet"],
        "plan-confirmation": ["$200.00", "June 17, 2026", "November 17, 2026"],
        "broken-arrangement": [balance],
        "payment-receipt": ["$62.50", "June 9, 2026", "$1,200.00"],
        "statement": ["$1,200.00", "$37.50", "$25.00", "$62.50", "$1,262.50"],
        "financial-statement": ["$2,250.00", "$1,630.00", "$620.00", "Earnings (after tax)"],
        "solicitor-referral": ["Example Law LLP", balance],
        "credit-agency-notice": ["Example Credit Reference Agency", balance],
        "insurer": ["Northwind Insurance plc", "PPI-7781", balance],
        "employer": ["Northwind Insurance plc"],
    }[template]
    for needle in expected:
        assert needle in text, f"{template}: {needle!r} missing"
    if template == "employer":
        assert "$" not in text and "debt" not in text.lower()  # an employer is told nothing of the debt
    if account == office["us"] and TEMPLATES[template].recipient == "debtor":
        assert "This communication is from a debt collector" in text
    assert out.pages >= 1 and out.version == TEMPLATES[template].version


def test_a_hostile_name_appears_literally_and_nothing_is_fetched(settings, office, tmp_path):
    with write_transaction(Actor("test", role="admin")) as tx:
        Debtor.update(first_name=HOSTILE, last_name="<style>@import url(file:///etc/passwd)</style>").where(
            Debtor.id == office["us"].debtor_id).execute()
        tx.audit("test.rename", "debtor", office["us"].debtor_id)
    renderer = PdfRenderer(settings)
    for template in ("reminder", "statement", "validation-notice"):
        out = renderer.render(office["us"].id, template, {"sent_on": SENT.isoformat()})
        text = flat(pdf_text(out.pdf))
        assert HOSTILE in text
        assert "@import url(file:///etc/passwd)" in text
        assert b"root:x:0" not in out.pdf and b"/EmbeddedFile" not in out.pdf
        assert "root:" not in text
    assert renderer.fetcher.refused == []  # escaped data never even asked for a URL


def test_the_fetcher_stops_the_render_on_anything_but_packaged_assets(settings):
    from weasyprint.urls import FatalURLFetchingError

    renderer = PdfRenderer(settings)
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "data:image/png;base64,AAAA", "../../etc/passwd",
                "asset:../../../etc/passwd"):
        with pytest.raises(FatalURLFetchingError):
            renderer.pdf(f'<p>x</p><img src="{url}">')
    assert len(renderer.fetcher.refused) == 5
    pdf, pages = renderer.pdf('<link rel="stylesheet" href="asset:print.css"><p>fine</p>')
    assert pages == 1


def test_a_long_statement_runs_over_pages_with_a_running_balance(settings, office):
    admin = Actor("test", role="admin")
    for n in range(90):
        post(admin, office["uk"].id, "interest", 1_00, bucket="interest", effective_date=SENT - dt.timedelta(days=90 - n))
    out = PdfRenderer(settings).render(office["uk"].id, "statement", {"sent_on": SENT.isoformat()})
    text = flat(pdf_text(out.pdf))
    assert out.pages >= 3
    assert f"Page {out.pages} of {out.pages}" in text
    assert "£1,352.50" in text  # the closing balance: 1,262.50 + 90 × 1.00
    # The table's header repeats on every page it runs over.
    assert text.count("Date Description Debit Credit Balance") >= out.pages - 1 >= 2


def test_the_validation_period_counts_from_mailing_without_weekends_and_holidays():
    assert us_assumed_receipt(dt.date(2024, 1, 8)) == dt.date(2024, 1, 16)  # MLK day, 15 Jan
    assert validation_period_ends(dt.date(2024, 1, 8)) == dt.date(2024, 2, 15)
    assert us_assumed_receipt(dt.date(2026, 11, 25)) == dt.date(2026, 12, 3)  # Thanksgiving, a weekend
    assert uk_deemed_service(dt.date(2026, 12, 23)) == dt.date(2026, 12, 29)  # Christmas and Boxing Day (observed)
    assert uk_remedy_date(dt.date(2026, 6, 10)) == dt.date(2026, 6, 27)


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)))
def test_assumed_receipt_is_five_working_days_on(sent):
    received = us_assumed_receipt(sent)
    assert received.weekday() < 5
    assert 5 <= (received - sent).days <= 12
    assert validation_period_ends(sent) == received + dt.timedelta(days=30)
    remedy = uk_remedy_date(sent)
    assert (remedy - uk_deemed_service(sent)).days == 15 and (remedy - sent).days >= 17


def test_asking_for_a_letter_queues_it_with_its_date_and_held_letters_are_refused(settings, office):
    actor = office["actor"]
    letter = request_letter(settings, actor, office["us"].id, "statement", at=NOON)
    assert letter.status == "queued" and letter.recipient_kind == "debtor"
    assert json.loads(letter.inputs)["sent_on"] == "2026-06-10"
    assert AuditEvent.select().where(AuditEvent.action == "letter.queue", AuditEvent.entity_id == letter.id).count() == 1
    with write_transaction(Actor("test", role="admin")) as tx:
        Account.update(cease=True).where(Account.id == office["uk"].id).execute()
        tx.audit("test.cease", "account", office["uk"].id)
    with pytest.raises(LetterError, match="Cease communication"):
        request_letter(settings, actor, office["uk"].id, "reminder", at=NOON)
    assert Letter.select().where(Letter.account == office["uk"].id).count() == 0
    assert Activity.select().where(Activity.account == office["uk"].id, Activity.note.contains("not sent")).count() == 1
    # A statement answers the customer and still goes.
    assert request_letter(settings, actor, office["uk"].id, "statement", at=NOON).status == "queued"
    with pytest.raises(LetterError, match="recipient's name and address"):
        request_letter(settings, actor, office["us"].id, "employer", at=NOON)
    with pytest.raises(LetterError, match="no letter template"):
        request_letter(settings, actor, office["us"].id, "ransom-note", at=NOON)


def test_a_time_barred_debt_gets_the_disclosure_and_no_legal_threat(settings, office):
    with write_transaction(Actor("test", role="admin")) as tx:
        Account.update(delinquency_date=dt.date(2015, 1, 1), last_payment_date=None).where(
            Account.id == office["uk"].id).execute()
        tx.audit("test.age", "account", office["uk"].id)
    with pytest.raises(LetterError, match="Time-barred"):
        request_letter(settings, office["actor"], office["uk"].id, "letter-before-claim", at=NOON)
    letter = request_letter(settings, office["actor"], office["uk"].id, "reminder", at=NOON)
    assert json.loads(letter.inputs)["disclosures"] == ["time_barred"]
    Worker(settings).run(once=True)
    text = flat(pdf_text(open(Letter.get_by_id(letter.id).path, "rb").read()))
    assert "statute-barred" in text


def test_the_worker_files_the_pdf_records_it_and_reprints_never_rerender(settings, office):
    letter = request_letter(settings, office["actor"], office["us"].id, "reminder", at=NOON)
    tally = Worker(settings).run(once=True)
    assert tally.rendered == 2  # the plan confirmation queued with the plan, and this one
    row = Letter.get_by_id(letter.id)
    assert row.status == "rendered" and row.pages == 1 and row.template_version == "1.0"
    assert row.path.endswith(f"/letters/{row.requested_at:%Y}/{row.requested_at:%m}/{row.id}.pdf")
    data = open(row.path, "rb").read()
    assert hashlib.sha256(data).hexdigest() == row.sha256
    import os
    import stat

    assert stat.S_IMODE(os.stat(row.path).st_mode) == 0o640
    path, sha = reprint_letter(Actor("test", role="admin"), row.id)
    assert (path, sha) == (row.path, row.sha256)
    assert Worker(settings).run(once=True).rendered == 0  # nothing is rendered again
    with pytest.raises(LetterError, match="not rendered"):
        reprint_letter(Actor("test", role="admin"), request_letter(settings, office["actor"], office["us"].id,
                                                                   "statement", at=NOON).id)


def test_a_failing_letter_is_retried_with_back_off_then_fails_on_the_account(settings, office, monkeypatch):
    monkeypatch.setenv("ARREARS_LETTERS__MAX_ATTEMPTS", "2")
    settings = load_settings()
    # The UK account has no statement taken: the letter cannot be written.
    letter = request_letter(settings, office["actor"], office["uk"].id, "financial-statement", at=NOON)
    worker = Worker(settings)
    worker.run(once=True)
    row = Letter.get_by_id(letter.id)
    assert row.status == "queued" and row.attempts == 1 and "statement" in row.error
    assert row.next_attempt_at > dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=50)
    assert claim_letter(settings, new_token()) is None  # not due until its back-off has passed
    Letter.update(next_attempt_at=None).where(Letter.id == letter.id).execute()
    worker.run(once=True)
    row = Letter.get_by_id(letter.id)
    assert row.status == "failed" and row.attempts == 2
    assert Activity.select().where(Activity.account == office["uk"].id,
                                   Activity.note.contains("failed after 2 tries")).count() == 1


def test_a_stalled_worker_cannot_finish_a_letter_another_worker_took_over(settings, office, monkeypatch):
    monkeypatch.setenv("ARREARS_LETTERS__LEASE_SECONDS", "1")
    settings = load_settings()
    Letter.delete().execute()
    letter = request_letter(settings, office["actor"], office["us"].id, "reminder", at=NOON)
    slow = claim_letter(settings, new_token())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    fast = claim_letter(settings, new_token(), at=later)
    assert slow.id == fast.id == letter.id and slow.token != fast.token
    worker = Worker(settings)
    worker.render_one(fast)
    first = Letter.get_by_id(letter.id)
    worker.render_one(slow)  # the stalled worker wakes up: its render is thrown away
    second = Letter.get_by_id(letter.id)
    assert (second.sha256, second.rendered_at) == (first.sha256, first.rendered_at)
    assert hashlib.sha256(open(first.path, "rb").read()).hexdigest() == first.sha256
    assert worker.tally.rendered == 1 and worker.tally.lost == 1
    assert AuditEvent.select().where(AuditEvent.action == "letter.render").count() == 1


def test_site_templates_override_the_packaged_ones_and_carry_their_own_version(settings, office, tmp_path,
                                                                              monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    (site / "reminder.html").write_text('{% extends "base.html" %}{% block body %}<p>Site wording for '
                                        '{{ debtor.name }}</p>{% endblock %}')
    monkeypatch.setenv("ARREARS_LETTERS__TEMPLATE_DIR", str(site))
    templates = Templates(load_settings())
    context = templates.context(office["us"].id, "reminder", {"sent_on": SENT.isoformat()})
    assert "Site wording for Ada Lovelace" in templates.text("reminder", context)
    assert context["version"].startswith("1.0+site.")
    # Site templates are sandboxed: they cannot reach Python internals.
    (site / "statement.html").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        templates.html("statement", templates.context(office["us"].id, "statement", {"sent_on": SENT.isoformat()}))


def test_the_text_preview_reads_like_the_letter(settings, office):
    templates = Templates(settings)
    text = templates.text("reminder", templates.context(office["us"].id, "reminder", {"sent_on": SENT.isoformat()}))
    assert "Dear Ada Lovelace," in text
    assert "Total balance  $1,200.00" in text
    assert "<" not in text.replace("&lt;", "")


def test_a_render_that_runs_too_long_is_stopped_and_retried(settings, office, tmp_path, monkeypatch):
    site = tmp_path / "slow"
    site.mkdir()
    # A pathological site template: a table long enough to take seconds to lay out.
    (site / "statement.html").write_text(
        '{% extends "base.html" %}{% block body %}<table>{% for i in range(40000) %}<tr><td>{{ i }}</td>'
        '<td>{{ debtor.name }}</td></tr>{% endfor %}</table>{% endblock %}')
    monkeypatch.setenv("ARREARS_LETTERS__TEMPLATE_DIR", str(site))
    monkeypatch.setenv("ARREARS_LETTERS__RENDER_TIMEOUT_SECONDS", "1")
    settings = load_settings()
    Letter.delete().execute()
    letter = request_letter(settings, office["actor"], office["us"].id, "statement", at=NOON)
    started = dt.datetime.now()
    Worker(settings).run(once=True)
    assert (dt.datetime.now() - started).total_seconds() < 10
    row = Letter.get_by_id(letter.id)
    assert row.status == "queued" and row.attempts == 1 and "longer than 1 s" in row.error
