"""Which port a running server listens on: a small file in the data folder, and a health probe.

A server writes `server.json` ({"port", "pid"}) into its data folder once it listens and removes it when it
stops, so `crosscurrent open` finds it whatever port it was started on. A file left by a server that died
is harmless: every port is confirmed with GET /api/health before it is used.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

PORT_FILE = "server.json"


def url_of(port: int, path: str = "/") -> str:
    return f"http://127.0.0.1:{port}{path}"


def announce(data_dir: Path, port: int) -> None:
    """Record that this process serves `data_dir` on `port`."""
    path = Path(data_dir) / PORT_FILE
    try:
        path.write_text(json.dumps({"port": port, "pid": os.getpid()}), encoding="utf-8")
    except OSError as exc:  # a read-only folder only costs `crosscurrent open` its hint
        log.warning("could not write %s: %s", path, exc)


def withdraw(data_dir: Path, port: int) -> None:
    """Remove the record, unless another server has replaced it since."""
    if announced(data_dir) == {"port": port, "pid": os.getpid()}:
        (Path(data_dir) / PORT_FILE).unlink(missing_ok=True)


def announced(data_dir: Path) -> dict | None:
    """{"port", "pid"} as written by a server of this data folder, or None."""
    try:
        record = json.loads((Path(data_dir) / PORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(record, dict) and isinstance(record.get("port"), int) and 0 < record["port"] < 65536:
        return record
    return None


def probe(port: int, timeout: float = 1.0) -> dict | None:
    """The health answer of a Crosscurrent server on this port, or None."""
    try:
        with urllib.request.urlopen(url_of(port, "/api/health"), timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return body if isinstance(body, dict) and body.get("name") == "crosscurrent" else None


def ui_ticket(port: int, ui_key: str, timeout: float = 2.0) -> str | None:
    """A single-use sign-in ticket from the server on `port`, asked for with this data folder's UI key in
    a header; None when no server answers or it refuses the key (a server of another data folder)."""
    # Here, not at the top: `crosscurrent` imports this module for every command, and a process an import
    # starts (spawned) imports it again; the security module brings Flask (0.2 s) with it.
    from .security import KEY_HEADER

    request = urllib.request.Request(url_of(port, "/api/ui-ticket"), data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json", KEY_HEADER: ui_key})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ticket = json.loads(response.read(4096)).get("ticket")
    except (OSError, ValueError, AttributeError):
        return None
    return ticket if isinstance(ticket, str) and ticket else None


def accepts_key(port: int, ui_key: str, timeout: float = 2.0) -> bool:
    """Whether the server on `port` signs in with this data folder's UI key (a server of another data
    folder answers /api/health too, but refuses the key)."""
    return ui_ticket(port, ui_key, timeout) is not None


def find_server(data_dir: Path, port: int, ui_key: str) -> tuple[int | None, list[str]]:
    """The port of the server of this data folder: the announced one first, then `port` (the setting).

    Returns (port or None, one line per port tried saying what answered there)."""
    candidates: list[tuple[int, str]] = []
    record = announced(data_dir)
    if record:
        candidates.append((record["port"], f"written in {Path(data_dir) / PORT_FILE}"))
    if port not in [p for p, _ in candidates]:
        candidates.append((port, "the --port / CROSSCURRENT_PORT setting"))
    tried = []
    for candidate, source in candidates:
        if probe(candidate) is None:
            tried.append(f"{candidate} ({source}): no Crosscurrent server answers")
        elif not accepts_key(candidate, ui_key):
            tried.append(f"{candidate} ({source}): a Crosscurrent server of another data folder")
        else:
            return candidate, tried
    return None, tried
