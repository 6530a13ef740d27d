"""Bringing in the reading a person already has: saved pages, the exports of read-later tools and the
browser's own history (sent by the extension).

`read_items` recognises a file or folder by its content and returns its items, oldest first, after the
whole file has been read and checked, so a malformed file stores nothing. `Importer.add` then captures
one item through the same path as a click: the page the export carries, or else the fetched address.
Addresses are fetched ahead of the captures, several hosts at once (`Prefetch`), and pages are readied
ahead too (extracted, cut into claims, embedded: server/readying.py), in a process of their own for a
long import; captures stay one at a time in the list's order, so stories form as if the articles had
been read live.
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import io
import json
import logging
import re
import threading
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

from .embeddings import text_hash, to_blob
from .extract import decode_html
from .fetcher import FetchError, Fetcher
from .pipeline import CaptureError, saved_from_url
from .readying import PROCESS_MIN_PAGES, Readied, ReadyingFailed, ReadyingProcess, ready_page
from .urls import canonical_url

log = logging.getLogger(__name__)


class ImportFormatError(ValueError):
    """The file is not one of the known formats, or is a broken one: one line for the reader."""


@dataclass
class Item:
    label: str                      # how the reports name it: a file path or the address
    url: str | None = None
    title: str | None = None
    saved_at: str | None = None     # ISO 8601 with a zone, or None for "now"
    tags: tuple[str, ...] = ()
    html: str | None = None
    path: Path | None = None        # a saved page, read when its turn comes
    fetched: Future | None = field(default=None, repr=False, compare=False)   # (url, html), fetched ahead
    readied: Readied | None = field(default=None, repr=False, compare=False)  # its page, readied ahead

    @property
    def name(self) -> str:          # what the progress bar shows
        return self.label.rsplit("/", 1)[-1] or self.label


# -- dates --------------------------------------------------------------------------------------------
def _from_epoch(value) -> str:
    seconds = float(value)
    if seconds > 1e14:              # microseconds (some browsers' bookmark files)
        seconds /= 1e6
    elif seconds > 1e11:            # milliseconds
        seconds /= 1e3
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).replace(microsecond=0).isoformat()


def _date(value, where: str) -> str | None:
    """An export's date (seconds since 1970, or ISO 8601) as ISO 8601; empty means unknown."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        text = str(value).strip()
        if isinstance(value, (int, float)) and not isinstance(value, bool) or re.fullmatch(r"\d+(\.\d+)?", text):
            return _from_epoch(value) if float(value) > 0 else None     # 0: the tool did not know
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.isoformat()
    except (ValueError, OverflowError, OSError):
        raise ImportFormatError(f"{where}: {str(value)[:40]!r} is not a date") from None


def _mtime_iso(path: Path) -> str:
    return _from_epoch(path.stat().st_mtime)


# -- formats -------------------------------------------------------------------------------------------
def _saved_pages(folder: Path) -> list[Item]:
    files = sorted((p for p in folder.rglob("*") if p.suffix.lower() in (".html", ".htm") and p.is_file()),
                   key=lambda p: (p.stat().st_mtime, str(p)))
    if not files:
        raise ImportFormatError(f"No .html files in {folder}.")
    return [Item(label=str(p), path=p, saved_at=_mtime_iso(p)) for p in files]


def _csv_rows(text: str, source: Path) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    rows = []
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise ImportFormatError(f"{source}: line {reader.line_num} does not have the header's columns")
            rows.append({k.strip().lower(): (v or "").strip() for k, v in row.items()})
    except csv.Error as exc:
        raise ImportFormatError(f"{source}: not a readable CSV file ({exc})") from None
    for number, row in enumerate(rows, start=2):
        if not row.get("url"):
            raise ImportFormatError(f"{source}: row {number} has no URL")
    return rows


def _pocket(text: str, source: Path) -> list[Item]:
    rows = _csv_rows(text, source)
    return [Item(label=r["url"], url=r["url"], title=r.get("title") or None,
                 saved_at=_date(r.get("time_added"), f"{source}: row {n}"),
                 tags=_split_tags(r.get("tags", ""), "|"))
            for n, r in enumerate(rows, start=2)]


INSTAPAPER_FOLDERS = {"unread", "archive", "starred"}   # Instapaper's own folders, not the reader's tags


def _instapaper(text: str, source: Path) -> list[Item]:
    rows = _csv_rows(text, source)
    return [Item(label=r["url"], url=r["url"], title=r.get("title") or None,
                 saved_at=_date(r.get("timestamp"), f"{source}: row {n}"),
                 tags=() if r.get("folder", "").lower() in INSTAPAPER_FOLDERS | {""} else (r["folder"],))
            for n, r in enumerate(rows, start=2)]


BOOKMARK = re.compile(r"<A\s([^>]*)>(.*?)</A>", re.I | re.S)
ATTRIBUTE = re.compile(r'([A-Z_]+)\s*=\s*"([^"]*)"', re.I)


def _bookmarks(text: str, source: Path) -> list[Item]:
    items = []
    for number, match in enumerate(BOOKMARK.finditer(text), start=1):
        attributes = {k.upper(): unescape(v) for k, v in ATTRIBUTE.findall(match.group(1))}
        url = attributes.get("HREF", "").strip()
        if not url.lower().startswith(("http://", "https://")):
            continue                                # bookmarklets, place: queries, folders' own links
        title = unescape(re.sub(r"<[^>]+>", "", match.group(2))).strip() or None
        items.append(Item(label=url, url=url, title=title,
                          saved_at=_date(attributes.get("ADD_DATE"), f"{source}: bookmark {number}"),
                          tags=_split_tags(attributes.get("TAGS", ""), ",")))
    if not items:
        raise ImportFormatError(f"{source}: a bookmarks file with no web addresses in it")
    return items


def _entries(value, source: Path, what: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise ImportFormatError(f"{source}: {what} should be a list of objects")
    return value


def _text(entry: dict, key: str, where: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None or value == "":
        if required:
            raise ImportFormatError(f"{where} has no {key}")
        return None
    if not isinstance(value, str):
        raise ImportFormatError(f"{where}: {key} should be text")
    return value.strip()


def _labels(value, where: str) -> tuple[str, ...]:
    """Tags given as ["a", "b"] or [{"name"/"label": "a"}, ...]."""
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise ImportFormatError(f"{where}: tags should be a list")
    names = [v if isinstance(v, str) else (v.get("label") or v.get("name") or v.get("slug"))
             if isinstance(v, dict) else None for v in value]
    return tuple(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


def _wallabag(entries: list, source: Path) -> list[Item]:
    items = []
    for number, entry in enumerate(_entries(entries, source, "a Wallabag export"), start=1):
        where = f"{source}: entry {number}"
        url = _text(entry, "url", where, required=True)
        items.append(Item(label=url, url=url, title=_text(entry, "title", where),
                          saved_at=_date(entry.get("created_at"), where), tags=_labels(entry.get("tags"), where),
                          html=_page(_text(entry, "content", where), _text(entry, "title", where))))
    return items


def _karakeep(data: dict, source: Path) -> list[Item]:
    items = []
    for number, entry in enumerate(_entries(data.get("bookmarks"), source, '"bookmarks"'), start=1):
        where = f"{source}: bookmark {number}"
        content = entry.get("content")
        if content is not None and not isinstance(content, dict):
            raise ImportFormatError(f"{where}: content should be an object")
        if not content or content.get("type") != "link":
            continue                                # notes, images and PDFs are not articles to capture
        url = _text(content, "url", where, required=True)
        title = _text(entry, "title", where) or _text(content, "title", where)
        items.append(Item(label=url, url=url, title=title, saved_at=_date(entry.get("createdAt"), where),
                          tags=_labels(entry.get("tags"), where), html=_page(_text(content, "htmlContent", where), title)))
    if not items and data.get("bookmarks"):
        raise ImportFormatError(f"{source}: a Karakeep export with no link bookmarks in it")
    return items


def _omnivore(archive: zipfile.ZipFile, source: Path) -> list[Item]:
    names = archive.namelist()
    metadata = sorted(n for n in names if re.fullmatch(r"(.*/)?metadata_[^/]*\.json", n))
    if not metadata:
        raise ImportFormatError(f"{source}: a zip file without Omnivore's metadata_*.json")
    pages = {n.rsplit("/", 1)[-1][:-5]: n for n in names if re.fullmatch(r"(.*/)?content/[^/]+\.html", n)}
    items = []
    for name in metadata:
        try:
            entries = json.loads(archive.read(name).decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ImportFormatError(f"{source}: {name} is not valid JSON ({exc})") from None
        for number, entry in enumerate(_entries(entries, source, name), start=1):
            where = f"{source}: {name} entry {number}"
            url = _text(entry, "url", where, required=True)
            slug = _text(entry, "slug", where)
            page = pages.get(slug) if slug else None
            title = _text(entry, "title", where)
            items.append(Item(label=url, url=url, title=title, saved_at=_date(entry.get("savedAt"), where),
                              tags=_labels(entry.get("labels"), where),
                              html=_page(decode_html(archive.read(page)), title) if page else None))
    return items


def _page(html: str | None, title: str | None) -> str | None:
    """An export's article content as a page: a fragment gets a document around it (and its title)."""
    if not html or not html.strip():
        return None
    if re.search(r"<html[\s>]", html[:2048], re.I):
        return html
    heading = f"<title>{_escape(title)}</title>" if title else ""
    h1 = f"<h1>{_escape(title)}</h1>" if title else ""
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'>{heading}</head><body><article>{h1}{html}</article></body></html>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _split_tags(value: str, separator: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.strip() for t in value.split(separator) if t.strip()))


# -- recognising a file ------------------------------------------------------------------------------
def read_items(source: Path) -> tuple[str, list[Item]]:
    """(the format's name, its items oldest first). ImportFormatError when the file cannot be used."""
    if source.is_dir():
        return "saved pages", _saved_pages(source)
    data = source.read_bytes()
    kind, items = _recognise(data, source)
    if not items:
        raise ImportFormatError(f"{source}: a {kind} with nothing to import in it")
    return kind, _oldest_first(items)


def _oldest_first(items: list[Item]) -> list[Item]:
    """Oldest first, so stories come out as if read live; undated items last, in the list's order."""
    order = sorted(range(len(items)), key=lambda i: (items[i].saved_at is None,
                                                      _instant(items[i].saved_at), i))
    return [items[i] for i in order]


def _web_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:          # "http://[::1/x", a port beyond 65535
        return False


MAX_HISTORY_ITEMS = 5000        # one request's worth of browser history (a few months of news reading)
MAX_URL_CHARS = 8000


def history_items(entries) -> list[Item]:
    """The browser history the extension sends: [{"url", "visited_at", "title"?}], where visited_at (ISO
    8601 or milliseconds since 1970) becomes the day read. Oldest visit first; the same address once."""
    where = "the history"
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ImportFormatError("'items' must be a list of objects with a url and a visited_at.")
    if not entries:
        raise ImportFormatError("'items' is empty: there is nothing to import.")
    if len(entries) > MAX_HISTORY_ITEMS:
        raise ImportFormatError(f"'items' holds {len(entries):,} addresses; send at most {MAX_HISTORY_ITEMS:,} at once.")
    latest: dict[str, Item] = {}
    for number, entry in enumerate(entries, start=1):
        here = f"{where}: item {number}"
        url = _text(entry, "url", here, required=True)
        if len(url) > MAX_URL_CHARS or not _web_address(url):
            raise ImportFormatError(f"{here}: {url[:80]!r} is not a web address")
        visited = entry.get("visited_at")
        if isinstance(visited, bool) or not isinstance(visited, (int, float, str)):
            raise ImportFormatError(f"{here} has no visited_at")
        item = Item(label=url, url=url, title=_text(entry, "title", here), saved_at=_date(visited, here))
        known = latest.get(url)
        if known is None or _instant(item.saved_at) > _instant(known.saved_at):
            latest[url] = item        # the last visit is the day it was read
    return _oldest_first(list(latest.values()))


def _instant(value: str | None) -> float:
    return dt.datetime.fromisoformat(value).timestamp() if value else 0.0


def _recognise(data: bytes, source: Path) -> tuple[str, list[Item]]:
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return "Omnivore export", _omnivore(archive, source)
        except zipfile.BadZipFile as exc:
            raise ImportFormatError(f"{source}: a damaged zip file ({exc})") from None
    text = decode_html(data).lstrip("\ufeff \t\r\n")
    head = text[:4096]
    if head[:1] in ("[", "{"):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ImportFormatError(f"{source}: not valid JSON ({exc})") from None
        if isinstance(parsed, dict) and "bookmarks" in parsed:
            return "Karakeep export", _karakeep(parsed, source)
        if isinstance(parsed, list):
            return "Wallabag export", _wallabag(parsed, source)
        raise ImportFormatError(f"{source}: a JSON file that is neither a Wallabag nor a Karakeep export")
    if re.search(r"<!DOCTYPE\s+NETSCAPE-Bookmark-file", head, re.I):
        return "bookmarks file", _bookmarks(text, source)
    if saved_from_url(text) or re.search(r"<(!doctype\s+html|html|head|body)[\s>]", head, re.I):
        return "saved page", [Item(label=str(source), path=source, saved_at=_mtime_iso(source))]
    header = {h.strip().lower() for h in next(csv.reader(io.StringIO(head.splitlines()[0] if head else "")), [])}
    if {"url", "title", "time_added"} <= header:
        return "Pocket export", _pocket(text, source)
    if {"url", "title", "folder", "timestamp"} <= header:
        return "Instapaper export", _instapaper(text, source)
    raise ImportFormatError(
        f"{source} is not a format Crosscurrent imports (saved .html pages, Pocket or Instapaper CSV, "
        "a bookmarks file, a Wallabag, Omnivore or Karakeep export)")


# -- importing ---------------------------------------------------------------------------------------
FETCH_WORKERS = 8       # hosts fetched at once; each host still gets one request at a time and its pause
FETCH_AHEAD = 64        # items fetched ahead of the capture loop (their pages wait in memory)
# Fetched pages readied together: the model embeds a batch of them faster than each alone, but the loop
# gets a batch's pages only when all are done, and waits for all of them once it has caught up (batches
# of 32 left it waiting up to 0.9 s at a time in a long import, with a core idle meanwhile).
READY_BATCH = 8


class Prefetch:
    """Fetches listed addresses ahead of the capture loop on a few worker threads, then readies the pages.

    A worker takes, among the hosts whose pause is over, the one whose next item the loop needs first, and
    otherwise waits for the first pause to end, so no worker sleeps on one outlet while another could be
    asked; a host is never asked twice at once. `ready([(item, url, html), ...])` (CPU work: extraction and
    embedding) runs on one thread of its own, on fetched pages in list order, after `ready_from()` (a
    readying process loading its model) has returned; the loop takes a page as soon as it is fetched and
    skips readying it when its turn comes first (it waits only for one already under way). Batches start
    at one page and double up to READY_BATCH: the loop starts right behind the readying, and would wait
    for the whole of a long first batch when it reaches the batch's first page.
    Threads are daemons: an interrupted import does not wait for their requests to finish.
    """

    def __init__(self, fetcher: Fetcher, workers: int = FETCH_WORKERS, ready=None, ready_from=None):
        self.fetcher = fetcher
        self.ready = ready
        self.ready_from = ready_from
        self._turn = threading.Condition()
        self._queues: dict[str, list[tuple[int, Item, Future]]] = {}    # host -> its items, in list order
        self._busy: set[str] = set()
        self._fetched: list[tuple[int, int, Item, tuple[str, str]]] = []  # heap of pages to ready, by position
        self._taken: set[int] = set()               # ids of the items the loop has reached
        self._readying: dict[int, threading.Event] = {}
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"import-fetch-{n}", daemon=True)
                         for n in range(max(1, workers))]
        if ready is not None:
            self._threads.append(threading.Thread(target=self._ready_pages, name="import-ready", daemon=True))
        for thread in self._threads:
            thread.start()

    def add(self, position: int, item: Item) -> None:
        item.fetched = Future()
        host = (urlsplit(item.url).hostname or "").lower()
        with self._turn:
            self._queues.setdefault(host, []).append((position, item, item.fetched))
            self._turn.notify()

    def add_page(self, position: int, item: Item) -> None:
        """An item whose page the export carries: nothing to fetch, only to ready."""
        if self.ready is not None:
            with self._turn:
                heapq.heappush(self._fetched, (position, id(item), item, (item.url, item.html)))
                self._turn.notify_all()

    def take(self, item: Item) -> tuple[str, str]:
        """The page of the item the loop has reached, once fetched (FetchError when it could not be)."""
        page = item.fetched.result()
        self.reached(item)
        return page

    def reached(self, item: Item) -> None:
        """The loop has reached this item: it is not readied from now on, and one under way is waited for."""
        with self._turn:
            self._taken.add(id(item))
            under_way = self._readying.get(id(item))
        if under_way is not None:
            under_way.wait()

    def close(self) -> None:
        with self._turn:
            self._closed = True
            for queue in self._queues.values():
                for _, _, future in queue:
                    future.cancel()
            self._queues.clear()
            self._fetched.clear()
            self._turn.notify_all()

    def _next(self) -> tuple[str, int, Item, Future] | None:
        with self._turn:
            while not self._closed:
                hosts = [h for h, queue in self._queues.items() if queue and h not in self._busy]
                waits = {h: self.fetcher.wait_left(h) for h in hosts}
                free = [h for h in hosts if waits[h] <= 0]
                if free:
                    host = min(free, key=lambda h: self._queues[h][0][0])
                    position, item, future = self._queues[host].pop(0)
                    self._busy.add(host)
                    return host, position, item, future
                self._turn.wait(min(waits.values()) if waits else None)
        return None

    def _work(self) -> None:
        while (taken := self._next()) is not None:
            host, position, item, future = taken
            try:
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    page = self.fetcher.fetch(item.url)
                except Exception as exc:           # FetchError, or a bug: the capture loop reports it
                    future.set_exception(exc)
                    continue
            finally:
                with self._turn:
                    self._busy.discard(host)
                    self._turn.notify_all()
            with self._turn:
                if self.ready is not None and not self._closed:
                    heapq.heappush(self._fetched, (position, id(item), item, page))
                    self._turn.notify_all()
            future.set_result(page)

    def _ready_pages(self) -> None:
        if self.ready_from is not None:
            self.ready_from()       # meanwhile the loop readies the pages it reaches itself
        size = 1
        while True:
            with self._turn:
                while not self._closed and not self._fetched:
                    self._turn.wait()
                if self._closed:
                    return
                batch = []
                while self._fetched and len(batch) < size:
                    _, key, item, page = heapq.heappop(self._fetched)
                    if key not in self._taken:          # else the loop got there first and does it itself
                        self._readying[key] = threading.Event()
                        batch.append((item, *page))
            size = min(READY_BATCH, 2 * size) if batch else size
            try:
                if batch:
                    self.ready(batch)
            except Exception:               # readying only saves time: the capture does the work itself
                log.warning("could not ready %s ahead of their capture", ", ".join(i.label for i, _, _ in batch),
                            exc_info=True)
            finally:
                with self._turn:
                    for item, _, _ in batch:
                        self._readying.pop(id(item)).set()


def ready_ahead(engine, pages: list[tuple[Item, str, str]], helper: ReadyingProcess | None = None) -> None:
    """Extract fetched pages, cut them into claims and embed those, all pages in one batch, so that their
    captures find them ready (`item.readied`): the capture loop's own work is then the matching and the
    writes. With `helper`, the work is done in that process, on the other core; here when it fails."""
    if helper is not None and helper.usable:
        try:
            readied = helper.ready([(html, url, item.title) for item, url, html in pages])
        except ReadyingFailed as exc:
            if helper.closed:
                return              # the import is over
            log.warning("readying %d pages on a thread: %s", len(pages), exc)
        else:
            for (item, _, _), page in zip(pages, readied):
                item.readied = page
            return
    readied = [ready_page(html, url, item.title) for item, url, html in pages]
    texts = [c.text for page in readied if page for c in page.claims]
    vectors = engine.vectors_for(texts)[0]
    blobs = {text_hash(text): to_blob(vector) for text, vector in zip(texts, vectors)}
    for (item, _, _), page in zip(pages, readied):
        if page is not None:
            page.vectors = {h: blobs[h] for h in (text_hash(c.text) for c in page.claims)}
        item.readied = page


@dataclass
class Importer:
    """Captures items one by one; an item whose address is already stored is neither fetched nor captured
    again, so an interrupted import run a second time continues where it stopped."""

    engine: object
    fetcher: Fetcher = field(default_factory=Fetcher)
    workers: int = FETCH_WORKERS
    ahead: int = FETCH_AHEAD
    ready_ahead: bool = True
    _prefetch: Prefetch | None = field(default=None, init=False, repr=False)
    created: int = 0
    duplicates: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def tally(self) -> str:
        return f"{self.created} new, {self.duplicates} already stored, {len(self.skipped)} skipped"

    def add_all(self, items: Sequence[Item], shown: Iterable[Item] | None = None) -> None:
        """The import loop of the command, the window and the extension's history import. `shown` is the
        same items through a progress bar or counter, iterated in step; addresses are fetched ahead."""
        helper = None
        setting = getattr(self.engine.embedder, "setting", None)
        if self.ready_ahead and self.workers > 1 and setting is not None and len(items) >= PROCESS_MIN_PAGES:
            try:
                helper = ReadyingProcess(setting)
            except OSError as exc:
                log.warning("readying pages on a thread: no process could be started (%s)", exc)
        ready = (lambda pages: ready_ahead(self.engine, pages, helper)) if self.ready_ahead else None
        prefetch = self._prefetch = Prefetch(self.fetcher, self.workers, ready, helper and helper.wait_started) \
            if self.workers > 1 else None
        planned, queued = 0, set()
        try:
            for position, item in enumerate(items if shown is None else shown):
                while prefetch is not None and planned < min(len(items), position + 1 + self.ahead):
                    self._plan(prefetch, planned, items[planned], queued)
                    planned += 1
                self.add(item)
        finally:
            self._prefetch = None
            if prefetch is not None:
                prefetch.close()
            if helper is not None:
                helper.close()

    def _plan(self, prefetch: Prefetch, position: int, item: Item, queued: set[str]) -> None:
        """Get this item's page ready ahead of its turn, unless it has an address already stored or asked
        for: fetched when the export lists only the address, readied when it carries the page or is a
        saved page (read now; it leaves memory with its capture)."""
        if item.path is not None:
            try:
                item.html = decode_html(item.path.read_bytes())
            except OSError:
                return              # add() reports it
            item.url = saved_from_url(item.html)
        if item.url is None and item.html is None:
            return
        if item.url is not None:
            try:
                listed = canonical_url(item.url)
            except ValueError:
                return              # add() reports it
            if listed in queued or self.engine.store.article_id_for_url(listed) is not None:
                return
            queued.add(listed)
        if item.html is not None:
            prefetch.add_page(position, item)
        else:
            prefetch.add(position, item)

    def _fetch(self, item: Item, url: str) -> tuple[str, str]:
        if item.fetched is not None and self._prefetch is not None:
            try:
                return self._prefetch.take(item)
            finally:
                item.fetched = None         # the page leaves memory with its capture
        return self.fetcher.fetch(url)

    def add(self, item: Item) -> None:
        store = self.engine.store
        html, url = item.html, item.url
        if html is not None and self._prefetch is not None:
            self._prefetch.reached(item)
        try:
            if item.path is not None and html is None:
                html = decode_html(item.path.read_bytes())
                url = saved_from_url(html)
            listed = None
            if url is not None:
                try:
                    listed = canonical_url(url)
                except ValueError as exc:
                    self.skipped.append((item.label, f"not a usable address ({exc})"))
                    return
                if store.article_id_for_url(listed) is not None:
                    self.duplicates += 1
                    return
            if html is None:
                url, html = self._fetch(item, url)
            result = self.engine.capture(url, html, title=item.title, captured_at=item.saved_at,
                                         readied=item.readied)
            if listed is not None:      # stored under another address (a redirect, a canonical link)?
                store.remember_imported_url(listed, result.article_id)
        except FetchError as exc:
            self.skipped.append((item.label, str(exc)))
            return
        except CaptureError as exc:
            self.skipped.append((item.label, exc.message))
            return
        except OSError as exc:
            self.skipped.append((item.label, exc.strerror or str(exc)))
            return
        finally:
            item.readied = None         # what was readied leaves memory with its capture
            if item.path is not None:
                item.html = None        # a saved page read ahead, too
        if result.created:
            self.created += 1
            if item.tags:
                store.tag_article(result.article_id, item.tags)
        else:
            self.duplicates += 1
