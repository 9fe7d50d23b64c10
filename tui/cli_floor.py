"""`arrears accounts assign` and `arrears team strategy`: what a team lead does from the
floor (`g`, `t`), for admins and scripts (an absent officer's accounts back to the pool
before the shift, a strategy set by a runbook). Both are audited as the operator."""

from __future__ import annotations

import click

from tui.cli_context import Context, Failure, _instant, pass_ctx


@click.group("accounts")
def accounts_group() -> None:
    """Accounts in bulk."""


@accounts_group.command("assign")
@click.option("--to", "to", required=True, metavar="USER|pool", help="The officer, or 'pool' for the team's pool.")
@click.option("--ref", "refs", multiple=True, metavar="REF", help="An account reference (repeat for more).")
@click.option("--bucket", type=click.Choice(["0-30", "31-60", "61-90", "91-180", "180+"]),
              help="Accounts in this days-past-due bucket.")
@click.option("--from", "owner", metavar="USER|pool", help="Only accounts now with this officer (or the pool).")
@click.option("--team", metavar="TEAM", help="Only this team's accounts (with --bucket or --from).")
@click.option("--count", type=click.IntRange(min=1), help="At most this many, best first.")
@click.option("--at", "at", metavar="ISO-TIME", help="The instant buckets are counted at (default now).")
@pass_ctx
def assign(ctx: Context, to: str, refs: tuple[str, ...], bucket: str | None, owner: str | None, team: str | None,
           count: int | None, at: str | None) -> None:
    """Move accounts to an officer or back to the team's pool (a claimed account moves, its
    holder keeps the claim until they release it)."""
    from db.assignments import AssignmentError, reassign, select_accounts
    from db.audit import Actor

    if not refs and not bucket and not owner:
        raise Failure("say which accounts: --ref, --bucket or --from", exit_code=2)
    when = _instant(at)
    db = ctx.open_db()
    with db.connection_context():
        try:
            ids, refused = select_accounts(ctx.settings, Actor.cli(), when, references=list(refs) or None,
                                           bucket=bucket, owner=owner, team=team, limit=count)
            result = reassign(ctx.settings, Actor.cli(), ids, to, when) if ids else None
        except AssignmentError as exc:
            raise Failure(str(exc)) from None
    not_moved = refused + (result.refused if result else [])
    for line in not_moved:
        click.echo(f"not moved: {line}", err=True)
    moved = result.moved if result else 0
    already = result.already if result else 0
    click.echo(f"moved {moved} account(s) to {to}" + (f"; {already} were there already" if already else ""))
    if not_moved:
        raise Failure(f"{len(not_moved)} account(s) not moved")


@click.group("team")
def team_group() -> None:
    """Teams."""


@team_group.command("strategy")
@click.argument("team")
@click.argument("strategy", required=False)
@pass_ctx
def strategy(ctx: Context, team: str, strategy: str | None) -> None:
    """Show the team's queue strategy, or set it (and re-score the team's accounts)."""
    import datetime as dt

    from db.assignments import AssignmentError, rescore_team, set_strategy
    from db.audit import Actor
    from db.models import Team

    settings = ctx.settings
    db = ctx.open_db()
    with db.connection_context():
        row = Team.get_or_none(Team.name == team)
        if row is None:
            raise Failure(f"there is no team {team!r}")
        if strategy is None:
            click.echo(f"{team}: {row.queue_strategy} (strategies: {', '.join(settings.queue.strategies)})")
            return
        try:
            set_strategy(settings, Actor.cli(), team, strategy, dt.datetime.now(dt.UTC))
            done = rescore_team(settings, Actor.cli(), team, dt.datetime.now(dt.UTC))
        except AssignmentError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"{team}: {strategy}; {done} account(s) re-scored")
