"""Officers, teams and their roles: adding, listing and disabling them."""

from __future__ import annotations

import re

from peewee import JOIN

from db.audit import Actor, write_transaction
from db.models import ROLES, Officer, Team
from db.scope import require_role  # noqa: F401  (here too: callers import it from either)

# Usernames end up in SSH forced commands and file names: nothing that could break out.
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class OfficerError(ValueError):
    """A request about officers that cannot be done; the message says why."""


def validate_username(username: str) -> str:
    if not USERNAME.match(username or ""):
        raise OfficerError(
            f"{username!r} is not a valid officer name: use 1-32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username


def get_or_create_team(tx, name: str) -> Team:
    team = Team.get_or_none(Team.name == name)
    if team is None:
        team = Team.create(name=name)
        tx.audit("team.create", "team", team.id, changes={"name": name})
    return team


def add_officer(actor: Actor, username: str, *, name: str, role: str = "officer", team: str | None = None,
                approval_limit_minor: int = 0) -> Officer:
    require_role(actor, "admin")
    validate_username(username)
    if role not in ROLES:
        raise OfficerError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not name.strip():
        raise OfficerError("an officer needs a name")
    if role != "admin" and not team:
        raise OfficerError("officers and team leads need a team (--team)")
    with write_transaction(actor) as tx:
        if Officer.select().where(Officer.username == username).exists():
            raise OfficerError(f"there is already an officer {username!r}")
        team_row = get_or_create_team(tx, team) if team else None
        officer = Officer.create(username=username, name=name.strip(), role=role,
                                 team=team_row, approval_limit_minor=approval_limit_minor)
        tx.audit("officer.add", "officer", officer.id,
                 changes={"username": username, "name": officer.name, "role": role, "team": team})
    return officer


def list_officers() -> list[Officer]:
    return list(Officer.select(Officer, Team).join(Team, join_type=JOIN.LEFT_OUTER)
                .order_by(Officer.username))


def find_officer(username: str) -> Officer | None:
    return Officer.get_or_none(Officer.username == username)


def disable_officer(actor: Actor, username: str) -> Officer:
    require_role(actor, "admin")
    with write_transaction(actor) as tx:
        officer = Officer.get_or_none(Officer.username == username)
        if officer is None:
            raise OfficerError(f"there is no officer {username!r}")
        if not officer.active:
            raise OfficerError(f"officer {username!r} is already disabled")
        Officer.update(active=False).where(Officer.id == officer.id).execute()
        # An officer who can no longer log in must not keep accounts locked: release them
        # as waiting-from-now, so the queue re-checks them before handing them out.
        from db.database import utcnow
        from db.models import Account

        (Account.update(claimed_by=None, claimed_at=None, claim_expires_at=None,
                        queue_priority=None, next_call_at=utcnow())
         .where(Account.claimed_by == officer.id).execute())
        tx.audit("officer.disable", "officer", officer.id, changes={"active": [True, False]})
        officer.active = False
    return officer
