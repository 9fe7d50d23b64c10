"""Who may touch which account: the check every write and every read of a customer file
makes before it does anything (roles are enforced here, not only hidden in the screens)."""

from __future__ import annotations

from db.audit import Actor
from db.models import Account


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse unless the actor has one of `roles` (admins may do anything a role may).
    `system` names jobs: the dunning run, queue refresh, promise evaluation."""
    if actor.role not in roles and actor.role != "admin":
        raise PermissionError(f"{actor.name} ({actor.role}) may not do this: it needs {' or '.join(roles)}")



def account_for(actor: Actor, account_id: int, error: type[Exception] = LookupError) -> Account:
    """The account, if this actor may work it: officers and team leads their own team's,
    admins and system jobs any. Raises `error` if it does not exist, PermissionError if
    it is out of scope."""
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise error(f"there is no account {account_id}")
    if actor.role not in ("admin", "system") and account.team_id != actor.team_id:
        raise PermissionError(f"{actor.name} may not work account {account.reference}: it belongs to another team")
    return account
