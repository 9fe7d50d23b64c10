"""The layers: db, letters and config never import Textual; db imports no higher layer."""

import subprocess
import sys


def test_core_packages_do_not_import_textual():
    code = ("import db, letters, config, sys; "
            "import db.models, db.ledger, db.audit, db.money, db.officers, db.demo, db.migrations; "
            "import tui.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_db_does_not_import_tui_or_letters():
    code = ("import sys, pkgutil, importlib, db; "
            "[importlib.import_module('db.' + m.name) for m in pkgutil.iter_modules(db.__path__)]; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('tui', 'letters', 'textual')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_officer_app_does_not_import_pdf_or_fake_data_libraries():
    code = ("import sys; import tui.app, tui.screens.queue, tui.screens.account, tui.screens.forms, "
            "tui.screens.search, tui.screens.help; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'faker')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
