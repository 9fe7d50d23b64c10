"""`arrears report daily`: the day's figures per officer and team, for payroll and
commission (the definitions are in `db.figures`)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import sys

import click

from tui.cli_context import Context, Failure, pass_ctx

HEADER = ("team", "officer", "name", "calls", "contacts", "promises", "promised", "collected")


@click.group("report")
def report_group() -> None:
    """Reports on the floor's work."""


@report_group.command("daily")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The floor's day (default today, in locale.time_zone).")
@click.option("--team", metavar="TEAM", help="Only this team.")
@click.option("--csv", "csv_file", metavar="FILE", help="Write CSV to FILE ('-' for standard output).")
@pass_ctx
def report_daily(ctx: Context, day: str | None, team: str | None, csv_file: str | None) -> None:
    """Calls, right-party contacts, promises and amounts promised and collected, per officer
    and team, for one day."""
    from db.audit import Actor
    from db.figures import daily_figures
    from db.money import format_money, plain
    from db.promises import floor_today

    settings = ctx.settings
    if day is None:
        when = floor_today(settings, dt.datetime.now(dt.UTC))
    else:
        try:
            when = dt.date.fromisoformat(day)
        except ValueError:
            raise Failure(f"--date {day!r} is not a date: use YYYY-MM-DD", exit_code=2) from None
    db = ctx.open_db()
    with db.connection_context():
        try:
            teams = daily_figures(settings, Actor.cli(), when, team=team)
        except LookupError as exc:
            raise Failure(str(exc)) from None
    currency, locale = settings.locale.currency, settings.locale.locale
    if csv_file:
        # Money in CSV as plain decimals in the floor's currency, for spreadsheets and payroll.
        out = sys.stdout if csv_file == "-" else None
        try:
            handle = out or open(csv_file, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise Failure(f"cannot write {csv_file}: {exc.strerror or exc}") from None
        with handle if out is None else contextlib.nullcontext(handle):
            writer = csv.writer(handle)
            writer.writerow(("date", *HEADER, "currency"))
            for team_day in teams:
                for row in team_day.officers:
                    f = row.figures
                    writer.writerow((when.isoformat(), team_day.team, row.username, row.name, f.calls, f.contacts,
                                     f.promises, plain(f.promised_minor), plain(f.collected_minor), currency))
                t = team_day.total
                writer.writerow((when.isoformat(), team_day.team, "(team)", "", t.calls, t.contacts, t.promises,
                                 plain(t.promised_minor), plain(t.collected_minor), currency))
        if out is None:
            click.echo(f"wrote {csv_file}", err=True)
        return
    if not teams:
        click.echo(f"no officers{' in team ' + team if team else ''}: nothing to report for {when:%a %d %b %Y}")
        return
    click.echo(f"Daily figures for {when:%a %d %b %Y} ({settings.locale.time_zone})")
    rows = [HEADER]
    for team_day in teams:
        for row in team_day.officers:
            f = row.figures
            rows.append((team_day.team, row.username, row.name, str(f.calls), str(f.contacts), str(f.promises),
                         format_money(f.promised_minor, currency, locale),
                         format_money(f.collected_minor, currency, locale)))
        t = team_day.total
        rows.append((team_day.team, "(team)", "", str(t.calls), str(t.contacts), str(t.promises),
                     format_money(t.promised_minor, currency, locale), format_money(t.collected_minor, currency, locale)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    numeric = range(3, len(HEADER))
    for r in rows:
        click.echo("  ".join(v.rjust(w) if i in numeric else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))).rstrip())

