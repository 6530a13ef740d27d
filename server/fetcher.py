"""A polite fetcher for importing a list of addresses: one request at a time per host, a pause between
requests to the same host, timeouts, a few retries with back-off, a size cap, http(s) only.

Only the standard library: an import is a one-off walk over the reader's own list, not a crawler.
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from . import __version__
from .extract import decode_html

log = logging.getLogger(__name__)

USER_AGENT = f"Crosscurrent/{__version__} (+local reading history import)"
DELAY = 1.0            # seconds between two requests to the same host
TIMEOUT = 20.0         # seconds per request
RETRIES = 3            # further tries after a 429, a 5xx or a connection error
BACKOFF = 2.0          # seconds before the first retry; doubled each time
MAX_WAIT = 60.0        # the longest pause a Retry-After header is granted
PAGE_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """Why a page could not be fetched, in words for the import's list of skipped items."""


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FetchError(f"redirected to a non-web address ({newurl[:80]})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Fetcher:
    def __init__(self, max_bytes: int = 15 * 1024 * 1024, delay: float | None = None, timeout: float = TIMEOUT,
                 retries: int = RETRIES, backoff: float | None = None, sleep=time.sleep, clock=time.monotonic):
        self.max_bytes = max_bytes
        self.delay = DELAY if delay is None else delay
        self.timeout = timeout
        self.retries = retries
        self.backoff = BACKOFF if backoff is None else backoff
        self.sleep, self.clock = sleep, clock
        self._opener = urllib.request.build_opener(_HttpOnly())
        self._last: dict[str, float] = {}          # host -> when its last request ended
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._unreachable: set[str] = set()       # hosts that never answered: one try each from now on

    def fetch(self, url: str) -> tuple[str, str]:
        """(final address, page HTML) or FetchError."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FetchError("not an http(s) address")
        host = parts.hostname.lower()
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            tries = 1 if host in self._unreachable else self.retries + 1
            for attempt in range(tries):
                self._wait_turn(host)
                try:
                    return self._get(url)
                except _Retry as exc:
                    if attempt == tries - 1:
                        if exc.unreachable:
                            self._unreachable.add(host)
                        raise FetchError(exc.reason) from None
                    pause = exc.wait if exc.wait is not None else self.backoff * 2 ** attempt
                    log.info("retrying %s in %.1f s: %s", url, pause, exc.reason)
                    self.sleep(pause)
                finally:
                    self._last[host] = self.clock()
        raise AssertionError("unreachable")

    def wait_left(self, host: str) -> float:
        """Seconds before `host` may be asked again (0 when it may be now): a pool serves ready hosts first."""
        last = self._last.get(host.lower())
        return 0.0 if last is None else max(0.0, self.delay - (self.clock() - last))

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            left = self.delay - (self.clock() - last)
            if left > 0:
                self.sleep(left)

    def _get(self, url: str) -> tuple[str, str]:
        request = urllib.request.Request(url, headers={
            "User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                kind = (response.headers.get_content_type() or "").lower()
                if kind not in PAGE_TYPES:
                    raise FetchError(f"not a web page ({kind or 'no content type'})")
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > self.max_bytes:
                    raise FetchError(self._too_large())
                body = response.read(self.max_bytes + 1)
                if len(body) > self.max_bytes:
                    raise FetchError(self._too_large())
                return response.geturl(), decode_html(body)
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}".strip()
            if exc.code == 429 or exc.code >= 500:
                raise _Retry(reason, _retry_after(exc.headers.get("Retry-After"))) from None
            raise FetchError(reason) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, FetchError):
                raise exc.reason from None
            raise _Retry(f"could not connect: {exc.reason}", unreachable=True) from None
        except (socket.timeout, TimeoutError):
            raise _Retry(f"no answer within {self.timeout:g} s") from None
        except (ConnectionError, http.client.HTTPException) as exc:
            raise _Retry(f"connection failed: {exc.__class__.__name__}") from None

    def _too_large(self) -> str:
        mb = self.max_bytes / (1024 * 1024)
        return f"larger than {mb:g} MB" if mb >= 1 else f"larger than {self.max_bytes} bytes"


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None, unreachable: bool = False):
        super().__init__(reason)
        self.reason, self.wait, self.unreachable = reason, wait, unreachable


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (the date form is rare for 429s; it falls back to the back-off)."""
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_WAIT)
    return None
