"""`arrears officers key …` and `arrears ssh authorized-keys`: officers' SSH keys and the
service account's `authorized_keys`, written from them."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from tui.cli_context import Context, Failure, pass_ctx


def read_key_file(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise Failure(f"cannot read the key file {path}: {exc.strerror or exc}", exit_code=2) from None
    if len(data) > 16_384:
        raise Failure(f"{path} is too large to be an SSH public key", exit_code=2)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise Failure(f"{path} is not an SSH public key (it is not plain text)", exit_code=2) from None


def forced_command(ctx: Context) -> str:
    """The program the forced command runs: `ssh.command`, else this `arrears` with the
    settings and database it was given, so the keys open the floor this command manages."""
    if ctx.settings.ssh.command:
        return ctx.settings.ssh.command
    beside = Path(sys.executable).parent / "arrears"
    program = beside if beside.is_file() else Path(sys.argv[0])
    parts = [str(program.absolute())]
    from config.settings import find_config_file

    config = find_config_file(ctx.config_file)
    if config is not None:
        parts += ["--config", str(config.absolute())]
    # Sessions started by sshd see none of this shell's environment: a database named by
    # --db or ARREARS_DATABASE__URL goes on the command line, anything else is a warning.
    import os

    db_url = ctx.db_url or os.environ.get("ARREARS_DATABASE__URL")
    if db_url:
        parts += ["--db", db_url]
    lost = sorted(name for name in os.environ
                  if name.startswith("ARREARS_") and name not in ("ARREARS_CONFIG", "ARREARS_DATABASE__URL"))
    if lost:
        click.echo(f"note: SSH sessions will not see {', '.join(lost)}: put those settings in the settings file",
                   err=True)
    command = shlex.join(parts)
    if any(ch in command for ch in '"\\') or any(ord(ch) < 32 for ch in command):
        raise Failure("the path of arrears, its settings file or --db holds a quote, backslash or control "
                      "character, which cannot go into authorized_keys; set ssh.command", exit_code=2)
    return command


def rewrite_if_configured(ctx: Context) -> None:
    """After a change to officers or keys: rewrite `ssh.authorized_keys_file`, if set."""
    path = ctx.settings.ssh.authorized_keys_file
    if path is None:
        return
    from db.ssh_keys import authorized_keys_lines, authorized_keys_text, write_authorized_keys

    command = forced_command(ctx)
    write_authorized_keys(path, authorized_keys_text(command))
    click.echo(f"rewrote {path} ({len(authorized_keys_lines(command))} key(s))")


@click.group("key")
def key_group() -> None:
    """An officer's SSH keys: the keys that open Arrears as them."""


@key_group.command("add")
@click.argument("username")
@click.argument("key_file", metavar="FILE")
@pass_ctx
def key_add(ctx: Context, username: str, key_file: str) -> None:
    """Give USERNAME the public key in FILE (e.g. id_ed25519.pub)."""
    from db.audit import Actor
    from db.officers import OfficerError
    from db.ssh_keys import SshKeyError, add_key

    text = read_key_file(key_file)
    db = ctx.open_db()
    with db.connection_context():
        try:
            key = add_key(Actor.cli(), username, text)
        except SshKeyError as exc:
            raise Failure(f"{key_file}: {exc}", exit_code=2) from None
        except OfficerError as exc:
            raise Failure(str(exc)) from None
        click.echo(f"added key {key.fingerprint} ({key.algorithm}) for {username}")
        rewrite_if_configured(ctx)


@key_group.command("remove")
@click.argument("username")
@click.argument("fingerprint")
@pass_ctx
def key_remove(ctx: Context, username: str, fingerprint: str) -> None:
    """Take away USERNAME's key with FINGERPRINT (as `officers key list` shows it)."""
    from db.audit import Actor
    from db.officers import OfficerError
    from db.ssh_keys import remove_key

    db = ctx.open_db()
    with db.connection_context():
        try:
            remove_key(Actor.cli(), username, fingerprint)
        except OfficerError as exc:
            raise Failure(str(exc)) from None
        click.echo(f"removed key {fingerprint} from {username}")
        rewrite_if_configured(ctx)


@key_group.command("list")
@click.argument("username")
@pass_ctx
def key_list(ctx: Context, username: str) -> None:
    """List USERNAME's keys."""
    from db.audit import Actor
    from db.officers import OfficerError
    from db.ssh_keys import keys_of

    db = ctx.open_db()
    with db.connection_context():
        try:
            keys = keys_of(Actor.cli(), username)
        except OfficerError as exc:
            raise Failure(str(exc)) from None
    if not keys:
        click.echo(f"{username} has no keys: add one with `arrears officers key add {username} FILE`")
        return
    for key in keys:
        click.echo(f"{key.fingerprint}  {key.algorithm}  {key.comment or '-'}  added {key.added_at:%Y-%m-%d}")


@click.group("ssh")
def ssh_group() -> None:
    """Serving the floor over SSH."""


@ssh_group.command("authorized-keys")
@click.option("--write", "write_to", metavar="PATH", type=click.Path(dir_okay=False),
              help="Replace PATH (atomically, mode 0600) instead of printing.")
@pass_ctx
def ssh_authorized_keys(ctx: Context, write_to: str | None) -> None:
    """The service account's authorized_keys: one line per active officer's key."""
    from db.ssh_keys import authorized_keys_lines, authorized_keys_text, write_authorized_keys

    command = forced_command(ctx)
    db = ctx.open_db()
    with db.connection_context():
        try:
            text = authorized_keys_text(command)
            count = len(authorized_keys_lines(command))
        except ValueError as exc:
            raise Failure(str(exc)) from None
    if write_to is None:
        click.echo(text, nl=False)
        return
    try:
        write_authorized_keys(Path(write_to), text)
    except OSError as exc:
        raise Failure(f"cannot write {write_to}: {exc.strerror or exc}") from None
    click.echo(f"wrote {write_to} ({count} key(s))", err=True)
