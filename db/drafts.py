"""Drafts of what an officer is typing, saved every couple of seconds while they type and
discarded when the real record is saved."""

from __future__ import annotations

from db.audit import Actor, write_transaction
from db.database import utcnow
from db.models import Draft

KINDS = ("note", "call")


def save_draft(actor: Actor, account_id: int, kind: str, text: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown draft kind {kind!r}")
    from db.scope import account_for

    account_for(actor, account_id)
    with write_transaction(actor) as tx:
        existing = Draft.get_or_none(Draft.officer == actor.officer_id, Draft.account == account_id, Draft.kind == kind)
        if not text.strip():
            if existing is not None:
                existing.delete_instance()
                tx.audit("draft.discard", "draft", existing.id, account_id=account_id)
            else:
                tx.audit("draft.empty", "draft", None, account_id=account_id)
            return
        if existing is None:
            draft = Draft.create(officer=actor.officer_id, account=account_id, kind=kind, text=text)
        else:
            Draft.update(text=text, updated_at=utcnow()).where(Draft.id == existing.id).execute()
            draft = existing
        tx.audit("draft.save", "draft", draft.id, account_id=account_id, changes={"kind": kind, "length": len(text)})


def draft_kinds(officer_id: int, account_id: int) -> list[str]:
    """The kinds of draft this officer left on this account, in `KINDS` order."""
    found = {k for (k,) in Draft.select(Draft.kind).where(Draft.officer == officer_id, Draft.account == account_id).tuples()}
    return [k for k in KINDS if k in found]


def load_draft(officer_id: int, account_id: int, kind: str) -> str | None:
    draft = Draft.get_or_none(Draft.officer == officer_id, Draft.account == account_id, Draft.kind == kind)
    return draft.text if draft else None


def discard_draft(tx, officer_id: int | None, account_id: int, kind: str) -> None:
    """Inside the transaction that saved the real record."""
    if officer_id is None:
        return
    removed = Draft.delete().where(Draft.officer == officer_id, Draft.account == account_id, Draft.kind == kind).execute()
    if removed:
        tx.audit("draft.discard", "draft", None, account_id=account_id, changes={"kind": kind})
