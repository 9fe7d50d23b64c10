"""What a team lead's live floor shows, panel by panel, and which committed changes touch
which panel.

The floor screen (and the floor benchmark, headless) hears of other sessions' work from
the change feed, asks `panels_for(change)` which panels that work can have changed, and
reloads only those, each in one short read:

- **officers**: each officer's state now (from presence) beside their figures today;
- **queue**: the team's accounts by days-past-due bucket, callbacks and promises due;
- **approvals**: requests waiting for the lead's decision;
- **trend**: the team's totals for the last 14 days (today's from the officers panel).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.audit import Actor
from db.feed import Change
from db.figures import Figures, daily_figures, team_series
from db.floor_queue import QueueSummary, queue_summary
from db.presence import OfficerState, floor_states
from db.promises import floor_today
from db.scope import require_role

# Audit actions (by prefix) that can change each panel. Heartbeats and drafts are absent:
# they change nothing a lead sees.
PANEL_ACTIONS: dict[str, tuple[str, ...]] = {
    "officers": ("session.", "activity.", "promise.", "payment.", "plan.create", "officer.", "team."),
    "queue": ("queue.", "account.", "activity.", "promise.", "promises.", "payment.", "plan.", "flag.",
              "compliance.override", "team."),
    "approvals": ("approval.", "plan.create", "plan.activate", "plan.cancel", "compliance.override"),
}
ALL_ACTIONS = tuple(sorted({p for prefixes in PANEL_ACTIONS.values() for p in prefixes}))


def queue_interval(last_load_seconds: float) -> float:
    """How long the queue panel waits between reloads under a stream of changes: the
    summary counts every account of the team (a few milliseconds on a small floor, half a
    second on a million accounts), so it is reloaded at most once per 20 times what the
    last count cost, between 2 and 30 seconds: at most about 5% of a core, however busy."""
    return min(30.0, max(2.0, 20 * last_load_seconds))


def panels_for(change: Change) -> set[str]:
    """The panels that the changed actions can have touched."""
    return {panel for panel, prefixes in PANEL_ACTIONS.items()
            if any(action.startswith(prefixes) for action in change.actions)}


@dataclass
class OfficerRow:
    state: OfficerState
    figures: Figures


@dataclass
class OfficersPanel:
    rows: list[OfficerRow]
    team: Figures
    """Today's team totals (the last point of the trend)."""
    day: dt.date
    strategy: str | None
    """The team's queue strategy (None for an admin looking at every team)."""


def officers_panel(settings, actor: Actor, at: dt.datetime, *, team: str | None = None) -> OfficersPanel:
    """Every officer of the lead's team (an admin's: `team`, or all): state and today's figures."""
    require_role(actor, "team_lead")
    day = floor_today(settings, at)
    figures = {}
    total = Figures()
    for team_day in daily_figures(settings, actor, day, team=team if actor.role != "team_lead" else None):
        total.add(team_day.total)
        for row in team_day.officers:
            figures[row.username] = row.figures
    rows = [OfficerRow(state, figures.get(state.username, Figures()))
            for state in floor_states(settings, actor, at, team=team if actor.role != "team_lead" else None)]
    from db.floor_queue import team_in_view
    from db.models import Team

    team_id = team_in_view(actor, team)
    strategy = Team.get_by_id(team_id).queue_strategy if team_id is not None else None
    return OfficersPanel(rows, total, day, strategy)


def queue_panel(settings, actor: Actor, at: dt.datetime, *, team: str | None = None) -> QueueSummary:
    return queue_summary(settings, actor, at, team=team if actor.role != "team_lead" else None)


def approvals_panel(actor: Actor, *, team: str | None = None):
    from db.approvals import pending_approvals

    require_role(actor, "team_lead")
    rows = pending_approvals(actor)
    if team is not None and actor.role != "team_lead":
        from db.models import Account, Team

        ids = {r[0] for r in Account.select(Account.id).join(Team, on=(Account.team == Team.id))
               .where(Team.name == team, Account.id.in_([r.account_id for r in rows])).tuples()}
        rows = [r for r in rows if r.account_id in ids]
    return rows


def trend_panel(settings, actor: Actor, at: dt.datetime, *, team: str | None = None,
                days: int = 14) -> list[tuple[dt.date, Figures]]:
    """The team's totals for the days before today (today's come live with the officers
    panel): past days do not change, so this is read once a day."""
    require_role(actor, "team_lead")
    yesterday = floor_today(settings, at) - dt.timedelta(days=1)
    return team_series(settings, actor, yesterday, days=days - 1, team=team if actor.role != "team_lead" else None)


def load_panel(settings, actor: Actor, panel: str, at: dt.datetime, *, team: str | None = None):
    """One panel's data, read now (inside the caller's connection context)."""
    if panel == "officers":
        return officers_panel(settings, actor, at, team=team)
    if panel == "queue":
        return queue_panel(settings, actor, at, team=team)
    if panel == "approvals":
        return approvals_panel(actor, team=team)
    if panel == "trend":
        return trend_panel(settings, actor, at, team=team)
    raise ValueError(f"unknown panel {panel!r}")
