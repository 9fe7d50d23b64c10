"""The data of a collections floor, as Peewee models.

Money is always integer minor units (`*_minor`); datetimes are naive UTC; dates are
calendar dates. Choices are kept as short strings so the database stays readable.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from db.database import database, utcnow

ROLES = ("officer", "team_lead", "admin")
PHONE_KINDS = ("home", "work", "mobile")
PHONE_STATUSES = ("good", "bad", "wrong_number")
ACCOUNT_STATUSES = ("open", "arrangement", "legal", "settled", "paid", "closed", "recalled")
HOLD_FLAGS = ("dispute", "cease", "bankruptcy", "deceased", "vulnerable", "attorney_represented")
LEDGER_KINDS = ("charge", "interest", "fee", "payment", "reversal", "adjustment", "write_off", "settlement")
BUCKETS = ("principal", "interest", "fees", "costs")
ACTIVITY_KINDS = ("call_attempt", "conversation", "note", "letter", "email", "flag", "callback", "payment",
                  "promise", "plan")
PROMISE_STATUSES = ("open", "kept", "partial", "broken", "cancelled")
PLAN_STATUSES = ("pending_approval", "active", "completed", "broken", "cancelled")
FREQUENCIES = ("weekly", "fortnightly", "four-weekly", "monthly")
LETTER_STATUSES = ("queued", "rendering", "rendered", "failed", "cancelled")
APPROVAL_STATUSES = ("pending", "approved", "refused")


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row per applied migration."""

    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = DateTimeField(default=utcnow)


class Team(BaseModel):
    id = AutoField()
    name = CharField(unique=True)
    queue_strategy = CharField(default="balanced")
    specialist = BooleanField(default=False)
    """Handles vulnerable customers."""


class Officer(BaseModel):
    id = AutoField()
    username = CharField(unique=True, max_length=32)
    name = CharField()
    role = CharField(default="officer")
    team = ForeignKeyField(Team, null=True, backref="officers", on_delete="RESTRICT")
    active = BooleanField(default=True)
    approval_limit_minor = BigIntegerField(default=0)
    """Settlements and write-offs above this need a team lead's approval."""
    created_at = DateTimeField(default=utcnow)


class Client(BaseModel):
    """A creditor that places accounts with the floor."""

    id = AutoField()
    code = CharField(unique=True, max_length=16)
    name = CharField()
    currency = CharField(max_length=3, default="USD")
    min_installment_minor = BigIntegerField(default=1000)
    max_installments = IntegerField(default=36)
    max_days_to_first_payment = IntegerField(default=30)
    settlement_floor_percent = IntegerField(default=60)


class Debtor(BaseModel):
    id = AutoField()
    first_name = CharField()
    last_name = CharField()
    search_name = CharField()  # indexed with the date of birth (debtor_name_born), which serves prefix search
    """Lower-case, accent-free "last first" for prefix search."""
    date_of_birth = DateField(null=True)
    national_id = CharField(null=True)
    email = CharField(null=True)


class Address(BaseModel):
    id = AutoField()
    debtor = ForeignKeyField(Debtor, backref="addresses", on_delete="CASCADE", index=False)  # address_debtor
    line1 = CharField()
    line2 = CharField(null=True)
    city = CharField()
    region = CharField(null=True)
    """ISO 3166-2 subdivision without the country (`MA`, `CA`, `SCT`)."""
    postcode = CharField(null=True)
    country = CharField(max_length=2)
    time_zone = CharField(null=True)
    """IANA zone of the address; compliance uses it for contact hours."""
    is_primary = BooleanField(default=True)
    status = CharField(default="good")
    """good, or bad (returned mail)."""


class Phone(BaseModel):
    id = AutoField()
    debtor = ForeignKeyField(Debtor, backref="phones", on_delete="CASCADE", index=False)  # phone_debtor
    number = CharField(index=True)
    """E.164, e.g. +16175550123."""
    kind = CharField(default="mobile")
    status = CharField(default="good")
    consent = BooleanField(default=False)
    """The debtor agreed to calls on this number (mobiles: autodialled calls)."""
    employer_forbids_calls = BooleanField(default=False)


class Account(BaseModel):
    id = AutoField()
    reference = CharField(unique=True, max_length=32)
    client = ForeignKeyField(Client, backref="accounts", on_delete="RESTRICT", index=False)  # (client, reference)
    client_reference = CharField()
    debtor = ForeignKeyField(Debtor, backref="accounts", on_delete="RESTRICT")
    original_creditor = CharField(null=True)
    currency = CharField(max_length=3, default="USD")
    jurisdiction = CharField(max_length=10, default="US")
    """Country, or country-region (`US-MA`, `GB-SCT`), whose rules apply."""
    placed_on = DateField()
    delinquency_date = DateField(null=True)
    """Date of first delinquency."""
    last_payment_date = DateField(null=True)
    last_acknowledged_date = DateField(null=True)
    """Last written acknowledgement of the debt (restarts limitation, like a payment)."""
    status = CharField(default="open")
    balance_minor = BigIntegerField(default=0)
    """Always the sum of the account's ledger entries; kept here in the same transaction."""

    # Hold flags.
    dispute = BooleanField(default=False)
    dispute_verified_at = DateTimeField(null=True)
    cease = BooleanField(default=False)
    bankruptcy = BooleanField(default=False)
    deceased = BooleanField(default=False)
    vulnerable = BooleanField(default=False)
    attorney_represented = BooleanField(default=False)
    breathing_space_until = DateField(null=True)
    validation_sent_at = DateTimeField(null=True)

    # Assignment and claim (a lease).
    team = ForeignKeyField(Team, null=True, backref="accounts", on_delete="SET NULL", index=False)  # (team, status)
    assigned_officer = ForeignKeyField(Officer, null=True, backref="assigned", on_delete="SET NULL")
    claimed_by = ForeignKeyField(Officer, null=True, backref="claims", on_delete="SET NULL")
    claimed_at = DateTimeField(null=True)
    claim_expires_at = DateTimeField(null=True)

    # Facts the queue needs, denormalised so a claim is an index range scan.
    last_contact_at = DateTimeField(null=True)
    callback_at = DateTimeField(null=True)
    promise_due_on = DateField(null=True)
    priority = BigIntegerField(default=0)
    """Strategy score; higher is worked first."""
    queue_priority = BigIntegerField(null=True)
    """`priority` while the account may be handed out; NULL while claimed, blocked or
    waiting, so claimed rows leave the claim index instead of piling up in it."""
    next_call_at = DateTimeField(null=True)
    """When a waiting account may next be called (frequency caps, callbacks); NULL with
    `queue_priority` NULL means held indefinitely."""
    callable_zone = CharField(null=True)
    """Zone key for contact hours: an IANA zone, or several joined by `|` when unsure."""
    attempts_in_window = IntegerField(default=0)
    queue_reason = CharField(null=True)
    """Why the account is out of the queue, in words for the officer."""

    class Meta:
        indexes = ((("debtor",), False), (("client", "client_reference"), True))


class LedgerEntry(BaseModel):
    """Append-only: the database refuses UPDATE and DELETE. A mistake is reversed."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="ledger", on_delete="RESTRICT", index=False)  # (account, id)
    kind = CharField()
    bucket = CharField(default="principal")
    amount_minor = BigIntegerField()
    """Signed: positive increases what the debtor owes, negative reduces it."""
    effective_date = DateField()
    posted_at = DateTimeField(default=utcnow)
    reference = CharField(null=True)
    idempotency_key = CharField(null=True, unique=True)
    method = CharField(null=True)
    reverses = ForeignKeyField("self", null=True, unique=True, backref="reversed_by", on_delete="RESTRICT")
    officer = ForeignKeyField(Officer, null=True, on_delete="RESTRICT", index=False)  # (officer, posted_at)
    memo = TextField(null=True)
    batch = CharField(null=True)
    """Entries posted together share it: a payment split over balance buckets."""


class Activity(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="activities", on_delete="CASCADE", index=False)  # (account, started_at)
    kind = CharField()
    disposition = CharField(null=True)
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL", index=False)  # (officer, started_at)
    phone = ForeignKeyField(Phone, null=True, on_delete="SET NULL")
    direction = CharField(default="outbound")
    started_at = DateTimeField(default=utcnow)
    ended_at = DateTimeField(null=True)
    counts_as_attempt = BooleanField(default=False)
    """An initiated call counted by the frequency caps."""
    right_party_contact = BooleanField(default=False)
    debtor_requested = BooleanField(default=False)
    """A call the debtor asked for (callback at their time): not counted, not blocked."""
    note = TextField(null=True)
    external_id = CharField(null=True)
    """A dialer's (or another system's) id for the call: the same call imported twice is one."""

    class Meta:
        indexes = ((("account", "started_at"), False),)


class Promise(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="promises", on_delete="CASCADE")
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL", index=False)  # (officer, created_at)
    amount_minor = BigIntegerField()
    due_on = DateField()
    paid_minor = BigIntegerField(default=0)
    status = CharField(default="open")
    created_at = DateTimeField(default=utcnow)
    evaluated_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "due_on"), False),)


class Plan(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="plans", on_delete="CASCADE")
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    status = CharField(default="active")
    frequency = CharField()
    amount_due_minor = BigIntegerField()
    deposit_minor = BigIntegerField(default=0)
    discount_basis_points = IntegerField(default=0)
    apr_basis_points = IntegerField(default=0)
    missed_count = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    approved_by = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    settled_minor = BigIntegerField(null=True)
    """What the plan settles the debt for (the amount due less any discount)."""
    statement = TextField(null=True)
    """Income and expenditure statement (JSON) the plan was agreed on."""


class Installment(BaseModel):
    id = AutoField()
    plan = ForeignKeyField(Plan, backref="installments", on_delete="CASCADE", index=False)  # (plan, number)
    number = IntegerField()
    due_on = DateField()
    amount_minor = BigIntegerField()
    interest_minor = BigIntegerField(default=0)
    principal_minor = BigIntegerField()
    paid_minor = BigIntegerField(default=0)
    status = CharField(default="open")
    carried_minor = BigIntegerField(default=0)
    """A shortfall brought forward from an earlier installment: due on top of `amount_minor`."""

    class Meta:
        indexes = ((("plan", "number"), True), (("status", "due_on"), False))


class Letter(BaseModel):
    """The letter outbox: queued by a request, rendered by a worker, then never changed."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="letters", on_delete="CASCADE", index=False)  # (account, template)
    template = CharField()
    template_version = CharField(null=True)
    recipient_kind = CharField(default="debtor")
    status = CharField(default="queued")
    inputs = TextField(default="{}")
    requested_by = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    requested_at = DateTimeField(default=utcnow)
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(null=True)
    worker = CharField(null=True)
    lease_expires_at = DateTimeField(null=True)
    rendered_at = DateTimeField(null=True)
    path = CharField(null=True)
    pages = IntegerField(null=True)
    sha256 = CharField(null=True)
    render_ms = IntegerField(null=True)
    error = TextField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False), (("account", "template"), False))


class LegalCase(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="legal_cases", on_delete="CASCADE", index=False)  # (account, closed_at)
    stage = CharField(default="review")
    opened_at = DateTimeField(default=utcnow)
    stage_changed_at = DateTimeField(default=utcnow)
    court_reference = CharField(null=True)
    solicitor = CharField(null=True)
    closed_at = DateTimeField(null=True)
    previous_status = CharField(null=True)
    """The account's status before the case opened, given back when it closes."""


class Approval(BaseModel):
    id = AutoField()
    kind = CharField()
    """settlement, write_off, plan_outside_policy, override, legal_referral."""
    account = ForeignKeyField(Account, null=True, backref="approvals", on_delete="CASCADE")
    requested_by = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    requested_at = DateTimeField(default=utcnow)
    amount_minor = BigIntegerField(null=True)
    payload = TextField(default="{}")
    status = CharField(default="pending")
    decided_by = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    reason = TextField(null=True)

    class Meta:
        indexes = ((("status", "requested_at"), False),)


class AuditEvent(BaseModel):
    """Who did what to which record, appended in the same transaction as the write."""

    id = AutoField()
    at = DateTimeField(default=utcnow)
    officer = ForeignKeyField(Officer, null=True, on_delete="RESTRICT")
    actor = CharField()
    """The officer's username, or `cli:<os user>` / `system:<job>` for tools."""
    action = CharField()
    entity = CharField()
    entity_id = BigIntegerField(null=True)
    account = ForeignKeyField(Account, null=True, on_delete="RESTRICT", index=False)  # (account, at) serves
    changes = TextField(null=True)
    """JSON: {"field": [before, after], …} or a description of what was written."""

    class Meta:
        indexes = ((("account", "at"), False), (("entity", "entity_id"), False))


MODELS = [
    SchemaVersion, Team, Officer, Client, Debtor, Address, Phone, Account, LedgerEntry,
    Activity, Promise, Plan, Installment, Letter, LegalCase, Approval, AuditEvent,
]


def _database_defaults() -> None:
    """Give every NOT NULL column with a constant Python default the same default in the
    database, so bulk inserts and imports that leave a column out still succeed."""
    from peewee import SQL

    for model in MODELS:
        if getattr(model, "_arrears_defaults", False):
            continue
        model._arrears_defaults = True
        for f in model._meta.sorted_fields:
            default = f.default
            if f.null or default is None or callable(default) or f.primary_key:
                continue
            if isinstance(default, bool):
                literal = "TRUE" if default else "FALSE"
            elif isinstance(default, int):
                literal = str(default)
            elif isinstance(default, str):
                literal = "'" + default.replace("'", "''") + "'"
            else:
                continue
            f.constraints = (f.constraints or []) + [SQL(f"DEFAULT {literal}")]


_database_defaults()


class QueueZone(BaseModel):
    """The zone keys a team's claimable accounts use: a claim checks which of them are
    inside call hours now, then seeks the best account in each (a handful of index seeks
    instead of a scan over every account)."""

    team_id = IntegerField()
    zone_key = CharField()

    class Meta:
        indexes = ((("team_id", "zone_key"), True),)
        primary_key = False


MODELS.append(QueueZone)
_database_defaults()


class Draft(BaseModel):
    """What an officer was typing (a note, a call note), kept so a dropped session loses
    nothing: restored the next time they open the account."""

    id = AutoField()
    officer = ForeignKeyField(Officer, on_delete="CASCADE", index=False)  # (officer, account, kind)
    account = ForeignKeyField(Account, on_delete="CASCADE")
    kind = CharField()
    text = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("officer", "account", "kind"), True),)


MODELS.append(Draft)
_database_defaults()


class Allocation(BaseModel):
    """Which installment or promise a payment paid, and how much. A reversed payment adds
    the same rows negated, so what an installment has been paid is the sum of its rows."""

    id = AutoField()
    account = ForeignKeyField(Account, on_delete="CASCADE")
    payment = ForeignKeyField(LedgerEntry, on_delete="RESTRICT")
    """The payment's first ledger entry (its batch names the rest)."""
    installment = ForeignKeyField(Installment, null=True, on_delete="CASCADE")
    promise = ForeignKeyField(Promise, null=True, on_delete="CASCADE")
    amount_minor = BigIntegerField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("payment",), False), (("account",), False))


MODELS.append(Allocation)
_database_defaults()


class SshKey(BaseModel):
    """An officer's SSH public key: the key is how the server knows who connected, through
    the forced command written for it into the service account's `authorized_keys`."""

    id = AutoField()
    officer = ForeignKeyField(Officer, backref="ssh_keys", on_delete="CASCADE")
    algorithm = CharField(max_length=64)
    """The key type as OpenSSH writes it, e.g. `ssh-ed25519`."""
    blob = TextField()
    """The key itself, base64, exactly as parsed (never the pasted line)."""
    fingerprint = CharField(unique=True, max_length=64)
    """`SHA256:…` as `ssh-keygen -l` prints it; one key opens one officer's Arrears."""
    comment = CharField(default="")
    added_at = DateTimeField(default=utcnow)


MODELS.append(SshKey)
_database_defaults()


class Presence(BaseModel):
    """One officer's session and what they are doing in it, for the team leads' floor.
    A session that stops renewing its lease (killed, cut off) stops counting as present."""

    id = AutoField()
    officer = ForeignKeyField(Officer, on_delete="CASCADE", index=False)  # (officer, expires_at)
    session = CharField(unique=True, max_length=80)
    """host:pid:random, so two sessions of one officer are told apart."""
    state = CharField(default="queue")
    """queue (idle in the queue), account (working one), wrap_up (after a call), logged_out."""
    account = ForeignKeyField(Account, null=True, on_delete="SET NULL")
    since = DateTimeField(default=utcnow)
    """When the current state began."""
    last_key_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("officer", "expires_at"), False),)


MODELS.append(Presence)
_database_defaults()


class LegalStep(BaseModel):
    """One stage a legal case entered: when, by whom, why, and the letter it sent."""

    id = AutoField()
    case = ForeignKeyField(LegalCase, backref="steps", on_delete="CASCADE", index=False)  # (case, entered_at)
    stage = CharField()
    entered_at = DateTimeField(default=utcnow)
    officer = ForeignKeyField(Officer, null=True, on_delete="SET NULL")
    note = TextField(null=True)
    letter = ForeignKeyField(Letter, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("case", "entered_at"), False),)


MODELS.append(LegalStep)
_database_defaults()


PARTY_ROLES = ("co_debtor", "guarantor", "employer", "attorney", "third_party")


class RelatedParty(BaseModel):
    """Someone else on an account: a co-debtor or guarantor (who also owes), the debtor's
    employer, the solicitor or attorney of record, or a third party the debtor has
    authorised the floor to speak to."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="parties", on_delete="CASCADE", index=False)  # (account, active)
    role = CharField()
    name = CharField()
    phone = CharField(null=True)
    """E.164."""
    email = CharField(null=True)
    address = TextField(null=True)
    reference = CharField(null=True)
    """The party's own reference (a firm's matter number, an employee number)."""
    note = TextField(null=True)
    active = BooleanField(default=True)
    added_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "active"), False),)


MODELS.append(RelatedParty)
_database_defaults()

