"""Who may talk to the server: loopback hosts only, paired browsers by bearer token, the reader's own
window by a session cookie. Plus the headers every response carries.

The server holds a reader's whole reading history, so every check fails closed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import g, make_response, redirect, request

from .errors import ApiError
from .state import get_state

EXTENSION_SCHEMES = ("chrome-extension://", "moz-extension://", "safari-web-extension://")
OPEN_API_ENDPOINTS = {"api.health", "api.pair"}
# Answered for whoever holds the UI key (the data folder's owner on this computer), sent in KEY_HEADER.
KEY_API_ENDPOINTS = {"api.ui_ticket"}
KEY_HEADER = "X-Crosscurrent-Key"
UI_COOKIE = "cc_ui"
TICKET_SECONDS = 120

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "cc_" + secrets.token_urlsafe(32)


# -- the UI key: the companion's proof that it runs as the reader -----------------------------------------
def read_ui_key(data_dir: Path | str, create: bool = True) -> str | None:
    """The secret in <data folder>/ui.key, created (readable by the reader only) when missing."""
    path = Path(data_dir) / "ui.key"
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_key(path)


def rotate_ui_key(data_dir: Path | str) -> str:
    """A new UI key: every window and tab signed in with the old one is signed out (their cookies and
    form tokens derive from it), including those of a server already running on this folder."""
    return _write_key(Path(data_dir) / "ui.key")


def _write_key(path: Path) -> str:
    key = secrets.token_urlsafe(32)
    fresh = path.with_name(path.name + ".new")
    fd = os.open(str(fresh), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    os.replace(fresh, path)     # atomic: a reader sees the old key or the new one, never half
    return key


class UiKey:
    """The UI key of a running server, re-read when ui.key changes so that a rotation takes effect at once."""

    def __init__(self, data_dir: Path | str):
        self.path = Path(data_dir) / "ui.key"
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._key = read_ui_key(data_dir)

    def current(self) -> str:
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            return self._key     # the file went away: keep the key this server started with
        with self._lock:
            if seen != self._seen:
                self._key = read_ui_key(self.path.parent, create=False) or self._key
                self._seen = seen
            return self._key


class Tickets:
    """Single-use, short-lived links that sign a browser tab into the UI (handed to paired browsers)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}

    def issue(self) -> str:
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            now = time.monotonic()
            self._tickets = {t: exp for t, exp in self._tickets.items() if exp > now}
            self._tickets[ticket] = now + TICKET_SECONDS
        return ticket

    def redeem(self, ticket: str) -> bool:
        with self._lock:
            expires = self._tickets.pop(ticket, None)
        return expires is not None and expires > time.monotonic()


# -- request checks --------------------------------------------------------------------------------------
# host [":" port], nothing else: no userinfo, no path, no trailing text after "]".
HOST_RE = re.compile(r"(?P<host>127\.0\.0\.1|localhost|\[::1\])(?::(?P<port>[0-9]{1,5}))?", re.IGNORECASE)


def host_is_loopback(host_header: str | None) -> bool:
    match = HOST_RE.fullmatch(host_header or "")
    return bool(match) and (match["port"] is None or 0 < int(match["port"]) < 65536)


def check_host():
    """DNS rebinding defence: a page on evil.example resolving to 127.0.0.1 still sends its own Host."""
    if not host_is_loopback(request.headers.get("Host")):
        raise ApiError(403, "bad_host", "Requests must be addressed to 127.0.0.1 or localhost.")


def check_api_request():
    """Before every /api request: JSON bodies only, and a valid token except on health and pairing."""
    if request.method == "OPTIONS":
        return None
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the request body as application/json.")
    if request.endpoint in OPEN_API_ENDPOINTS:
        return None
    if request.endpoint in KEY_API_ENDPOINTS:
        if not same_secret(request.headers.get(KEY_HEADER, ""), get_state().ui_key):
            raise ApiError(401, "unauthorized", "This is not the UI key of this server's data folder.")
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Pair this browser with Crosscurrent first (no token was sent).")
    store = get_state().store
    row = store.token_by_hash(hash_secret(token.strip()))
    if row is None:
        raise ApiError(401, "unauthorized", "This token is not known to Crosscurrent: pair the browser again.")
    if row["revoked_at"]:
        raise ApiError(401, "token_revoked", "This browser's pairing was revoked: pair it again.")
    g.token = row
    if not row["last_used_at"] or row["last_used_at"][:16] != time.strftime("%Y-%m-%dT%H:%M", time.gmtime()):
        try:
            store.touch_token(row["id"])
        except sqlite3.Error:   # a full disk or read-only folder must not stop the reader from reading
            pass
    return None


def allowed_origin(origin: str | None) -> str | None:
    """CORS only for extension origins: a paired one anywhere, any one for health and pairing."""
    if not origin or not origin.startswith(EXTENSION_SCHEMES):
        return None
    if request.endpoint in OPEN_API_ENDPOINTS:
        return origin
    token = g.get("token")
    if token is not None and token["origin"] == origin:
        return origin
    store = get_state().store
    return origin if store.origin_is_paired(origin) else None


def add_cors(response):
    origin = allowed_origin(request.headers.get("Origin"))
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    return response


def add_security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    if request.path.startswith("/api") or request.endpoint in ("session.login",):
        response.headers["Cache-Control"] = "no-store"
    return response


# -- the UI session ---------------------------------------------------------------------------------------
def ui_signed_in() -> bool:
    cookie = request.cookies.get(UI_COOKIE, "")
    return bool(cookie) and same_secret(cookie, _session_value())


def same_secret(sent: str, expected: str) -> bool:
    """Constant-time comparison that also takes whatever a client sent (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def _session_value() -> str:
    return hmac.new(get_state().ui_key.encode(), b"ui-session", hashlib.sha256).hexdigest()


def csrf_token() -> str:
    return hmac.new(get_state().ui_key.encode(), b"csrf", hashlib.sha256).hexdigest()


def check_csrf() -> None:
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    if not same_secret(sent, csrf_token()):
        raise ApiError(403, "bad_csrf", "This form has expired: reload the page and try again.")


NOT_SIGNED_IN = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Crosscurrent</title>
<link rel="stylesheet" href="/static/app.css"></head><body><main class="locked"><h1>Crosscurrent</h1>
<p>This window is not signed in. Open Crosscurrent from its desktop window, or run
<code>crosscurrent open</code> in a terminal to open it in your browser.</p></main></body></html>"""


def ui_session_required():
    """before_request hook of the UI: pages need the session cookie set by /login."""
    if request.endpoint == "static" or ui_signed_in():
        return None
    response = make_response(NOT_SIGNED_IN, 401)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def safe_next(target: str | None) -> str:
    r"""Only paths on this server: no scheme, no host, no protocol-relative //evil.example.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/<tab>/evil.example" and
    "/\evil.example" are both //evil.example to them: any control character, space or backslash refuses
    the target.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000:
        return "/"
    if target.startswith("//") or any(ch <= " " or ch in "\\\x7f" or "\ud800" <= ch <= "\udfff" for ch in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def login_view():
    key = request.args.get("key", "")
    ticket = request.args.get("ticket", "")
    state = get_state()
    ok = (key and same_secret(key, state.ui_key)) or (ticket and state.tickets.redeem(ticket))
    if not ok:
        response = make_response(NOT_SIGNED_IN, 401)
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        return response
    # The key (or ticket) buys the cookie; the redirect takes it out of the address bar.
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie(UI_COOKIE, _session_value(), httponly=True, samesite="Strict", path="/")
    return response


def login_required_json(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not ui_signed_in():
            raise ApiError(401, "unauthorized", "Sign in from the Crosscurrent window first.")
        return view(*args, **kwargs)
    return wrapper


# -- logs ---------------------------------------------------------------------------------------------
class NoQueryStrings(logging.Filter):
    """Access logs name the path only: a query string may carry the UI key, a ticket or a search."""

    QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = self.QUERY.sub("", message), ()
        return True


def quiet_access_log() -> None:
    """Installed once per process on werkzeug's logger, which writes the access log of every server."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
        logger.addFilter(NoQueryStrings())
