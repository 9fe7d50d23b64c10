"""The officer's screens, driven with Textual's Pilot at 80x24 on a small floor with a
frozen clock: every key does what the footer says, and the database holds the result."""

import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from config import load_settings
from db.audit import Actor
from db.models import Account, Activity, AuditEvent, Phone
from db.queue import refresh_all
from tests import floor

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
HOSTILE = "Smith [/b] [@click=app.quit]x[/]"


@pytest.fixture
def office(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    bob = floor.officer("bob", team)
    big = floor.account(team, balance=9_000_00, dpd=300)
    small = floor.account(team, balance=50_00, dpd=20, phones=(("+12125550199", "home", "good"),))
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    return {"alice": alice, "bob": bob, "big": big, "small": small}


def make_app(officer):
    from tui.app import ArrearsApp

    return ArrearsApp(load_settings(), officer, clock=lambda: NOON_NY, background=False)


async def settle(pilot):
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def drawn_lines(app) -> list[str]:
    """The screen's lines as they are drawn (the widgets' last renders, not fresh ones)."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:
    return "\n".join(str(s.render()) for s in app.screen.query(Static))


async def test_queue_lists_work_and_n_claims_the_best(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        assert app.screen.account_id == office["big"].id
        assert Account.get_by_id(office["big"].id).claimed_by_id == office["alice"].id
        assert AuditEvent.select().where(AuditEvent.action == "account.view").count() == 1
        # What `escape` shows at once, before the rows are read again: the queue's own line,
        # not the "Finding…" of the `n` that has done its work.
        await pilot.press("escape")
        assert type(app.screen).__name__ == "QueueScreen"
        queue_line = str(app.screen.query_one("#queue-status", Static).render())
        assert queue_line.startswith("2 accounts · bucket all"), queue_line
        await settle(pilot)
        await pilot.press("ctrl+q")
    assert Account.get_by_id(office["big"].id).claimed_by_id is None  # released on quit


async def test_a_closed_form_is_freed_while_the_officer_reads_the_queue(office):
    import gc
    import weakref

    from tui.app import GARBAGE_PAUSE

    app = make_app(office["alice"])
    thresholds = gc.get_threshold()
    gc.set_threshold(10**9)  # no collection but the app's own
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("n")
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            form = weakref.ref(app.screen)
            assert type(form()).__name__ == "NoteForm"
            await pilot.press("escape", "escape")
            await settle(pilot)
            await pilot.pause(GARBAGE_PAUSE + 0.2)
            assert type(app.screen).__name__ == "QueueScreen"
            assert form() is None, "the note form's widgets are still in memory"
    finally:
        gc.set_threshold(*thresholds)


async def test_the_account_screen_is_built_once_and_shows_only_the_account_opened(office):
    """The kept account screen shows the second account and nothing of the first: header,
    phones, history, money and addresses, and the focus and scroll of a new screen."""
    from textual.containers import VerticalScroll

    big, small = office["big"], office["small"]
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(big.id)
        await settle(pilot)
        first = app.screen
        big_text = screen_text(app)
        first.query_one("#account-panels", VerticalScroll).scroll_end(animate=False, immediate=True)
        await pilot.press("c", "1", "ctrl+s")  # a no-answer call: history the second must not show
        await settle(pilot)
        await pilot.press("h")  # a history filter of the first account's
        await settle(pilot)
        assert first.query_one("#history", DataTable).row_count >= 1
        await pilot.press("escape")
        await settle(pilot)
        app.open_account(small.id)
        await settle(pilot)
        assert app.screen is first
        assert app.screen.account_id == small.id
        assert app.screen.history_filter == 0
        assert app.screen.query_one("#account-panels", VerticalScroll).scroll_y == 0
        text = screen_text(app)
        assert small.reference in text and big.reference not in text, text
        assert "Loading" not in text
        history = app.screen.query_one("#history", DataTable)
        assert [str(history.get_row_at(0)[1])] == ["no all"]  # the first account's calls are not there
        phones = app.screen.query_one("#phones", DataTable)
        assert [str(phones.get_row_at(i)[0]) for i in range(phones.row_count)] == ["+12125550199"]
        assert big.reference in big_text
        # A read of the first account still in flight when it closed lands after the switch:
        # it is dropped, not shown over the second account.
        from tui.screens.account import read_account

        late, _ = read_account(app, big.id, first=False)
        app.screen._show_current(big.id, late)
        app.screen._opened(big.id, late, ["note"])
        app.screen._show_history(0, late.history, 0, big.id)
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        assert screen_text(app) == text


async def test_log_a_no_answer_call_and_a_note(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("1")  # No answer
        await pilot.press("ctrl+s", "ctrl+s")  # a double press records once
        await settle(pilot)
        calls = list(Activity.select().where(Activity.account == office["big"].id, Activity.kind == "call_attempt"))
        assert [(c.disposition, c.officer_id, c.counts_as_attempt) for c in calls] == [("no_answer", office["alice"].id, True)]
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Promised to ring back")
        await pilot.press("ctrl+s")
        await settle(pilot)
        note = Activity.get(Activity.kind == "note")
        assert note.note == "Promised to ring back"
        history = app.screen.query_one("#history", DataTable)
        assert history.row_count == 2


async def test_enter_opens_highlighted_or_says_who_holds_it(office):
    from db.queue import claim

    claim(load_settings(), office["bob"], office["big"].id, NOON_NY)
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        keys = [row.value for row in table.rows]
        assert str(office["big"].id) not in keys  # held by bob: not in alice's work
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.account_id == office["small"].id
    with_bob = make_app(office["alice"])
    async with with_bob.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with_bob.open_account(office["big"].id)
        await settle(pilot)
        assert type(with_bob.screen).__name__ == "QueueScreen"
        assert any("Bob" in str(n.message) for n in with_bob._notifications)


async def test_search_by_phone_in_any_format_opens_the_account(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"(212) 555-0199")
        await settle(pilot)
        results = app.screen.query_one("#search-results", DataTable)
        assert results.row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.account_id == office["small"].id


async def test_help_lists_the_screens_keys(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(app)
        for words in ("Next", "Open", "Refresh", "Bucket", "Quit", "Search", "Command palette"):
            assert words in text
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "QueueScreen"


async def test_release_and_flag(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("down")  # cease
        await pilot.press("tab", *"Debtor wrote asking us to stop", "ctrl+s")
        await settle(pilot)
        acct = Account.get_by_id(office["big"].id)
        assert acct.cease is True
        assert "CEASE" in screen_text(app)
        await pilot.press("x")
        await settle(pilot)
        assert Account.get_by_id(office["big"].id).claimed_by_id is None


async def test_hostile_names_and_notes_are_shown_literally(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    acct = floor.account(team)
    from db.models import Debtor

    Debtor.update(first_name=HOSTILE, last_name="\x1b[2J\u202eevil \U0001F600 مرحبا").where(
        Debtor.id == acct.debtor_id).execute()
    from db.activity import add_note

    add_note(Actor.for_officer(alice), acct.id, "[bold]x" * 700 + "\x1b]52;c;Zm9v\x07", at=NOON_NY)
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    app = make_app(alice)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        from tui.screens.queue import QUEUE_COLUMNS

        line = str(table.get_row_at(0)[0])
        debtor_at = QUEUE_COLUMNS[0][1] + 2
        assert line[debtor_at:].startswith("Smith [/b] [@clic")  # literal, cut to the column
        assert "\x1b" not in line and "\u202e" not in line
        await pilot.press("n")
        await settle(pilot)
        header = str(app.screen.query_one("#account-header", Static).render())
        assert HOSTILE in header and "\x1b" not in header and "\u202e" not in header
        assert app.is_running


async def test_a_note_being_typed_is_kept_as_a_draft_and_restored(office):
    from db.models import Draft

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Debtor says the cheque is in the post")
        await pilot.pause(2.0)  # typing pauses: the draft is saved
        await settle(pilot)
        assert Draft.get().text == "Debtor says the cheque is in the post"
    # the session is gone without saving; next time the note comes back
    again = make_app(office["alice"])
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        again.open_account(office["big"].id)
        await settle(pilot)
        await settle(pilot)
        from textual.widgets import TextArea

        assert again.screen.query_one(TextArea).text == "Debtor says the cheque is in the post"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Draft.select().count() == 0
        assert Activity.get(Activity.kind == "note").note == "Debtor says the cheque is in the post"


async def test_a_draft_comes_back_on_the_kept_account_screen_too(office):
    """The second account opened in a session reuses the first one's screen: a draft left on
    it opens its form above that account, not beneath it or on the account before."""
    from textual.widgets import TextArea

    from db.drafts import save_draft

    save_draft(Actor.for_officer(office["alice"]), office["small"].id, "note", "Ring after six")
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(office["big"].id)
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"  # big has no draft
        await pilot.press("escape")
        await settle(pilot)
        app.open_account(office["small"].id)
        await settle(pilot)
        await settle(pilot)
        assert type(app.screen).__name__ == "NoteForm"
        assert app.screen.query_one(TextArea).text == "Ring after six"
        assert app.screen_stack[-2] is app.get_screen("account")
        assert app.screen_stack[-2].account_id == office["small"].id
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [(a.account_id, a.note) for a in Activity.select().where(Activity.kind == "note")] == \
            [(office["small"].id, "Ring after six")]


async def test_every_screen_key_is_in_the_command_palette(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for words in ("queue: Next", "queue: Open", "queue: Refresh", "queue: Bucket"):
            assert words in titles
        assert not any("screenshot" in t.lower() for t in titles)
        await pilot.press("n")
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for words in ("account: Log call", "account: Note", "account: Callback", "account: Flag",
                      "account: Mark phone", "account: Release", "account: Queue"):
            assert words in titles


async def test_marking_a_phone_wrong_number(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("tab", "down", "down", "tab", *"says not the debtor", "ctrl+s")
        await settle(pilot)
        phone = Phone.get(Phone.debtor == office["big"].debtor_id)
        assert phone.status == "wrong_number"
        assert AuditEvent.select().where(AuditEvent.action == "phone.status").count() == 1


async def test_an_unexpected_error_never_shows_a_traceback(office, tmp_path):
    app = make_app(office["alice"])
    printed = []
    app._print_error_renderables = lambda: printed.extend(app._exit_renderables)
    with pytest.raises(RuntimeError):  # Pilot re-raises for the test; a real session just ends
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app._handle_exception(RuntimeError("boom with customer data"))
            await pilot.pause()
    rendered = " ".join(str(r) for r in printed + app._exit_renderables)
    assert "unexpected error" in rendered and "boom" not in rendered and "Traceback" not in rendered


async def test_call_script_and_identity_before_a_conversation(office):
    from textual.widgets import Static as StaticWidget

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        script = str(app.screen.query_one("#call-script", StaticWidget).render())
        assert "First contact" in script and "This is an attempt to collect a debt" in script
        assert "[ ] Verify identity" in script
        await pilot.press("7")  # promise to pay: a conversation
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Confirm the debtor's identity first" in str(app.screen.query_one("#form-error", StaticWidget).render())
        assert not Activity.select().where(Activity.kind == "conversation").exists()
        await pilot.press("t")  # a third party answered: the script changes
        script = str(app.screen.query_one("#call-script", StaticWidget).render())
        assert "do NOT disclose the debt" in script
        await pilot.press("s", "v")
        script = str(app.screen.query_one("#call-script", StaticWidget).render())
        assert "[x] Verify identity" in script
        await pilot.press("7", "ctrl+s")
        await settle(pilot)
        talk = Activity.get(Activity.kind == "conversation")
        assert talk.disposition == "rpc_promise" and talk.right_party_contact


def test_custom_scripts_replace_the_packaged_ones(tmp_path):
    from config import load_settings as settings_with
    from tui.call_scripts import render_script

    (tmp_path / "voicemail.j2").write_text("Short message\n- Ask {{ debtor_first }} to call {{ agency_phone }}\n")
    (tmp_path / "third-party.j2").write_text("Broken {{ oops(\n")
    settings = settings_with(call_scripts={"directory": str(tmp_path)})
    script = render_script(settings, "voicemail", {"debtor_first": "Ann", "agency_phone": "0800 1"})
    assert script.title == "Short message" and script.steps == ["Ask Ann to call 0800 1"]
    broken = render_script(settings, "third-party", {})
    assert "cannot be shown" in broken.steps[0]
    uk = render_script(settings_with(), "first-contact", {"country": "GB", "debtor": "A B", "officer": "Al",
                                                           "agency": "X", "client": "Y", "balance": "£1",
                                                           "client_reference": "R", "reference": "Q",
                                                           "local_time": "Mon 10:00"})
    assert any("Calls are recorded" in step for step in uk.steps)
    assert not any("attempt to collect a debt" in step for step in uk.steps)


async def test_a_form_key_pressed_while_the_account_loads_opens_the_form_once_it_has(office, monkeypatch):
    import threading

    import db.worklist
    from tui.screens.account import AccountScreen

    loading = threading.Event()
    real = db.worklist.account_file

    def slow_file(*args, **kwargs):
        loading.wait(10)
        return real(*args, **kwargs)

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(db.worklist, "account_file", slow_file)
        await app.push_screen(AccountScreen(office["big"].id))
        await pilot.pause()
        await pilot.press("a")  # an officer types ahead of a slow database
        await pilot.pause()
        assert type(app.screen).__name__ == "AccountScreen"
        loading.set()
        await settle(pilot)
        assert type(app.screen).__name__ == "NoteForm"


async def test_the_keys_line_shows_what_fits_and_where_the_rest_are(office):
    from tui.widgets.key_footer import KeyFooter

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        line = app.screen.query_one(KeyFooter).render().plain
        assert line.startswith(" c Log call  a Note  b Callback")
        assert "… ? more" in line and "x Release" not in line
        assert line.rstrip().endswith("^p palette") and len(line) == 80
        await pilot.resize_terminal(260, 24)
        await settle(pilot)
        wide = app.screen.query_one(KeyFooter).render().plain
        assert "x Release" in wide and "esc Queue" in wide and "more" not in wide
        await pilot.press("escape")
        await settle(pilot)
        # The queue's own keys once it is back on top, as drawn: its keys line is not
        # redrawn while the account screen covers it, but when it comes back.
        assert app.screen.query_one(KeyFooter).render().plain.startswith(" n Next  r Refresh")
        assert drawn_lines(app)[-1].startswith(" n Next  r Refresh")
        await pilot.resize_terminal(80, 24)
        await pilot.press("n")
        await settle(pilot)
        assert drawn_lines(app)[-1].startswith(" c Log call  a Note  b Callback")
        await pilot.press("escape")
        await settle(pilot)
        assert drawn_lines(app)[-1].startswith(" n Next  r Refresh")


async def test_back_on_the_queue_the_cursor_stays_on_its_account(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    for i in range(4):
        floor.account(team, balance=(i + 1) * 1_000_00, dpd=100)
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    app = make_app(alice)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        table = app.screen.query_one(DataTable)
        chosen = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen" and app.screen.account_id == int(chosen)
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        # The opened (claimed) account now heads the queue: the cursor went with it.
        assert table.row_count == 4 and table.cursor_row == 0
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == chosen
        await pilot.press("down")
        await pilot.press("b")  # another bucket: a new list, from its top
        await settle(pilot)
        assert app.screen.query_one(DataTable).cursor_row == 0


async def test_back_on_the_queue_the_cursor_follows_its_account_when_the_order_changes(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    for i in range(4):
        floor.account(team, balance=(i + 1) * 1_000_00, dpd=100)
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    app = make_app(alice)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down")
        table = app.screen.query_one(DataTable)
        below = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        top = table.coordinate_to_cell_key((0, 0)).row_key.value
        await pilot.press("n")  # claims the best account; it leaves the queue's ready rows
        await settle(pilot)
        assert app.screen.account_id == int(top)
        await pilot.press("x")  # released: back to the queue
        await settle(pilot)
        if type(app.screen).__name__ != "QueueScreen":
            await pilot.press("escape")
            await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == below


async def test_closed_account_screens_leave_nothing_behind(office):
    """Opening accounts again and again keeps one account screen, not one per account
    (Textual's Header stayed referenced by the app's title watchers: a header and its
    caches kept per account opened)."""
    import gc

    from tui.widgets.title_bar import TitleBar

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("enter")
            await settle(pilot)
            assert type(app.screen).__name__ == "AccountScreen"
            await pilot.press("escape")
            await settle(pilot)
        gc.collect()
        alive = [o for o in gc.get_objects() if isinstance(o, TitleBar)]
        kept = app.get_screen("account")
        assert type(kept).__name__ == "AccountScreen"
        assert sorted(map(id, (bar.screen for bar in alive))) == sorted([id(app.screen), id(kept)])


async def test_a_click_on_a_key_in_the_keys_line_presses_it(office):
    from tui.widgets.key_footer import KeyFooter

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = app.screen.query_one(KeyFooter).render().plain
        await pilot.click(KeyFooter, offset=(line.index("Next"), 0))
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        assert Account.get_by_id(app.screen.account_id).claimed_by_id == office["alice"].id


async def test_a_read_that_fails_is_logged_and_the_officer_told_and_the_session_goes_on(office, caplog):
    """A background job that raises (here the queue's read, with its table gone for a
    moment) puts its traceback in the server log and tells the officer, instead of
    leaving the screen as it was without a word; the session goes on."""
    import logging

    from db.database import database

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        database.execute_sql("ALTER TABLE account RENAME TO account_away")
        try:
            with caplog.at_level(logging.ERROR, logger="arrears.tui"):
                await pilot.press("r")
                await settle(pilot)
        finally:
            database.execute_sql("ALTER TABLE account_away RENAME TO account")
        told = [str(n.message) for n in app._notifications]
        assert any(m.startswith("That did not work") and "server log" in m for m in told), told
        failed = [r for r in caplog.records if "background job (queue-load) failed" in r.getMessage()]
        assert failed and failed[0].exc_info, caplog.records  # the traceback, for whoever reads the log
        assert table.row_count == 2  # the rows read before stay on screen
        await pilot.press("r")  # and once the database answers again, the queue reads as before
        await settle(pilot)
        assert app.is_running and table.row_count == 2


async def test_a_release_that_commits_after_the_queue_is_read_again_refreshes_it(office, monkeypatch):
    """`x` goes back to the queue at once and releases in the background: when the release
    commits after the queue has been read again, the queue is read once more, and the
    account no longer shows as being worked."""
    import time

    import db.queue

    def slow_release(*args, **kwargs):
        time.sleep(0.5)  # a busy database: the queue's read comes first
        return real_release(*args, **kwargs)

    real_release = db.queue.release
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # the biggest account, claimed
        await settle(pilot)
        assert app.screen.account_id == office["big"].id
        monkeypatch.setattr(db.queue, "release", slow_release)
        await pilot.press("x")
        await settle(pilot)
        assert type(app.screen).__name__ == "QueueScreen"
        table = app.screen.query_one(DataTable)
        rows = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        big = next(row for row in rows if office["big"].reference in row)
        assert "Working now" not in big and "Call" in big, rows
        assert Account.get_by_id(office["big"].id).claimed_by_id is None


async def test_a_failed_job_the_officer_did_not_ask_for_is_logged_but_not_shown(office, caplog):
    """Telling the floor what the officer does runs on a timer: when it fails, the log has
    it and the next tick tries again; the officer is not asked to retry what they never did."""
    import logging

    def job() -> None:
        raise RuntimeError("the floor's table is locked")

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with caplog.at_level(logging.ERROR, logger="arrears.tui"):
            worker = app.run_worker(job, thread=True, group="presence", exit_on_error=False)
            while not worker.is_finished:  # (its wait() would raise the error here)
                await pilot.pause(0.02)
            await pilot.pause()
        assert any("background job (presence) failed" in r.getMessage() for r in caplog.records)
        assert not [n for n in app._notifications if "did not work" in str(n.message)]
        assert app.is_running
