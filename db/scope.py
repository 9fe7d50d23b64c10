"""Who may touch which account: the check every write and every read of a customer file
makes before it does anything (roles are enforced here, not only hidden in the screens)."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from db.audit import Actor
from db.models import Account

_checked: ContextVar[dict | None] = ContextVar("arrears_scope_checked", default=None)


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse unless the actor has one of `roles` (admins may do anything a role may).
    `system` names jobs: the dunning run, queue refresh, promise evaluation."""
    if actor.role not in roles and actor.role != "admin":
        raise PermissionError(f"{actor.name} ({actor.role}) may not do this: it needs {' or '.join(roles)}")



def account_for(actor: Actor, account_id: int, error: type[Exception] = LookupError) -> Account:
    """The account, if this actor may work it: officers and team leads their own team's,
    admins and system jobs any. Raises `error` if it does not exist, PermissionError if
    it is out of scope."""
    checked = _checked.get()
    key = (actor.role, actor.team_id, account_id)
    if checked is not None and key in checked:
        return checked[key]
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise error(f"there is no account {account_id}")
    if actor.role not in ("admin", "system") and account.team_id != actor.team_id:
        raise PermissionError(f"{actor.name} may not work account {account.reference}: it belongs to another team")
    if checked is not None:
        checked[key] = account
    return account


@contextmanager
def one_read():
    """Inside, each account is looked up and its scope checked once: a read made of parts
    (the account screen's file: history, parties, linked debts, legal case) that each
    check the account on their own. For reads only: the account is as it was when first
    checked, so nothing inside may change it."""
    token = _checked.set({})
    try:
        yield
    finally:
        _checked.reset(token)
