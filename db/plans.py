"""The payment-plan calculator: schedules that add up to the cent, the client's plan policy,
and affordability from an income and expenditure statement. Pure functions over integers
of the minor unit and `Decimal`s; nothing here reads or writes the database.

Rounding is never banker's: a split rounds every installment but the last *down* and the
last takes the rest, so a schedule always sums exactly to what it was asked to cover;
interest and discounts round half-up to the minor unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from dateutil.relativedelta import relativedelta

from config.settings import EXPENDITURE_CATEGORIES  # noqa: F401 (the calculator names the categories too)

FREQUENCIES = ("weekly", "fortnightly", "four-weekly", "monthly")
PERIODS_PER_YEAR = {"weekly": 52, "fortnightly": 26, "four-weekly": 13, "monthly": 12}
_STEP_DAYS = {"weekly": 7, "fortnightly": 14, "four-weekly": 28}
MAX_INSTALLMENTS = 600
"""No schedule runs past this many installments (fifty years of months): a longer one is
almost always a typing slip in the installment amount."""


class PlanError(ValueError):
    """Inputs the calculator cannot plan; the message says what to change."""


def round_half_up(value: Decimal) -> int:
    """A `Decimal` of minor units → the nearest whole unit, halves away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def due_date(first: dt.date, frequency: str, index: int) -> dt.date:
    """The date of installment `index` (0 for the first). Monthly plans keep the first due
    date's day, clamped to the month's end and back again: 31 Jan → 28/29 Feb → 31 Mar."""
    if frequency == "monthly":
        # Always from the anchor, never from the previous date, so a clamped February
        # does not drag every later month to the 28th.
        return first + relativedelta(months=index)
    try:
        return first + dt.timedelta(days=_STEP_DAYS[frequency] * index)
    except KeyError:
        raise PlanError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}") from None


def monthly_factor(frequency: str) -> Decimal:
    """Periods a month, as the trade converts: weekly x52/12, fortnightly x26/12,
    four-weekly x13/12."""
    if frequency not in PERIODS_PER_YEAR:
        raise PlanError(f"unknown frequency {frequency!r}: use one of {', '.join(FREQUENCIES)}")
    return Decimal(PERIODS_PER_YEAR[frequency]) / Decimal(12)


def monthly_equivalent(amount_minor: int, frequency: str) -> int:
    """What an installment costs a month: £50.00 four-weekly → £54.17."""
    return round_half_up(Decimal(amount_minor) * monthly_factor(frequency))


@dataclass(frozen=True)
class PlanRequest:
    """What the officer and the customer agreed to try."""

    amount_due_minor: int
    first_due: dt.date
    frequency: str
    count: int | None = None
    installment_minor: int | None = None
    deposit_minor: int = 0
    discount_percent: Decimal = Decimal(0)
    apr_percent: Decimal = Decimal(0)
    settle_for_minor: int | None = None
    """A settlement agreed as an amount rather than a percentage off."""


@dataclass(frozen=True)
class Installment:
    number: int
    due: dt.date
    amount_minor: int
    interest_minor: int
    principal_minor: int


@dataclass(frozen=True)
class Schedule:
    request: PlanRequest
    settled_minor: int
    """The amount due less the settlement discount."""
    installments: tuple[Installment, ...]

    @property
    def amount_due_minor(self) -> int:
        return self.request.amount_due_minor

    @property
    def deposit_minor(self) -> int:
        return self.request.deposit_minor

    @property
    def discount_minor(self) -> int:
        return self.request.amount_due_minor - self.settled_minor

    @property
    def financed_minor(self) -> int:
        """What the installments repay: the settled amount less the deposit."""
        return self.settled_minor - self.request.deposit_minor

    @property
    def total_interest_minor(self) -> int:
        return sum(i.interest_minor for i in self.installments)

    @property
    def total_minor(self) -> int:
        """Everything the customer pays: the deposit and every installment."""
        return self.request.deposit_minor + sum(i.amount_minor for i in self.installments)

    @property
    def regular_minor(self) -> int:
        """The installment every period but the last."""
        return self.installments[0].amount_minor

    @property
    def last_due(self) -> dt.date:
        return self.installments[-1].due


def _validate(req: PlanRequest) -> None:
    if req.amount_due_minor <= 0:
        raise PlanError("the amount due must be more than zero")
    if req.frequency not in FREQUENCIES:
        raise PlanError(f"unknown frequency {req.frequency!r}: use one of {', '.join(FREQUENCIES)}")
    if (req.count is None) == (req.installment_minor is None):
        raise PlanError("give either the number of installments or the installment amount, not both")
    if req.count is not None and req.count < 1:
        raise PlanError("the number of installments must be at least 1")
    if req.count is not None and req.count > MAX_INSTALLMENTS:
        raise PlanError(f"{req.count} installments is more than {MAX_INSTALLMENTS}")
    if req.installment_minor is not None and req.installment_minor <= 0:
        raise PlanError("the installment amount must be more than zero")
    if req.deposit_minor < 0:
        raise PlanError("the deposit cannot be negative")
    if not Decimal(0) <= req.discount_percent < Decimal(100):
        raise PlanError("the settlement discount must be at least 0% and under 100%")
    if req.settle_for_minor is not None:
        if req.discount_percent:
            raise PlanError("give a settlement amount or a discount percent, not both")
        if not 0 < req.settle_for_minor <= req.amount_due_minor:
            raise PlanError("the settlement amount must be more than zero and at most the amount due")
    if not Decimal(0) <= req.apr_percent <= Decimal(1000):
        raise PlanError("the APR must be between 0% and 1000%")


def settled_amount(amount_due_minor: int, discount_percent: Decimal) -> int:
    """The amount due less the discount, the discount rounded half-up to the minor unit."""
    return amount_due_minor - round_half_up(Decimal(amount_due_minor) * discount_percent / Decimal(100))


def plan(req: PlanRequest) -> Schedule:
    """The schedule for `req`, or `PlanError` saying what to change."""
    _validate(req)
    if req.settle_for_minor is not None:
        settled = req.settle_for_minor
    else:
        settled = settled_amount(req.amount_due_minor, req.discount_percent)
    financed = settled - req.deposit_minor
    if financed <= 0:
        raise PlanError("the deposit covers the whole amount: take it as a payment instead of a plan")
    if req.apr_percent:
        rows = _amortised(req, financed)
    else:
        rows = _split(req, financed)
    return Schedule(req, settled, tuple(rows))


def _split(req: PlanRequest, amount: int) -> list[Installment]:
    if req.count is not None:
        count = req.count
        each = amount // count
        if each == 0:
            raise PlanError(f"{count} installments would be less than one minor unit each: use fewer")
    else:
        each = req.installment_minor
        count = -(-amount // each)  # ceiling: the fewest that cover the amount
        if count > MAX_INSTALLMENTS:
            raise PlanError(f"that installment would take {count} payments (over {MAX_INSTALLMENTS}): raise it")
        each = min(each, amount)
    rows = []
    for index in range(count):
        value = each if index < count - 1 else amount - each * (count - 1)
        rows.append(Installment(index + 1, due_date(req.first_due, req.frequency, index), value, 0, value))
    return rows


def periodic_rate(apr_percent: Decimal, frequency: str) -> Decimal:
    """The nominal annual rate spread evenly over the year's periods."""
    return apr_percent / Decimal(100) / Decimal(PERIODS_PER_YEAR[frequency])


def annuity_payment(principal_minor: int, rate: Decimal, count: int, *, down: bool = False) -> int:
    """The equal payment that repays `principal_minor` over `count` periods at `rate`:
    P = A·r / (1 − (1 + r)^−n), rounded half-up to the minor unit (or down)."""
    with localcontext() as ctx:
        ctx.prec = 40
        exact = (Decimal(principal_minor) / count if rate == 0
                 else Decimal(principal_minor) * rate / (1 - (1 + rate) ** -count))
        return int(exact.to_integral_value(rounding=ROUND_DOWN)) if down else round_half_up(exact)


def period_interest(balance_minor: int, apr_percent: Decimal, frequency: str) -> int:
    """One period's interest on a balance, half-up to the minor unit. Divides last, so an
    exact half (6,500 at 5.1% four-weekly = 25.5) is not lost to the rate's rounding."""
    with localcontext() as ctx:
        ctx.prec = 40
        return round_half_up(Decimal(balance_minor) * apr_percent / (Decimal(100) * PERIODS_PER_YEAR[frequency]))


def _amortised(req: PlanRequest, amount: int) -> list[Installment]:
    rate = periodic_rate(req.apr_percent, req.frequency)
    if req.count is None:
        payment = req.installment_minor
        if Decimal(payment) <= Decimal(amount) * rate:
            first_interest = period_interest(amount, req.apr_percent, req.frequency)
            raise PlanError(f"the installment does not cover the first period's interest "
                            f"({first_interest} minor units): raise it")
        rows = _amortise(req, amount, payment, MAX_INSTALLMENTS)
        if rows is None:
            raise PlanError(f"that installment would take over {MAX_INSTALLMENTS} payments: raise it")
        return rows
    payment = annuity_payment(amount, rate, req.count)
    rows = _amortise(req, amount, payment, req.count)
    if rows is None or len(rows) < req.count:
        # At high rates over many periods the half cent of rounding compounds until the
        # debt is repaid early; a payment rounded down never overpays, and the last
        # installment takes what the rounding left.
        rows = _amortise(req, amount, annuity_payment(amount, rate, req.count, down=True), req.count)
    if rows is None:
        raise PlanError("the installment does not cover the interest: use fewer installments or a lower APR")
    return rows


def _amortise(req: PlanRequest, amount: int, payment: int, limit: int) -> list[Installment] | None:
    """Pay `payment` a period until the balance is cleared (at most `limit` periods, the
    last clearing it exactly); None if the payment does not cover the interest."""
    rows: list[Installment] = []
    balance = amount
    for index in range(limit):
        interest = period_interest(balance, req.apr_percent, req.frequency)
        if index == limit - 1 or balance + interest <= payment:
            rows.append(Installment(index + 1, due_date(req.first_due, req.frequency, index), balance + interest,
                                    interest, balance))
            return rows
        principal = payment - interest
        if principal <= 0:
            return None
        rows.append(Installment(index + 1, due_date(req.first_due, req.frequency, index), payment, interest,
                                principal))
        balance -= principal
    return None


# --- policy ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """A client's limits on plans; a plan outside them needs a team lead's approval."""

    min_installment_minor: int
    max_installments: int
    max_days_to_first_payment: int
    settlement_floor_percent: int

    @classmethod
    def of_client(cls, client) -> Policy:
        return cls(client.min_installment_minor, client.max_installments, client.max_days_to_first_payment,
                   client.settlement_floor_percent)


def policy_breaches(schedule: Schedule, policy: Policy, today: dt.date, *, format_money=str) -> list[str]:
    """Each way the schedule is outside the client's policy, in an officer's words (empty
    when it is inside). The last installment may be smaller: it only takes the rest."""
    out = []
    rows = schedule.installments
    regular = rows[0].amount_minor
    # A single payment smaller than the minimum only clears a small balance: that is fine.
    if len(rows) > 1 and regular < policy.min_installment_minor:
        out.append(f"installment {format_money(regular)} is below the client's minimum of "
                   f"{format_money(policy.min_installment_minor)}")
    if len(rows) > policy.max_installments:
        out.append(f"{len(rows)} installments is more than the client's maximum of {policy.max_installments}")
    days = (rows[0].due - today).days
    if days > policy.max_days_to_first_payment:
        out.append(f"the first payment is {days} days away; the client allows {policy.max_days_to_first_payment}")
    if schedule.discount_minor and schedule.settled_minor * 100 < schedule.amount_due_minor * policy.settlement_floor_percent:
        percent = (Decimal(schedule.settled_minor) * 100 / Decimal(schedule.amount_due_minor)).quantize(
            Decimal("0.1"), rounding=ROUND_DOWN)
        out.append(f"settling for {percent}% of the balance is below the client's floor of "
                   f"{policy.settlement_floor_percent}%")
    return out


# --- affordability ----------------------------------------------------------------------------

INCOME_CATEGORIES = ("earnings", "benefits", "pensions", "other_income")
CATEGORY_LABELS = {
    "earnings": "Earnings (after tax)", "benefits": "Benefits", "pensions": "Pensions",
    "other_income": "Other income", "home_and_contents": "Home and contents", "utilities": "Utilities",
    "care_and_health": "Care and health", "transport_and_travel": "Transport and travel",
    "school_and_childcare": "School and childcare", "food_and_housekeeping": "Food and housekeeping",
    "personal_and_leisure": "Personal and leisure", "pets": "Pets", "savings": "Savings",
    "priority_debts": "Priority debts",
}


@dataclass(frozen=True)
class GuidelineFigure:
    """A monthly guideline for one category: the first adult, each further adult, each child."""

    first_adult_minor: int
    extra_adult_minor: int = 0
    child_minor: int = 0

    def for_household(self, adults: int, children: int) -> int:
        return self.first_adult_minor + self.extra_adult_minor * max(adults - 1, 0) + self.child_minor * children


@dataclass
class Statement:
    """A monthly income and expenditure statement (all figures in minor units a month)."""

    adults: int = 1
    children: int = 0
    income: dict[str, int] = field(default_factory=dict)
    expenditure: dict[str, int] = field(default_factory=dict)

    @property
    def total_income(self) -> int:
        return sum(self.income.values())

    @property
    def total_expenditure(self) -> int:
        return sum(self.expenditure.values())

    @property
    def disposable(self) -> int:
        """What is left a month for this and other non-priority debts (may be negative)."""
        return self.total_income - self.total_expenditure

    def to_json(self) -> dict:
        return {"adults": self.adults, "children": self.children,
                "income": {k: v for k, v in self.income.items() if v},
                "expenditure": {k: v for k, v in self.expenditure.items() if v}}

    @classmethod
    def from_json(cls, data: dict) -> Statement:
        return cls(int(data.get("adults", 1)), int(data.get("children", 0)),
                   {k: int(v) for k, v in data.get("income", {}).items()},
                   {k: int(v) for k, v in data.get("expenditure", {}).items()})


@dataclass(frozen=True)
class Affordability:
    monthly_installment_minor: int
    disposable_minor: int
    fits: bool
    flags: tuple[str, ...]
    """Spending above (or far below) the guideline for the household: to ask about, never
    a reason to refuse."""


def check_statement(statement: Statement, guidelines: dict[str, GuidelineFigure], *, format_money=str) -> list[str]:
    """Categories whose spending is above the guideline for the household (ask for an
    explanation or evidence), or under half of it (ask whether something is missing)."""
    if statement.adults < 1:
        raise PlanError("a household has at least one adult")
    if statement.children < 0:
        raise PlanError("the number of children cannot be negative")
    flags = []
    for category, figure in guidelines.items():
        spent = statement.expenditure.get(category, 0)
        limit = figure.for_household(statement.adults, statement.children)
        label = CATEGORY_LABELS.get(category, category)
        if spent > limit:
            flags.append(f"{label} {format_money(spent)} is above the guideline of {format_money(limit)}: "
                         f"ask what it covers")
        elif spent * 2 < limit:
            flags.append(f"{label} {format_money(spent)} is under half the guideline of {format_money(limit)}: "
                         f"check nothing is missing")
    return flags


def guidelines_on(settings, day: dt.date, *, exponent: int = 2) -> dict[str, GuidelineFigure]:
    """The guideline figures in force on `day` (the latest set that started by then)."""
    sets = sorted((g for g in settings.plans.guidelines if g.effective_from <= day), key=lambda g: g.effective_from)
    if not sets:
        return {}
    scale = Decimal(10) ** exponent
    return {name: GuidelineFigure(int(f.first_adult * scale), int(f.extra_adult * scale), int(f.child * scale))
            for name, f in sets[-1].categories.items()}


def affordability(statement: Statement, installment_minor: int, frequency: str,
                  guidelines: dict[str, GuidelineFigure], *, format_money=str) -> Affordability:
    """Whether an installment fits the monthly disposable income, with the statement's flags."""
    monthly = monthly_equivalent(installment_minor, frequency)
    disposable = statement.disposable
    return Affordability(monthly, disposable, 0 <= monthly <= disposable,
                         tuple(check_statement(statement, guidelines, format_money=format_money)))
