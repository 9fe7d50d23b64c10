"""The contact history: calls, notes and callbacks, each written with its audit event, and
the account's queue facts refreshed in the same transaction (so the next claim sees them)."""

from __future__ import annotations

import datetime as dt

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.models import Account, Activity, Phone
from db.scope import account_for


class ActivityError(ValueError):
    """An activity that cannot be recorded; the message says what to fix."""


def _disposition(settings, code: str):
    for d in settings.dispositions:
        if d.code == code:
            return d
    raise ActivityError(f"unknown call outcome {code!r}: use one of {', '.join(d.code for d in settings.dispositions)}")


def log_call(settings, actor: Actor, account_id: int, phone_id: int | None, outcome: str, *,
             at: dt.datetime | None = None, note: str | None = None, debtor_requested: bool = False,
             direction: str = "outbound", duration_seconds: int | None = None,
             external_id: str | None = None) -> Activity:
    """Record a call and its outcome. Initiated calls count towards the frequency caps; a
    conversation starts the cool-off and sets the last contact."""
    from db.queue import refresh_accounts

    disposition = _disposition(settings, outcome)
    at = at or dt.datetime.now(dt.UTC)
    started = naive_utc(at)
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, ActivityError)
        if phone_id is not None:
            phone = Phone.get_or_none(Phone.id == phone_id)
            if phone is None or phone.debtor_id != account.debtor_id:
                raise ActivityError("that phone number is not on this account's file")
        counts = disposition.attempt and direction == "outbound" and not debtor_requested
        activity = Activity.create(
            account=account_id, kind="conversation" if disposition.conversation else "call_attempt",
            disposition=disposition.code, officer=actor.officer_id, phone=phone_id, direction=direction,
            started_at=started,
            ended_at=started + dt.timedelta(seconds=duration_seconds) if duration_seconds else None,
            counts_as_attempt=counts, right_party_contact=disposition.conversation,
            debtor_requested=debtor_requested, note=note or None, external_id=external_id)
        if disposition.conversation:
            from db.promises import refresh_promise_fact

            Account.update(last_contact_at=started).where(Account.id == account_id).execute()
            # A missed promise leaves the promise tier once the debtor has been asked about it.
            refresh_promise_fact(account_id)
        if account.callback_at is not None and account.callback_at <= started:
            # The booked callback has been made.
            Account.update(callback_at=None).where(Account.id == account_id).execute()
        if phone_id is not None and disposition.code == "wrong_number":
            Phone.update(status="wrong_number").where(Phone.id == phone_id).execute()
            tx.audit("phone.status", "phone", phone_id, account_id=account_id,
                     changes={"status": ["good", "wrong_number"]})
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)
        tx.audit("activity.call", "activity", activity.id, account_id=account_id,
                 changes={"outcome": disposition.code, "phone_id": phone_id, "counts_as_attempt": counts})
        from db.drafts import discard_draft

        discard_draft(tx, actor.officer_id, account_id, "call")
    return activity


NOTE_LIMIT = 10_000


def add_note(actor: Actor, account_id: int, text: str, *, at: dt.datetime | None = None) -> Activity:
    text = (text or "").strip()
    if not text:
        raise ActivityError("the note is empty")
    if len(text) > NOTE_LIMIT:
        raise ActivityError(f"the note is {len(text):,} characters; the limit is {NOTE_LIMIT:,}")
    with write_transaction(actor) as tx:
        account_for(actor, account_id, ActivityError)
        activity = Activity.create(account=account_id, kind="note", officer=actor.officer_id,
                                   started_at=naive_utc(at or dt.datetime.now(dt.UTC)), note=text)
        tx.audit("activity.note", "activity", activity.id, account_id=account_id, changes={"length": len(text)})
        from db.drafts import discard_draft

        discard_draft(tx, actor.officer_id, account_id, "note")
    return activity


def schedule_callback(settings, actor: Actor, account_id: int, when: dt.datetime, *,
                      at: dt.datetime | None = None, note: str | None = None) -> Activity:
    """Book a callback: the account waits until then, then comes first in the queue."""
    from db.queue import refresh_accounts

    at = at or dt.datetime.now(dt.UTC)
    if naive_utc(when) <= naive_utc(at):
        raise ActivityError("a callback must be in the future")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, ActivityError)
        before = account.callback_at
        Account.update(callback_at=naive_utc(when)).where(Account.id == account_id).execute()
        activity = Activity.create(account=account_id, kind="callback", officer=actor.officer_id,
                                   started_at=naive_utc(at), note=note)
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)
        tx.audit("account.callback", "account", account_id, account_id=account_id,
                 changes={"callback_at": [before, naive_utc(when)]})
    return activity
