"""Configuration: the one pydantic-settings `Settings` and the `load_settings` factory."""

from config.settings import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
