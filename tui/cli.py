"""The `arrears` command: one entry point for officers (the TUI) and operators (database,
demo, officers). Every failure is one clear line on stderr and a non-zero exit status.

Textual is imported only by the commands that open a screen, so operator commands stay
quick and work on a server without a terminal.
"""

from __future__ import annotations

import gc

if __name__ == "__main__":  # `python -m tui.cli`, as the `arrears` command does in tui.entry
    from tui.entry import quiet_start

    quiet_start()

import datetime as dt  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import click  # noqa: E402

from config import load_settings
from tui.cli_context import Context, Failure, _instant, pass_ctx


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    # Looked up only when asked: reading package metadata costs every launch ~15 ms.
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("arrears")
    except PackageNotFoundError:  # running from a checkout without installing
        number = "0+unknown"
    click.echo(f"arrears, version {number}")
    ctx.exit()


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--db", "db_url", metavar="URL", help="Database URL (overrides database.url).")
@click.option("--config", "config_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="Settings file (TOML). Default: $ARREARS_CONFIG, /etc/arrears/arrears.toml, ./arrears.toml.")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, config_file: str | None) -> None:
    """Arrears: a collections floor in a terminal."""
    ctx.obj = Context(config_file=config_file, db_url=db_url)
    if ctx.invoked_subcommand not in (None, "tui"):
        gc.enable()  # an operator command: collect as usual (see tui.entry)
    if ctx.invoked_subcommand is None:
        ctx.invoke(tui_command)


@cli.command("tui")
@click.option("--officer", metavar="USER", help="Officer to work as (default: $ARREARS_OFFICER, else the OS user).")
@pass_ctx
def tui_command(ctx: Context, officer: str | None = None) -> None:
    """Open the officer's screens."""
    import getpass
    import os

    from config.babel_answers import keep_answers
    from db.drivers import without_postgres_driver

    # Before the settings are read: what Babel says of their currency and locale, and how
    # money is written, come from answers earlier sessions kept in the data directory, so
    # this one need not load Babel's data (about 5 MB and 25 ms; see config.babel_answers).
    keep_answers()

    if ctx.settings.database.resolved_url().startswith("sqlite"):
        without_postgres_driver()  # a SQLite floor: 10 MB less in every session
    from db.officers import find_officer
    from tui.launcher import over_ssh, scrub_environment, textual_environment

    asked = os.environ.get("SSH_ORIGINAL_COMMAND")
    # Before Textual is imported: it reads its environment at import.
    scrub_environment()
    os.environ.update(textual_environment(ctx.settings))
    if over_ssh():
        # Everyone logs in as one service account: only the key's forced command says who
        # this is, never $USER, $ARREARS_OFFICER or the command the client asked for.
        if not officer:
            raise Failure("over SSH the officer comes from the key's forced command "
                          "(`arrears ssh authorized-keys`); this key has none")
        username = officer
    else:
        username = officer or os.environ.get("ARREARS_OFFICER") or getpass.getuser()
    db = ctx.open_db(session=True)
    found = find_officer(username)
    if found is None:
        raise Failure(f"there is no officer {username!r}: an admin adds one with `arrears officers add`")
    if not found.active:
        raise Failure(f"officer {username!r} is disabled")
    if found.team_id is None and found.role != "admin":
        raise Failure(f"officer {username!r} is in no team: an admin sets one with `arrears officers add`")
    if not sys.stdin.isatty() or not sys.stdout.isatty() or os.environ.get("TERM", "dumb") == "dumb":
        raise Failure("Arrears needs a terminal: connect with `ssh -t`")
    # The screens never use a connection on this thread (their jobs open their own): this
    # one goes back to the pool for the first job, instead of a second being opened beside it.
    db.close()
    from config.logs import configure_logging

    configure_logging(ctx.settings.resolved_data_dir())
    from tui.launcher import log_session_start

    log_session_start(username, asked)
    from tui.app import ArrearsApp

    app = ArrearsApp(ctx.settings, found)
    _release_on_hangup(app)
    try:
        app.run(mouse=ctx.settings.ssh.mouse)
    finally:
        app.leave_floor_now()


def _release_on_hangup(app) -> None:
    """A dropped SSH session (SIGHUP) frees the account for others before the process ends."""
    import signal

    def hangup(signum, frame):
        # The terminal is gone: there is no screen to restore and nobody to tell. Free the
        # account (drafts are already in the database) and end the process outright, so
        # it cannot linger writing to a dead terminal.
        import os

        try:
            app.leave_floor_now()
        finally:
            os._exit(129)

    signal.signal(signal.SIGHUP, hangup)


# --- database ---------------------------------------------------------------------------------

@cli.group("db")
def db_group() -> None:
    """The database: schema upgrades, backups, copies."""


@db_group.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Apply pending schema migrations (safe to run again)."""
    from db.migrations import current_version, upgrade

    db = ctx.open_db(require_schema=False)
    with db.connection_context():
        applied = upgrade()
        now = current_version()
    if applied:
        for m in applied:
            click.echo(f"applied {m.version:04d} {m.name}")
        click.echo(f"schema is at version {now}")
    else:
        click.echo(f"schema is up to date (version {now})")


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
def db_backup(ctx: Context, file: Path) -> None:
    """A consistent copy of the floor while officers work (SQLite); for PostgreSQL, the
    pg_dump command to run."""
    from db.transfer import TransferError, backup_sqlite, pg_dump_command

    url = ctx.settings.database.resolved_url()
    if url.startswith("postgres"):
        click.echo("A PostgreSQL floor is backed up by PostgreSQL's own tool, consistently while in use:")
        click.echo(f"  {pg_dump_command(url, file)}")
        return
    source = Path(url.split(":///", 1)[1]).expanduser()
    if not source.exists():
        raise Failure(f"there is no database file {source}")
    if file.exists():
        raise Failure(f"{file} exists already: name a new file")
    with click.progressbar(length=1, label="backup", file=sys.stderr) as bar:
        def step(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)
        try:
            pages = backup_sqlite(source, file, progress=step)
        except TransferError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"backed up {source} to {file} ({pages:,} pages, checked)")


@db_group.command("copy")
@click.option("--to", "to", required=True, metavar="URL", help="An empty database: sqlite:///FILE or postgresql://…")
@pass_ctx
def db_copy(ctx: Context, to: str) -> None:
    """Copy the whole floor into another database (e.g. SQLite to PostgreSQL), then check
    every table's rows and every account's ledger sum on both sides."""
    from db.database import DatabaseUrlError
    from db.transfer import TransferError, _safe, copy_floor

    source = ctx.settings.database.resolved_url()
    db = ctx.open_db()
    db.close()
    with click.progressbar(length=1, label="copy", file=sys.stderr, show_pos=True,
                           item_show_func=lambda table: table) as bar:
        def step(table: str, rows: int) -> None:
            bar.length = max(bar.length, bar.pos + rows + 1)
            bar.update(rows, table)
        try:
            report = copy_floor(source, to, progress=step)
        except (TransferError, DatabaseUrlError) as exc:
            raise Failure(str(exc)) from None
    from db.money import format_money

    settings = ctx.settings
    click.echo(f"copied {sum(report.rows.values()):,} rows in {len(report.rows)} tables to {_safe(to)}")
    click.echo(f"checked: every table's row count, and {report.accounts_checked:,} accounts' ledger sums "
               f"(total {format_money(report.ledger_total_minor, settings.locale.currency, settings.locale.locale)}) "
               "equal on both sides")


# --- demo -------------------------------------------------------------------------------------

@cli.command("demo")
@click.option("--accounts", default=2000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date the floor is generated for (default today).")
@click.option("--replace", is_flag=True, help="SQLite only: delete the database file first and start a fresh floor.")
@pass_ctx
def demo(ctx: Context, accounts: int, seed: int, as_of: dt.datetime | None, replace: bool) -> None:
    """Create the schema if needed and fill it with a demo floor (same seed, same data)."""
    import time
    from pathlib import Path

    from db.audit import Actor
    from db.demo import DemoError, generate
    from db.migrations import upgrade

    if replace:
        url = ctx.settings.database.resolved_url()
        if not url.startswith("sqlite:///"):
            raise Failure("--replace only deletes SQLite files; drop a PostgreSQL database with its own tools")
        path = Path(url.split(":///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = ctx.open_db(require_schema=False)
    started = time.perf_counter()
    with db.connection_context():
        upgrade()
        try:
            with click.progressbar(length=accounts, label="demo accounts", file=sys.stderr) as bar:
                result = generate(Actor.cli(), accounts=accounts, seed=seed,
                                  as_of=as_of.date() if as_of else None, progress=bar.update,
                                  settings=ctx.settings)
        except DemoError as exc:
            raise Failure(str(exc)) from None
    seconds = time.perf_counter() - started
    rows = sum(result.rows.values())
    click.echo(f"demo floor: {result.accounts:,} accounts, {rows:,} rows in {seconds:.1f} s "
               f"({ctx.settings.database.resolved_url()})")
    click.echo("officers: admin, lead (team lead), alice, bob (Recoveries), carol, dave (Specialist)")


# --- accounts and the queue -------------------------------------------------------------------

@cli.group("account")
def account_group() -> None:
    """Look at one account."""


@account_group.command("show")
@click.argument("reference")
@click.option("--at", "at", metavar="ISO-TIME", help="Judge the phones at this instant (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def account_show(ctx: Context, reference: str, at: str | None, as_json: bool) -> None:
    """An account's facts and, for each phone, whether it may be called and why not."""
    import json

    from db.accounts import AccountNotFound, account_summary

    instant = _instant(at)
    db = ctx.open_db()
    with db.connection_context():
        try:
            summary = account_summary(ctx.settings, reference, instant)
        except AccountNotFound as exc:
            raise Failure(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    s = summary
    click.echo(f"{s['reference']}  {s['debtor']}  ({s['client']} {s['client_reference']})")
    click.echo(f"balance {s['currency']} {s['balance']}  days past due {s['days_past_due']}  status {s['status']}  "
               f"jurisdiction {s['jurisdiction']}  zone {s['time_zone'] or 'unknown'}")
    click.echo(f"flags: {', '.join(s['flags']) or 'none'}  limitation ends {s['limitation_ends'] or '-'}")
    click.echo(f"claimed by: {s['claimed_by'] or 'nobody'}  queue: "
               f"{'available' if s['queue']['available'] else (s['queue']['reason'] or 'not queued')}")
    for phone in s["phones"]:
        decision = phone["may_call"]
        verdict = "may call" if decision["allowed"] else "may not call: " + "; ".join(decision["reasons"])
        click.echo(f"  {phone['number']:<16} {phone['kind']:<7} {phone['status']:<13} {verdict}")


@cli.group("queue")
def queue_group() -> None:
    """The work queue."""


@queue_group.command("refresh")
@click.option("--at", "at", metavar="ISO-TIME", help="Evaluate as of this instant (default now).")
@pass_ctx
def queue_refresh(ctx: Context, at: str | None) -> None:
    """Re-score every account and re-check who may be called (run daily, and after rule changes)."""
    from db.audit import Actor
    from db.models import Account
    from db.queue import refresh_all

    instant = _instant(at)
    db = ctx.open_db()
    with db.connection_context():
        total = Account.select().count()
        with click.progressbar(length=total, label="accounts", file=sys.stderr) as bar:
            done = refresh_all(ctx.settings, Actor.cli(), instant, progress=bar.update)
    click.echo(f"refreshed {total:,} accounts: {done:,} changed")


# --- officers ---------------------------------------------------------------------------------

@cli.group("officers")
def officers_group() -> None:
    """Officers, team leads and admins."""


@officers_group.command("add")
@click.argument("username")
@click.option("--name", required=True, help="Full name, as shown to team leads.")
@click.option("--role", default="officer", show_default=True, type=click.Choice(["officer", "team_lead", "admin"]))
@click.option("--team", help="Team name (created if new). Required for officers and team leads.")
@click.option("--ssh-key", "key_file", metavar="FILE", help="Their SSH public key (e.g. id_ed25519.pub).")
@pass_ctx
def officers_add(ctx: Context, username: str, name: str, role: str, team: str | None, key_file: str | None) -> None:
    """Add an officer (and, with --ssh-key, the key they log in with)."""
    from db.audit import Actor
    from db.officers import OfficerError, add_officer
    from db.database import write_gate
    from db.ssh_keys import SshKeyError, add_key, parse_public_key
    from tui.cli_ssh import read_key_file, rewrite_if_configured

    key_text = read_key_file(key_file) if key_file else None
    if key_text is not None:
        try:
            parse_public_key(key_text)  # a bad key stops here, before the officer is added
        except SshKeyError as exc:
            raise Failure(f"{key_file}: {exc}", exit_code=2) from None
    db = ctx.open_db()
    with db.connection_context():
        try:
            with write_gate(), db.atomic():  # the officer and their key, or neither
                officer = add_officer(Actor.cli(), username, name=name, role=role, team=team)
                key = add_key(Actor.cli(), username, key_text) if key_text is not None else None
        except OfficerError as exc:
            raise Failure(str(exc)) from None
        click.echo(f"added {officer.username} ({role}{', team ' + team if team else ''})"
                   + (f" with key {key.fingerprint}" if key else ""))
        if key is not None:
            rewrite_if_configured(ctx)


@officers_group.command("list")
@pass_ctx
def officers_list(ctx: Context) -> None:
    """List officers."""
    from db.officers import list_officers

    db = ctx.open_db()
    with db.connection_context():
        rows = [(o.username, o.name, o.role, o.team.name if o.team_id else "-", "active" if o.active else "disabled")
                for o in list_officers()]
    if not rows:
        click.echo("no officers yet: add one with `arrears officers add`")
        return
    widths = [max(len(str(r[i])) for r in rows + [("USER", "NAME", "ROLE", "TEAM", "STATUS")]) for i in range(5)]
    for row in [("USER", "NAME", "ROLE", "TEAM", "STATUS")] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


@officers_group.command("disable")
@click.argument("username")
@pass_ctx
def officers_disable(ctx: Context, username: str) -> None:
    """Disable an officer: they can no longer log in, and their claims are released."""
    from db.audit import Actor
    from db.officers import OfficerError, disable_officer

    db = ctx.open_db()
    with db.connection_context():
        try:
            disable_officer(Actor.cli(), username)
        except OfficerError as exc:
            raise Failure(str(exc)) from None
        click.echo(f"disabled {username}")
        from tui.cli_ssh import rewrite_if_configured

        rewrite_if_configured(ctx)


def main(argv: list[str] | None = None) -> None:
    """Console entry point; turns anything unexpected into one line, not a traceback."""
    try:
        cli.main(args=argv, prog_name="arrears", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("arrears: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("arrears: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the traceback may hold customer data: log it, show one line
        import logging

        from config.logs import configure_logging

        try:
            data_dir = load_settings().resolved_data_dir()
        except Exception:
            data_dir = None
        where = configure_logging(data_dir)
        logging.getLogger("arrears").exception("unexpected error")
        hint = f"; details in {where}" if where else ""
        click.echo(f"arrears: unexpected error ({exc.__class__.__name__}){hint}", err=True)
        sys.exit(1)
    sys.exit(0)


def _register() -> None:
    from tui.cli_floor import accounts_group, team_group
    from tui.cli_imports import clients_group, dialer_group, export_group, import_group
    from tui.cli_legal import legal_group, parties_group
    from tui.cli_letters import letters_group
    from tui.cli_money import payments_group, plan_command, promises_group
    from tui.cli_reports import report_group
    from tui.cli_ssh import key_group, ssh_group

    cli.add_command(plan_command)
    cli.add_command(payments_group)
    cli.add_command(promises_group)
    cli.add_command(letters_group)
    officers_group.add_command(key_group)
    cli.add_command(ssh_group)
    cli.add_command(report_group)
    cli.add_command(accounts_group)
    cli.add_command(team_group)
    cli.add_command(import_group)
    cli.add_command(clients_group)
    cli.add_command(export_group)
    cli.add_command(dialer_group)
    cli.add_command(legal_group)
    cli.add_command(parties_group)


_register()


if __name__ == "__main__":
    main()
