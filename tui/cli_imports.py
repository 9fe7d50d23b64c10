"""`arrears import placements|payments` and `arrears clients`: files in from creditor
clients and banks (the rules are in `db/imports.py`). Exit status 0 when every row was
taken, 1 when some were rejected (see the reject file), 2 when the file cannot be read."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import click

from tui.cli_context import Context, Failure, _instant, pass_ctx


@click.group("import")
def import_group() -> None:
    """Files in: placements from clients, payments from banks."""


def _mapping(path: str | None) -> dict[str, str] | None:
    if path is None:
        return None
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise Failure(f"cannot read the mapping {path}: {getattr(exc, 'strerror', None) or exc}", exit_code=2) from None
    except tomllib.TOMLDecodeError as exc:
        raise Failure(f"the mapping {path} is not TOML: {exc}", exit_code=2) from None
    columns = data.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise Failure(f"the mapping {path} needs a [columns] table: their_name = \"our_name\"", exit_code=2)
    return columns


def write_csv(csv_file: str, rows) -> int:
    """Write the rows `rows()` gives (a header first) as CSV to a file or, for '-', standard
    output; returns the data rows written. A lookup that fails is one line, exit 1."""
    import contextlib
    import csv

    try:
        handle = sys.stdout if csv_file == "-" else open(csv_file, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise Failure(f"cannot write {csv_file}: {exc.strerror or exc}") from None
    count = -1
    with contextlib.nullcontext(handle) if csv_file == "-" else handle:
        writer = csv.writer(handle)
        try:
            for row in rows():
                writer.writerow(row)
                count += 1
        except LookupError as exc:
            raise Failure(str(exc)) from None
    return count


def _progress(total: int, label: str):
    """A progress bar on a terminal (on standard error, so output stays parseable)."""
    bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr,
                            show_pos=True)
    return bar


@import_group.command("placements")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--client", "client", required=True, metavar="CODE", help="The client placing the accounts.")
@click.option("--team", metavar="TEAM", help="The team that works them (default: the one general team).")
@click.option("--mapping", metavar="FILE", help="TOML: [columns] their_column = \"our_column\".")
@click.option("--dry-run", is_flag=True, help="Check every row and write the reject file; import nothing.")
@click.option("--at", "at", metavar="ISO-TIME", hidden=True)
@pass_ctx
def placements(ctx: Context, file: Path, client: str, team: str | None, mapping: str | None, dry_run: bool,
               at: str | None) -> None:
    """Import a client's placement file (CSV; see the README for its columns)."""
    from db.audit import Actor
    from db.imports import ImportFileError, import_placements, open_csv, PLACEMENT_COLUMNS, PLACEMENT_REQUIRED

    from db.database import is_sqlite

    columns = _mapping(mapping)
    db = ctx.open_db()
    if is_sqlite():
        # A large page cache for this one connection: a million accounts' indexes outgrow
        # an operator command's usual 32 MB, and every insert updates about ten of them. (The import
        # runs its own WAL checkpoints between batches: `db.database.BulkCheckpoints`.)
        db.execute_sql("PRAGMA cache_size = -524288")
    try:
        total = open_csv(file, PLACEMENT_COLUMNS, PLACEMENT_REQUIRED, columns).rows
    except ImportFileError as exc:
        raise Failure(str(exc), exit_code=2) from None
    with db.connection_context(), _progress(total, "placements") as bar:
        try:
            report = import_placements(ctx.settings, Actor.cli(), file, client, team=team, mapping=columns,
                                       dry_run=dry_run, at=_instant(at), progress=bar.update)
        except ImportFileError as exc:
            raise Failure(str(exc), exit_code=2) from None
    verb = "would import" if dry_run else "imported"
    click.echo(f"{file.name}: {report.rows:,} rows; {verb} {report.new:,} new accounts, "
               f"{report.adjusted:,} balance adjustments, {report.unchanged:,} unchanged; "
               f"{report.rejected:,} rejected" + ("" if dry_run else f"; {report.letters:,} letters queued"))
    if report.ignored_columns:
        click.echo(f"columns ignored: {', '.join(report.ignored_columns)}")
    _rejected(report)


def _rejected(report) -> None:
    if not report.rejected:
        return
    for sample in report.samples:
        click.echo(f"  rejected {sample}", err=True)
    raise Failure(f"{report.rejected:,} row(s) rejected: every one, with its line and reasons, is in "
                  f"{report.reject_file}", exit_code=1)


@import_group.command("payments")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--at", "at", metavar="ISO-TIME", hidden=True)
@pass_ctx
def payments(ctx: Context, file: Path, at: str | None) -> None:
    """Post a remittance file (CSV: reference, amount, date, method, transaction_id)."""
    from db.audit import Actor
    from db.imports import PAYMENT_COLUMNS, PAYMENT_REQUIRED, ImportFileError, import_payments, open_csv
    from db.money import format_money

    db = ctx.open_db()
    try:
        total = open_csv(file, PAYMENT_COLUMNS, PAYMENT_REQUIRED).rows
    except ImportFileError as exc:
        raise Failure(str(exc), exit_code=2) from None
    with db.connection_context(), _progress(total, "payments") as bar:
        try:
            report = import_payments(ctx.settings, Actor.cli(), file, at=_instant(at), progress=bar.update)
        except ImportFileError as exc:
            raise Failure(str(exc), exit_code=2) from None
    settings = ctx.settings
    click.echo(f"{file.name}: {report.rows:,} rows; posted {report.posted:,} "
               f"({format_money(report.posted_minor, settings.locale.currency, settings.locale.locale)}), "
               f"{report.already:,} posted before; {report.rejected:,} rejected")
    _rejected(report)


@click.group("clients")
def clients_group() -> None:
    """Creditor clients."""


@clients_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--currency", default="USD", show_default=True)
@pass_ctx
def clients_add(ctx: Context, code: str, name: str, currency: str) -> None:
    """Add a client (placement files name it by CODE)."""
    from db.audit import Actor
    from db.imports import add_client

    db = ctx.open_db()
    with db.connection_context():
        try:
            client = add_client(Actor.cli(), code, name=name, currency=currency)
        except ValueError as exc:
            raise Failure(str(exc), exit_code=2) from None
    click.echo(f"added client {client.code} ({client.name}, {client.currency})")


@clients_group.command("list")
@pass_ctx
def clients_list(ctx: Context) -> None:
    """The clients, with how many accounts each has placed."""
    from peewee import JOIN, fn

    from db.models import Account, Client

    db = ctx.open_db()
    with db.connection_context():
        rows = (Client.select(Client.code, Client.name, Client.currency, fn.COUNT(Account.id))
                .join(Account, JOIN.LEFT_OUTER, on=(Account.client == Client.id))
                .group_by(Client.id).order_by(Client.code).tuples())
        for code, name, currency, count in rows:
            click.echo(f"{code:<8} {currency}  {count:>9,}  {name}")


@click.group("export")
def export_group() -> None:
    """Files out: for clients (CSV) and the credit bureaus (Metro 2)."""


def _export_csv(kind: str):
    @click.option("--since", metavar="YYYY-MM-DD", help="Only what changed (accounts), happened (activities) or "
                                                       "was posted (payments) on or after this day (UTC).")
    @click.option("--client", metavar="CODE", help="Only this client's accounts.")
    @click.option("--csv", "csv_file", required=True, metavar="FILE", help="Where to write ('-' for standard output).")
    @pass_ctx
    def command(ctx: Context, since: str | None, client: str | None, csv_file: str) -> None:
        import datetime as dt

        from db.audit import Actor
        from db.exports import export_rows

        day = None
        if since:
            try:
                day = dt.date.fromisoformat(since)
            except ValueError:
                raise Failure(f"--since {since!r} is not a date: use YYYY-MM-DD", exit_code=2) from None
        db = ctx.open_db()
        with db.connection_context():
            count = write_csv(csv_file, lambda: export_rows(Actor.cli(), kind, day, client=client))
        if csv_file != "-":
            click.echo(f"wrote {count:,} {kind} to {csv_file}", err=True)

    command.__doc__ = {"accounts": "Accounts as they stand (changed since the day), for clients' reconciliation.",
                       "activities": "The contact history since the day, for clients.",
                       "payments": "Payments and reversals posted since the day, per balance bucket (remittance)."}[kind]
    return export_group.command(kind)(command)


for _kind in ("accounts", "activities", "payments"):
    _export_csv(_kind)


@export_group.command("metro2")
@click.option("--as-of", "as_of", required=True, metavar="YYYY-MM-DD", help="The date the information is as of.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@pass_ctx
def export_metro2(ctx: Context, as_of: str, out: Path) -> None:
    """A Metro 2 file for the credit bureaus: the reportable US accounts (see the README)."""
    import datetime as dt
    import os

    from db.audit import Actor
    from db.metro2 import Metro2Error, metro2_lines

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise Failure(f"--as-of {as_of!r} is not a date: use YYYY-MM-DD", exit_code=2) from None
    db = ctx.open_db()
    partial = out.with_name(out.name + ".partial")
    summary: dict = {}
    try:
        with db.connection_context(), partial.open("w", encoding="ascii", newline="") as handle:
            for line in metro2_lines(ctx.settings, Actor.cli(), day, report=summary):
                handle.write(line + "\n")
    except Metro2Error as exc:
        partial.unlink(missing_ok=True)
        raise Failure(str(exc), exit_code=2) from None
    except OSError as exc:
        raise Failure(f"cannot write {out}: {exc.strerror or exc}") from None
    os.replace(partial, out)
    report = summary["report"]
    statuses = ", ".join(f"{code} {n:,}" for code, n in sorted(report.by_status.items())) or "none"
    left = "; ".join(f"{why} {n:,}" for why, n in sorted(report.skipped.items()))
    click.echo(f"wrote {report.reported:,} accounts to {out} (status {statuses})" + (f"; left out: {left}" if left else ""))


@click.group("dialer")
def dialer_group() -> None:
    """Files for a predictive dialer: numbers out, dispositions in."""


@dialer_group.command("export")
@click.option("--team", metavar="TEAM", required=True, help="The team whose numbers to dial.")
@click.option("--at", "at", metavar="ISO-TIME", help="The instant the dialer will call (default now).")
@click.option("--limit", type=click.IntRange(min=1), default=5000, show_default=True, help="At most this many numbers.")
@click.option("--csv", "csv_file", required=True, metavar="FILE", help="Where to write ('-' for standard output).")
@pass_ctx
def dialer_export(ctx: Context, team: str, at: str | None, limit: int, csv_file: str) -> None:
    """The numbers that may be called at that instant, best accounts first (the compliance
    governor decides; numbers already reached today are left out)."""
    from db.audit import Actor
    from db.dialer import dialer_rows

    when = _instant(at)
    db = ctx.open_db()
    with db.connection_context():
        count = write_csv(csv_file, lambda: dialer_rows(ctx.settings, Actor.cli(), when, team=team, limit=limit))
    if csv_file != "-":
        click.echo(f"wrote {count:,} numbers to {csv_file}", err=True)


@dialer_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--at", "at", metavar="ISO-TIME", hidden=True)
@pass_ctx
def dialer_import(ctx: Context, file: Path, at: str | None) -> None:
    """Record a dialer's dispositions (CSV: reference, number, started_at, outcome, duration,
    agent) as calls, each once."""
    from db.audit import Actor
    from db.dialer import import_dispositions
    from db.imports import ImportFileError

    db = ctx.open_db()
    with db.connection_context():
        try:
            report = import_dispositions(ctx.settings, Actor.cli(), file, at=_instant(at))
        except ImportFileError as exc:
            raise Failure(str(exc), exit_code=2) from None
    click.echo(f"{file.name}: {report.rows:,} rows; recorded {report.recorded:,} calls, {report.already:,} recorded "
               f"before; {report.rejected:,} rejected")
    _rejected(report)
