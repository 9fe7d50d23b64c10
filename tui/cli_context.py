"""What every `arrears` command shares: the settings and database it was pointed at, and
how a failure is reported (one line on stderr, a chosen exit status)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import click

from config import Settings, SettingsError, load_settings


class Failure(click.ClickException):
    """A failure the user can act on: printed as one line, exit status 1 (or as given)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"arrears: {self.format_message()}", err=True)


@dataclass
class Context:
    config_file: str | None
    db_url: str | None
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides = {"database": {"url": self.db_url}} if self.db_url else {}
            try:
                self._settings = load_settings(self.config_file, **overrides)
            except SettingsError as exc:
                raise Failure(str(exc), exit_code=2) from None
        return self._settings

    def open_db(self, *, require_schema: bool = True, session: bool = False):
        """Open the configured database (and check its schema is current); `session`: for
        an officer's screens (a small SQLite page cache, connections kept for the next job)."""
        from peewee import OperationalError

        from db.database import BULK_CACHE_KIB, SESSION_CACHE_KIB, DatabaseUrlError, open_from_settings
        from db.migrations import SchemaBehind, require_current

        settings = self.settings
        try:
            db = open_from_settings(settings, cache_kib=SESSION_CACHE_KIB if session else BULK_CACHE_KIB, pooled=session)
            db.connect(reuse_if_open=True)
            if require_schema:
                require_current()
        except DatabaseUrlError as exc:
            raise Failure(f"setting database.url (ARREARS_DATABASE__URL): {exc}", exit_code=2) from None
        except SchemaBehind as exc:
            raise Failure(str(exc)) from None
        except OperationalError as exc:
            raise Failure(f"cannot open the database {settings.database.resolved_url()}: {_first_line(exc)}") from None
        return db


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


pass_ctx = click.make_pass_decorator(Context)


def _instant(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now(dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise Failure(f"--at {value!r} is not an ISO time, e.g. 2026-03-10T14:00:00Z", exit_code=2) from None
    if parsed.tzinfo is None:
        raise Failure(f"--at {value!r} needs a zone offset, e.g. 2026-03-10T14:00:00Z or +01:00", exit_code=2)
    return parsed.astimezone(dt.UTC)
