"""The letter commands of `arrears`: list the templates, ask for a letter, render one at
once, run the letter workers and the daily dunning run, list and re-print letters."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from tui.cli_context import Context, Failure, pass_ctx


def _sent_on(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Failure(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31", exit_code=2) from None


def _account_id(reference: str) -> int:
    from db.accounts import AccountNotFound, find_by_reference

    try:
        return find_by_reference(reference).id
    except AccountNotFound as exc:
        raise Failure(str(exc)) from None


def _recipient(name: str | None, address: tuple[str, ...]) -> dict:
    return {"recipient": {"name": name, "address": list(address)}} if name else {}


@click.group("letters")
def letters_group() -> None:
    """Letters: templates, the letter queue and its workers, the dunning run."""


@letters_group.command("templates")
def letters_templates() -> None:
    """List the letter templates with who they go to and the holds that stop them."""
    from letters.catalogue import TEMPLATES, hold_words

    rows = [(s.name, s.recipient.replace("_", " "), s.version, ", ".join(hold_words(s)) or "-") for s in TEMPLATES.values()]
    head = ("TEMPLATE", "RECIPIENT", "VERSION", "STOPPED BY")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(3)]
    for row in [head] + rows:
        click.echo("  ".join([v.ljust(w) for v, w in zip(row[:3], widths)] + [row[3]]))


@letters_group.command("request")
@click.option("--account", "reference", required=True, metavar="REF", help="Account reference.")
@click.option("--template", required=True, metavar="NAME", help="Template name (see `arrears letters templates`).")
@click.option("--sent-on", metavar="DATE", help="The letter's date (default today).")
@click.option("--to-name", metavar="NAME", help="Third-party letters: the recipient's name.")
@click.option("--to-address", multiple=True, metavar="LINE", help="Third-party letters: an address line (repeat).")
@click.option("--policy-number", metavar="TEXT", help="Insurer letters: the policy number.")
@pass_ctx
def letters_request(ctx: Context, reference: str, template: str, sent_on: str | None, to_name: str | None,
                    to_address: tuple[str, ...], policy_number: str | None) -> None:
    """Queue a letter for the letter workers (refused, with the reason, where a hold forbids it)."""
    from db.audit import Actor
    from db.letter_queue import LetterError, request_letter

    inputs = {"sent_on": _sent_on(sent_on).isoformat(), **_recipient(to_name, to_address)}
    if policy_number:
        inputs["policy_number"] = policy_number
    db = ctx.open_db()
    with db.connection_context():
        try:
            letter = request_letter(ctx.settings, Actor.cli(), _account_id(reference), template, inputs)
        except LetterError as exc:
            raise Failure(str(exc)) from None
    click.echo(f"queued letter {letter.id} ({template}) for {reference}")


@letters_group.command("render")
@click.option("--account", "reference", required=True, metavar="REF", help="Account reference.")
@click.option("--template", required=True, metavar="NAME", help="Template name.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="PDF file to write.")
@click.option("--sent-on", metavar="DATE", help="The mailing date the letter's own dates count from (default today).")
@click.option("--to-name", metavar="NAME", help="Third-party letters: the recipient's name.")
@click.option("--to-address", multiple=True, metavar="LINE", help="Third-party letters: an address line (repeat).")
@pass_ctx
def letters_render(ctx: Context, reference: str, template: str, out: str, sent_on: str | None,
                   to_name: str | None, to_address: tuple[str, ...]) -> None:
    """Render one letter now, without queueing it (previews, scripting). Nothing is recorded."""
    from db.governor import check_letter
    from letters.catalogue import TEMPLATES
    from letters.context import ContextError
    from letters.render import PdfRenderer

    if template not in TEMPLATES:
        raise Failure(f"there is no letter template {template!r}: see `arrears letters templates`", exit_code=2)
    day = _sent_on(sent_on)
    inputs = {"sent_on": day.isoformat(), **_recipient(to_name, to_address)}
    db = ctx.open_db()
    with db.connection_context():
        account_id = _account_id(reference)
        decision = check_letter(ctx.settings, account_id, template, dt.datetime.combine(day, dt.time(12), dt.UTC))
        if decision.disclosures:
            inputs["disclosures"] = list(decision.disclosures)
        try:
            rendered = PdfRenderer(ctx.settings).render(account_id, template, inputs)
        except ContextError as exc:
            hint = " (give it with --to-name and --to-address)" if "recipient" in str(exc) else ""
            raise Failure(f"{template} for {reference}: {exc}{hint}") from None
    Path(out).write_bytes(rendered.pdf)
    if not decision.allowed:
        click.echo("note: this letter may not be sent now: " + "; ".join(r.text for r in decision.reasons), err=True)
    click.echo(f"wrote {out}: {rendered.pages} page(s), {rendered.render_ms} ms, sha256 {rendered.sha256[:16]}…")


@letters_group.command("worker")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--once", is_flag=True, help="Render what is due, then exit.")
@pass_ctx
def letters_worker(ctx: Context, processes: int, once: bool) -> None:
    """Render queued letters to PDF (run under a service manager; stop with SIGTERM)."""
    import multiprocessing
    import signal
    from multiprocessing.connection import wait

    from db.letter_queue import queue_counts
    from letters.render import subsetter
    from letters.worker import worker_process

    db = ctx.open_db()
    with db.connection_context():
        waiting = queue_counts().get("queued", 0)
    db.close()
    click.echo(f"letter workers: {processes} process(es), {waiting:,} letter(s) queued, "
               f"writing to {ctx.settings.letters_dir()}, font subsetting by {subsetter()}", err=True)
    # One pipe per worker rather than a shared multiprocessing.Queue: a worker killed while
    # writing to a shared queue would die holding its lock and hang every other worker's
    # exit. A killed worker here breaks only its own pipe.
    spawn = multiprocessing.get_context("spawn")
    workers: dict = {}  # reading end -> process

    def start_one() -> None:
        reader, writer = spawn.Pipe(duplex=False)
        child = spawn.Process(target=worker_process, args=(ctx.settings, once, writer), daemon=False)
        child.start()
        writer.close()  # the child holds the only writing end, so its death reads as EOF
        workers[reader] = child

    for _ in range(processes):
        start_one()
    stopping = False
    stop_deadline = None

    def stop(signum, frame):
        nonlocal stopping, stop_deadline
        stopping = True
        # Each finishes its letter in hand; one that cannot within the render limit is killed.
        stop_deadline = time.monotonic() + ctx.settings.letters.render_timeout_seconds + 15
        for child in workers.values():
            if child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = {"rendered": 0, "failed": 0, "queued": 0, "lost": 0}
    started = last = time.monotonic()
    while workers:
        reported = False
        for reader in wait(list(workers), timeout=1.0):
            try:
                _pid, event, letter_id, detail = reader.recv()
            except (EOFError, OSError):
                # The worker has gone: exited after reporting, or killed.
                child = workers.pop(reader)
                reader.close()
                child.join()
                if child.exitcode != 0 and not stopping and not once:
                    # A worker that died (killed, out of memory) is replaced: its letter goes
                    # to another worker when its lease runs out, and the service keeps its strength.
                    click.echo(f"a letter worker stopped (exit status {child.exitcode}); starting another", err=True)
                    start_one()
                continue
            if event != "exit":
                counts[event] = counts.get(event, 0) + 1
                reported = True
                if event == "failed":
                    click.echo(f"letter {letter_id} failed for good: {detail}", err=True)
        if stop_deadline is not None and time.monotonic() > stop_deadline:
            for child in workers.values():
                if child.is_alive():
                    click.echo(f"letter worker {child.pid} did not stop in time; killing it", err=True)
                    child.kill()
            stop_deadline = None
        now = time.monotonic()
        if reported and now - last >= 2:
            last = now
            rate = counts["rendered"] / (now - started)
            click.echo(f"rendered {counts['rendered']:,} ({rate:.1f}/s), retrying {counts['queued']:,}, "
                       f"failed {counts['failed']:,}", err=True)
    seconds = time.monotonic() - started
    click.echo(f"rendered {counts['rendered']:,} letter(s) in {seconds:.1f} s; "
               f"{counts['queued']:,} to retry, {counts['failed']:,} failed")


@letters_group.command("dunning-run")
@click.option("--as-of", "as_of", metavar="DATE", help="The day to run for (default today).")
@click.option("--dry-run", is_flag=True, help="Count what would be queued; queue nothing.")
@pass_ctx
def letters_dunning(ctx: Context, as_of: str | None, dry_run: bool) -> None:
    """Queue each account's next letter of the sequence once it is due (safe to run twice)."""
    from db.audit import Actor
    from db.dunning import dunning_run
    from db.models import Account

    day = _sent_on(as_of)
    db = ctx.open_db()
    with db.connection_context():
        total = Account.select().count()
        with click.progressbar(length=total, label="accounts", file=sys.stderr) as bar:
            result = dunning_run(ctx.settings, Actor.system("dunning"), day, dry_run=dry_run, progress=bar.update)
    verb = "would queue" if dry_run else "queued"
    click.echo(f"dunning run for {day}: {result.considered:,} account(s) past the first threshold; "
               f"{verb} {sum(result.queued.values()):,} letter(s)")
    for template, n in sorted(result.queued.items()):
        click.echo(f"  {verb} {template:<22} {n:>7,}")
    for reason, n in sorted(result.held.items(), key=lambda kv: -kv[1]):
        click.echo(f"  held: {reason:<28} {n:>7,}")
    if result.waiting:
        click.echo(f"  not due yet: {result.waiting:,} (next letter's threshold not reached, a letter in the last "
                   f"{ctx.settings.letters.days_between} days, or the sequence is complete)")


@letters_group.command("list")
@click.option("--account", "reference", required=True, metavar="REF", help="Account reference.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def letters_list(ctx: Context, reference: str, as_json: bool) -> None:
    """An account's letters with their status, pages and file."""
    from db.letter_queue import letters_of

    db = ctx.open_db()
    with db.connection_context():
        rows = [{"id": l.id, "template": l.template, "status": l.status, "requested_at": l.requested_at.isoformat(),
                 "pages": l.pages, "path": l.path, "sha256": l.sha256, "version": l.template_version,
                 "attempts": l.attempts, "error": l.error} for l in letters_of(_account_id(reference))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no letters for {reference}")
    for r in rows:
        extra = f"{r['pages']} page(s) {r['path']}" if r["status"] == "rendered" else (r["error"] or "")
        click.echo(f"{r['id']:>8}  {r['requested_at'][:16]}  {r['template']:<22} {r['status']:<9} {extra}")


@letters_group.command("reprint")
@click.argument("letter_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="Where to copy the PDF.")
@pass_ctx
def letters_reprint(ctx: Context, letter_id: int, out: str) -> None:
    """Copy a rendered letter's stored PDF (checked against its SHA-256); never re-renders."""
    import hashlib

    from db.audit import Actor
    from db.letter_queue import LetterError, reprint_letter

    db = ctx.open_db()
    with db.connection_context():
        try:
            path, sha = reprint_letter(Actor.cli(), letter_id)
        except LetterError as exc:
            raise Failure(str(exc)) from None
    data = Path(path).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise Failure(f"letter {letter_id}'s stored file {path} does not match its recorded SHA-256: it has been changed")
    Path(out).write_bytes(data)
    click.echo(f"copied letter {letter_id} to {out}")
