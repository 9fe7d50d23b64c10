"""The real `arrears tui` in a terminal (tmux) at 80x24: claim, log a call, add a note; and a
session killed mid-note (SIGHUP) keeps the draft and frees the account."""

import datetime as dt
import os
import shutil
import sys
import time
import uuid

import pytest

from db.models import Account, Activity, Draft, Officer
from tests.terminal import tmux, wait_for, wait_gone
from tests.waiting import eventually

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


@pytest.fixture
def floor_url(db, db_url, admin):
    from config import load_settings
    from db.demo import generate

    generate(admin, accounts=60, seed=5, settings=load_settings())
    # the floor stays open here: SQLite in WAL mode and PostgreSQL both let the app write alongside
    return db_url


@pytest.fixture
def session(floor_url, tmp_path):
    name = f"arrears-{uuid.uuid4().hex[:8]}"
    env = {
        "ARREARS_DATA_DIR": str(tmp_path / "data"),
        # Any hour of the day is a calling hour here, so the test does not depend on when CI runs.
        "ARREARS_COMPLIANCE__CALL_HOURS__START": "00:00:00",
        "ARREARS_COMPLIANCE__CALL_HOURS__END": "23:59:59",
        "TERM": "xterm-256color",
    }
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    command = f"cd {tmp_path} && env {exports} {sys.executable} -m tui.cli --db {floor_url} tui --officer alice"
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", command)
    pid = tmux("display-message", "-p", "-t", name, "#{pane_pid}").stdout.strip()
    yield name
    tmux("kill-session", "-t", name, check=False)
    # Whatever happened, no app may outlive its test (it would keep working the floor).
    deadline = time.monotonic() + 10
    while pid and _alive(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid and _alive(int(pid)):
        os.kill(int(pid), 9)
        raise AssertionError("the app did not exit when its terminal went away")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _floor_state(username: str) -> tuple:
    """What a team lead's floor says of an officer right now."""
    from config import load_settings
    from db.audit import Actor
    from db.presence import floor_states

    states = floor_states(load_settings(), Actor("lead", role="admin"), dt.datetime.now(dt.UTC))
    return next((s.state, s.account) for s in states if s.username == username)


def test_claim_log_a_call_and_a_note_in_a_real_terminal(session, db, tmp_path):
    wait_for(session, "accounts")
    # How Babel writes the queue's balances is kept for the next session, in the data
    # directory (config.babel_answers).
    assert eventually(lambda: len(list((tmp_path / "data" / "cache").glob("babel-answers-*.json"))) == 1)
    assert eventually(lambda: _floor_state("alice") == ("idle in queue", None))
    tmux("send-keys", "-t", session, "n")
    wait_for(session, "Log call")
    alice = Officer.get(Officer.username == "alice")
    on = Account.get(Account.claimed_by == alice.id).reference
    assert eventually(lambda: _floor_state("alice") == ("on account", on))
    tmux("send-keys", "-t", session, "c")
    wait_for(session, "Log a call")
    tmux("send-keys", "-t", session, "1")
    tmux("send-keys", "-t", session, "C-s")
    wait_for(session, "no answer")
    assert eventually(lambda: _floor_state("alice") == ("wrap-up", on))
    tmux("send-keys", "-t", session, "a")
    wait_for(session, "Add a note")
    tmux("send-keys", "-t", session, "-l", "Asked for a statement [b]by post[/b]")
    tmux("send-keys", "-t", session, "C-s")
    wait_gone(session, "Add a note")  # the form closes once the note is saved
    wait_for(session, "Asked for a statement")
    alice = Officer.get(Officer.username == "alice")
    claimed = Account.get(Account.claimed_by == alice.id)
    call = Activity.get(Activity.account == claimed.id, Activity.disposition == "no_answer", Activity.officer == alice.id)
    assert call.counts_as_attempt
    note = Activity.get(Activity.account == claimed.id, Activity.kind == "note", Activity.officer == alice.id,
                        Activity.started_at > call.started_at - dt.timedelta(seconds=1))
    assert note.note == "Asked for a statement [b]by post[/b]"
    tmux("send-keys", "-t", session, "C-q")
    deadline = time.monotonic() + 10
    while Account.get_by_id(claimed.id).claimed_by_id is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Account.get_by_id(claimed.id).claimed_by_id is None
    assert eventually(lambda: _floor_state("alice") == ("logged out", None))


def test_hangup_mid_note_keeps_the_draft_and_frees_the_account(session, db):
    wait_for(session, "accounts")
    tmux("send-keys", "-t", session, "n")
    wait_for(session, "Log call")
    tmux("send-keys", "-t", session, "a")
    wait_for(session, "Add a note")
    tmux("send-keys", "-t", session, "-l", "Debtor was cut off mid-sentence")
    time.sleep(3)  # drafts are saved within 2 s of the last keystroke
    pane_pid = tmux("display-message", "-p", "-t", session, "#{pane_pid}").stdout.strip()
    tmux("kill-session", "-t", session)  # the terminal goes away: the app gets SIGHUP
    alice = Officer.get(Officer.username == "alice")
    deadline = time.monotonic() + 15
    while Account.select().where(Account.claimed_by == alice.id).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Account.select().where(Account.claimed_by == alice.id).exists(), "claim not released on SIGHUP"
    assert eventually(lambda: _floor_state("alice") == ("logged out", None))  # off the floor at once, not after the lease
    draft = Draft.get(Draft.officer == alice.id)
    assert draft.text == "Debtor was cut off mid-sentence"
    assert pane_pid
