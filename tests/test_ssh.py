"""Serving the floor over SSH, proven with a real sshd on a loopback port: an officer's key
opens Arrears as that officer at 80x24 and nothing else; commands, no-terminal sessions,
port forwarding, unknown and disabled officers' keys are all refused.

The sshd is a throw-away one (temporary host key, its own config, `authorized_keys` made by
`arrears ssh authorized-keys`). Its config allows TCP forwarding on purpose: the refusal
must come from the key line's `restrict`, not from a config a site might forget.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.terminal import tmux, wait_for

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
pytestmark = [
    pytest.mark.skipif(SSHD is None, reason="sshd is not installed (.ci/run installs openssh-server)"),
    pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("tmux") is None,
                       reason="the ssh client and tmux are needed (.ci/run installs them)"),
]
ARREARS = str(Path(sys.executable).parent / "arrears")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


class Floor:
    """A demo floor, its settings file, and an sshd serving it."""

    def __init__(self, root: Path, db_url: str):
        self.root = root
        self.config = root / "arrears.toml"
        self.authorized_keys = root / "ssh" / "authorized_keys"
        self.config.write_text(
            f'data_dir = "{root / "data"}"\n'
            f'[database]\nurl = "{db_url}"\n'
            f'[ssh]\nauthorized_keys_file = "{self.authorized_keys}"\n'
            # Any hour is a calling hour, so what the queue shows does not depend on the clock.
            '[compliance.call_hours]\nstart = "00:00:00"\nend = "23:59:59"\n')
        self.port = _free_port()
        self.user = getpass.getuser()

    def arrears(self, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARREARS_")}
        return subprocess.run([ARREARS, "--config", str(self.config), *args], capture_output=True, text=True,
                              env=env, timeout=120)

    def start_sshd(self) -> subprocess.Popen:
        host_key = _keygen(self.root / "host_ed25519")
        sshd_config = self.root / "sshd_config"
        sshd_config.write_text("\n".join([
            f"Port {self.port}", "ListenAddress 127.0.0.1", f"HostKey {host_key}",
            f"PidFile {self.root / 'sshd.pid'}", f"AuthorizedKeysFile {self.authorized_keys}",
            "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes", "PermitRootLogin forced-commands-only", f"AllowUsers {self.user}",
            "AllowTcpForwarding yes", "PermitUserEnvironment no", "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp", "",
        ]))
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(sshd_config)], stdout=subprocess.DEVNULL,
                                   stderr=open(self.root / "sshd.log", "w"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"sshd did not start: {(self.root / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return process
            except OSError:
                time.sleep(0.1)
        pytest.fail("sshd never listened")

    def ssh_args(self, key: Path, *options: str) -> list[str]:
        return ["ssh", "-F", "/dev/null", "-i", str(key), "-p", str(self.port), "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={self.root / 'known_hosts'}",
                "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", *options, f"{self.user}@127.0.0.1"]

    def ssh(self, key: Path, *options: str, command: str | None = None) -> subprocess.CompletedProcess:
        args = self.ssh_args(key, *options) + ([command] if command else [])
        return subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def served(db, db_url, admin, tmp_path):
    from config import load_settings
    from db.demo import generate

    generate(admin, accounts=40, seed=3, settings=load_settings())
    floor = Floor(tmp_path, db_url)
    floor.alice_key = _keygen(tmp_path / "alice")
    floor.stranger_key = _keygen(tmp_path / "stranger")
    added = floor.arrears("officers", "key", "add", "alice", str(floor.alice_key) + ".pub")
    assert added.returncode == 0, added.stderr
    assert floor.authorized_keys.stat().st_mode & 0o777 == 0o600
    sshd = floor.start_sshd()
    yield floor
    sshd.terminate()
    sshd.wait(timeout=10)


def _in_terminal(floor: Floor, key: Path, term: str, *remote: str) -> str:
    name = f"ssh-{uuid.uuid4().hex[:8]}"
    command = " ".join(["env", f"TERM={term}", *floor.ssh_args(key, "-tt"), *remote])
    tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", command + "; echo session ended; sleep 30")
    return name


def test_an_officers_key_opens_arrears_as_that_officer_and_nothing_else(served):
    floor = served
    line = floor.authorized_keys.read_text().splitlines()[-1]
    assert line.startswith(f'restrict,pty,command="{ARREARS} --config {floor.config} tui --officer alice" ssh-ed25519 ')

    # With a terminal, whatever the client asks to run, the officer gets Arrears as alice.
    for remote in ((), ("cat", "/etc/passwd"), ("sh",)):
        session = _in_terminal(floor, floor.alice_key, "xterm-256color", *remote)
        try:
            shown = wait_for(session, "accounts")
            assert "Alice Archer (alice)" in shown
            assert "root:" not in shown
            assert len(shown.splitlines()) <= 24 and max(len(row) for row in shown.splitlines()) <= 80
            tmux("send-keys", "-t", session, "C-q")
            wait_for(session, "session ended")
        finally:
            tmux("kill-session", "-t", session, check=False)

    # Without a terminal, Arrears says so and runs nothing.
    for options in (("-T",), ()):
        result = floor.ssh(floor.alice_key, *options, command="cat /etc/passwd")
        assert result.returncode == 1
        assert "Arrears needs a terminal" in result.stderr
        assert "root:" not in result.stdout + result.stderr
    # sftp gets the forced command too, which is not an sftp server: nothing is copied.
    secret = floor.root / "copied"
    sftp = subprocess.run(["sftp", "-F", "/dev/null", "-i", str(floor.alice_key), "-P", str(floor.port),
                           "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                           "-o", f"UserKnownHostsFile={floor.root / 'known_hosts'}", "-o", "BatchMode=yes",
                           f"{floor.user}@127.0.0.1:/etc/passwd", str(secret)],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert sftp.returncode != 0 and not secret.exists()
    # What the client asked to run was written to the server's log, never run.
    from config.logs import log_path

    logged = log_path(floor.root / "data").read_text()
    assert "session for alice from 127.0.0.1" in logged
    assert "the client asked to run 'cat /etc/passwd', which was ignored" in logged


@pytest.mark.parametrize("term", ["xterm", "linux", "vt220", "screen"])
def test_thin_client_terminals_all_work(served, term):
    session = _in_terminal(served, served.alice_key, term)
    try:
        wait_for(session, "accounts")
        tmux("send-keys", "-t", session, "?")
        wait_for(session, "Keys")
    finally:
        tmux("send-keys", "-t", session, "C-q", check=False)
        tmux("kill-session", "-t", session, check=False)


def test_port_forwarding_is_refused(served):
    floor = served
    local = _free_port()
    forward = subprocess.Popen(floor.ssh_args(floor.alice_key, "-N", "-L", f"{local}:127.0.0.1:{floor.port}"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", local), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the client never listened on its forwarding port"
                time.sleep(0.1)
        connection.settimeout(10)
        with connection:
            received = connection.recv(100)
        assert not received.startswith(b"SSH-"), "the forwarded connection reached sshd"
    finally:
        # A client that has just had its forwarded channel refused can sit in its disconnect
        # for a while after SIGTERM; what this test checks is sshd's side, so kill it if it lingers.
        forward.terminate()
        try:
            forward.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            forward.kill()
            forward.communicate(timeout=10)
    assert "refused local port forward" in (floor.root / "sshd.log").read_text()


def test_unknown_and_disabled_officers_keys_are_refused(served):
    floor = served
    stranger = floor.ssh(floor.stranger_key, "-tt", command="true")
    assert stranger.returncode == 255 and "Permission denied" in stranger.stderr

    disabled = floor.arrears("officers", "disable", "alice")
    assert disabled.returncode == 0, disabled.stderr
    assert "alice" not in floor.authorized_keys.read_text()  # rewritten without her key
    refused = floor.ssh(floor.alice_key, "-tt", command="true")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr
