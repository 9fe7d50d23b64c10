"""Add a related party to the account (`y`): a co-debtor, guarantor, employer, the attorney
of record (which stops collection calls to the debtor) or an authorised third party."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from db.parties import ROLE_LABELS
from tui.screens.forms import Form


class PartyForm(Form):
    TITLE_TEXT = "Add a party"

    def fields(self) -> ComposeResult:
        yield OptionList(*(Option(label, id=role) for role, label in ROLE_LABELS.items()), id="party-role")
        yield Input(placeholder="Name (a firm: the firm and the person)", id="party-name", max_length=120)
        yield Input(placeholder="Phone", id="party-phone", max_length=30)
        yield Input(placeholder="E-mail", id="party-email", max_length=254)
        yield Input(placeholder="Their reference (matter number, employee number)", id="party-ref", max_length=60)

    def on_mount(self) -> None:
        roles = self.query_one(OptionList)
        roles.highlighted = 0
        roles.focus()

    def prepare(self):
        from db.parties import PartyError, add_party

        roles = self.query_one(OptionList)
        role = roles.get_option_at_index(roles.highlighted).id if roles.highlighted is not None else None
        if role is None:
            raise ValueError("Pick the party's role")
        value = lambda name: self.query_one(f"#party-{name}", Input).value  # noqa: E731
        if not value("name").strip():
            raise ValueError("Give the party's name")
        app, actor, account_id = self.app, self.actor, self.file.id
        name, phone, email, ref = value("name"), value("phone"), value("email"), value("ref")

        def save() -> None:
            try:
                add_party(app.settings, actor, account_id, role, name, phone=phone, email=email, reference=ref,
                          at=app.clock())
            except PartyError as exc:
                raise ValueError(str(exc)) from None
            if role == "attorney":
                app.ui(app.notify, "Attorney of record: collection calls to the debtor stop; contact the attorney",
                       title="Party", markup=False)
        return save
