"""Settings: environment, TOML file, precedence, and one clear line for a bad setting."""

import os
import subprocess
import sys

import pytest

from config import SettingsError, load_settings


def test_defaults_are_usable():
    s = load_settings()
    assert s.compliance.call_hours.start.hour == 8
    assert s.compliance.attempts.max_calls == 7
    assert s.compliance.jurisdictions["US-MA"].home_mobile_attempts.max_calls == 2
    assert s.queue.lease_minutes == 15
    assert s.database.resolved_url().startswith("sqlite:///")


def test_environment_with_nested_sections(monkeypatch):
    monkeypatch.setenv("ARREARS_QUEUE__LEASE_MINUTES", "20")
    monkeypatch.setenv("ARREARS_LOCALE__CURRENCY", "gbp")
    monkeypatch.setenv("ARREARS_DATABASE__URL", "postgresql://postgres@127.0.0.1:5432/floor")
    s = load_settings()
    assert s.queue.lease_minutes == 20
    assert s.locale.currency == "GBP"
    assert s.database.resolved_url() == "postgresql://postgres@127.0.0.1:5432/floor"


def test_toml_file_and_precedence(tmp_path, monkeypatch):
    cfg = tmp_path / "site.toml"
    cfg.write_text('[queue]\nlease_minutes = 30\n[locale]\ncurrency = "EUR"\nlocale = "de_DE"\n')
    s = load_settings(cfg)
    assert (s.queue.lease_minutes, s.locale.currency) == (30, "EUR")
    monkeypatch.setenv("ARREARS_QUEUE__LEASE_MINUTES", "5")  # environment beats the file
    assert load_settings(cfg).queue.lease_minutes == 5
    monkeypatch.setenv("ARREARS_CONFIG", str(cfg))
    assert load_settings().locale.currency == "EUR"


def test_local_file_is_found(tmp_path):
    (tmp_path / "home" / "arrears.toml").write_text("[floor]\naway_minutes = 3\n")
    assert load_settings().floor.away_minutes == 3


@pytest.mark.parametrize(
    "env, text",
    [
        ({"ARREARS_DATABASE__URL": "nonsense://"}, "setting database.url (ARREARS_DATABASE__URL)"),
        ({"ARREARS_DATABASE__URL": "sqlite:///:memory:"}, "database.url"),
        ({"ARREARS_QUEUE__LEASE_MINUTES": "0"}, "setting queue.lease_minutes"),
        ({"ARREARS_LOCALE__CURRENCY": "XYZ"}, "'XYZ' is not an ISO 4217 currency code"),
        ({"ARREARS_LOCALE__TIME_ZONE": "Mars/Olympus"}, "not an IANA time zone"),
        ({"ARREARS_QUEUE__DEFAULT_STRATEGY": "nope"}, "default_strategy 'nope'"),
    ],
)
def test_bad_settings_name_the_setting(monkeypatch, env, text):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert text in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_setting_in_file(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[queue]\nlease_minuts = 3\n")
    with pytest.raises(SettingsError, match="queue.lease_minuts.*not a setting"):
        load_settings(cfg)


def test_broken_toml_and_missing_file(tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[queue\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(cfg)
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_cli_bad_setting_is_one_line_exit_2(tmp_path):
    env = {**os.environ, "ARREARS_DATABASE__URL": "nonsense://"}
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "db", "upgrade"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "database.url" in lines[0] and "Traceback" not in proc.stderr


def test_example_config_documents_every_setting():
    """The example file parses, and every setting it lists exists (extra=forbid)."""
    from pathlib import Path

    import config

    example = Path(config.__file__).parent / "arrears.example.toml"
    s = load_settings(example)
    assert s.queue.lease_minutes == 15
    text = example.read_text()
    for section in ("database", "compliance", "queue", "floor", "letters", "locale"):
        assert f"[{section}]" in text
    for field in ("url", "pool_size", "busy_timeout_ms", "lease_minutes", "away_minutes", "page_size",
                  "currency", "time_zone", "limitation_years", "breathing_space_days"):
        assert field in text
