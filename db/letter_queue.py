"""Asking for a letter: a queued row in the letter outbox, written in the caller's
transaction with its activity, if the compliance rules allow that letter now. Letter
workers render queued rows; nothing here renders."""

from __future__ import annotations

import datetime as dt
import json

from db.compliance import naive_utc
from db.models import Activity, Letter


def queue_letter(settings, tx, account_id: int, template: str, inputs: dict, at: dt.datetime) -> Letter | None:
    """Queue `template` for the account inside `tx`; returns None (and records why in the
    contact history) when the rules forbid it, e.g. a cease-communication hold."""
    from db.governor import check_letter

    decision = check_letter(settings, account_id, template, at)
    if not decision.allowed:
        why = "; ".join(r.text for r in decision.reasons)
        Activity.create(account=account_id, kind="letter", started_at=naive_utc(at),
                        note=f"{template} not sent: {why}")
        tx.audit("letter.withheld", "account", account_id, account_id=account_id,
                 changes={"template": template, "why": why})
        return None
    payload = dict(inputs)
    if decision.disclosures:
        payload["disclosures"] = list(decision.disclosures)
    letter = Letter.create(account=account_id, template=template, requested_by=tx.actor.officer_id,
                           requested_at=naive_utc(at), inputs=json.dumps(payload, sort_keys=True, default=str))
    Activity.create(account=account_id, kind="letter", officer=tx.actor.officer_id, started_at=naive_utc(at),
                    note=f"{template} queued")
    tx.audit("letter.queue", "letter", letter.id, account_id=account_id, changes={"template": template})
    return letter
