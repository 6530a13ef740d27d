"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("CROSSCURRENT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
PAGES = SHARED / "pages"

# The four pages of the shared story, in capture order, with the address each was read at.
STORY_PAGES = [
    ("woodward-book-report.html", "https://capitalledger.example/2024/10/08/woodward-book-trump-putin"),
    ("asheville-recovery.html", "https://mountaincourier.example/local/biltmore-village-recovery"),
    ("kremlin-test-machines.html", "https://dailynews.example/politics/kremlin-trump-covid-test-machines"),
    ("kremlin-denies-calls.html",
     "https://eveningwire.example/world/kremlin-denies-trump-putin-calls?utm_source=feed&utm_medium=rss"),
]


def page_html(name: str) -> str:
    path = PAGES / name
    if not path.exists():
        pytest.skip(f"shared test pages not found at {PAGES} (set CROSSCURRENT_SHARED)")
    return path.read_text(encoding="utf-8")


def issue_token(app) -> str:
    from server.pairing import new_code, redeem_code

    store = app.extensions["crosscurrent"].store
    return redeem_code(store, new_code(store), "test browser", "chrome-extension://testextensionid")["token"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real HTTP server on 127.0.0.1 for an app, in a thread."""

    def __init__(self, app, port: int | None = None):
        from werkzeug.serving import make_server

        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
