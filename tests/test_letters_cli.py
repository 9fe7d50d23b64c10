"""`arrears letters …` run as an operator runs them: the template list, a one-off render
dated by --sent-on, asking for a letter through the holds, the dunning run, the worker,
listing and re-printing."""

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys

from pypdf import PdfReader

from db.audit import Actor, write_transaction
from db.ledger import post
from db.models import Account, Letter
from letters.catalogue import TEMPLATES
from tests import floor


def arrears(*args, db_url=None, env=None):
    import os

    base = [sys.executable, "-m", "tui.cli"] + (["--db", db_url] if db_url else [])
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def test_templates_lists_every_template_with_its_recipient_and_holds():
    proc = arrears("letters", "templates")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["TEMPLATE", "RECIPIENT", "VERSION", "STOPPED", "BY"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == list(TEMPLATES)
    reminder = next(line for line in lines if line.startswith("reminder "))
    assert "debtor" in reminder and "cease" in reminder and "vulnerable" in reminder
    assert "solicitor" in next(line for line in lines if line.startswith("solicitor-referral"))
    assert "time-barred" in next(line for line in lines if line.startswith("letter-before-claim"))


def _account(db):
    team = floor.team()
    account = floor.account(team, balance=0, dpd=40, today=dt.date(2026, 6, 10))
    post(Actor("t", role="admin"), account.id, "charge", 480_00, effective_date=dt.date(2026, 5, 1))
    return account


def test_render_writes_a_pdf_dated_from_sent_on(db, db_url, tmp_path):
    account = _account(db)
    out = tmp_path / "v.pdf"
    proc = arrears("letters", "render", "--account", account.reference, "--template", "validation-notice",
                   "--out", str(out), "--sent-on", "2024-01-08", db_url=db_url)
    assert proc.returncode == 0, proc.stderr
    assert "page(s)" in proc.stdout
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages).split())
    assert "February 15, 2024" in text and "January 16, 2024" in text and "$480.00" in text
    assert Letter.select().count() == 0  # a one-off render records nothing
    bad = arrears("letters", "render", "--account", account.reference, "--template", "nope", "--out", str(out),
                  db_url=db_url)
    assert bad.returncode == 2 and "no letter template 'nope'" in bad.stderr


def test_request_worker_list_and_reprint(db, db_url, tmp_path):
    account = _account(db)
    env = {"ARREARS_LETTERS__DIRECTORY": str(tmp_path / "letters")}
    queued = arrears("letters", "request", "--account", account.reference, "--template", "statement",
                     db_url=db_url, env=env)
    assert queued.returncode == 0, queued.stderr
    letter_id = int(queued.stdout.split()[2])
    worker = arrears("letters", "worker", "--once", db_url=db_url, env=env)
    assert worker.returncode == 0, worker.stderr
    assert "rendered 1 letter(s)" in worker.stdout
    listed = json.loads(arrears("letters", "list", "--account", account.reference, "--json", db_url=db_url).stdout)
    assert listed[0]["id"] == letter_id and listed[0]["status"] == "rendered" and listed[0]["pages"] == 1
    copy = tmp_path / "copy.pdf"
    reprint = arrears("letters", "reprint", str(letter_id), "--out", str(copy), db_url=db_url)
    assert reprint.returncode == 0, reprint.stderr
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == listed[0]["sha256"]
    # A stored letter that was changed on disk is refused, not copied.
    with open(listed[0]["path"], "ab") as f:
        f.write(b"tampered")
    tampered = arrears("letters", "reprint", str(letter_id), "--out", str(copy), db_url=db_url)
    assert tampered.returncode == 1 and "does not match its recorded SHA-256" in tampered.stderr
    with write_transaction(Actor("t", role="admin")) as tx:
        Account.update(cease=True).where(Account.id == account.id).execute()
        tx.audit("test.cease", "account", account.id)
    refused = arrears("letters", "request", "--account", account.reference, "--template", "reminder", db_url=db_url)
    assert refused.returncode == 1 and "Cease communication requested" in refused.stderr


def test_dunning_run_prints_what_it_queued_and_queues_nothing_twice(db, db_url):
    _account(db)
    first = arrears("letters", "dunning-run", "--as-of", "2026-06-10", db_url=db_url)
    assert first.returncode == 0, first.stderr
    assert "queued 1 letter(s)" in first.stdout and "validation-notice" in first.stdout
    second = arrears("letters", "dunning-run", "--as-of", "2026-06-10", db_url=db_url)
    assert "queued 0 letter(s)" in second.stdout and "not due yet: 1" in second.stdout
    assert Letter.select().count() == 1
