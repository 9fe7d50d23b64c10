"""The letter outbox: asking for a letter writes a queued row (in the caller's transaction,
with its activity) if the compliance rules allow that letter now; letter workers claim
queued rows under a lease, and record the rendered file or the failure.

Nothing here renders: the `letters` package does, in worker processes. A claim is a lease
tagged with a token unique to that claim; only the holder of the live token can finish
the letter, so a worker that stalls past its lease cannot overwrite the letter another
worker has since rendered.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.compliance import LETTER_PURPOSES, naive_utc
from db.database import database, is_postgres
from db.models import Account, Activity, Letter

# Who each template is written to; every template not named here goes to the debtor.
_THIRD_PARTY_RECIPIENTS = {
    "solicitor-referral": "solicitor", "credit-agency-notice": "credit_agency", "insurer": "insurer",
    "employer": "employer",
}
# Recipients whose name and address the officer must give (the others come from settings).
ASKS_FOR_RECIPIENT = frozenset({"insurer", "employer"})


def recipient_of(template: str) -> str:
    return _THIRD_PARTY_RECIPIENTS.get(template, "debtor")


class LetterError(ValueError):
    """A letter that cannot be asked for; the message says why."""


def local_today(settings, at: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(settings.locale.time_zone)).date()


def queue_letter(settings, tx, account_id: int, template: str, inputs: dict, at: dt.datetime) -> Letter | None:
    """Queue `template` for the account inside `tx`; returns None (and records why in the
    contact history) when the rules forbid it, e.g. a cease-communication hold.

    The letter's date (`sent_on` in its inputs) is fixed now, so the dates it prints do not
    move if it is rendered later."""
    return _queue(settings, tx, account_id, template, inputs, at)[0]


def _queue(settings, tx, account_id: int, template: str, inputs: dict, at: dt.datetime) -> tuple[Letter | None, str]:
    from db.governor import check_letter

    decision = check_letter(settings, account_id, template, at)
    if not decision.allowed:
        why = "; ".join(r.text for r in decision.reasons)
        Activity.create(account=account_id, kind="letter", started_at=naive_utc(at),
                        note=f"{template} not sent: {why}")
        tx.audit("letter.withheld", "account", account_id, account_id=account_id,
                 changes={"template": template, "why": why})
        return None, why
    payload = dict(inputs)
    payload.setdefault("sent_on", local_today(settings, at).isoformat())
    if decision.disclosures:
        payload["disclosures"] = list(decision.disclosures)
    letter = Letter.create(account=account_id, template=template, recipient_kind=recipient_of(template),
                           requested_by=tx.actor.officer_id, requested_at=naive_utc(at),
                           inputs=json.dumps(payload, sort_keys=True, default=str))
    if template == "validation-notice":
        sent = dt.date.fromisoformat(payload["sent_on"])
        Account.update(validation_sent_at=dt.datetime.combine(sent, dt.time(12))).where(
            Account.id == account_id).execute()
    Activity.create(account=account_id, kind="letter", officer=tx.actor.officer_id, started_at=naive_utc(at),
                    note=f"{template} queued")
    tx.audit("letter.queue", "letter", letter.id, account_id=account_id, changes={"template": template})
    return letter, ""


def validation_sent_at(settings, at: dt.datetime) -> dt.datetime:
    """When a validation notice queued at `at` counts as sent (noon of the floor's day)."""
    return dt.datetime.combine(local_today(settings, at), dt.time(12))


def insert_first_letters(settings, tx, decided: list[tuple[int, str, bool, str, list[str]]], at: dt.datetime,
                         *, mark_validation: bool = True) -> int:
    """New accounts' first letters inside `tx`, as (account id, template, allowed, why,
    disclosures) already judged by the governor (`may_send_letter`, as `queue_letter`
    judges): written in bulk with one audit event, since a placement file can bring a
    million accounts. A withheld letter is recorded in the contact history with why.
    `mark_validation=False`: the caller wrote `validation_sent_at` with the accounts."""
    from db.bulk import bulk_insert

    if not decided:
        return 0
    now, sent_on = naive_utc(at), local_today(settings, at).isoformat()
    letters, activities, validated, withheld = [], [], [], 0
    inputs: dict[tuple, str] = {}  # the same few payloads for a whole file: encoded once each
    for account_id, template, allowed, why, disclosures in decided:
        if not allowed:
            withheld += 1
            activities.append((account_id, "letter", None, now, f"{template} not sent: {why}"))
            continue
        key = tuple(disclosures or ())
        if key not in inputs:
            payload = {"sent_on": sent_on}
            if disclosures:
                payload["disclosures"] = list(disclosures)
            inputs[key] = json.dumps(payload, sort_keys=True)
        letters.append((account_id, template, recipient_of(template), "queued", tx.actor.officer_id, now, inputs[key]))
        activities.append((account_id, "letter", tx.actor.officer_id, now, f"{template} queued"))
        if template == "validation-notice":
            validated.append(account_id)
    bulk_insert(Letter, ["account", "template", "recipient_kind", "status", "requested_by", "requested_at", "inputs"],
                letters)
    bulk_insert(Activity, ["account", "kind", "officer", "started_at", "note"], activities)
    if validated and mark_validation:
        Account.update(validation_sent_at=validation_sent_at(settings, at)).where(
            Account.id.in_(validated)).execute()
    tx.audit("letter.queue.batch", "account", None,
             changes={"queued": len(letters), "withheld": withheld, "accounts": [decided[0][0], decided[-1][0]]})
    return len(letters)


def request_letter(settings, actor: Actor, account_id: int, template: str, inputs: dict | None = None,
                   at: dt.datetime | None = None) -> Letter:
    """An officer or operator asks for a letter: queued, or refused with the reasons."""
    if template not in LETTER_PURPOSES:
        raise LetterError(f"there is no letter template {template!r}")
    at = at or dt.datetime.now(dt.UTC)
    inputs = dict(inputs or {})
    if recipient_of(template) in ASKS_FOR_RECIPIENT:
        recipient = inputs.get("recipient") or {}
        if not str(recipient.get("name", "")).strip() or not [l for l in recipient.get("address", []) if l.strip()]:
            raise LetterError(f"a {template} letter needs the recipient's name and address")
    from db.scope import account_for

    account_for(actor, account_id, LetterError)
    with write_transaction(actor) as tx:
        letter, why = _queue(settings, tx, account_id, template, inputs, at)
    if letter is None:
        # The refusal itself is kept (contact history and audit) before telling the caller.
        raise LetterError(f"{template} may not be sent: {why}")
    return letter


# --- workers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    attempts: int
    account_id: int
    template: str
    inputs: dict
    requested_at: dt.datetime


def new_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _fail_abandoned(settings, now: dt.datetime) -> None:
    """Letters whose worker died on every try (their lease ran out `max_attempts` times)
    are failed rather than handed out again."""
    stuck = list(Letter.select(Letter.id, Letter.account).where(
        Letter.status == "rendering", Letter.lease_expires_at < now,
        Letter.attempts >= settings.letters.max_attempts))
    if not stuck:
        return
    with write_transaction(Actor.system("letters")) as tx:
        for row in stuck:
            done = (Letter.update(status="failed", worker=None, lease_expires_at=None,
                                  error="the worker stopped during every render (out of memory or killed)")
                    .where(Letter.id == row.id, Letter.status == "rendering", Letter.lease_expires_at < now)
                    .execute())
            if done:
                Activity.create(account=row.account_id, kind="letter", started_at=now,
                                note=f"Letter {row.id} failed: the worker stopped during every render")
                tx.audit("letter.fail", "letter", row.id, account_id=row.account_id,
                         changes={"error": "abandoned"})


def claim_letter(settings, token: str, at: dt.datetime | None = None, *, busy: bool = False) -> Claimed | None:
    """Take the oldest letter that is due (queued, or its worker's lease ran out) for this
    worker; None when there is nothing to do. Two workers never hold the same letter.

    `busy` says the last claim found work: skip the look before taking the write lock, and
    the sweep for abandoned letters (the caller runs it now and then)."""
    now = naive_utc(at or dt.datetime.now(dt.UTC))
    if not busy:
        _fail_abandoned(settings, now)
    p = database.param
    until = now + dt.timedelta(seconds=settings.letters.lease_seconds)
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    sql = (f"UPDATE letter SET status = 'rendering', worker = {p}, lease_expires_at = {p}, "
           f"attempts = attempts + 1 WHERE id = (SELECT id FROM letter WHERE "
           f"(status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= {p})) "
           f"OR (status = 'rendering' AND lease_expires_at < {p} AND attempts < {p}) "
           f"ORDER BY id LIMIT 1{lock}) RETURNING id, attempts, account_id, template, inputs, requested_at")
    params = (token, _db_time(until), _db_time(now), _db_time(now), settings.letters.max_attempts)
    # Idle workers poll: look before taking SQLite's write lock, which officers need.
    due = busy or (Letter.select(Letter.id).where(
        ((Letter.status == "queued") & (Letter.next_attempt_at.is_null() | (Letter.next_attempt_at <= now)))
        | ((Letter.status == "rendering") & (Letter.lease_expires_at < now)
           & (Letter.attempts < settings.letters.max_attempts))).limit(1).exists())
    if not busy and not due:
        return None
    try:
        with write_transaction(Actor.system("letters")) as tx:
            row = database.execute_sql(sql, params).fetchone()
            if row is None:
                raise _NothingToClaim  # another worker took it first
            tx.audit("letter.claim", "letter", row[0], account_id=row[2],
                     changes={"worker": token, "try": row[1]})
    except _NothingToClaim:
        return None
    requested = row[5]
    if isinstance(requested, str):  # SQLite hands back the stored text
        requested = dt.datetime.fromisoformat(requested)
    return Claimed(row[0], token, row[1], row[2], row[3], json.loads(row[4] or "{}"), requested)


class _NothingToClaim(Exception):
    pass


def _db_time(value: dt.datetime):
    from db.database import is_sqlite

    return value.isoformat(" ") if is_sqlite() else value


def _still_held(tx, letter_id: int, token: str) -> Letter | None:
    """The letter, locked, if this claim still holds it; else None (and the loss audited)."""
    query = Letter.select().where(Letter.id == letter_id, Letter.status == "rendering", Letter.worker == token)
    if is_postgres():
        query = query.for_update()
    row = query.first()
    if row is None:
        tx.audit("letter.lost", "letter", letter_id, changes={"worker": token})
    return row


def finish_letter(letter_id: int, token: str, *, path: str, pages: int, sha256: str, render_ms: int,
                  version: str, place_file, at: dt.datetime | None = None) -> bool:
    """Record a rendered letter if this worker still holds it. `place_file()` moves the PDF
    to its final path; it runs inside the transaction, after the row is known to be ours,
    so a letter recorded as rendered always has its file and no one else's render can
    replace it. False when the lease was lost (another worker renders it)."""
    now = naive_utc(at or dt.datetime.now(dt.UTC))
    with write_transaction(Actor.system("letters")) as tx:
        row = _still_held(tx, letter_id, token)
        if row is None:
            return False
        Letter.update(status="rendered", path=path, pages=pages, sha256=sha256, render_ms=render_ms,
                      template_version=version, rendered_at=now, lease_expires_at=None, error=None,
                      next_attempt_at=None).where(Letter.id == letter_id).execute()
        place_file()
        tx.audit("letter.render", "letter", letter_id, account_id=row.account_id,
                 changes={"path": path, "pages": pages, "sha256": sha256, "version": version, "worker": token})
    return True


def fail_letter(settings, letter_id: int, token: str, error: str, at: dt.datetime | None = None) -> str | None:
    """Record a failed render: retried later with back-off, or failed for good after
    `max_attempts`. Returns the new status (None if the lease was lost)."""
    now = naive_utc(at or dt.datetime.now(dt.UTC))
    error = error.strip()[:2000] or "unknown error"
    with write_transaction(Actor.system("letters")) as tx:
        row = _still_held(tx, letter_id, token)
        if row is None:
            return None
        if row.attempts >= settings.letters.max_attempts:
            status, retry_at = "failed", None
            Activity.create(account=row.account_id, kind="letter", started_at=now,
                            note=f"{row.template} failed after {row.attempts} tries: {error[:200]}")
        else:
            status = "queued"
            wait = min(settings.letters.retry_seconds * 2 ** (row.attempts - 1), 86_400)
            retry_at = now + dt.timedelta(seconds=wait)
        Letter.update(status=status, next_attempt_at=retry_at, error=error, worker=None,
                      lease_expires_at=None).where(Letter.id == letter_id).execute()
        tx.audit("letter.fail", "letter", letter_id, account_id=row.account_id,
                 changes={"error": error[:200], "try": row.attempts, "status": status})
    return status


def queue_counts() -> dict[str, int]:
    from peewee import fn

    return dict(Letter.select(Letter.status, fn.COUNT(Letter.id)).group_by(Letter.status).tuples())


def letters_of(account_id: int, limit: int = 100) -> list[Letter]:
    return list(Letter.select().where(Letter.account == account_id).order_by(Letter.id.desc()).limit(limit))


def reprint_letter(actor: Actor, letter_id: int) -> tuple[str, str]:
    """The stored file and SHA-256 of a rendered letter, for a copy; the re-print is
    audited. Rendered letters are never rendered again."""
    letter = Letter.get_or_none(Letter.id == letter_id)
    if letter is None:
        raise LetterError(f"there is no letter {letter_id}")
    from db.scope import account_for

    account_for(actor, letter.account_id, LetterError)
    if letter.status != "rendered" or not letter.path:
        raise LetterError(f"letter {letter_id} is {letter.status}, not rendered: there is nothing to re-print yet")
    if not os.path.isfile(letter.path):
        raise LetterError(f"letter {letter_id}'s file {letter.path} is missing from the letters directory")
    with write_transaction(actor) as tx:
        tx.audit("letter.reprint", "letter", letter_id, account_id=letter.account_id)
    return letter.path, letter.sha256
