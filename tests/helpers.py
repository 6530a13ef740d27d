"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

# News pages written for the tests (tests/pages/README.md says what each one must show).
PAGES = Path(__file__).resolve().parent / "pages"

# The four pages of the story, in capture order, with the address each was read at.
STORY_PAGES = [
    ("harrow-book-report.html", "https://baychronicle.example/2025/03/04/harrow-book-vale-ostrand"),
    ("library-reopens.html", "https://lakesideherald.example/local/millbrook-library-reopens"),
    ("generators-confirmed.html", "https://northerndaily.example/politics/ostrand-vale-generators"),
    ("ostrand-denies-calls.html",
     "https://valleywire.example/state/ostrand-denies-vale-calls?utm_source=feed&utm_medium=rss"),
]
# Page 1 read again from a shared link: tracking parameters in the address and in its canonical URL.
TRACKED_COPY = ("harrow-book-report-tracked.html",
                "https://baychronicle.example/2025/03/04/harrow-book-vale-ostrand?fbclid=IwAR3xq&utm_source=social")
UNRELATED_PAGE = ("ferry-fares.html", "https://coastaltimes.example/transport/island-ferry-fares-april")
HOSTILE_PAGE = ("hostile.html", "https://hostile.example/news/breaking")


def page_html(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


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


def ui_client(app):
    """A test client signed in to the window's pages with the data folder's key."""
    client = app.test_client()
    assert client.get(f"/login?key={app.extensions['crosscurrent'].ui_key}").status_code == 302
    return client


def csrf_of(app) -> str:
    """The CSRF token the UI's forms carry."""
    from server import security

    with app.test_request_context():
        return security.csrf_token()


def database_before(path: Path, migration: str, articles: list[tuple[str, str]]) -> Path:
    """A database as an earlier version left it: migrated up to (not including) `migration`, holding
    `articles` as (title, text) rows written as that version wrote them."""
    from sqlite_utils import Database

    from server.migrations import migrations

    old = Database(path)
    migrations.apply(old, stop_before=migration)
    for n, (title, text) in enumerate(articles):
        old["articles"].insert({
            "url": f"https://a.example/{n}", "canonical_url": f"https://a.example/{n}", "domain": "a.example",
            "content_hash": f"h{n}", "title": title, "text": text,
            "captured_at": "2024-01-01T00:00:00Z", "created_at": "2024-01-01T00:00:00Z"})
    old.conn.close()
    return path
