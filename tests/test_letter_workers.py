"""Letter workers as real processes: `arrears letters worker --processes 2` over 200 queued
letters, one worker killed (SIGKILL) in the middle of a render; every letter ends rendered
exactly once, its file matching its recorded SHA-256."""

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from db.audit import Actor
from db.letter_queue import request_letter
from db.models import AuditEvent, Letter
from tests import floor
from tests.waiting import eventually

LETTERS = 200


def _wait(predicate, timeout: float, what: str):
    value = eventually(predicate, timeout)
    if not value:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
    return value


def _rendered() -> int:
    return Letter.select().where(Letter.status == "rendered").count()


def test_two_workers_one_killed_mid_render_render_every_letter_exactly_once(db, db_url, tmp_path):
    from config import load_settings

    settings = load_settings()
    team = floor.team()
    account = floor.account(team, balance=500_00)
    at = dt.datetime.now(dt.UTC)
    for _ in range(LETTERS):
        request_letter(settings, Actor("test", role="admin"), account.id, "statement", at=at)
    env = {**os.environ, "ARREARS_LETTERS__DIRECTORY": str(tmp_path / "letters"),
           "ARREARS_LETTERS__LEASE_SECONDS": "3", "ARREARS_LETTERS__POLL_SECONDS": "0.2"}
    parent = subprocess.Popen([sys.executable, "-m", "tui.cli", "--db", db_url, "letters", "worker", "--processes", "2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: _rendered() >= 40, 90, "the first 40 letters")
        host = os.uname().nodename

        def workers():
            found = set()
            for row in Letter.select().where(Letter.status == "rendering"):
                name, pid, _ = row.worker.split(":")
                if name == host and int(pid) != parent.pid:
                    found.add(int(pid))
            return found

        victim_letter = None
        for _ in range(200):
            victim = sorted(_wait(workers, 30, "a letter being rendered"))[0]
            # Freeze it, and kill it only if it is holding a letter it has not finished.
            os.kill(victim, signal.SIGSTOP)
            held = Letter.get_or_none(Letter.status == "rendering", Letter.worker.startswith(f"{host}:{victim}:"))
            if held is not None:
                victim_letter = held.id
                os.kill(victim, signal.SIGKILL)
                break
            os.kill(victim, signal.SIGCONT)
        assert victim_letter is not None, "never caught a worker in the middle of a render"
        _wait(lambda: _rendered() == LETTERS, 120, "every letter to be rendered")
    finally:
        parent.send_signal(signal.SIGTERM)
        out, err = parent.communicate(timeout=60)
    assert parent.returncode == 0, err
    assert "a letter worker stopped (exit status -9); starting another" in err

    rows = list(Letter.select())
    assert len(rows) == LETTERS and {r.status for r in rows} == {"rendered"}
    renders = {}
    for event in AuditEvent.select().where(AuditEvent.action == "letter.render"):
        renders[event.entity_id] = renders.get(event.entity_id, 0) + 1
    assert renders == {r.id: 1 for r in rows}  # rendered exactly once each
    assert len({r.path for r in rows}) == LETTERS
    for r in rows:
        assert hashlib.sha256(Path(r.path).read_bytes()).hexdigest() == r.sha256
    # The killed worker's letter was taken over by the other once its lease ran out.
    assert Letter.get_by_id(victim_letter).attempts == 2
    claims = [e.changes for e in AuditEvent.select().where(AuditEvent.action == "letter.claim",
                                                           AuditEvent.entity_id == victim_letter)]
    assert len(claims) == 2 and f":{victim}:" in claims[0] and f":{victim}:" not in claims[1]
    leftovers = [p for p in (tmp_path / "letters").rglob("*") if p.is_file() and not p.name.endswith(".pdf")]
    assert len(leftovers) <= 1  # at most the killed worker's half-written temporary file
