"""Phone numbers on a debtor's file: marking them bad or a wrong number (audited), which
takes them out of the dialling rules at once."""

from __future__ import annotations

import datetime as dt

from db.audit import Actor, write_transaction
from db.models import PHONE_STATUSES, Account, Phone


class PhoneError(ValueError):
    pass


def set_phone_status(settings, actor: Actor, phone_id: int, status: str, *, reason: str,
                     at: dt.datetime | None = None) -> Phone:
    from db.queue import refresh_accounts

    if status not in PHONE_STATUSES:
        raise PhoneError(f"status must be one of {', '.join(PHONE_STATUSES)}")
    if not (reason or "").strip():
        raise PhoneError("give a reason (e.g. 'number disconnected', 'says not the debtor')")
    at = at or dt.datetime.now(dt.UTC)
    with write_transaction(actor) as tx:
        phone = Phone.get_or_none(Phone.id == phone_id)
        if phone is None:
            raise PhoneError(f"there is no phone {phone_id}")
        accounts = list(Account.select(Account.id, Account.team, Account.claimed_by)
                        .where(Account.debtor == phone.debtor_id))
        if actor.role not in ("admin", "system") and not any(a.team_id == actor.team_id for a in accounts):
            raise PermissionError(f"{actor.name} may not change this debtor's phones")
        if phone.status == status:
            raise PhoneError(f"{phone.number} is already marked {status.replace('_', ' ')}")
        Phone.update(status=status).where(Phone.id == phone_id).execute()
        unclaimed = [a.id for a in accounts if a.claimed_by_id is None]
        refresh_accounts(settings, unclaimed, at)
        for account in accounts:
            tx.audit("phone.status", "phone", phone_id, account_id=account.id,
                     changes={"status": [phone.status, status], "reason": reason.strip()})
        phone.status = status
    return phone
