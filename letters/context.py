"""Turns an account's letter facts into what a template prints: amounts written in the
account's currency and the debtor's locale, the letter's dates counted from its mailing
date, the disclosures the law asks for, and who the letter is addressed to.

Every value here is plain text; the templates escape it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date

from db.letter_facts import LetterFacts
from db.money import format_money
from db.plans import CATEGORY_LABELS, INCOME_CATEGORIES
from db import letter_dates as dates
from letters.catalogue import TEMPLATES

MINI_MIRANDA = ("This communication is from a debt collector. This is an attempt to collect a debt and any "
                "information obtained will be used for that purpose.")
TIME_BARRED_US = ("The law limits how long you can be sued on a debt. Because of the age of your debt, "
                  "{creditor} cannot sue you for it.")
TIME_BARRED_UK = ("This debt is now statute-barred: because of its age, {creditor} can no longer take you to "
                  "court to recover it. You may still choose to pay it.")
FREQUENCY_WORDS = {"weekly": "every week", "fortnightly": "every two weeks", "four-weekly": "every four weeks",
                   "monthly": "every month"}
BUCKET_WORDS = {"principal": "Balance (principal)", "interest": "Interest", "fees": "Fees and charges",
                "costs": "Costs"}
DEBT_ADVICE_UK = [
    "StepChange Debt Charity: 0800 138 1111, stepchange.org",
    "National Debtline: 0808 808 4000, nationaldebtline.org",
    "Citizens Advice: citizensadvice.org.uk",
    "MoneyHelper: 0800 138 7777, moneyhelper.org.uk",
]


class ContextError(ValueError):
    """The letter cannot be written from what the account holds (e.g. a receipt with no
    payment); the message says what is missing."""


@dataclass(frozen=True)
class Recipient:
    name: str
    address: list[str]
    salutation: str


def _country(jurisdiction: str) -> str:
    return jurisdiction.partition("-")[0].upper()


def locale_for(jurisdiction: str, default: str) -> str:
    return {"US": "en_US", "GB": "en_GB"}.get(_country(jurisdiction), default)


def build_context(settings, facts: LetterFacts, template: str, inputs: dict, *,
                  version: str | None = None) -> dict:
    """Everything `template` may print for this account, dated from the letter's `sent_on`."""
    spec = TEMPLATES[template]
    country = _country(facts.jurisdiction)
    locale = locale_for(facts.jurisdiction, settings.locale.locale)
    sent_on = dt.date.fromisoformat(str(inputs.get("sent_on") or dt.date.today().isoformat()))

    def money(minor: int) -> str:
        return format_money(minor, facts.currency, locale)

    def date(value: dt.date | None) -> str:
        return format_date(value, "long", locale=locale) if value else ""

    letters = settings.letters
    recipient = _recipient(settings, facts, spec.recipient, inputs)
    disclosures = set(inputs.get("disclosures") or [])
    creditor = facts.client_name
    ctx: dict = {
        "template": template, "title": spec.title, "version": version or spec.version,
        "letter_id": facts.letter_id, "sent_on": date(sent_on), "country": country,
        "us": country == "US", "uk": country == "GB",
        "letterhead": {"name": letters.letterhead_name, "address": letters.letterhead_address,
                       "phone": letters.letterhead_phone, "email": letters.letterhead_email,
                       "hours": letters.office_hours, "payment_details": letters.payment_details,
                       "regulatory": letters.regulatory_line},
        "recipient": recipient, "to_debtor": spec.recipient == "debtor",
        "debtor": {"name": facts.debtor_name, "first_name": facts.debtor_first_name, "address": facts.address},
        "account": {
            "reference": facts.reference, "client_reference": facts.client_reference, "creditor": creditor,
            "original_creditor": facts.original_creditor, "balance": money(facts.balance_minor),
            "delinquency_date": date(facts.delinquency_date), "placed_on": date(facts.placed_on),
            "last_payment_date": date(facts.last_payment_date),
            "buckets": [(BUCKET_WORDS.get(b, b), money(v)) for b, v in sorted(
                facts.buckets.items(), key=lambda kv: list(BUCKET_WORDS).index(kv[0]) if kv[0] in BUCKET_WORDS else 9)
                if v],
        },
        "pay_by": date(sent_on + dt.timedelta(days=letters.pay_within_days)),
        "officer": facts.officer_name,
        "mini_miranda": MINI_MIRANDA if country == "US" and spec.recipient == "debtor" else None,
        "time_barred": ((TIME_BARRED_UK if country == "GB" else TIME_BARRED_US).format(creditor=creditor)
                        if "time_barred" in disclosures and spec.recipient == "debtor" else None),
        "debt_advice": DEBT_ADVICE_UK if country == "GB" else [],
        "note": str(inputs.get("note") or "").strip(),
    }
    extra = _EXTRAS.get(template)
    if extra is not None:
        ctx.update(extra(settings, facts, inputs, sent_on, money, date))
    return ctx


def _recipient(settings, facts: LetterFacts, kind: str, inputs: dict) -> Recipient:
    if kind == "debtor":
        return Recipient(facts.debtor_name, facts.address, f"Dear {facts.debtor_name}")
    given = inputs.get("recipient") or {}
    if kind == "solicitor" and not given:
        given = {"name": settings.letters.solicitor.name, "address": settings.letters.solicitor.address}
    if kind == "credit_agency" and not given:
        given = {"name": settings.letters.credit_agency.name, "address": settings.letters.credit_agency.address}
    name = str(given.get("name") or "").strip()
    if not name:
        raise ContextError(f"the letter needs its recipient's name ({kind.replace('_', ' ')})")
    address = [str(line).strip() for line in given.get("address") or [] if str(line).strip()]
    return Recipient(name, address, "Dear Sirs" if kind != "employer" else "Dear Sir or Madam")


# --- per template -----------------------------------------------------------------------------

def _validation(settings, facts, inputs, sent_on, money, date) -> dict:
    item = facts.itemisation
    return {"itemisation": {"date": date(item.date), "then": money(item.owed_then_minor),
                            "interest": money(item.interest_minor), "fees": money(item.fees_minor),
                            "credits": money(item.credits_minor), "now": money(item.owed_now_minor)},
            "received_on": date(dates.us_assumed_receipt(sent_on)),
            "validation_ends": date(dates.validation_period_ends(sent_on))}


def _default_notice(settings, facts, inputs, sent_on, money, date) -> dict:
    return {"service_date": date(dates.uk_deemed_service(sent_on, facts.jurisdiction)),
            "remedy_date": date(dates.uk_remedy_date(sent_on, facts.jurisdiction)),
            "arrears": money(facts.balance_minor)}


def _letter_before_claim(settings, facts, inputs, sent_on, money, date) -> dict:
    return {"reply_by": date(dates.reply_by(sent_on)), "total": money(facts.balance_minor)}


def _final_demand(settings, facts, inputs, sent_on, money, date) -> dict:
    return {"act_after": date(sent_on + dt.timedelta(days=settings.letters.pay_within_days))}


def _installments(facts, money, date) -> list[dict]:
    return [{"number": i.number, "due_on": date(i.due_on), "amount": money(i.amount_minor),
             "paid": money(i.paid_minor), "status": i.status.replace("_", " ")} for i in facts.plan.installments]


def _plan(settings, facts, inputs, sent_on, money, date) -> dict:
    if facts.plan is None:
        raise ContextError("there is no payment arrangement on this account")
    plan = facts.plan
    total = sum(i.amount_minor for i in plan.installments) + plan.deposit_minor
    return {"plan": {"frequency": FREQUENCY_WORDS.get(plan.frequency, plan.frequency),
                     "amount_due": money(plan.amount_due_minor), "deposit": money(plan.deposit_minor),
                     "has_deposit": plan.deposit_minor > 0, "total": money(total),
                     "settles_for": money(plan.settled_minor) if plan.settled_minor is not None
                     and plan.settled_minor < plan.amount_due_minor else None,
                     "count": len(plan.installments), "agreed_on": date(plan.created_on),
                     "installments": _installments(facts, money, date)}}


def _broken(settings, facts, inputs, sent_on, money, date) -> dict:
    ctx = _plan(settings, facts, inputs, sent_on, money, date)
    missed = [i for i in facts.plan.installments if i.status in ("broken", "partial", "missed")]
    ctx["missed"] = [{"number": i.number, "due_on": date(i.due_on), "amount": money(i.amount_minor),
                      "paid": money(i.paid_minor), "short": money(i.amount_minor - i.paid_minor)} for i in missed]
    ctx["why"] = str(inputs.get("why") or "").strip()
    return ctx


def _receipt(settings, facts, inputs, sent_on, money, date) -> dict:
    if not facts.payment:
        raise ContextError("there is no payment on this account to acknowledge")
    total = -sum(e.amount_minor for e in facts.payment)
    first = facts.payment[0]
    return {"payment": {"amount": money(total), "date": date(first.effective_date),
                        "description": first.description.split(":")[0],
                        "applied": [(BUCKET_WORDS.get(e.bucket, e.bucket), money(-e.amount_minor)) for e in facts.payment],
                        "balance_after": money(facts.payment[-1].balance_minor)}}


def statement_lines(entries) -> list[tuple]:
    """Ledger entries as a customer reads them: a payment split over balance buckets is one
    line. (date, description, signed amount, running balance after it)."""
    lines: list[list] = []
    for e in entries:
        if lines and e.batch and lines[-1][4] == e.batch and lines[-1][0] == e.effective_date:
            lines[-1][2] += e.amount_minor
            lines[-1][3] = e.balance_minor
            continue
        description = e.description.split(",")[0] if e.batch else e.description
        lines.append([e.effective_date, description, e.amount_minor, e.balance_minor, e.batch])
    return [tuple(line[:4]) for line in lines]


def _statement(settings, facts, inputs, sent_on, money, date) -> dict:
    rows = [{"date": date(day), "description": words, "debit": money(amount) if amount > 0 else "",
             "credit": money(-amount) if amount < 0 else "", "balance": money(balance)}
            for day, words, amount, balance in statement_lines(facts.entries)]
    return {"entries": rows, "closing": money(facts.entries[-1].balance_minor if facts.entries else 0),
            "period_from": date(facts.entries[0].effective_date) if facts.entries else date(facts.placed_on),
            "period_to": date(sent_on)}


def _financial(settings, facts, inputs, sent_on, money, date) -> dict:
    data = facts.statement
    if not data:
        raise ContextError("no income and expenditure statement has been taken on this account")
    income = data.get("income", {})
    spending = data.get("expenditure", {})
    income_lines = [(CATEGORY_LABELS.get(k, k), money(int(income[k]))) for k in INCOME_CATEGORIES if income.get(k)]
    spend_lines = [(CATEGORY_LABELS.get(k, k), money(int(v))) for k, v in spending.items() if v]
    total_in = sum(int(v) for v in income.values())
    total_out = sum(int(v) for v in spending.values())
    return {"household": {"adults": int(data.get("adults", 1)), "children": int(data.get("children", 0))},
            "income": income_lines, "expenditure": spend_lines, "total_income": money(total_in),
            "total_expenditure": money(total_out), "disposable": money(total_in - total_out),
            "offer": money(facts.plan.installments[0].amount_minor) if facts.plan and facts.plan.installments
            else None, "offer_frequency": FREQUENCY_WORDS.get(facts.plan.frequency) if facts.plan else None}


def _third_party(settings, facts, inputs, sent_on, money, date) -> dict:
    return {"policy_number": str(inputs.get("policy_number") or "").strip(),
            "default_date": date(facts.delinquency_date or facts.placed_on),
            "reply_by": date(sent_on + dt.timedelta(days=settings.letters.pay_within_days)),
            "history": _statement(settings, facts, inputs, sent_on, money, date)["entries"][-12:]}


_EXTRAS = {
    "validation-notice": _validation, "default-notice": _default_notice, "arrears-notice": _default_notice,
    "letter-before-claim": _letter_before_claim, "final-demand": _final_demand,
    "plan-confirmation": _plan, "broken-arrangement": _broken, "payment-receipt": _receipt,
    "statement": _statement, "financial-statement": _financial,
    "solicitor-referral": _third_party, "credit-agency-notice": _third_party, "insurer": _third_party,
    "employer": _third_party,
}
