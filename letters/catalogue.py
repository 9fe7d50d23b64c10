"""The letter templates Arrears ships: each one's name, title, who it is addressed to, the
holds that stop it (from the compliance rules) and its version.

A template's version changes whenever its wording changes; every rendered letter records
the version it was rendered with, so a complaint can be answered with the exact text.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import LETTER_TEMPLATE_NAMES
from db.compliance import LETTER_PURPOSES, letter_holds
from db.letter_queue import recipient_of


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    title: str
    version: str
    summary: str

    @property
    def recipient(self) -> str:
        return recipient_of(self.name)

    @property
    def purpose(self) -> str:
        return LETTER_PURPOSES[self.name]

    @property
    def holds(self) -> list[str]:
        return letter_holds(self.name)

    @property
    def file(self) -> str:
        return f"{self.name}.html"


_SPECS = [
    TemplateSpec("reminder", "Payment reminder", "1.0", "The balance is overdue; pay or call us."),
    TemplateSpec("second-notice", "Second notice", "1.0", "The balance is still unpaid; options to pay."),
    TemplateSpec("final-demand", "Final demand: notice of intended legal action", "1.0",
                 "Pay by the date given or we may start legal action."),
    TemplateSpec("validation-notice", "Validation notice", "1.0",
                 "US Regulation F model validation notice with the itemisation and dispute rights."),
    TemplateSpec("arrears-notice", "Notice of sums in arrears", "1.0",
                 "UK Consumer Credit Act arrears notice with the FCA information sheet."),
    TemplateSpec("default-notice", "Default notice", "1.0",
                 "UK Consumer Credit Act s.87 default notice with the remedy date."),
    TemplateSpec("letter-before-claim", "Letter before claim", "1.0",
                 "UK Pre-Action Protocol for Debt Claims: 30 days to reply, with the reply form."),
    TemplateSpec("plan-confirmation", "Your payment arrangement", "1.0", "The agreed plan and its schedule."),
    TemplateSpec("broken-arrangement", "Your payment arrangement has been missed", "1.0",
                 "The plan is broken: what was missed and what to do now."),
    TemplateSpec("payment-receipt", "Payment receipt", "1.0", "A payment received and the new balance."),
    TemplateSpec("statement", "Statement of account", "1.0", "Every transaction with a running balance."),
    TemplateSpec("financial-statement", "Your income and expenditure statement", "1.0",
                 "The customer's income and expenditure, as agreed with them."),
    TemplateSpec("solicitor-referral", "Instruction to act", "1.0",
                 "Refers the debt to the floor's solicitor/attorney for legal action."),
    TemplateSpec("credit-agency-notice", "Notice of default to a credit reference agency", "1.0",
                 "Reports the account's default and balance to a credit reference agency."),
    TemplateSpec("insurer", "Claim under an insurance policy", "1.0",
                 "Asks the debtor's payment-protection or life insurer to pay the balance."),
    TemplateSpec("employer", "Employment verification request", "1.0",
                 "Asks an employer to confirm employment; says nothing about the debt."),
]

TEMPLATES: dict[str, TemplateSpec] = {spec.name: spec for spec in _SPECS}
assert tuple(TEMPLATES) == LETTER_TEMPLATE_NAMES, "the catalogue and the settings must name the same templates"

HOLD_WORDS = {
    "bad_address": "bad address", "deceased": "deceased", "cease": "cease", "dispute": "dispute",
    "bankruptcy": "bankruptcy", "breathing_space": "breathing space", "nothing_owed": "zero balance",
    "closed": "closed", "vulnerable": "vulnerable", "time_barred": "time-barred",
    "bankruptcy_stay": "bankruptcy", "dispute_unverified": "dispute",
}


def hold_words(spec: TemplateSpec) -> list[str]:
    """The holds that stop a template, in an officer's words, once each."""
    words: list[str] = []
    for code in spec.holds:
        word = HOLD_WORDS.get(code, code)
        if word not in words:
            words.append(word)
    return words


@dataclass(frozen=True)
class Choice:
    spec: TemplateSpec
    allowed: bool
    reasons: list[str]


def choices(settings, account_id: int, at) -> list[Choice]:
    """Every template for this account, each with whether it may be sent now and why not."""
    from db.governor import check_letter

    out = []
    for spec in TEMPLATES.values():
        decision = check_letter(settings, account_id, spec.name, at)
        out.append(Choice(spec, decision.allowed, [r.text for r in decision.reasons]))
    return out
