"""Every setting, declared once: name, environment variable, default and help.

`docs/settings.md` and `crosscurrent --help` are checked against this table by the tests.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: object
    help: str
    type: type = str


def default_data_dir() -> Path:
    """The platform's usual place for an application's data."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Crosscurrent"
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", home / "AppData" / "Roaming")) / "Crosscurrent"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "crosscurrent"


def default_cache_dir() -> Path:
    """The platform's usual place for files an application can always make again."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "Crosscurrent"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "Crosscurrent" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "crosscurrent"


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "CROSSCURRENT_DATA", None,
            "Folder holding the database and keys (default: the platform's data folder, e.g. "
            "~/.local/share/crosscurrent on Linux).", Path),
    Setting("port", "CROSSCURRENT_PORT", 7412,
            "Port of the local server; it always listens on 127.0.0.1 only.", int),
    Setting("model", "CROSSCURRENT_MODEL", "all-MiniLM-L6-v2",
            "Embedding model: all-MiniLM-L6-v2 (bundled, offline) or 'hash' (no model; tests and dry runs).", str),
    Setting("cache_dir", "CROSSCURRENT_CACHE", None,
            "Folder for files made again when missing: the embedding model prepared for ONNX Runtime "
            "(default: the platform's cache folder, e.g. ~/.cache/crosscurrent on Linux).", Path),
    Setting("max_page_mb", "CROSSCURRENT_MAX_PAGE_MB", 15,
            "Largest page HTML accepted by a capture, in megabytes.", int),
    Setting("log_level", "CROSSCURRENT_LOG_LEVEL", "INFO",
            "Logging level: DEBUG, INFO, WARNING or ERROR.", str),
)

BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(overrides: dict | None = None, environ=None) -> dict:
    """Defaults, then environment variables, then explicit overrides (CLI options, test config)."""
    environ = os.environ if environ is None else environ
    values: dict = {}
    for setting in SETTINGS:
        value = setting.default
        raw = environ.get(setting.env)
        if raw not in (None, ""):
            try:
                value = setting.type(raw)
            except ValueError:
                raise ValueError(f"{setting.env}={raw!r} is not a valid {setting.type.__name__}") from None
        values[setting.name] = value
    for key, value in (overrides or {}).items():
        if key not in BY_NAME:
            raise KeyError(f"unknown setting {key!r}")
        if value is not None:
            values[key] = BY_NAME[key].type(value)
    if values["data_dir"] is None:
        values["data_dir"] = default_data_dir()
    values["data_dir"] = Path(values["data_dir"]).expanduser()
    if values["cache_dir"] is None:
        values["cache_dir"] = default_cache_dir()
    values["cache_dir"] = Path(values["cache_dir"]).expanduser()
    return values
