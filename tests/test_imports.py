"""`crosscurrent import` of saved pages and read-later exports, and the polite fetcher behind it."""

from __future__ import annotations

import http.server
import importlib
import os
import re
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import server.fetcher
import server.import_job
import server.imports
from server.cli import cli
from server.embeddings import HashEmbedder, from_blob, text_hash
from server.fetcher import USER_AGENT, FetchError, Fetcher
from server.pipeline import Engine
from server.store import Store

SAMPLES = Path(__file__).resolve().parent / "imports"
LISTED_HOST = "https://news.example"


class Site(http.server.BaseHTTPRequestHandler):
    """The sample pages, and a few misbehaving addresses for the fetcher."""

    log: list[tuple[str, str]] = []
    failures: dict[str, int] = {}           # path -> how many more times it answers 503

    def do_GET(self):
        Site.log.append((self.path, self.headers.get("User-Agent", "")))
        path = self.path.split("?")[0]
        if Site.failures.get(path, 0) > 0:
            Site.failures[path] -= 1
            return self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
        if path == "/pdf":
            return self._send(200, b"%PDF-1.4", "application/pdf")
        if path == "/big":
            return self._send(200, b"<html>" + b"x" * 5000, "text/html")
        if path == "/to-ftp":
            return self._send(302, b"", "text/plain", {"Location": "ftp://files.example/a"})
        if path == "/moved":
            return self._send(301, b"", "text/plain", {"Location": "/harbour-dredging.html"})
        page = SAMPLES / "site" / path.lstrip("/")
        if path.endswith(".html") and page.is_file():
            return self._send(200, page.read_bytes(), "text/html; charset=utf-8")
        self._send(404, b"not here", "text/plain")

    def _send(self, status, body, kind, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setattr(server.fetcher, "DELAY", 0)
    monkeypatch.setattr(server.fetcher, "BACKOFF", 0)
    Site.log, Site.failures = [], {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def sample(name: str, tmp_path: Path, site_url: str | None = None) -> Path:
    """A copy of a sample export whose listed addresses point at the test's site."""
    source = SAMPLES / name
    target = tmp_path / name
    if source.is_dir():                     # an Omnivore export is a zip of this folder
        target = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(target, "w") as archive:
            for path in sorted(source.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(source).as_posix())
        return target
    text = source.read_text()
    target.write_text(text.replace(LISTED_HOST, site_url) if site_url else text)
    return target


def run(data, *args):
    return CliRunner().invoke(cli, ["--data", str(data), "--model", "hash", "import", *map(str, args)])


def stored(data) -> list[dict]:
    store = Store(data / "crosscurrent.db")
    try:
        rows = [dict(r) for r in store.reader.execute("SELECT id, url, title, captured_at FROM articles ORDER BY id")]
        for row in rows:
            row["tags"] = store.article_tags(row["id"])
        return rows
    finally:
        store.close()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[-1]


# name, [(stored address path or full URL, day read, tags)] in import order, [(skipped path, reason words)]
FORMATS = [
    ("pocket.csv",
     [("/harbour-dredging.html", "2023-11-14", ["harbour"]), ("/tram-line.html", "2023-11-16", ["city", "transport"]),
      ("/market-hall.html", "2023-11-17", [])],
     [("/missing.html", "HTTP 404"), ("/index.html", "")]),
    ("instapaper.csv",
     [("/harbour-dredging.html", "2023-11-14", []), ("/tram-line.html", "2023-11-16", ["Transport"])],
     [("/missing.html", "HTTP 404")]),
    ("bookmarks.html",
     [("/harbour-dredging.html", "2023-11-14", []), ("/market-hall.html", "2023-11-17", ["food", "porthaven"])],
     []),
    ("wallabag.json",
     [("https://riverside-gazette.example/local/bridge-repairs", "2023-11-14", []),
      ("https://valemouth-post.example/news/library-hours", "2023-11-16", ["libraries"])],
     []),
    ("omnivore",
     [("https://riverside-gazette.example/local/bridge-repairs", "2023-11-14", []),
      ("https://riverside-gazette.example/education/school-meals", "2023-11-18", ["Newsletter", "schools"])],
     []),
    ("karakeep.json",
     [("/harbour-dredging.html", "2023-11-14", []),
      ("https://riverside-gazette.example/education/school-meals", "2023-11-18", ["meals"])],
     []),
]


@pytest.mark.parametrize("name, articles, skipped", FORMATS, ids=[f[0] for f in FORMATS])
def test_each_format_imports_oldest_first_with_dates_and_tags(name, articles, skipped, tmp_path, isolated_data, site):
    result = run(isolated_data, sample(name, tmp_path, site))
    assert result.exit_code == 0, result.output
    rows = stored(isolated_data)
    got = [(r["url"] if r["url"].startswith("https://") else path_of(r["url"]), r["captured_at"][:10], r["tags"])
           for r in rows]
    assert got == articles
    assert f"Imported {len(articles)} new articles, 0 already stored, {len(skipped)} skipped." in result.output
    for path, reason in skipped:
        line = next(line for line in result.stderr.splitlines() if path in line)
        assert line.startswith("  skipped ") and reason in line
    # Pages the export carried were not fetched; the others were fetched once each.
    fetched = sorted(p for p, _ in Site.log)
    assert fetched == sorted({p for p, *_ in articles if p.startswith("/")} | {p for p, _ in skipped})
    assert all(agent == USER_AGENT for _, agent in Site.log)


def test_skipped_items_say_why(tmp_path, isolated_data, site):
    result = run(isolated_data, sample("pocket.csv", tmp_path, site))
    reasons = {line.split(": ", 1)[0].rsplit("/", 1)[-1]: line.split(": ", 1)[1]
               for line in result.stderr.splitlines() if line.startswith("  skipped ")}
    assert reasons["missing.html"] == "HTTP 404 Not Found"
    assert reasons["index.html"] and "404" not in reasons["index.html"]
    assert len(reasons) == 2


@pytest.mark.parametrize("name", ["pocket.csv", "wallabag.json", "omnivore"])
def test_an_interrupted_import_run_again_stores_every_item_once(name, tmp_path, isolated_data, site, monkeypatch):
    export = sample(name, tmp_path, site)
    real_add = server.imports.Importer.add
    calls = []

    def add_then_stop(self, item):
        if len(calls) == 1:
            raise KeyboardInterrupt     # the reader presses Ctrl-C during the second item
        calls.append(item.label)
        real_add(self, item)

    monkeypatch.setattr(server.imports.Importer, "add", add_then_stop)
    first = run(isolated_data, export)
    assert first.exit_code != 0 and len(stored(isolated_data)) == 1
    fetched_first = [p for p, _ in Site.log]
    # Pages fetched ahead but not captured before the stop are fetched again; the stored one is not.
    stored_first = {path_of(r["url"]) for r in stored(isolated_data)}
    monkeypatch.setattr(server.imports.Importer, "add", real_add)
    again = run(isolated_data, export)
    assert again.exit_code == 0, again.output
    rows = stored(isolated_data)
    assert len({r["url"] for r in rows}) == len(rows) == dict((f[0], len(f[1])) for f in FORMATS)[name]
    assert "1 already stored" in again.output
    # The stored address is not fetched a second time.
    fetched_again = [p for p, _ in Site.log][len(fetched_first):]
    assert not stored_first & set(fetched_again)


def test_a_bookmarks_file_written_by_export_imports_into_another_data_folder(tmp_path, isolated_data, site):
    assert run(isolated_data, sample("pocket.csv", tmp_path, site)).exit_code == 0
    bookmarks = tmp_path / "reading.html"
    exported = CliRunner().invoke(cli, ["--data", str(isolated_data), "--model", "hash", "export",
                                        "--format", "html", "-o", str(bookmarks)])
    assert exported.exit_code == 0, exported.output
    other = tmp_path / "other-data"
    result = run(other, bookmarks)
    assert result.exit_code == 0, result.output
    assert "Imported 3 new articles" in result.output
    keep = ("url", "captured_at")
    assert [{k: r[k] for k in keep} for r in stored(other)] == [{k: r[k] for k in keep} for r in stored(isolated_data)]


@pytest.mark.parametrize("value, expected", [
    ("1700000000", "2023-11-14T22:13:20+00:00"), (1700000000, "2023-11-14T22:13:20+00:00"),
    ("1700000000000", "2023-11-14T22:13:20+00:00"), ("1700000000000000", "2023-11-14T22:13:20+00:00"),
    ("2023-11-14T18:02:00+01:00", "2023-11-14T18:02:00+01:00"), ("2023-11-14T07:45:00.000Z", "2023-11-14T07:45:00+00:00"),
    ("2023-11-14 07:45:00", "2023-11-14T07:45:00+00:00"), ("0", None), (0, None), ("", None), (None, None),
])
def test_export_dates(value, expected):
    assert server.imports._date(value, "here") == expected


def test_an_address_that_redirects_is_not_fetched_again(tmp_path, isolated_data, site):
    export = tmp_path / "pocket.csv"
    export.write_text(f"title,url,time_added,tags,status\nMoved,{site}/moved,1700000000,,archive\n")
    assert "Imported 1 new articles" in run(isolated_data, export).output
    assert [p for p, _ in Site.log] == ["/moved", "/harbour-dredging.html"]
    again = run(isolated_data, export)
    assert "Imported 0 new articles, 1 already stored" in again.output
    assert len(Site.log) == 2
    store = Store(isolated_data / "crosscurrent.db")
    try:
        assert store.reader.execute("SELECT count(*) FROM imported_urls").fetchone()[0] == 1
        store.remember_imported_url(stored(isolated_data)[0]["url"], 1)     # its own address: not noted twice
        assert store.reader.execute("SELECT count(*) FROM imported_urls").fetchone()[0] == 1
    finally:
        store.close()


def test_a_single_saved_page_imports(tmp_path, isolated_data):
    url = "https://porthaven-courier.example/harbour/dredging"
    page = tmp_path / "dredging.html"
    page.write_text(f"<!-- saved from url=({len(url):04d}){url} -->\n" + (SAMPLES / "site" / "harbour-dredging.html").read_text())
    result = run(isolated_data, page)
    assert result.exit_code == 0, result.output
    assert [r["url"] for r in stored(isolated_data)] == [url]


def zip_of(tmp_path, files: dict[str, str]) -> bytes:
    target = tmp_path / "made.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return target.read_bytes()


MALFORMED = [
    ("pocket.csv", b"title,url,time_added,tags,status\nA,,1700000000,,unread\n", "row 2 has no URL"),
    ("pocket.csv", b"title,url,time_added,tags,status\nA,https://a.example/1,yesterday,,unread\n", "is not a date"),
    ("instapaper.csv", b"URL,Title,Selection,Folder,Timestamp\nhttps://a.example/1,A,,Unread,1700000000,extra\n",
     "does not have the header's columns"),
    ("bookmarks.html", b"<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p><DT><H3>Empty</H3></DL>", "no web addresses"),
    ("wallabag.json", b'[{"url": "https://a.example/1", "title": "A", "created_at": "2023-11-14T10:00:00Z"', "not valid JSON"),
    ("wallabag.json", b'[{"title": "No address"}]', "entry 1 has no url"),
    ("karakeep.json", b'{"bookmarks": {"content": {"type": "link"}}}', "should be a list of objects"),
    ("karakeep.json", b'{"bookmarks": [{"createdAt": 1700000000, "content": {"type": "link"}}]}', "bookmark 1 has no url"),
    ("omnivore.zip", "no metadata", "without Omnivore's metadata"),
    ("omnivore.zip", "broken metadata", "is not valid JSON"),
    ("omnivore.zip", b"PK\x03\x04 cut short", "damaged zip"),
    ("notes.txt", b"Just some notes about nothing in particular.\n", "is not a format Crosscurrent imports"),
    ("other.json", b'{"items": []}', "neither a Wallabag nor a Karakeep export"),
]


@pytest.mark.parametrize("name, content, message", MALFORMED, ids=[f"{m[0]}-{m[2]}" for m in MALFORMED])
def test_a_malformed_file_fails_with_one_clear_line_and_stores_nothing(name, content, message, tmp_path, isolated_data):
    if content == "no metadata":
        content = zip_of(tmp_path, {"content/a.html": "<p>hello</p>"})
    elif content == "broken metadata":
        content = zip_of(tmp_path, {"metadata_0_to_1.json": '[{"url": "https://a.example/1",'})
    export = tmp_path / name
    export.write_bytes(content)
    result = run(isolated_data, export)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not (isolated_data / "crosscurrent.db").exists() or stored(isolated_data) == []


# -- the fetcher ---------------------------------------------------------------------------------------
FETCHES = [
    ("/harbour-dredging.html", {}, "Harbour dredging", 1),
    ("/moved", {}, "Harbour dredging", 2),
    ("/missing.html", {}, FetchError("HTTP 404 Not Found"), 1),
    ("/pdf", {}, FetchError("not a web page (application/pdf)"), 1),
    ("/big", {"max_bytes": 1000}, FetchError("larger than 1000 bytes"), 1),
    ("/to-ftp", {}, FetchError("redirected to a non-web address"), 1),
    ("/flaky.html", {"fail": 2}, FetchError("HTTP 404"), 3),                 # two 503s, then the real answer
    ("/harbour-dredging.html", {"fail": 5, "retries": 2}, FetchError("HTTP 503"), 3),
]


@pytest.mark.parametrize("path, options, expected, requests", FETCHES, ids=[f"{c[0]}-{c[1]}" for c in FETCHES])
def test_fetch(path, options, expected, requests, site):
    options = dict(options)
    if options.get("fail"):
        Site.failures[path] = options.pop("fail")
    fetcher = Fetcher(**options)
    if isinstance(expected, FetchError):
        with pytest.raises(FetchError, match=str(expected).replace("(", r"\(").replace(")", r"\)")):
            fetcher.fetch(site + path)
    else:
        url, html = fetcher.fetch(site + path)
        assert expected in html and url.endswith(".html")
    assert len(Site.log) == requests


@pytest.mark.parametrize("url", ["ftp://files.example/a", "file:///etc/hosts", "javascript:alert(1)", "http://"])
def test_fetch_only_web_addresses(url):
    with pytest.raises(FetchError, match="not an http"):
        Fetcher().fetch(url)


def test_fetch_gives_up_on_a_host_that_does_not_answer_and_tries_it_once_after():
    pauses = []
    fetcher = Fetcher(retries=2, backoff=0.5, delay=0, sleep=pauses.append)
    for page in ("/a", "/b"):
        with pytest.raises(FetchError, match="could not connect"):
            fetcher.fetch("http://127.0.0.1:9" + page)
    assert pauses == [0.5, 1.0]         # back-off doubles; the second address gets no retries


def test_fetch_waits_between_requests_to_the_same_host(site):
    now = [100.0]
    pauses = []

    def sleep(seconds):
        pauses.append(round(seconds, 3))
        now[0] += seconds

    fetcher = Fetcher(delay=1.5, sleep=sleep, clock=lambda: now[0])
    other = site.replace("127.0.0.1", "localhost")
    fetcher.fetch(site + "/harbour-dredging.html")
    fetcher.fetch(other + "/tram-line.html")         # another host: no wait
    now[0] += 0.5
    fetcher.fetch(site + "/market-hall.html")        # same host, 0.5 s later: waits the rest
    assert pauses == [1.0]


def test_forgetting_an_article_forgets_its_tags(hash_app):
    store = hash_app.extensions["crosscurrent"].store
    engine = hash_app.extensions["crosscurrent"].engine
    result = engine.capture("https://porthaven-courier.example/harbour/dredging",
                            (SAMPLES / "site" / "harbour-dredging.html").read_text())
    store.tag_article(result.article_id, ["harbour", " harbour ", "", "ports"])
    assert store.article_tags(result.article_id) == ["harbour", "ports"]
    assert engine.forget(result.article_id)
    assert store.reader.execute("SELECT count(*) FROM article_tags").fetchone()[0] == 0


# -- fetching several outlets at once -------------------------------------------------------------------
class Outlets(http.server.BaseHTTPRequestHandler):
    """Every path is the same sample page, slow to answer; each request's host and time are noted."""

    visits: list[tuple[str, float, float]] = []
    page = (SAMPLES / "site" / "harbour-dredging.html").read_bytes()

    def do_GET(self):
        started = time.monotonic()
        time.sleep(0.05)
        body = Outlets.page.replace(b"</title>", f" {self.path}</title>".encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        Outlets.visits.append((self.server.server_address[0], started, time.monotonic()))

    def log_message(self, *args):
        pass


@pytest.fixture
def outlets():
    """The same site on four loopback addresses: four outlets to the fetcher."""
    Outlets.visits = []
    servers = [http.server.ThreadingHTTPServer((f"127.0.0.{n}", 0), Outlets) for n in (1, 2, 3, 4)]
    for httpd in servers:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield [f"http://{h.server_address[0]}:{h.server_address[1]}" for h in servers]
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def overlapping(spans) -> bool:
    spans = sorted(spans)
    return any(b[0] < a[1] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize("workers, concurrent", [(1, False), (4, True)])
def test_outlets_are_fetched_at_once_but_each_politely_and_captured_in_order(outlets, hash_app, workers, concurrent,
                                                                            monkeypatch):
    delay = 0.5
    # One outlet after another, as a history sorted by time often is: three visits each.
    items = [server.imports.Item(label=f"{base}/story-{n}", url=f"{base}/story-{n}")
             for base in outlets for n in range(3)]
    captured = []
    engine = hash_app.extensions["crosscurrent"].engine

    class Recording:                    # the real engine, noting the order of the captures
        def __getattr__(self, name):
            return getattr(engine, name)

        def capture(self, url, html, **options):
            captured.append(url)
            return engine.capture(url, html, **options)

    embedded_on = set()
    real_embed = engine.embedder.embed
    monkeypatch.setattr(engine.embedder, "embed", lambda texts: embedded_on.add(
        threading.current_thread().name.rstrip("0123456789")) or real_embed(texts))
    importer = server.imports.Importer(Recording(), Fetcher(delay=delay), workers=workers)
    importer.add_all(items)
    # Fetched ahead, pages may be embedded ahead too, on a thread of their own (the loop embeds those it
    # reaches first itself; which thread wins a page depends on the machine's load); one at a time, never.
    assert embedded_on <= ({"import-ready", "MainThread"} if concurrent else {"MainThread"})
    assert captured == [item.url for item in items]
    assert importer.skipped == [] and importer.created + importer.duplicates == len(items)
    by_host: dict[str, list] = {}
    for host, begin, end in Outlets.visits:
        by_host.setdefault(host, []).append((begin, end))
    assert len(Outlets.visits) == len(items) and len(by_host) == 4
    for spans in by_host.values():      # one request at a time per host, the pause between them
        spans.sort()
        assert all(b[0] - a[1] >= delay * 0.95 for a, b in zip(spans, spans[1:]))
    # Side by side, the outlets' requests overlap; one worker never overlaps two.
    assert overlapping([(b, e) for _, b, e in Outlets.visits]) == concurrent


class InstantFetcher:
    def fetch(self, url):
        return url, f"<html><body><p>{url}</p></body></html>"

    def wait_left(self, host):
        return 0.0


def test_fetched_pages_are_readied_in_batches_and_the_loop_takes_a_page_without_waiting_for_others():
    gate, batches, started = threading.Event(), [], threading.Event()

    def ready(pages):
        batches.append([item.label for item, _, _ in pages])
        if len(batches) == 1:
            started.set()
            assert gate.wait(10)

    prefetch = server.imports.Prefetch(InstantFetcher(), workers=2, ready=ready)
    items = [server.imports.Item(label=name, url=f"https://{name}.example/story") for name in "abcd"]
    try:
        prefetch.add(0, items[0])
        assert started.wait(10)                     # "a" is being readied and holds the readier
        for position, item in enumerate(items[1:], 1):
            prefetch.add(position, item)
        for item in items[1:]:
            item.fetched.result(10)
        assert prefetch.take(items[2]) == ("https://c.example/story", "<html><body><p>https://c.example/story</p></body></html>")
        gate.set()
        assert prefetch.take(items[0])[0] == "https://a.example/story"      # waits for its readying under way
        deadline = time.monotonic() + 10
        while len(batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batches == [["a"], ["b", "d"]]       # together; "c" was taken first: not readied twice
    finally:
        prefetch.close()


def test_readying_waits_for_its_start_then_batches_double_and_the_loop_readies_what_it_reaches_first():
    started, batches = threading.Event(), []
    prefetch = server.imports.Prefetch(InstantFetcher(), workers=1, ready=lambda pages: batches.append(
        [item.label for item, _, _ in pages]), ready_from=lambda: started.wait(10))
    items = [server.imports.Item(label=str(n), url=f"https://carried.example/{n}", html="<p>page</p>") for n in range(40)]
    try:
        for position, item in enumerate(items):
            prefetch.add_page(position, item)
        for item in items[:3]:
            prefetch.reached(item)      # the readying has not started: the loop does not wait for it
        started.set()
        deadline = time.monotonic() + 10
        while sum(map(len, batches)) < 37 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        prefetch.close()
    assert [len(batch) for batch in batches] == [1, 2, 4, 8, 8, 8, 6]   # up to READY_BATCH
    assert [label for batch in batches for label in batch] == [str(n) for n in range(3, 40)]


def test_a_readying_process_says_when_its_model_is_loaded_and_runs_at_a_lower_priority():
    from server import readying
    from server.readying import ReadyingProcess

    helper = ReadyingProcess(HashEmbedder().setting)
    try:
        assert helper.wait_started() and helper.usable
        assert helper.ready([(numbered_pages(1)[0], "https://carried.example/0", None)])[0].claims
        if hasattr(os, "getpriority"):      # it waits for the cores the capture loop leaves
            mine = os.getpriority(os.PRIO_PROCESS, 0)
            assert os.getpriority(os.PRIO_PROCESS, helper._process.pid) == min(19, mine + readying.NICENESS)
    finally:
        helper.close()
    gone = ReadyingProcess(HashEmbedder().setting)
    gone._process.kill()
    assert not gone.wait_started() and not gone.usable
    gone.close()


def counting(monkeypatch, calls: list, *names: str) -> None:
    """Every call of the named functions (module.attribute) is noted in `calls` by its first argument."""
    for name in names:
        module, attribute = name.rsplit(".", 1)
        real = getattr(importlib.import_module(module), attribute)
        monkeypatch.setattr(f"{module}.{attribute}",
                            lambda *args, _real=real, **kwargs: calls.append(args[0]) or _real(*args, **kwargs))


def saved_page(folder: Path, name: str, url: str) -> Path:
    """A page as a browser's "Save page as" writes it, from tests/pages."""
    path = folder / name
    path.write_text(f"<!-- saved from url=({len(url):04d}){url} -->\n" +
                    (Path(__file__).parent / "pages" / name).read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_an_import_extracts_and_cuts_each_page_once_fetched_carried_or_saved(tmp_path, site, monkeypatch):
    hash_engine = Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    extracted, cut = [], []
    counting(monkeypatch, extracted, "server.readying.extract_article", "server.pipeline.extract_article")
    counting(monkeypatch, cut, "server.readying.extract_claims", "server.pipeline.extract_claims")
    fetched = [f"{site}/{name}" for name in ("tram-line.html", "harbour-dredging.html")]
    carried = "https://carried.example/library"
    saved = saved_page(tmp_path, "ferry-fares.html", "https://saved.example/ferry-fares")
    items = [server.imports.Item(label=url, url=url) for url in fetched] + [server.imports.Item(
        label=carried, url=carried, html=(Path(__file__).parent / "pages" / "library-reopens.html").read_text(encoding="utf-8")),
        server.imports.Item(label=str(saved), path=saved)]
    importer = server.imports.Importer(hash_engine, fetcher=server.fetcher.Fetcher(delay=0))
    importer.add_all(items)
    assert hash_engine.store.article_id_for_url("https://saved.example/ferry-fares") is not None
    hash_engine.store.close()
    assert (importer.created, importer.skipped) == (4, [])
    assert len(extracted) == len(cut) == 4              # readied ahead or by the capture, never both
    assert all(item.readied is None for item in items)        # nothing readied stays in memory
    assert items[-1].html is None                             # nor the saved page read ahead


def test_a_saved_page_is_read_and_readied_ahead_of_its_turn(tmp_path):
    path = saved_page(tmp_path, "ferry-fares.html", "https://saved.example/ferry-fares")
    readied, pages = threading.Event(), []
    prefetch = server.imports.Prefetch(InstantFetcher(), workers=1,
                                       ready=lambda batch: pages.extend((url, html) for _, url, html in batch) or readied.set())
    engine = Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    try:
        server.imports.Importer(engine)._plan(prefetch, 0, server.imports.Item(label="saved", path=path), set())
        assert readied.wait(10)
    finally:
        prefetch.close()
        engine.store.close()
    assert pages == [("https://saved.example/ferry-fares", path.read_text(encoding="utf-8"))]


# -- the browser history the extension sends ---------------------------------------------------------
def history_status(client, auth) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.get("/api/imports/current", headers=auth).json
        if status["state"] == "finished":
            return status
        time.sleep(0.05)
    raise AssertionError(f"the history import did not finish: {status}")


def test_the_extension_history_imports_each_address_read_on_its_last_visit(hash_app, auth, site):
    client = hash_app.test_client()
    day = 86_400_000
    visits = [
        {"url": f"{site}/tram-line.html", "visited_at": 1_700_000_000_000 + 2 * day, "title": "Tram line"},
        {"url": f"{site}/harbour-dredging.html", "visited_at": 1_700_000_000_000},
        {"url": f"{site}/missing.html", "visited_at": 1_700_000_000_000 + day},
        {"url": f"{site}/harbour-dredging.html", "visited_at": "2023-11-15T09:00:00Z"},   # read again, later
    ]
    response = client.post("/api/imports/history", json={"items": visits, "name": "Chromium, last 7 days"},
                           headers=auth)
    assert response.status_code == 202, response.json
    assert (response.json["format"], response.json["file"], response.json["total"]) == (
        "browser history", "Chromium, last 7 days", 3)
    status = history_status(client, auth)
    assert (status["created"], status["duplicates"]) == (2, 0)
    assert status["skipped"] == [[f"{site}/missing.html", "HTTP 404 Not Found"]]
    assert [(path_of(a["url"]), a["captured_at"]) for a in hash_app.extensions["crosscurrent"].store.export_articles()] == [
        ("/harbour-dredging.html", "2023-11-15T09:00:00Z"), ("/tram-line.html", "2023-11-16T22:13:20Z")]
    # The same history again: nothing fetched, everything already stored.
    fetched = len(Site.log)
    assert client.post("/api/imports/history", json={"items": visits}, headers=auth).status_code == 202
    assert (lambda s: (s["created"], s["duplicates"], s["file"]))(history_status(client, auth)) == (0, 2, "Browser history")
    assert len(Site.log) == fetched + 1      # only the missing page is asked for again


HISTORY_REFUSALS = [
    ({}, "'items' must be a list"),
    ({"items": "https://a.example/1"}, "'items' must be a list"),
    ({"items": []}, "nothing to import"),
    ({"items": [{"visited_at": 1700000000000}]}, "item 1 has no url"),
    ({"items": [{"url": "javascript:alert(1)", "visited_at": 1700000000000}]}, "not a web address"),
    ({"items": [{"url": "http://[::1/x", "visited_at": 1700000000000}]}, "not a web address"),
    ({"items": [{"url": "https://a.example:99999/x", "visited_at": 1700000000000}]}, "not a web address"),
    ({"items": [{"url": "https:///no-host", "visited_at": 1700000000000}]}, "not a web address"),
    ({"items": [{"url": "https://a.example/1"}]}, "item 1 has no visited_at"),
    ({"items": [{"url": "https://a.example/1", "visited_at": "last week"}]}, "is not a date"),
    ({"items": [{"url": "https://a.example/1", "visited_at": True}]}, "has no visited_at"),
    ({"items": [{"url": f"https://a.example/{n}", "visited_at": 1} for n in range(5001)]}, "at most 5,000"),
]


@pytest.mark.parametrize("body, message", HISTORY_REFUSALS, ids=[m for _, m in HISTORY_REFUSALS])
def test_a_history_that_cannot_be_used_is_refused_and_starts_nothing(hash_app, auth, body, message):
    response = hash_app.test_client().post("/api/imports/history", json=body, headers=auth)
    assert response.status_code == 400
    assert response.json["error"] == "bad_request" and message in response.json["message"]
    assert server.import_job.job_for(hash_app).status() == {"state": "idle"}


@pytest.mark.parametrize("method, path", [("POST", "/api/imports/history"), ("GET", "/api/imports/current")])
def test_the_history_import_needs_a_paired_browser(hash_app, method, path):
    response = hash_app.test_client().open(path, method=method, json={"items": []} if method == "POST" else None)
    assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_a_history_import_waits_for_the_running_one(hash_app, auth, site, monkeypatch):
    release = threading.Event()
    real_add = server.imports.Importer.add
    monkeypatch.setattr(server.imports.Importer, "add", lambda self, item: release.wait(30) and real_add(self, item))
    client = hash_app.test_client()
    visits = {"items": [{"url": f"{site}/tram-line.html", "visited_at": 1700000000000}]}
    try:
        assert client.post("/api/imports/history", json=visits, headers=auth).status_code == 202
        second = client.post("/api/imports/history", json=visits, headers=auth)
        assert second.status_code == 409 and second.json["error"] == "import_running"
        assert client.get("/api/imports/current", headers=auth).json["state"] == "running"
    finally:
        release.set()
        server.import_job.job_for(hash_app).wait(30)
    assert history_status(client, auth)["created"] == 1


def test_the_import_benchmark_imports_every_generated_article_from_its_outlets(monkeypatch, capsys):
    bench_cli = pytest.importorskip("bench.__main__")
    monkeypatch.setattr(server.fetcher, "DELAY", 0)
    monkeypatch.setenv("CROSSCURRENT_BENCH_MODEL", "hash")
    assert bench_cli.main(["imports", "--articles", "24", "--outlets", "4", "--floor-sample", "4"]) == 0
    report = capsys.readouterr().out
    assert "24 generated articles over 4 loopback outlets" in report
    # No two generated pages are one article.
    assert "; 24 new, 0 already stored, 0 skipped; no pause between requests)" in report
    assert re.search(r"import / floor \d+\.\d+", report)
    assert re.search(r"an export that carries them: \d+\.\d+ articles/s \(24 new; / floor \d+\.\d+\)", report)


def numbered_pages(count: int) -> list[str]:
    """`count` distinct article pages (a sentence of its own each, and two sharing a story's claims)."""
    template = (Path(__file__).parent / "pages" / "library-reopens.html").read_text(encoding="utf-8")
    return [template.replace("millbrook-library-reopens", f"millbrook-library-reopens-{n}").replace(
        "</article>", f"<p>The council counted {n} new readers on the {n}th day of the month.</p></article>")
        for n in range(count)]


def claims_links_and_stories(store: Store) -> list[tuple]:
    """What an import leaves, by article address: claims, links and stories."""
    rows = store.reader.execute(
        "SELECT a.canonical_url, c.position, c.text, "
        "(SELECT COUNT(*) FROM links l WHERE l.claim_id = c.id), a.story_id "
        "FROM claims c JOIN articles a ON a.id = c.article_id ORDER BY a.id, c.position").fetchall()
    return [tuple(r) for r in rows]


def test_a_long_import_readies_its_pages_in_a_process_and_stores_what_a_thread_would(tmp_path, monkeypatch):
    pages = numbered_pages(server.imports.PROCESS_MIN_PAGES + 8)
    items = lambda: [server.imports.Item(label=f"page {n}", url=f"https://carried.example/{n}", html=html)
                     for n, html in enumerate(pages)]
    started = []
    real_process = server.imports.ReadyingProcess
    monkeypatch.setattr(server.imports, "ReadyingProcess", lambda setting: started.append(setting) or real_process(setting))
    results = []
    for name, least in (("in a process", server.imports.PROCESS_MIN_PAGES), ("on a thread", 10 ** 9)):
        monkeypatch.setattr(server.imports, "PROCESS_MIN_PAGES", least)
        engine = Engine(Store(tmp_path / name / "crosscurrent.db"), HashEmbedder())
        importer = server.imports.Importer(engine, fetcher=server.fetcher.Fetcher(delay=0))
        importer.add_all(items())
        assert (importer.created, importer.skipped) == (len(pages), [])
        results.append(claims_links_and_stories(engine.store))
        engine.store.close()
    assert started == [("hash", None)]                  # the long import only
    assert results[0] == results[1]
    assert {row[4] for row in results[0]} != {None}     # the pages share claims: linked, in stories


READYING_CASES = [
    # (what, the page, the title the export gives, what readying finds: heading or None for no article)
    ("an article", (Path(__file__).parent / "pages" / "library-reopens.html").read_text(encoding="utf-8"), None,
     "Millbrook's old library reopens after a long cleanup"),
    ("not an article", "<html><body><p>Sign in</p></body></html>", None, None),
    ("the export's title when the page has none", "<html><body><article>" + "".join(
        f"<p>The harbour board said on Monday that dredging of berth {n} would finish by the end of June.</p>"
        for n in range(8)) + "</article></body></html>", "  Harbour dredging to finish in June ", "Harbour dredging to finish in June"),
]


def test_the_readying_process_readies_pages_as_this_process_would():
    from server.readying import ReadyingProcess, ready_page

    embedder = HashEmbedder()
    helper = ReadyingProcess(embedder.setting)
    try:
        there = helper.ready([(html, "https://news.example/a", title) for _, html, title, _ in READYING_CASES])
    finally:
        helper.close()
    assert not helper._process.is_alive()
    for (what, html, title, heading), theirs in zip(READYING_CASES, there):
        here = ready_page(html, "https://news.example/a", title)
        if heading is None:
            assert here is None and theirs is None, what
            continue
        assert theirs.heading == here.heading and theirs.heading.startswith(heading), what
        assert theirs.extracted == here.extracted, what
        assert [c.text for c in theirs.claims] == [c.text for c in here.claims] and theirs.claims, what
        vectors = embedder.embed([c.text for c in here.claims])
        assert [from_blob(theirs.vectors[text_hash(c.text)]).tolist() for c in here.claims] == vectors.tolist(), what


def test_a_readying_process_that_takes_too_long_is_ended_and_not_asked_again(monkeypatch):
    import server.readying
    from server.readying import ReadyingFailed, ReadyingProcess

    monkeypatch.setattr(server.readying, "BATCH_WAIT_S", 0.001)     # less than the process takes to start
    helper = ReadyingProcess(HashEmbedder().setting)
    with pytest.raises(ReadyingFailed, match="took more than"):
        helper.ready([(numbered_pages(1)[0], "https://carried.example/0", None)])
    helper._process.join(10)
    assert not helper._process.is_alive() and not helper.usable
    helper.close()


@pytest.mark.model
def test_the_readying_process_embeds_with_the_model_this_process_uses(real_embedder):
    from server.readying import ReadyingProcess, ready_page

    _, html, title, _ = READYING_CASES[0]
    helper = ReadyingProcess(real_embedder.setting)
    try:
        [theirs] = helper.ready([(html, "https://news.example/a", title)])
    finally:
        helper.close()
    texts = [c.text for c in ready_page(html, "https://news.example/a", title).claims]
    there = np.stack([from_blob(theirs.vectors[text_hash(t)]) for t in texts])
    assert np.abs(there - real_embedder.embed(texts)).max() < 1e-5


def test_pages_are_readied_here_when_the_readying_process_is_gone_and_not_after_the_import(tmp_path):
    from server.readying import ReadyingFailed, ReadyingProcess

    engine = Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    helper = ReadyingProcess(engine.embedder.setting)
    page = numbered_pages(1)[0]
    helper._process.kill()
    helper._process.join(10)
    with pytest.raises(ReadyingFailed):
        helper.ready([(page, "https://carried.example/0", None)])
    assert not helper.usable and not helper.closed
    item = server.imports.Item(label="page", url="https://carried.example/0", html=page)
    server.imports.ready_ahead(engine, [(item, item.url, page)], helper)
    assert item.readied is not None and len(item.readied.vectors) == len(item.readied.claims) > 0
    helper.close()
    later = server.imports.Item(label="page", url="https://carried.example/1", html=page)
    server.imports.ready_ahead(engine, [(later, later.url, page)], helper)
    assert later.readied is not None                    # a closed helper is not asked: readied here
    engine.store.close()
