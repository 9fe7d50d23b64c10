"""What `arrears tui` does before Textual starts: keep only the environment the session
needs, and tell an SSH session from a local one.

Textual and Rich act on their environment at import: `TEXTUAL_DRIVER` imports any module,
`TEXTUAL_PRESS` presses keys, `TEXTUAL_LOG` writes everything to a file, `TEXTUAL` turns on
devtools. Over SSH none of these can come from the client (sshd accepts no environment),
but the service account's own environment is scrubbed too, so a session behaves the same
however it was started.
"""

from __future__ import annotations

import logging
import os

# Names kept as they are; everything else is dropped.
KEEP = frozenset({
    "TERM", "COLORTERM", "NO_COLOR", "LANG", "LANGUAGE", "TZ", "HOME", "PATH", "USER", "LOGNAME",
    "TMPDIR", "VIRTUAL_ENV", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_USER_AUTH",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
})
# Prefixes kept: the locale, Arrears's own settings, libpq's connection settings.
KEEP_PREFIXES = ("LC_", "ARREARS_", "PG")
# Never kept, whatever the lists above say.
DROP = frozenset({"ARREARS_OFFICER"})


def scrub_environment(environ: dict[str, str] | None = None) -> list[str]:
    """Remove every variable the session does not need; returns the names removed."""
    environ = os.environ if environ is None else environ
    over = over_ssh(environ)
    removed = []
    for name in list(environ):
        keep = name in KEEP or name.startswith(KEEP_PREFIXES)
        if not keep or (over and name in DROP):
            removed.append(name)
            del environ[name]
    return removed


def textual_environment(settings) -> dict[str, str]:
    """What Textual is told through its environment (after the scrub, before its import).

    `TEXTUAL_FPS`: Textual draws at most this many frames a second, and once idle its frame
    timer fires one to two periods after the last frame. At its default of 60, a key pressed
    17-33 ms after a frame (a held arrow key repeats about every 30 ms) waited up to 16 ms
    for its own; at 120 that wait is over 8-17 ms after a frame. Frames are still drawn
    only when something has changed. `ESCDELAY`: see `ssh.escape_delay_ms`.
    """
    return {"TEXTUAL_FPS": "120", "ESCDELAY": str(settings.ssh.escape_delay_ms)}


def over_ssh(environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return bool(environ.get("SSH_CONNECTION") or environ.get("SSH_CLIENT") or environ.get("SSH_TTY"))


def log_session_start(username: str, asked: str | None) -> None:
    """Record who connected from where, and what command their client asked for (`asked`,
    read before the scrub; it goes to the log only and is never run)."""
    logging.getLogger("arrears.session").info(
        "session for %s from %s%s", username, os.environ.get("SSH_CONNECTION", "a local terminal"),
        f"; the client asked to run {asked!r}, which was ignored" if asked else "")
