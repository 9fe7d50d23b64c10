"""Call scripts: Jinja2 text filled with the account's facts, split into the steps an
officer ticks off during the call. Packaged scripts can be replaced from a directory named
in settings. Templates render in Jinja2's sandbox; their output is shown as plain text."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SCRIPTS = {
    "first-contact": "First contact",
    "later-contact": "Later contact",
    "payment-options": "Payment options",
    "voicemail": "Voicemail",
    "third-party": "Third party",
}


@dataclass
class Script:
    name: str
    title: str
    steps: list[str]


def _source(settings, name: str) -> str:
    directory = settings.call_scripts.directory
    if directory is not None:
        custom = Path(directory) / f"{name}.j2"
        if custom.is_file():
            return custom.read_text(encoding="utf-8")
    return resources.files("tui").joinpath("scripts", f"{name}.j2").read_text(encoding="utf-8")


def render_script(settings, name: str, context: dict) -> Script:
    """The script with its steps; a broken custom template says so instead of failing."""
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    if name not in SCRIPTS:
        raise ValueError(f"no call script named {name!r}")
    env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
    try:
        text = env.from_string(_source(settings, name)).render(**context)
    except (TemplateError, OSError) as exc:
        return Script(name, SCRIPTS[name], [f"(this script cannot be shown: {exc})"])
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[0] if lines and not lines[0].startswith("- ") else SCRIPTS[name]
    steps = [line[2:].strip() for line in lines if line.startswith("- ")]
    return Script(name, title, steps)


def script_context(settings, file, officer) -> dict:
    from db.money import format_money

    return {
        "debtor": file.debtor, "debtor_first": file.debtor.split(" ")[0], "reference": file.reference,
        "client": file.client, "client_reference": file.client_reference,
        "balance": format_money(file.balance_minor, file.currency, settings.locale.locale),
        "local_time": file.local_time, "officer": officer.name.split(" ")[0],
        "agency": settings.letters.letterhead_name, "agency_phone": settings.letters.letterhead_phone,
        "country": file.country, "settlement_floor": file.settlement_floor_percent,
        "last_contact": f"{file.last_contact:%d %b %Y}" if file.last_contact else "no conversation yet",
    }
