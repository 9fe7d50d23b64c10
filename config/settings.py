"""The one `Settings` object of Arrears, and the factory that builds it.

Settings come, highest precedence first, from keyword arguments, `ARREARS_…` environment
variables (`__` separates nested sections: `ARREARS_DATABASE__URL`), and one TOML file
(`--config PATH`, else `ARREARS_CONFIG`, else `/etc/arrears/arrears.toml`, else
`./arrears.toml`). Nothing is read at import time: call `load_settings()` and pass the
result down.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
import zoneinfo
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "ARREARS_"
SYSTEM_CONFIG = Path("/etc/arrears/arrears.toml")
LOCAL_CONFIG = Path("arrears.toml")

# The TOML file the factory chose; read by `Settings.settings_customise_sources`, which
# pydantic-settings calls as a classmethod with no way to pass arguments.
_toml_path: ContextVar[Path | None] = ContextVar("arrears_toml_path", default=None)


def default_data_dir() -> Path:
    """Where Arrears keeps its SQLite file and letters when nothing says otherwise."""
    import platformdirs

    return Path(platformdirs.user_data_dir("arrears", appauthor=False))


class Section(BaseModel):
    """A settings section: unknown keys are refused, so a misspelt setting is not ignored."""

    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(Section):
    """The central database."""

    url: str = ""
    """`sqlite:///PATH` or `postgresql://USER@HOST:PORT/NAME`. Empty: `arrears.db` in the
    user's data directory."""
    pool_size: int = Field(4, ge=1, le=200)
    """Connections each process keeps open at most: PostgreSQL's, and an officer's session's
    on SQLite for its jobs (three more stay open there: start-up's, the WAL checkpointer's
    and the queue maintenance thread's)."""
    busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    """SQLite: how long a writer waits for the write lock before giving up."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError(
                "must start with sqlite:/// (a file) or postgresql:// (a server), "
                f"not {value[:40]!r}"
            )
        if scheme == "sqlite" and rest in {"", "/"}:
            raise ValueError("sqlite:/// needs a file path after it, e.g. sqlite:///var/lib/arrears/arrears.db")
        if scheme == "sqlite" and ":memory:" in rest:
            raise ValueError("an in-memory SQLite database cannot be shared between sessions; name a file")
        return value

    def resolved_url(self) -> str:
        """The URL to connect to, with the default file filled in."""
        if self.url:
            return self.url
        return f"sqlite:///{default_data_dir() / 'arrears.db'}"


class CallHours(Section):
    start: dt.time = dt.time(8, 0)
    """First minute a call may be placed, debtor's local time."""
    end: dt.time = dt.time(21, 0)
    """Calls must be placed before this time (not at it), debtor's local time."""

    @model_validator(mode="after")
    def _ordered(self) -> CallHours:
        if self.end <= self.start:
            raise ValueError("call hours end must be after their start")
        return self


class FrequencyCap(Section):
    """At most `max_calls` initiated calls within `days` consecutive calendar days."""

    max_calls: int = Field(ge=0)
    days: int = Field(ge=1, le=366)


class JurisdictionRules(Section):
    """Overrides for one country or region (`US`, `US-MA`, `GB`, `GB-SCT`). Unset fields
    fall back to the country's rules, then to the defaults."""

    call_hours: CallHours | None = None
    attempts: FrequencyCap | None = None
    """All initiated calls about the debt, any number."""
    home_mobile_attempts: FrequencyCap | None = None
    """Extra cap on calls to home and mobile phones (e.g. Massachusetts: 2 in 7 days)."""
    other_phone_attempts: FrequencyCap | None = None
    """Extra cap on calls to other numbers (e.g. Massachusetts: 2 in 30 days)."""
    conversation_cooldown_days: int | None = Field(None, ge=0, le=60)
    limitation_years: int | None = Field(None, ge=1, le=30)
    """Limitation period for suing on the debt, from last payment or acknowledgement."""
    breathing_space_days: int | None = Field(None, ge=0, le=365)


def _default_jurisdictions() -> dict[str, JurisdictionRules]:
    # Limitation periods for written contracts / credit accounts. They are a starting point
    # for a compliance officer to confirm, not legal advice; override them per site.
    years = {
        "US": 6, "US-CA": 4, "US-TX": 4, "US-NY": 3, "US-FL": 5, "US-IL": 10,
        "US-MA": 6, "US-WA": 6, "US-AZ": 6, "US-CO": 6, "US-GA": 6, "US-OH": 6,
        "GB": 6, "GB-ENG": 6, "GB-WLS": 6, "GB-NIR": 6, "GB-SCT": 5,
    }
    rules = {code: JurisdictionRules(limitation_years=n) for code, n in years.items()}
    rules["US-MA"] = JurisdictionRules(
        limitation_years=6,
        home_mobile_attempts=FrequencyCap(max_calls=2, days=7),
        other_phone_attempts=FrequencyCap(max_calls=2, days=30),
    )
    return rules


class ComplianceSettings(Section):
    """Contact rules; defaults follow US Regulation F / FDCPA and UK FCA CONC 7."""

    call_hours: CallHours = CallHours()
    attempts: FrequencyCap = FrequencyCap(max_calls=7, days=7)
    conversation_cooldown_days: int = Field(7, ge=0, le=60)
    """After a telephone conversation about the debt, no outbound call for this many days,
    the conversation's day being day 1."""
    limitation_years: int = Field(6, ge=1, le=30)
    breathing_space_days: int = Field(60, ge=0, le=365)
    validation_period_days: int = Field(30, ge=1, le=90)
    specialist_team: str = "Specialist"
    """Team that vulnerable customers' accounts are routed to."""
    jurisdictions: dict[str, JurisdictionRules] = Field(default_factory=_default_jurisdictions)


class StrategyWeights(Section):
    """How the queue scores accounts that have no callback or promise due."""

    days_past_due: int = Field(40, ge=0, le=1000)
    balance: int = Field(40, ge=0, le=1000)
    since_last_contact: int = Field(20, ge=0, le=1000)


class QueueSettings(Section):
    lease_minutes: int = Field(15, ge=1, le=480)
    """How long a claim on an account lasts unless renewed."""
    default_strategy: str = "balanced"
    strategies: dict[str, StrategyWeights] = Field(
        default_factory=lambda: {
            "balanced": StrategyWeights(),
            "high-balance": StrategyWeights(days_past_due=20, balance=70, since_last_contact=10),
            "early-stage": StrategyWeights(days_past_due=10, balance=30, since_last_contact=60),
        }
    )

    @model_validator(mode="after")
    def _default_exists(self) -> QueueSettings:
        if self.default_strategy not in self.strategies:
            raise ValueError(f"default_strategy {self.default_strategy!r} is not one of the strategies")
        return self


class Disposition(Section):
    """A call outcome an officer can record, and what it means for the rules."""

    code: str
    label: str
    attempt: bool = True
    """An initiated call that counts towards the frequency caps."""
    conversation: bool = False
    """A conversation with the debtor about the debt (right-party contact)."""
    worked: bool = True
    """The account has been worked (counts as a touch in the day's figures)."""
    key: str = ""
    """Key that picks it in the call form."""


def _default_dispositions() -> list[Disposition]:
    d = Disposition
    return [
        d(code="no_answer", label="No answer", key="1"),
        d(code="voicemail_left", label="Voicemail left (limited content)", key="2"),
        d(code="busy", label="Busy / not connected", attempt=False, key="3"),
        d(code="disconnected", label="Number disconnected", attempt=False, key="4"),
        d(code="wrong_number", label="Wrong number", key="5"),
        d(code="third_party", label="Third party answered (nothing disclosed)", key="6"),
        d(code="rpc_promise", label="Spoke to debtor: promise to pay", conversation=True, key="7"),
        d(code="rpc_callback", label="Spoke to debtor: callback requested", conversation=True, key="8"),
        d(code="rpc_refused", label="Spoke to debtor: refused to pay", conversation=True, key="9"),
        d(code="rpc_dispute", label="Spoke to debtor: disputes the debt", conversation=True, key="0"),
    ]


class FloorSettings(Section):
    away_minutes: int = Field(10, ge=1, le=240)
    """An officer with no key pressed for this long shows as away."""
    time_in_state_limit_minutes: int = Field(15, ge=1, le=480)
    poll_ms: int = Field(300, ge=50, le=10_000)
    presence_lease_seconds: int = Field(60, ge=10, le=3600)
    """A session that has not renewed its presence for this long no longer shows as present."""


# The Standard Financial Statement's spending categories, as the settings and the plan
# calculator name them.
EXPENDITURE_CATEGORIES = (
    "home_and_contents", "utilities", "care_and_health", "transport_and_travel", "school_and_childcare",
    "food_and_housekeeping", "personal_and_leisure", "pets", "savings", "priority_debts",
)


class GuidelineFigures(Section):
    """A monthly spending guideline for one category, built up by household."""

    first_adult: Decimal = Field(ge=0, decimal_places=2)
    extra_adult: Decimal = Field(Decimal(0), ge=0, decimal_places=2)
    """For each adult after the first."""
    child: Decimal = Field(Decimal(0), ge=0, decimal_places=2)
    """For each child."""


class GuidelineSet(Section):
    """One year's guideline figures, in force from `effective_from`."""

    effective_from: dt.date
    categories: dict[str, GuidelineFigures]

    @field_validator("categories")
    @classmethod
    def _known(cls, value: dict[str, GuidelineFigures]) -> dict[str, GuidelineFigures]:
        unknown = sorted(set(value) - set(EXPENDITURE_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown spending categories {', '.join(unknown)}: use "
                             f"{', '.join(EXPENDITURE_CATEGORIES)}")
        return value


def _default_guidelines() -> list[GuidelineSet]:
    # Illustrative figures only: the Standard Financial Statement's real trigger figures are
    # licensed to its members. A floor replaces these with its licence's figures each April.
    g = GuidelineFigures
    return [GuidelineSet(effective_from=dt.date(2026, 4, 6), categories={
        "food_and_housekeeping": g(first_adult=Decimal("320.00"), extra_adult=Decimal("190.00"),
                                   child=Decimal("110.00")),
        "personal_and_leisure": g(first_adult=Decimal("160.00"), extra_adult=Decimal("90.00"),
                                  child=Decimal("55.00")),
        "utilities": g(first_adult=Decimal("150.00"), extra_adult=Decimal("40.00"), child=Decimal("25.00")),
    })]


class PlansSettings(Section):
    """How promises and installments are judged, how payments are applied, and the
    affordability guidelines."""

    grace_days: int = Field(3, ge=0, le=60)
    """A payment this many days after the due date still keeps the promise."""
    tolerance_percent: int = Field(95, ge=1, le=100)
    """Paying at least this share of what was due keeps the promise."""
    missed_to_break: int = Field(2, ge=1, le=12)
    """Missed (broken or short) installments that break an arrangement."""
    allocation: list[Literal["fees", "costs", "interest", "principal"]] = Field(
        default_factory=lambda: ["fees", "costs", "interest", "principal"])
    """The order a payment clears the balance buckets in; what is left goes to principal."""
    guidelines: list[GuidelineSet] = Field(default_factory=_default_guidelines)


LETTER_TEMPLATE_NAMES = (
    "reminder", "second-notice", "final-demand", "validation-notice", "arrears-notice", "default-notice",
    "letter-before-claim", "plan-confirmation", "broken-arrangement", "payment-receipt", "statement",
    "financial-statement", "solicitor-referral", "credit-agency-notice", "insurer", "employer",
)


class DunningStep(Section):
    """One letter of the dunning sequence: sent once an account is `days_past_due` late."""

    template: str
    days_past_due: int = Field(ge=0, le=3650)
    countries: list[str] = Field(default_factory=list)
    """Only for accounts in these countries (`US`, `GB`); empty: every country."""

    @field_validator("template")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in LETTER_TEMPLATE_NAMES:
            raise ValueError(f"no letter template named {value!r}: use one of {', '.join(LETTER_TEMPLATE_NAMES)}")
        return value


def _default_sequence() -> list[DunningStep]:
    step = DunningStep
    return [
        step(template="validation-notice", days_past_due=0, countries=["US"]),
        step(template="reminder", days_past_due=7),
        step(template="second-notice", days_past_due=21),
        step(template="final-demand", days_past_due=45),
        step(template="letter-before-claim", days_past_due=60, countries=["GB"]),
    ]


class ThirdParty(Section):
    """A third party the floor writes to (its panel solicitor, a credit reference agency)."""

    name: str
    address: list[str] = Field(default_factory=list)
    """Address lines, top to bottom."""


class LettersSettings(Section):
    directory: Path | None = None
    """Where rendered PDFs are kept. Empty: `letters/` in the user's data directory."""
    page_size: Literal["A4", "Letter"] = "A4"
    template_dir: Path | None = None
    """A directory whose templates override the packaged ones of the same name."""
    max_attempts: int = Field(5, ge=1, le=50)
    """Renders tried before a letter shows as failed."""
    retry_seconds: int = Field(60, ge=1, le=86_400)
    """Wait before the first retry; doubled after each further failure (at most a day)."""
    lease_seconds: int = Field(120, ge=1, le=3600)
    """A letter a worker claimed and did not finish in this time is rendered by another."""
    render_timeout_seconds: int = Field(60, ge=1, le=3600)
    """A render taking longer is stopped and counted as a failure."""
    memory_limit_mb: int = Field(2048, ge=128, le=65_536)
    """Address space a worker process may use; a render that needs more fails."""
    poll_seconds: float = Field(2.0, ge=0.05, le=300)
    """How often an idle worker looks for queued letters."""
    pay_within_days: int = Field(14, ge=1, le=90)
    """Reminders and notices ask for payment within this many days of the letter's date."""
    sequence: list[DunningStep] = Field(default_factory=_default_sequence)
    """The dunning run's letters, in order."""
    days_between: int = Field(14, ge=1, le=365)
    """The dunning run leaves at least this many days between two letters of the sequence."""
    letterhead_name: str = "Arrears Collections Ltd"
    letterhead_address: str = "1 Example Street, Springfield"
    letterhead_phone: str = "0800 000 0000"
    letterhead_email: str = "accounts@example.com"
    office_hours: str = "Monday to Friday, 8am to 8pm"
    payment_details: str = "Pay online at pay.example.com, by phone on 0800 000 0000, or by cheque to our address."
    regulatory_line: str = ""
    """Printed in the footer, e.g. "Authorised and regulated by the Financial Conduct Authority"."""
    solicitor: ThirdParty = ThirdParty(name="Example Law LLP", address=["10 Court Street", "Springfield", "SP1 1AA"])
    """The panel solicitor that `solicitor-referral` letters instruct."""
    credit_agency: ThirdParty = ThirdParty(name="Example Credit Reference Agency",
                                           address=["PO Box 1", "Nottingham", "NG1 1AA"])


class ReportingSettings(Section):
    """Credit reporting (Metro 2): who the floor is to the credit bureaus."""

    identification_number: str = ""
    """The furnisher's identification number the bureaus assigned (Metro 2 base segment)."""
    equifax_program: str = ""
    experian_program: str = ""
    transunion_program: str = ""
    innovis_program: str = ""
    obsolete_after_days: int = Field(7 * 365 + 2 + 180, ge=365, le=20 * 366)
    """FCRA §605: a collection account is not reported once this long has passed since its
    date of first delinquency (7 years and 180 days)."""


LEGAL_STAGES = ("review", "letter_before_claim", "referred", "claim_issued", "judgment", "enforcement", "closed")


class LegalSettings(Section):
    """Legal escalation: the stages a case passes through, in order (the last closes it),
    the stage that needs a team lead's approval to enter, and the letter each stage sends."""

    stages: list[str] = Field(default_factory=lambda: list(LEGAL_STAGES))
    approval_to: str = "referred"
    """Entering this stage (referring the debt to the solicitor) needs a team lead."""
    letters: dict[str, dict[str, str]] = Field(default_factory=lambda: {
        "letter_before_claim": {"GB": "letter-before-claim", "US": "final-demand"},
        "referred": {"*": "solicitor-referral"},
    })
    """Stage -> {country, or "*" for any -> letter template} queued when the case enters it."""

    @model_validator(mode="after")
    def _consistent(self) -> LegalSettings:
        if len(self.stages) < 2 or len(set(self.stages)) != len(self.stages):
            raise ValueError("stages: at least two, each named once (the last one closes the case)")
        if self.approval_to not in self.stages:
            raise ValueError(f"approval_to {self.approval_to!r} is not one of the stages")
        unknown = sorted(set(self.letters) - set(self.stages))
        if unknown:
            raise ValueError(f"letters names stages that are not in stages: {', '.join(unknown)}")
        return self


class CallScriptSettings(Section):
    directory: Path | None = None
    """Scripts here (`first-contact.j2`, `later-contact.j2`, `payment-options.j2`,
    `voicemail.j2`, `third-party.j2`) replace the packaged ones of the same name. Jinja2
    text; lines starting with `- ` are the steps an officer ticks off."""


def _babel_says(question: str, ask) -> str:
    """What is wrong with a currency or locale ("" for nothing), as Babel says: kept
    between sessions, which then need not load Babel's data (config.babel_answers)."""
    from config.babel_answers import answers

    problem = answers.get(question, ask)
    if not isinstance(problem, str):  # not an answer Babel gave: a damaged file
        problem = ask()
        answers.correct(question, problem)
    return problem


def _currency_problem(code: str) -> str:
    from babel.numbers import get_currency_precision, list_currencies

    if code not in list_currencies():
        return f"{code!r} is not an ISO 4217 currency code"
    if get_currency_precision(code) not in (0, 2, 3):
        return f"{code!r} has an unsupported number of decimals"
    return ""


def _locale_problem(identifier: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(identifier)
    except (ValueError, UnknownLocaleError):
        return f"{identifier!r} is not a known locale (e.g. en_US, en_GB)"
    return ""


class LocaleSettings(Section):
    currency: str = "USD"
    """ISO 4217 code of the floor's currency."""
    locale: str = "en_US"
    """How money and dates are written (Babel locale)."""
    time_zone: str = "UTC"
    """Officers' zone for showing times."""

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return value.upper()  # whether Babel knows it: `Settings._babel_checks`

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/London)") from None
        return value


class SshSettings(Section):
    """Serving the floor over SSH: how `authorized_keys` is written and what the session allows."""

    command: str = ""
    """The forced command's program, before ` tui --officer USER`: an absolute path with its
    options, e.g. `/opt/arrears/bin/arrears --config /etc/arrears/arrears.toml`. Empty: the
    `arrears` that writes the file, with the `--config`/`--db` it was given."""
    authorized_keys_file: Path | None = None
    """If set, adding, removing and disabling officers and keys rewrites this file."""
    mouse: bool = False
    """Let the terminal's mouse drive the screens. Off: a click in data can trigger nothing,
    and mouse reports split by a slow link cannot type stray text."""
    escape_delay_ms: int = Field(default=25, ge=10, le=1000)
    """After an ESC byte, how long to wait for the rest of a key's sequence (an arrow key is
    ESC [ B) before taking it as the escape key itself. Terminals send a key's sequence in
    one write and SSH carries it in one packet, so the wait only has to cover the gap
    between two reads; Textual's default of 100 ms made every `escape` feel slow. Raise it
    if arrow keys over a very poor link ever act as `escape`."""

    @field_validator("command")
    @classmethod
    def _plain_command(cls, value: str) -> str:
        # It sits inside command="..." in authorized_keys: a quote, backslash or line
        # break would let it end the option early and add others.
        if any(ch in value for ch in '"\\\n\r') or any(ord(ch) < 32 for ch in value):
            raise ValueError("must not contain quotes, backslashes or control characters")
        if value and not value.startswith("/"):
            raise ValueError("must start with the absolute path of the arrears program")
        return value


class Settings(BaseSettings):
    """Everything Arrears can be told. See `config/arrears.example.toml`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_ignore_empty=True,
        extra="forbid",
    )

    database: DatabaseSettings = DatabaseSettings()
    compliance: ComplianceSettings = ComplianceSettings()
    queue: QueueSettings = QueueSettings()
    floor: FloorSettings = FloorSettings()
    dispositions: list[Disposition] = Field(default_factory=_default_dispositions)
    """Call outcomes, in the order the call form lists them."""
    plans: PlansSettings = PlansSettings()
    letters: LettersSettings = LettersSettings()
    legal: LegalSettings = LegalSettings()
    reporting: ReportingSettings = ReportingSettings()
    call_scripts: CallScriptSettings = CallScriptSettings()
    locale: LocaleSettings = LocaleSettings()
    ssh: SshSettings = SshSettings()
    data_dir: Path | None = None
    """Where Arrears keeps files. Empty: the user's data directory."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @model_validator(mode="after")
    def _babel_checks(self) -> Settings:
        """The currency and locale set (not the defaults) are ones Babel knows. Checked
        here, once the data directory is known: a session keeps Babel's answers there
        (config.babel_answers), and then need not load Babel's data to check them."""
        from config.babel_answers import answers

        answers.settle_in(self.resolved_data_dir() / "cache")
        chosen = self.locale.model_fields_set
        for name, check in (("currency", _currency_problem), ("locale", _locale_problem)):
            value = getattr(self.locale, name)
            problem = _babel_says(f"{name} problem {value}", lambda: check(value)) if name in chosen else ""
            if problem:
                # Not a ValueError: pydantic would name the settings as a whole, not this one.
                raise SettingsError(f"setting locale.{name} ({ENV_PREFIX}LOCALE__{name.upper()}): {problem}")
        return self

    def resolved_data_dir(self) -> Path:
        return self.data_dir or default_data_dir()

    def letters_dir(self) -> Path:
        return self.letters.directory or self.resolved_data_dir() / "letters"


class SettingsError(Exception):
    """A setting is wrong; the message is one line that names it and says what to fix."""


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The TOML file to read: the one named, else `ARREARS_CONFIG`, else the system or
    local file if present."""
    named = explicit or os.environ.get(f"{ENV_PREFIX}CONFIG") or None
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise SettingsError(f"config file {path} does not exist or is not a file")
        return path
    for candidate in (SYSTEM_CONFIG, LOCAL_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    name = ".".join(loc) or "settings"
    env = ENV_PREFIX + "__".join(part.upper() for part in loc)
    message = error.get("msg", "is invalid")
    if error.get("type") == "extra_forbidden":
        message = "is not a setting Arrears knows (check its spelling)"
    message = message.removeprefix("Value error, ")
    return f"setting {name} ({env}): {message}"


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from overrides, environment and TOML file.

    Raises:
        SettingsError: with one line naming the first bad setting.
    """
    path = find_config_file(config_file)
    token = _toml_path.set(path)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc.errors()[0])) from None
    except SettingsError:
        raise
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"config file {path} cannot be read: {exc.strerror}") from None
    except Exception as exc:  # pydantic-settings wraps env parsing errors in SettingsError
        raise SettingsError(f"settings: {exc}") from None
    finally:
        _toml_path.reset(token)
