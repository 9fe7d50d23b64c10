"""The `arrears` command: officers, version, and one-line failures."""

import subprocess
import sys

import pytest


def arrears(db_url, *args, env=None):
    return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_version():
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("arrears, version ")


def test_officers_add_list_disable(db_url):
    assert arrears(db_url, "db", "upgrade").returncode == 0
    add = arrears(db_url, "officers", "add", "erin", "--name", "Erin Eve", "--role", "team_lead", "--team", "North")
    assert add.returncode == 0, add.stderr
    listing = arrears(db_url, "officers", "list").stdout
    assert "erin" in listing and "Erin Eve" in listing and "team_lead" in listing and "North" in listing
    again = arrears(db_url, "officers", "add", "erin", "--name", "Erin", "--team", "North")
    assert again.returncode == 1 and again.stderr.strip() == "arrears: there is already an officer 'erin'"
    assert arrears(db_url, "officers", "disable", "erin").returncode == 0
    assert "disabled" in arrears(db_url, "officers", "list").stdout
    twice = arrears(db_url, "officers", "disable", "erin")
    assert twice.returncode == 1 and "already disabled" in twice.stderr


@pytest.mark.parametrize("args, message", [
    (["officers", "add", "bad name", "--name", "X", "--team", "T"], "not a valid officer name"),
    (["officers", "add", "zed", "--name", "Zed"], "need a team"),
    (["officers", "disable", "nobody"], "there is no officer 'nobody'"),
])
def test_failures_are_one_line(db_url, args, message):
    arrears(db_url, "db", "upgrade")
    proc = arrears(db_url, *args)
    assert proc.returncode != 0
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_unreachable_database_is_one_line(tmp_path):
    proc = arrears("postgresql://nobody@127.0.0.1:1/none", "officers", "list")
    assert proc.returncode == 1
    assert proc.stderr.startswith("arrears: cannot open the database") and len(proc.stderr.strip().splitlines()) == 1
