"""Officers' SSH keys and `arrears ssh authorized-keys`, line by line: the exact line for a
key, names and keys that would smuggle options in are refused, disabled officers dropped;
the launcher's environment scrub; and what the app refuses to do on the server."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from db.audit import Actor
from db.models import AuditEvent, Officer, SshKey
from db.officers import OfficerError, add_officer, disable_officer
from db.ssh_keys import SshKeyError, add_key, authorized_keys_lines, parse_public_key, remove_key

ADMIN = Actor("test-admin", role="admin")
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLIxgKunMqgFv8VUYpKyP+93XpymePqeWdEzCkcZqTb alice@thin"
ED25519_FINGERPRINT = "SHA256:FIZKnC97LN7h92Ev8/E4Lljxjl1bdoqU1SoroRMRkis"  # as ssh-keygen -l prints it
ECDSA = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPtKVu9KFDIj1uq0s//C9FtcX9Bd"
         "ohnrvfokJPpCCUBOShk8kA1aNoZvK3Js6/fo52/gTN6RvXwxAG7zYuFum3s= root@vm")
COMMAND = "/opt/arrears/bin/arrears --config /etc/arrears/arrears.toml"


def _keygen(tmp_path: Path, name: str, *args: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-N", "", "-C", name, "-f", str(tmp_path / name), *args], check=True)
    return (tmp_path / f"{name}.pub").read_text()


def test_a_key_is_parsed_and_fingerprinted_as_ssh_keygen_does():
    key = parse_public_key(ED25519 + "\n")
    assert (key.algorithm, key.fingerprint, key.comment) == ("ssh-ed25519", ED25519_FINGERPRINT, "alice@thin")
    assert parse_public_key(ECDSA).algorithm == "ecdsa-sha2-nistp256"


@pytest.mark.parametrize("text, reason", [
    ("", "holds no public key"),
    (f'command="/bin/sh" {ED25519}', "options before the key"),
    (f"restrict,pty {ED25519}", "options before the key"),
    (f"{ED25519}\n{ECDSA}", "more than one line"),
    ("ssh-ed25519", "not an OpenSSH public key"),
    ("ssh-ed25519 not*base64", "not valid base64"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "is not accepted"),
    ("ssh-ed25519-cert-v01@openssh.com AAAA", "certificates are not accepted"),
    # An ECDSA body under an ed25519 label.
    ("ssh-ed25519 " + ECDSA.split()[1], "is not a ssh-ed25519 key"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICLIxgKu", "cannot be read"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
     "more than one line"),
    ("-----BEGIN OPENSSH PRIVATE KEY----- b3Blbn", "private key"),
])
def test_malformed_keys_are_refused(text, reason):
    with pytest.raises(SshKeyError, match=reason):
        parse_public_key(text)


def test_weak_rsa_is_refused_and_strong_rsa_taken(tmp_path):
    with pytest.raises(SshKeyError, match="at least 2048 bits; this one has 1024"):
        parse_public_key(_keygen(tmp_path, "weak", "-t", "rsa", "-b", "1024"))
    assert parse_public_key(_keygen(tmp_path, "strong", "-t", "rsa", "-b", "3072")).algorithm == "ssh-rsa"


def test_authorized_keys_lines_exactly(db):
    add_officer(ADMIN, "alice", name="Alice", team="Recoveries")
    add_officer(ADMIN, "bob.b-2", name="Bob", team="Recoveries")
    first = add_key(ADMIN, "alice", ED25519)
    second = add_key(ADMIN, "bob.b-2", ECDSA)
    assert authorized_keys_lines(COMMAND) == [
        f'restrict,pty,command="{COMMAND} tui --officer alice" {ED25519.rsplit(" ", 1)[0]} arrears:alice:{first.id}',
        f'restrict,pty,command="{COMMAND} tui --officer bob.b-2" {ECDSA.rsplit(" ", 1)[0]} arrears:bob.b-2:{second.id}',
    ]
    # A disabled officer's keys are dropped; a removed key is gone.
    disable_officer(ADMIN, "alice")
    assert [line.split("--officer ")[1].split('"')[0] for line in authorized_keys_lines(COMMAND)] == ["bob.b-2"]
    remove_key(ADMIN, "bob.b-2", second.fingerprint.removeprefix("SHA256:"))
    assert authorized_keys_lines(COMMAND) == []
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity == "ssh_key").order_by(AuditEvent.id)]
    assert actions == ["ssh_key.add", "ssh_key.add", "ssh_key.remove"]


@pytest.mark.parametrize("username", ["alice smith", 'al"ice', "alice\nbob", "al'ice", "-alice", "a#b", "a,b", ""])
def test_names_that_could_break_a_key_line_are_refused(db, username):
    with pytest.raises(OfficerError, match="not a valid officer name"):
        add_officer(ADMIN, username, name="X", team="Recoveries")
    # And a name that reached the database some other way never reaches the file.
    team = add_officer(ADMIN, "ok", name="Ok", team="Recoveries").team
    officer = Officer.create(username=username or "?", name="X", team=team)
    SshKey.create(officer=officer, algorithm="ssh-ed25519", blob=ED25519.split()[1], fingerprint="SHA256:x")
    with pytest.raises(OfficerError):
        authorized_keys_lines(COMMAND)


def test_a_damaged_key_row_never_reaches_the_file(db):
    add_officer(ADMIN, "alice", name="Alice", team="Recoveries")
    key = add_key(ADMIN, "alice", ED25519)
    SshKey.update(blob='AAAA" ,command="/bin/sh').where(SshKey.id == key.id).execute()
    with pytest.raises(ValueError, match="damaged"):
        authorized_keys_lines(COMMAND)


@pytest.mark.parametrize("command", ['/opt/arrears "x', "/opt/arrears\nssh-ed25519", "relative/arrears", "/a\\b"])
def test_a_forced_command_that_could_break_the_line_is_refused(db, command):
    with pytest.raises(ValueError):
        authorized_keys_lines(command)


def test_one_key_one_officer_and_only_admins_manage_keys(db):
    add_officer(ADMIN, "alice", name="Alice", team="Recoveries")
    add_officer(ADMIN, "bob", name="Bob", team="Recoveries")
    add_key(ADMIN, "alice", ED25519)
    with pytest.raises(OfficerError, match="already belongs to officer 'alice'"):
        add_key(ADMIN, "bob", ED25519)
    lead = Actor("lead", role="team_lead", team_id=Officer.get(Officer.username == "alice").team_id)
    with pytest.raises(PermissionError):
        add_key(lead, "bob", ECDSA)
    with pytest.raises(PermissionError):
        remove_key(Actor("alice", role="officer"), "alice", ED25519_FINGERPRINT)


def _cli(db_url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, *args], capture_output=True, text=True,
                          env=env or os.environ.copy(), timeout=120)


def test_the_cli_adds_keys_and_writes_the_file_atomically_0600(db, db_url, tmp_path):
    key_file = tmp_path / "alice.pub"
    key_file.write_text(ED25519 + "\n")
    bad = tmp_path / "bad.pub"
    bad.write_text(f'command="/bin/sh" {ED25519}\n')
    refused = _cli(db_url, "officers", "add", "alice", "--name", "Alice", "--team", "Recoveries", "--ssh-key", str(bad))
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"arrears: {bad}: the line has options before the key: give the public key alone, as ssh-keygen wrote it"
    assert not Officer.select().where(Officer.username == "alice").exists()  # nothing half-done

    added = _cli(db_url, "officers", "add", "alice", "--name", "Alice", "--team", "Recoveries", "--ssh-key", str(key_file))
    assert added.returncode == 0, added.stderr
    assert f"with key {ED25519_FINGERPRINT}" in added.stdout
    listed = _cli(db_url, "officers", "key", "list", "alice")
    assert listed.stdout.startswith(f"{ED25519_FINGERPRINT}  ssh-ed25519  alice@thin  added ")

    out = tmp_path / "service" / "authorized_keys"
    out.parent.mkdir()
    out.write_text("old contents\n")
    written = _cli(db_url, "ssh", "authorized-keys", "--write", str(out))
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = out.read_text().splitlines()
    assert lines[0].startswith("# Written by `arrears ssh authorized-keys`")
    assert lines[2] == (f'restrict,pty,command="{Path(sys.executable).parent / "arrears"} --db {db_url} tui --officer alice" '
                        f"{ED25519.rsplit(' ', 1)[0]} arrears:alice:1")
    assert [p.name for p in out.parent.iterdir()] == ["authorized_keys"]  # no temporary left behind
    printed = _cli(db_url, "ssh", "authorized-keys")
    assert printed.stdout == out.read_text()


def test_the_launcher_scrubs_textual_and_foreign_variables():
    from tui.launcher import over_ssh, scrub_environment

    environ = {"TERM": "vt220", "LANG": "en_GB.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/srv/arrears",
               "PATH": "/usr/bin", "ARREARS_CONFIG": "/etc/arrears/arrears.toml", "PGPASSFILE": "/srv/pgpass",
               "SSH_CONNECTION": "10.0.0.5 5555 10.0.0.1 22", "SSH_ORIGINAL_COMMAND": "sh",
               "TEXTUAL_DRIVER": "evil.module", "TEXTUAL_PRESS": "ctrl+q", "TEXTUAL_LOG": "/tmp/all.log",
               "TEXTUAL": "devtools,debug", "ARREARS_OFFICER": "boss", "LD_PRELOAD": "/tmp/x.so",
               "PYTHONSTARTUP": "/tmp/x.py", "COLUMNS": "300", "SHELL": "/bin/bash", "BROWSER": "lynx"}
    removed = scrub_environment(environ)
    assert environ == {"TERM": "vt220", "LANG": "en_GB.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/srv/arrears",
                       "PATH": "/usr/bin", "ARREARS_CONFIG": "/etc/arrears/arrears.toml",
                       "PGPASSFILE": "/srv/pgpass", "SSH_CONNECTION": "10.0.0.5 5555 10.0.0.1 22"}
    assert "TEXTUAL_DRIVER" in removed and "ARREARS_OFFICER" in removed
    assert over_ssh(environ) and not over_ssh({"TERM": "xterm"})


def test_over_ssh_the_officer_comes_only_from_the_forced_command(db, db_url):
    add_officer(ADMIN, "alice", name="Alice", team="Recoveries")
    env = {**os.environ, "SSH_CONNECTION": "10.0.0.5 5555 10.0.0.1 22", "ARREARS_OFFICER": "alice",
           "USER": "alice", "SSH_ORIGINAL_COMMAND": "tui --officer alice"}
    result = _cli(db_url, "tui", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == ("arrears: over SSH the officer comes from the key's forced command "
                                     "(`arrears ssh authorized-keys`); this key has none")


async def test_the_app_opens_nothing_on_the_server(db, tmp_path, monkeypatch):
    from config import load_settings
    from tui.app import ArrearsApp

    monkeypatch.chdir(tmp_path)
    alice = add_officer(ADMIN, "alice", name="Alice", team="Recoveries")
    app = ArrearsApp(load_settings(), alice, background=False)
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda *a, **k: opened.append(a))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        app.open_url("https://example.com")
        await pilot.press("ctrl+z")
        app.copy_to_clipboard("Alice's card number")
        app.action_screenshot()
        with pytest.raises(RuntimeError, match="never suspends"):
            with app.suspend():
                pass
        titles = [command.title.lower() for command in app.get_system_commands(app.screen)]
        await pilot.pause()
        assert app.is_running and app.screen is screen
    assert opened == []
    assert not any("screenshot" in title for title in titles)
    assert not list(tmp_path.rglob("*.svg"))
    assert app.clipboard == ""
