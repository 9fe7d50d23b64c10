"""The real `arrears tui` on a plain `TERM=xterm` (16 colours) and under `NO_COLOR`, read
byte for byte from a pseudo-terminal: 16-colour terminals get only the 16 basic colours;
under NO_COLOR Textual draws in shades of grey (its monochrome mode keeps the cursor and
the panels distinguishable), so no hue reaches the terminal; the queue is on screen
either way."""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest

SGR = re.compile(rb"\x1b\[([0-9;:]*)m")


@pytest.fixture
def floor_url(db, db_url, admin):
    from config import load_settings
    from db.demo import generate

    generate(admin, accounts=30, seed=5, settings=load_settings())
    return db_url


def run_in_pty(url: str, tmp_path, **env) -> bytes:
    leader, follower = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "NO_COLOR", "FORCE_COLOR")}
    environment.update({"ARREARS_DATA_DIR": str(tmp_path / "data"), **env})
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--db", url, "tui", "--officer", "alice"],
                            stdin=follower, stdout=follower, stderr=follower, env=environment,
                            start_new_session=True, cwd=tmp_path)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + 45
    quitting = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if not quitting and b"accounts" in out and b"Next" in out:
            time.sleep(1.0)  # let the first frames finish
            os.write(leader, b"\x11")  # ctrl+q
            quitting = True
        if proc.poll() is not None:
            break
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    os.close(leader)
    assert quitting, f"the queue never appeared:\n{out[-2000:]!r}"
    return out


def colour_codes(out: bytes) -> set[str]:
    found = set()
    for match in SGR.finditer(out):
        params = match.group(1).decode().replace(":", ";").split(";")
        i = 0
        while i < len(params):
            p = params[i]
            if p in ("38", "48", "58"):
                found.add(";".join(params[i:i + 3]) if params[i + 1:i + 2] == ["5"] else ";".join(params[i:i + 5]))
                i += 3 if params[i + 1:i + 2] == ["5"] else 5
                continue
            if p.isdigit() and (30 <= int(p) <= 37 or 40 <= int(p) <= 47 or 90 <= int(p) <= 97
                                or 100 <= int(p) <= 107):
                found.add(p)
            i += 1
    return found


def test_a_16_colour_terminal_gets_only_the_16_colours(floor_url, tmp_path):
    out = run_in_pty(floor_url, tmp_path, TERM="xterm")
    codes = colour_codes(out)
    assert codes, "no colour at all on a colour terminal"
    extended = sorted(c for c in codes if c.startswith(("38", "48", "58")))
    assert extended == [], f"256-colour or true-colour codes sent to a 16-colour terminal: {extended[:5]}"
    assert b"Next" in out


def is_grey(code: str) -> bool:
    parts = [int(p) for p in code.split(";")]
    if len(parts) == 1:  # a basic colour: black, white and the greys only
        return parts[0] in (30, 37, 90, 97, 40, 47, 100, 107)
    if parts[1] == 5:
        n = parts[2]
        if n >= 232 or n in (0, 7, 8, 15):
            return True
        if 16 <= n <= 231:
            r, g, b = (n - 16) // 36, (n - 16) // 6 % 6, (n - 16) % 6
            return r == g == b
        return False
    r, g, b = parts[2:5]
    return r == g == b


def test_no_color_sends_only_shades_of_grey(floor_url, tmp_path):
    out = run_in_pty(floor_url, tmp_path, TERM="xterm-256color", NO_COLOR="1")
    hues = sorted(c for c in colour_codes(out) if not is_grey(c))
    assert hues == [], f"colours other than greys under NO_COLOR: {hues[:5]}"
    assert b"Next" in out
    # With colour, the same screen does use hues (the check above can fail).
    coloured = run_in_pty(floor_url, tmp_path, TERM="xterm-256color")
    assert any(not is_grey(c) for c in colour_codes(coloured))
