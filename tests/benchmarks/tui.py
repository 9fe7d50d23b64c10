"""The officer's screens in a real pseudo-terminal at 80x24, on a demo floor (1,000,000
accounts; `--quick`: 50,000), each figure beside a bare Textual app that shows one line of
text, measured in the same run:

- launch to the first frame showing the queue (goal: at most 1.5x the bare app);
- resident memory after opening ten accounts (goal: at most 1.8x the bare app);
- keypress to frame: `down` within the visible rows (goal: p95 at most 10 ms and under
  1 KB written), `n` (claim and open the next account) and `enter` on an account with
  2,000 history rows (goal: p95 at most 100 ms, database included), and `escape` back to
  the queue (no goal of its own; it is one key in eight in the capacity run);
- capacity: the most concurrent sessions, each pressing 2 keys a second on the queue and
  account screens, that keep keypress-to-frame p95 at most 100 ms (goal: at least 60);
- the CPU an idle session burns over 60 s (goal: under 0.5% of a core).

Beside the bare app, the same app with pydantic-settings and Peewee imported: the launch
and memory those libraries alone cost, which the two ratio goals must also cover.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from pathlib import Path

from tests.benchmarks import Options, Row, benchmark

BARE_APP = textwrap.dedent('''
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("bare app ready")

    Bare().run()
''')
# The bare app with the libraries Arrears is built on imported as an officer's session
# imports them (Peewee without psycopg2, as on a SQLite floor; no pydantic plugin scan):
# what those imports alone cost, before any of Arrears' own work. Its figures are printed
# beside the goals, which are ratios to the bare app.
LIBRARIES_APP = textwrap.dedent('''
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    import pydantic_settings  # noqa: F401

    from db.drivers import without_postgres_driver

    without_postgres_driver()
''') + BARE_APP
DOWN, UP, ENTER, ESCAPE = b"\x1b[B", b"\x1b[A", b"\r", b"\x1b"
# Textual wraps each frame in "synchronized output" markers; the end marker ends a frame.
FRAME_END = b"\x1b[?2026l"


class Terminal:
    """A process on its own pseudo-terminal at 80x24, its output read by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path):
        self.leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.started = time.perf_counter()
        # The pty is the process's controlling terminal, as over SSH: if this benchmark
        # dies, closing the pty hangs the app up instead of leaving it running.
        self.proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=cwd,
                                     start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(follower)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.leader], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        return
                    continue
                chunk = os.read(self.leader, 65536)
            except OSError:
                return
            if not chunk:
                return
            if b"\x1b[?2026$p" in chunk:
                # Answer the app's question like a modern terminal: synchronized output is
                # supported, so each frame arrives between begin and end markers.
                os.write(self.leader, b"\x1b[?2026;2$y")
            with self.changed:
                self.out += chunk
                self.changed.notify_all()

    def wait_for(self, marker: bytes, since: int = 0, timeout: float = 60.0) -> float:
        """Seconds until `marker` appears in the output after byte `since`."""
        deadline = time.perf_counter() + timeout
        with self.changed:
            while marker not in self.out[since:]:
                left = deadline - time.perf_counter()
                if left <= 0:
                    tail = bytes(self.out[-300:])
                    raise TimeoutError(f"{marker!r} never appeared; last output: {tail!r}")
                self.changed.wait(left)
        return time.perf_counter()

    def press(self, key: bytes, until: bytes = FRAME_END, timeout: float = 30.0) -> tuple[float, int]:
        """Press a key; seconds until the frame showing its effect is complete (the first
        frame end after `until` appears), and the bytes written for it."""
        with self.lock:
            mark = len(self.out)
        started = time.perf_counter()
        os.write(self.leader, key)
        self.wait_for(until, mark, timeout)
        with self.lock:
            at = self.out.find(until, mark)
        if until != FRAME_END:
            self.wait_for(FRAME_END, at, timeout)
        ended = time.perf_counter()
        time.sleep(0.02)  # let any trailing frame land before the next key
        with self.lock:
            written = len(self.out) - mark
        return ended - started, written

    def settle(self, quiet: float = 0.4, timeout: float = 30.0) -> None:
        """Wait until nothing has been written for `quiet` seconds."""
        deadline = time.perf_counter() + timeout
        last = -1
        while time.perf_counter() < deadline:
            with self.lock:
                size = len(self.out)
            if size == last:
                return
            last = size
            time.sleep(quiet)

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        try:
            os.write(self.leader, b"\x11")  # ctrl+q: release the claim and quit
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.leader)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARREARS_", "TEXTUAL"))}
    env.update({"TERM": "xterm-256color", "ARREARS_DATA_DIR": str(tmp / "data"),
                # Every hour is a calling hour, so `n` finds work whenever this runs.
                "ARREARS_COMPLIANCE__CALL_HOURS__START": "00:00:00",
                "ARREARS_COMPLIANCE__CALL_HOURS__END": "23:59:59"})
    return env


def _floor(url: str, accounts: int, officers: int) -> str:
    """The demo floor, `officers` extra officers in Recoveries, and one account of alice's
    with 2,000 history rows that she holds (so it heads her queue). Returns its reference."""
    cli = [sys.executable, "-m", "tui.cli", "--db", url]
    subprocess.run(cli + ["demo", "--accounts", str(accounts), "--seed", "11"], check=True, capture_output=True)
    for i in range(officers):
        subprocess.run(cli + ["officers", "add", f"load{i}", "--name", f"Load {i}", "--team", "Recoveries"],
                       check=True, capture_output=True)
    from config import load_settings
    from db.audit import Actor, write_transaction
    from db.database import close_database, open_database
    from db.models import Account, Activity, Officer, Team
    from db.queue import refresh_all

    db = open_database(url)
    db.connect(reuse_if_open=True)
    env_settings = load_settings(compliance={"call_hours": {"start": "00:00:00", "end": "23:59:59"}})
    refresh_all(env_settings, Actor.system("bench"))
    alice = Officer.get(Officer.username == "alice")
    team = Team.get_by_id(alice.team_id)
    account = Account.select().where(Account.team == team.id).order_by(Account.id.desc()).first()
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with write_transaction(Actor.system("bench")) as tx:
        Activity.insert_many([{"account": account.id, "kind": "note", "officer": alice.id,
                               "started_at": now - dt.timedelta(hours=i), "note": f"history row {i}"}
                              for i in range(2000)]).execute()
        tx.audit("bench.history", "account", account.id)
    reference = account.reference
    close_database()
    return reference


def _hold(url: str, reference: str) -> None:
    """Alice holds the account with the long history, so it heads her queue (a session that
    quits releases its claim)."""
    import datetime as dt

    from db.audit import Actor, write_transaction
    from db.database import close_database, open_database
    from db.models import Account, Officer

    db = open_database(url)
    db.connect(reuse_if_open=True)
    alice = Officer.get(Officer.username == "alice")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with write_transaction(Actor.system("bench")) as tx:
        # Her other claims (the demo floor's, earlier sessions') would sort with it: free them.
        Account.update(claimed_by=None, claimed_at=None, claim_expires_at=None).where(
            Account.claimed_by == alice.id, Account.reference != reference).execute()
        Account.update(claimed_by=alice.id, claimed_at=now, claim_expires_at=now + dt.timedelta(days=1),
                       queue_priority=None, assigned_officer=alice.id).where(Account.reference == reference).execute()
        tx.audit("bench.hold", "account", None)
    close_database()


def _app(url: str, officer: str, tmp: Path) -> Terminal:
    return Terminal([sys.executable, "-m", "tui.cli", "--db", url, "tui", "--officer", officer], _env(tmp), tmp)


def _bare(tmp: Path, source: str = BARE_APP) -> Terminal:
    script = tmp / ("bare_app.py" if source is BARE_APP else "libraries_app.py")
    script.write_text(source)
    return Terminal([sys.executable, str(script)], _env(tmp), tmp)


QUEUE_SHOWN = b"accounts \xc2\xb7"  # the queue's status line once its first page is in


def _compile_project() -> None:
    """Bytecode for the app's own modules, as an installed Arrears has it (pip compiles a
    package's modules as it installs them), and as the bare app's Textual has it. A checkout
    run under PYTHONDONTWRITEBYTECODE, as everything on this machine is, compiled every one
    of them from source at every launch: 15-130 ms of the launch figure."""
    import compileall

    root = Path(__file__).resolve().parents[2]
    for package in ("config", "db", "letters", "tui"):
        compileall.compile_dir(root / package, quiet=1)


def _launch(url: str, tmp: Path, repeat: int) -> tuple[float, float, float]:
    """Median launch to first frame: Arrears, the bare app, the bare app with the libraries."""
    app_times, bare_times, libraries_times = [], [], []
    for _ in range(repeat):
        bare = _bare(tmp)
        bare_times.append(bare.wait_for(b"bare app ready") - bare.started)
        bare.close()
        libraries = _bare(tmp, LIBRARIES_APP)
        libraries_times.append(libraries.wait_for(b"bare app ready") - libraries.started)
        libraries.close()
        app = _app(url, "alice", tmp)
        app_times.append(app.wait_for(QUEUE_SHOWN) - app.started)
        app.close()
    return statistics.median(app_times), statistics.median(bare_times), statistics.median(libraries_times)


def _session_figures(url: str, tmp: Path, presses: int, held: str) -> dict[str, float]:
    _hold(url, held)
    app = _app(url, "alice", tmp)
    app.wait_for(QUEUE_SHOWN)
    app.settle()
    figures: dict[str, float] = {}
    # `enter` on the held account with 2,000 history rows (it heads the queue).
    enters, escapes = [], []
    for _ in range(max(5, presses // 4)):
        seconds, _ = app.press(ENTER, until=b"history row ")
        enters.append(seconds)
        app.settle()
        seconds, _ = app.press(ESCAPE, until=QUEUE_SHOWN)
        escapes.append(seconds)
        app.settle()
    figures["enter_p95"] = _pct(enters, 0.95)
    figures["escape_p95"] = _pct(escapes, 0.95)
    # `down` within the visible rows, and back up.
    downs, sizes = [], []
    for i in range(presses):
        seconds, written = app.press(DOWN if i % 10 < 5 else UP)
        downs.append(seconds)
        sizes.append(written)
    figures["down_p95"] = _pct(downs, 0.95)
    figures["down_bytes_p95"] = _pct(sizes, 0.95)
    # `n`: claim the next account and show it; ten of them, then the memory.
    nexts = []
    for _ in range(10):
        seconds, _ = app.press(b"n", until=b"Log call")
        nexts.append(seconds)
        app.settle()
        app.press(ESCAPE, until=QUEUE_SHOWN)
        app.settle()
    figures["n_p95"] = _pct(nexts, 0.95)
    time.sleep(1.0)
    figures["rss_kb"] = app.rss_kb()
    app.close()
    for name, source in (("bare_rss_kb", BARE_APP), ("libraries_rss_kb", LIBRARIES_APP)):
        bare = _bare(tmp, source)
        bare.wait_for(b"bare app ready")
        time.sleep(1.0)
        figures[name] = bare.rss_kb()
        bare.close()
    return figures


def _idle(url: str, tmp: Path, seconds: float) -> tuple[float, float]:
    app, bare = _app(url, "alice", tmp), _bare(tmp)
    app.wait_for(QUEUE_SHOWN)
    bare.wait_for(b"bare app ready")
    time.sleep(3.0)
    app_before, bare_before = app.cpu_seconds(), bare.cpu_seconds()
    time.sleep(seconds)
    app_share = (app.cpu_seconds() - app_before) / seconds
    bare_share = (bare.cpu_seconds() - bare_before) / seconds
    app.close()
    bare.close()
    return app_share, bare_share


def _load(url: str, tmp: Path, sessions: int, seconds: float) -> float:
    """p95 keypress-to-frame with `sessions` officers each pressing 2 keys a second: on the
    queue (down/up), and opening and leaving accounts (n, escape), a cycle of 8 keys.

    The sessions start one after another across one cycle, as officers on a floor are not in
    step (started together, every session pressed `n` in the same quarter second, and the
    figure measured that burst). Only keys pressed once every session is running count."""
    names = ["alice", "bob"] + [f"load{i}" for i in range(sessions)]
    terminals = [_app(url, names[i], tmp) for i in range(sessions)]
    latencies: list[float] = []
    lock = threading.Lock()
    try:
        for terminal in terminals:
            terminal.wait_for(QUEUE_SHOWN, timeout=300)
        cycle = 8 * 0.5
        measured_from = time.perf_counter() + cycle
        deadline = measured_from + seconds

        def officer(terminal: Terminal, index: int) -> None:
            time.sleep(cycle * index / sessions)
            step = 0
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                if step % 8 == 6:
                    took, _ = terminal.press(b"n", until=b"Log call")
                elif step % 8 == 7:
                    took, _ = terminal.press(ESCAPE, until=QUEUE_SHOWN)
                else:
                    took, _ = terminal.press(DOWN if step % 2 else UP)
                if began >= measured_from:
                    with lock:
                        latencies.append(took)
                step += 1
                time.sleep(max(0.0, 0.5 - (time.perf_counter() - began)))

        threads = [threading.Thread(target=officer, args=(t, i)) for i, t in enumerate(terminals)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for terminal in terminals:
            terminal.close()
    return _pct(latencies, 0.95) if latencies else float("inf")


@benchmark("tui")
def run(options: Options) -> list[Row]:
    accounts = 50_000 if options.quick else 1_000_000
    levels = [10, 20] if options.quick else [20, 40, 60, 80]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("ARREARS_BENCH_DIR")) as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'floor.db'}"
        started = time.perf_counter()
        _compile_project()
        held = _floor(url, accounts, max(levels))
        rows.append(Row(f"floor built ({accounts:,} accounts)", f"{time.perf_counter() - started:.0f} s"))
        app_launch, bare_launch, libraries_launch = _launch(url, tmp, 3 if options.quick else 5)
        rows.append(Row("launch to the queue's first frame", f"{app_launch * 1000:.0f} ms"))
        rows.append(Row("bare Textual app: launch to first frame", f"{bare_launch * 1000:.0f} ms"))
        rows.append(Row("bare app + pydantic-settings + Peewee imported: launch",
                        f"{libraries_launch * 1000:.0f} ms ({libraries_launch / bare_launch:.2f}x)"))
        rows.append(Row("launch, app ÷ bare", f"{app_launch / bare_launch:.2f}x", "≤ 1.5x",
                        app_launch / bare_launch <= 1.5))
        f = _session_figures(url, tmp, 40 if options.quick else 100, held)
        rows.append(Row("resident memory after opening 10 accounts", f"{f['rss_kb'] / 1024:.0f} MB"))
        rows.append(Row("bare Textual app: resident memory", f"{f['bare_rss_kb'] / 1024:.0f} MB"))
        rows.append(Row("bare app + pydantic-settings + Peewee imported: resident memory",
                        f"{f['libraries_rss_kb'] / 1024:.0f} MB ({f['libraries_rss_kb'] / f['bare_rss_kb']:.2f}x)"))
        ratio = f["rss_kb"] / f["bare_rss_kb"]
        rows.append(Row("memory, app ÷ bare", f"{ratio:.2f}x", "≤ 1.8x", ratio <= 1.8))
        rows.append(Row("`down` keypress to frame, p95", f"{f['down_p95'] * 1000:.1f} ms", "≤ 10 ms",
                        f["down_p95"] <= 0.010))
        rows.append(Row("`down` bytes written to the terminal, p95", f"{f['down_bytes_p95']:.0f} B", "< 1 KB",
                        f["down_bytes_p95"] < 1024))
        rows.append(Row("`n` (claim and open) keypress to frame, p95", f"{f['n_p95'] * 1000:.0f} ms", "≤ 100 ms",
                        f["n_p95"] <= 0.100))
        rows.append(Row("`enter` on 2,000-row history to frame, p95", f"{f['enter_p95'] * 1000:.0f} ms",
                        "≤ 100 ms", f["enter_p95"] <= 0.100))
        rows.append(Row("`escape` from the account back to the queue, p95", f"{f['escape_p95'] * 1000:.0f} ms"))
        idle_seconds = 15.0 if options.quick else 60.0
        app_cpu, bare_cpu = _idle(url, tmp, idle_seconds)
        rows.append(Row(f"idle CPU over {idle_seconds:.0f} s", f"{app_cpu * 100:.2f}% of a core", "< 0.5%",
                        app_cpu < 0.005))
        rows.append(Row("bare Textual app: idle CPU", f"{bare_cpu * 100:.2f}% of a core"))
        capacity = 0
        for sessions in levels:
            p95 = _load(url, tmp, sessions, 15.0 if options.quick else 30.0)
            rows.append(Row(f"{sessions} sessions at 2 keys/s: keypress to frame p95", f"{p95 * 1000:.0f} ms",
                            "≤ 100 ms", p95 <= 0.100))
            if p95 > 0.100:
                break
            capacity = sessions
        rows.append(Row("capacity (sessions with p95 ≤ 100 ms)", f"{capacity}" + ("+" if capacity == levels[-1] else ""),
                        "≥ 60", capacity >= 60))
    return rows
