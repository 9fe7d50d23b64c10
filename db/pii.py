"""Personal data the file holds but does not show: dates of birth and national ids are
masked (last four) on every screen, checked without being shown, and revealed only to the
roles that need them, each reveal audited with its reason."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.models import Debtor
from db.scope import account_for, require_role

REVEAL_ROLES = ("team_lead",)
"""Who may see the full values (admins too): officers check a caller's answers instead."""


@dataclass(frozen=True)
class Identity:
    date_of_birth: str
    national_id: str


def mask_date_of_birth(value: dt.date | None) -> str:
    return f"**/**/{value.year}" if value else "not on file"


def mask_national_id(value: str | None) -> str:
    digits = re.sub(r"[^0-9A-Za-z]", "", value or "")
    if not digits:
        return "not on file"
    return "*" * max(len(digits) - 4, 1) + digits[-4:]


def masked_identity(debtor: Debtor) -> Identity:
    return Identity(mask_date_of_birth(debtor.date_of_birth), mask_national_id(debtor.national_id))


def _debtor(actor: Actor, account_id: int) -> Debtor:
    account = account_for(actor, account_id)
    return Debtor.get_by_id(account.debtor_id)


def reveal_identity(actor: Actor, account_id: int, reason: str) -> Identity:
    """The full date of birth and national id, for a team lead or admin who says why."""
    require_role(actor, *REVEAL_ROLES)
    if not reason.strip():
        raise ValueError("Say why you need to see the customer's personal details")
    debtor = _debtor(actor, account_id)
    with write_transaction(actor) as tx:
        tx.audit("pii.reveal", "debtor", debtor.id, account_id=account_id,
                 changes={"fields": ["date_of_birth", "national_id"], "reason": reason.strip()})
    return Identity(debtor.date_of_birth.isoformat() if debtor.date_of_birth else "not on file",
                    debtor.national_id or "not on file")


def verify_identity(actor: Actor, account_id: int, *, date_of_birth: dt.date | None = None,
                    national_id_last4: str | None = None) -> bool:
    """Whether what a caller says matches the file, without showing the file; every check
    is audited with its outcome (not with what was said)."""
    if date_of_birth is None and not national_id_last4:
        raise ValueError("Enter the date of birth or the last four of the ID the caller gives")
    debtor = _debtor(actor, account_id)
    checks = []
    if date_of_birth is not None:
        checks.append(debtor.date_of_birth is not None and debtor.date_of_birth == date_of_birth)
    if national_id_last4:
        on_file = re.sub(r"[^0-9A-Za-z]", "", debtor.national_id or "")[-4:]
        checks.append(bool(on_file) and hmac.compare_digest(on_file.upper(), national_id_last4.strip().upper()))
    matched = all(checks)
    with write_transaction(actor) as tx:
        tx.audit("identity.verify", "debtor", debtor.id, account_id=account_id,
                 changes={"checked": [name for name, given in (("date_of_birth", date_of_birth),
                                                               ("national_id_last4", national_id_last4)) if given],
                          "matched": matched})
    return matched
