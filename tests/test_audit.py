"""Audit: a write and its audit events commit together, or neither does."""

import json

import pytest

from db.audit import MissingAudit, write_transaction
from db.models import AuditEvent, Officer, Team
from db.officers import OfficerError, add_officer, disable_officer


def test_officer_changes_are_audited_with_their_changes(db, admin):
    add_officer(admin, "alice", name="Alice Archer", team="Recoveries")
    disable_officer(admin, "alice")
    events = list(AuditEvent.select().order_by(AuditEvent.id))
    assert [e.action for e in events] == ["team.create", "officer.add", "officer.disable"]
    assert json.loads(events[1].changes)["username"] == "alice"
    assert json.loads(events[2].changes) == {"active": [True, False]}
    assert all(e.actor == "test-admin" for e in events)


def test_write_without_audit_is_rolled_back(db, admin):
    with pytest.raises(MissingAudit):
        with write_transaction(admin):
            Team.create(name="Ghosts")
    assert not Team.select().where(Team.name == "Ghosts").exists()


def test_failure_mid_write_leaves_nothing(db, admin):
    with pytest.raises(RuntimeError):
        with write_transaction(admin) as tx:
            Team.create(name="Half")
            tx.audit("team.create", "team")
            raise RuntimeError("power cut")
    assert Team.select().count() == 0 and AuditEvent.select().count() == 0


@pytest.mark.parametrize("username", ["bad name", "o'brien", "a\nb", "", "x" * 33, "-dash", "semi;colon"])
def test_officer_names_are_validated(db, admin, username):
    with pytest.raises(OfficerError, match="not a valid officer name"):
        add_officer(admin, username, name="X", team="T")
    assert Officer.select().count() == 0


def test_only_admins_add_officers(db):
    from db.audit import Actor

    with pytest.raises(PermissionError):
        add_officer(Actor("lead", 1, "team_lead", 1), "zed", name="Zed", team="T")
