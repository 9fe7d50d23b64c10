"""Roles are enforced in `db`, not only hidden in the screens: every function that writes or
reveals is called here as a role (or a team) that must be refused, and refused it is, with
nothing written. And personal data is masked, checked without being shown, and revealed only
to team leads and admins, each reveal audited."""

from __future__ import annotations

import datetime as dt

import pytest

from config import load_settings
from db.audit import Actor
from db.models import AuditEvent, Debtor, Officer
from db.worklist import account_file, history_of
from tests import floor

SETTINGS = load_settings()
AT = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLIxgKunMqgFv8VUYpKyP+93XpymePqeWdEzCkcZqTb"


@pytest.fixture
def setup(db):
    from db.approvals import request_write_off
    from db.payments import post_payment
    from db.promises import record_promise

    recoveries, other = floor.team(), floor.team("Other")
    people = {name: floor.officer(name, team, role) for name, team, role in [
        ("alice", recoveries, "officer"), ("lina", recoveries, "team_lead"),
        ("olga", other, "officer"), ("otto", other, "team_lead")]}
    acct = floor.account(recoveries)
    Debtor.update(date_of_birth=dt.date(1984, 3, 7), national_id="123-45-6789").where(
        Debtor.id == acct.debtor_id).execute()
    alice = Actor.for_officer(people["alice"])
    post_payment(SETTINGS, alice, acct.id, 10_00, method="card", paid_on=AT.date(), key="pay-1", at=AT)
    promise = record_promise(SETTINGS, alice, acct.id, 20_00, AT.date() + dt.timedelta(days=7), at=AT)
    approval = request_write_off(SETTINGS, alice, acct.id, 50_00, reason="hardship", at=AT)
    actors = {name: Actor.for_officer(o) for name, o in people.items()}
    actors["admin"] = Actor("test-admin", role="admin")
    return acct, actors, promise, approval


def _calls(acct, promise, approval):
    """(what, who must be refused, the call)."""
    from db import (activity, approvals, drafts, dunning, flags, governor, ledger, letter_queue, officers, payments,
                    phones, pii, promises, queue, ssh_keys)
    from db.models import Phone

    phone = Phone.get(Phone.debtor == acct.debtor_id).id
    a = acct.id
    return [
        # Another team's officer may not touch the account at all.
        ("log a call", "olga", lambda who: activity.log_call(SETTINGS, who, a, phone, "no_answer", at=AT)),
        ("add a note", "olga", lambda who: activity.add_note(who, a, "hello", at=AT)),
        ("schedule a callback", "olga", lambda who: activity.schedule_callback(SETTINGS, who, a, AT + dt.timedelta(hours=2), at=AT)),
        ("save a draft", "olga", lambda who: drafts.save_draft(who, a, "note", "typing")),
        ("set a hold", "olga", lambda who: flags.set_flag(SETTINGS, who, a, "cease", True, reason="x", at=AT)),
        ("start breathing space", "olga", lambda who: flags.start_breathing_space(SETTINGS, who, a, AT.date(), reason="x", at=AT)),
        ("mark a phone", "olga", lambda who: phones.set_phone_status(SETTINGS, who, phone, "bad", reason="x", at=AT)),
        ("record a promise", "olga", lambda who: promises.record_promise(SETTINGS, who, a, 5_00, AT.date(), at=AT)),
        ("cancel a promise", "olga", lambda who: promises.cancel_promise(SETTINGS, who, promise.id, reason="x", at=AT)),
        ("post a payment", "olga", lambda who: payments.post_payment(SETTINGS, who, a, 5_00, method="card", paid_on=AT.date(), key="pay-2", at=AT)),
        ("reverse a payment", "olga", lambda who: payments.reverse_payment(SETTINGS, who, "pay-1", reason="bounced", at=AT)),
        ("ask for a write-off", "olga", lambda who: approvals.request_write_off(SETTINGS, who, a, 5_00, reason="x", at=AT)),
        ("ask for a letter", "olga", lambda who: letter_queue.request_letter(SETTINGS, who, a, "reminder", at=AT)),
        ("claim the account", "olga", lambda who: queue.claim(SETTINGS, Officer.get_by_id(who.officer_id), a, AT)),
        ("read the file", "olga", lambda who: account_file(SETTINGS, who, a, AT)),
        ("read the history", "olga", lambda who: history_of(who, a)),
        ("verify identity", "olga", lambda who: pii.verify_identity(who, a, date_of_birth=dt.date(1984, 3, 7))),
        # Another team's lead may not decide or override for this team.
        ("decide an approval (other team's lead)", "otto", lambda who: approvals.decide(SETTINGS, who, approval.id, True, at=AT)),
        ("override a block (other team's lead)", "otto", lambda who: governor.grant_override(who, a, ["frequency"], "x", at=AT)),
        ("reveal identity (other team's lead)", "otto", lambda who: pii.reveal_identity(who, a, "complaint")),
        # Only team leads approve, override, reveal and correct the books.
        ("decide an approval", "alice", lambda who: approvals.decide(SETTINGS, who, approval.id, True, at=AT)),
        ("override a block", "alice", lambda who: governor.grant_override(who, a, ["frequency"], "x", at=AT)),
        ("reveal identity", "alice", lambda who: pii.reveal_identity(who, a, "curious")),
        ("post a ledger entry", "alice", lambda who: ledger.post(who, a, "fee", 5_00, bucket="fees")),
        ("reverse a ledger entry", "alice", lambda who: ledger.reverse(who, 1, reason="x")),
        # Only jobs (and admins) run the floor-wide runs.
        ("refresh every queue", "lina", lambda who: queue.refresh_all(SETTINGS, who, AT)),
        ("run the dunning run", "lina", lambda who: dunning.dunning_run(SETTINGS, who, AT.date(), at=AT)),
        ("evaluate every promise", "lina", lambda who: promises.evaluate(SETTINGS, who, AT)),
        # Only admins manage officers and keys.
        ("add an officer", "lina", lambda who: officers.add_officer(who, "newbie", name="New", team="Recoveries")),
        ("disable an officer", "lina", lambda who: officers.disable_officer(who, "alice")),
        ("add a key", "lina", lambda who: ssh_keys.add_key(who, "alice", ED25519)),
        ("remove a key", "lina", lambda who: ssh_keys.remove_key(who, "alice", "SHA256:x")),
        ("list keys", "lina", lambda who: ssh_keys.keys_of(who, "alice")),
    ]


def test_every_write_and_reveal_refuses_a_role_or_team_that_may_not(setup):
    from db.queue import ClaimRefused

    acct, actors, promise, approval = setup
    calls = _calls(acct, promise, approval)
    for what, who, call in calls:
        before = AuditEvent.select().count()
        with pytest.raises((PermissionError, ClaimRefused)):
            call(actors[who])
            pytest.fail(f"{who} was allowed to {what}")
        assert AuditEvent.select().count() == before, f"refusing {who} to {what} still wrote"
    assert len(calls) == 33


def test_the_same_calls_are_allowed_to_the_right_role(setup):
    from db import approvals, governor, ledger, pii

    acct, actors, promise, approval = setup
    assert approvals.decide(SETTINGS, actors["lina"], approval.id, False, reason="not hardship", at=AT).status == "refused"
    governor.grant_override(actors["lina"], acct.id, ["frequency"], "debtor asked for calls", at=AT)
    ledger.post(actors["lina"], acct.id, "fee", 5_00, bucket="fees")
    assert pii.reveal_identity(actors["admin"], acct.id, "subject access request").national_id == "123-45-6789"


def test_personal_data_is_masked_checked_and_revealed_only_with_a_reason(setup):
    from db import pii

    acct, actors, _, _ = setup
    shown = account_file(SETTINGS, actors["alice"], acct.id, AT)
    assert shown.identity == "Born **/**/1984 · ID *****6789"
    assert "1984-03-07" not in repr(shown) and "123-45" not in repr(shown)

    alice = actors["alice"]
    assert pii.verify_identity(alice, acct.id, date_of_birth=dt.date(1984, 3, 7))
    assert not pii.verify_identity(alice, acct.id, date_of_birth=dt.date(1984, 7, 3))
    assert pii.verify_identity(alice, acct.id, national_id_last4="6789")
    assert not pii.verify_identity(alice, acct.id, date_of_birth=dt.date(1984, 3, 7), national_id_last4="0000")
    with pytest.raises(ValueError, match="Enter the date of birth"):
        pii.verify_identity(alice, acct.id)
    with pytest.raises(ValueError, match="Say why"):
        pii.reveal_identity(actors["lina"], acct.id, "  ")
    revealed = pii.reveal_identity(actors["lina"], acct.id, "complaint from the debtor")
    assert (revealed.date_of_birth, revealed.national_id) == ("1984-03-07", "123-45-6789")

    checks = AuditEvent.select().where(AuditEvent.action == "identity.verify").order_by(AuditEvent.id)
    assert [c.actor for c in checks] == ["alice"] * 4
    assert ['"matched": true' in c.changes for c in checks] == [True, False, True, False]
    reveal = AuditEvent.get(AuditEvent.action == "pii.reveal")
    assert (reveal.actor, reveal.account_id) == ("lina", acct.id) and "complaint from the debtor" in reveal.changes
    # What was said or shown is never written to the audit trail.
    assert not any("1984" in (e.changes or "") or "6789" in (e.changes or "") for e in AuditEvent.select())


def test_one_read_checks_scope_once_and_forgets_it_afterwards(setup):
    """The account screen's file checks the account's team once for all its parts; the check
    is not kept past that read: an account moved to another team is refused next time."""
    from db.models import Account, Team
    from db.scope import one_read

    acct, actors, _, _ = setup
    olga = actors["olga"]
    with pytest.raises(PermissionError):
        account_file(SETTINGS, olga, acct.id, AT)
    assert account_file(SETTINGS, actors["alice"], acct.id, AT).reference == acct.reference
    with one_read():
        history_of(actors["alice"], acct.id)
        # Moved while the read is in progress: the read goes on as it began...
        Account.update(team=Team.get(Team.name == "Other")).where(Account.id == acct.id).execute()
        history_of(actors["alice"], acct.id)
        with pytest.raises(PermissionError):  # ...but another actor is checked afresh
            history_of(actors["lina"], acct.id)
    # ...and what comes after it sees the move.
    with pytest.raises(PermissionError):
        history_of(actors["alice"], acct.id)
    with pytest.raises(PermissionError):
        account_file(SETTINGS, actors["alice"], acct.id, AT)
    assert account_file(SETTINGS, olga, acct.id, AT).reference == acct.reference
