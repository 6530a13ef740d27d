"""Hardening: pairing that resists guessing, no secrets in logs, storage errors named, private files,
redirect targets and Host headers parsed strictly."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import LiveServer, csrf_of, ui_client
from server import security
from server.cli import cli
from server.pairing import CODE_MOST_FAILURES, REQUESTS_WAITING, new_code
from test_fuzz import ARTICLE

OTHER_ARTICLE = ARTICLE.replace("Eastmere", "Northmere").replace("four months", "a year")


@pytest.fixture
def client(hash_app):
    return hash_app.test_client()


@pytest.fixture
def store(hash_app):
    return hash_app.extensions["crosscurrent"].store




def cli_run(data, *args):
    """The command as a reader runs it: any exception that escapes click would show here as a traceback."""
    return CliRunner().invoke(cli, ["--data", str(data), "--model", "hash", *args], catch_exceptions=False)


def one_clear_line(result, *words):
    assert result.exit_code == 1, result.output
    # Only a progress bar may come before the error line.
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("Importing")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]


# -- the Host header and redirect targets ---------------------------------------------------------------
@pytest.mark.parametrize("host, ok", [
    ("127.0.0.1", True), ("127.0.0.1:7412", True), ("localhost:9", True), ("LOCALHOST", True),
    ("[::1]", True), ("[::1]:7412", True),
    ("127.0.0.1:7490@evil.example", False), ("[::1]evil", False), ("[::1]:80x", False), ("::1", False),
    ("localhost.", False), ("localhost:", False), ("localhost:99999", False), ("localhost:0", False),
    ("127.0.0.1.evil.example", False), ("evil.example:7412", False), ("127.0.0.1 ", False), ("", False),
    ("127.0.0.1:7412/x", False), ("localhost:+80", False), ("127.0.0.1:١٢", False), (None, False),
])
def test_host_header_is_parsed_strictly(client, host, ok):
    assert security.host_is_loopback(host) is ok
    if host:
        response = client.get("/api/health", headers={"Host": host})
        assert response.status_code == (200 if ok else 403), host


@pytest.mark.parametrize("target, expected", [
    ("/stories", "/stories"), ("/articles/3?from=2024-10-01", "/articles/3?from=2024-10-01"),
    ("/\t/evil.example", "/"), ("/\n/evil.example", "/"), ("/\\evil.example", "/"), ("//evil.example", "/"),
    ("/ /evil.example", "/"), ("https://evil.example/", "/"), ("evil.example", "/"), ("", "/"), (None, "/"),
    ("/\x00", "/"), ("/%09/evil.example", "/%09/evil.example"),   # stays a path: browsers do not decode it
])
def test_redirect_targets_stay_on_this_server(target, expected):
    assert security.safe_next(target) == expected


@pytest.mark.parametrize("sent", ["/\t/evil.example", "//evil.example", "https://evil.example", "/\\evil"])
def test_dismiss_form_never_redirects_away(hash_app, auth, sent):
    client = ui_client(hash_app)
    store = hash_app.extensions["crosscurrent"].store
    ids = [client.post("/api/pages", json={"url": f"https://pier.example/{n}", "html": html}, headers=auth)
           .json["article"]["id"] for n, html in enumerate([ARTICLE, OTHER_ARTICLE])]
    with store.write() as conn:
        store.insert_links(conn, [{"claim_id": store.article_claims(ids[1])[2]["id"],
                                   "other_claim_id": store.article_claims(ids[0])[2]["id"], "label": "disputes",
                                   "confidence": 0.9, "reason": "Different number", "similarity": 0.8}])
    link = store.list_contradictions()["items"][0]["id"]
    response = client.post(f"/contradictions/{link}/dismiss", data={"csrf": csrf_of(hash_app), "next": sent})
    assert response.status_code == 302 and response.headers["Location"] == "/contradictions"


# -- pairing codes --------------------------------------------------------------------------------------
def test_guessing_codes_is_locked_out_and_the_real_code_then_needs_the_reader(client, store):
    code = new_code(store)
    guesses = [f"{n:06d}" for n in range(200) if f"{n:06d}" != code][:200]
    answers = [client.post("/api/pair", json={"code": guess}) for guess in guesses]
    statuses = [a.status_code for a in answers]
    assert statuses[:CODE_MOST_FAILURES - 1] == [403] * (CODE_MOST_FAILURES - 1)
    assert set(statuses[CODE_MOST_FAILURES - 1:]) == {429}
    assert answers[-1].json["error"] == "too_many_attempts" and "new code" in answers[-1].json["message"]
    # The real code is refused while locked...
    assert client.post("/api/pair", json={"code": code}).status_code == 429
    # ...and after the lock it is gone: the reader has to show a new one.
    with store.write() as conn:
        conn.execute("UPDATE pair_guard SET locked_until = '2000-01-01T00:00:00Z'")
    assert client.post("/api/pair", json={"code": code}).status_code == 403
    fresh = new_code(store)
    assert client.post("/api/pair", json={"code": fresh}).json["status"] == "approved"
    assert len(store.list_tokens()) == 1


def test_a_new_code_replaces_the_old_one_and_lifts_the_lock(client, store):
    for guess in range(CODE_MOST_FAILURES):
        client.post("/api/pair", json={"code": "x" * guess})
    assert client.post("/api/pair", json={"code": "123456"}).status_code == 429
    first, second = new_code(store), new_code(store)
    if first != second:
        assert client.post("/api/pair", json={"code": first}).status_code == 403
    assert client.post("/api/pair", json={"code": second}).json["status"] == "approved"


# -- pairing requests -----------------------------------------------------------------------------------
def test_waiting_requests_are_capped_and_expire(client, store):
    asked = [client.post("/api/pair", json={"name": f"Browser {n}"}) for n in range(REQUESTS_WAITING + 1)]
    assert [a.status_code for a in asked] == [202] * REQUESTS_WAITING + [429]
    assert "already waiting" in asked[-1].json["message"]
    first = asked[0].json
    with store.write() as conn:     # the first request is now older than a request may wait
        conn.execute("UPDATE pair_requests SET created_at = '2000-01-01T00:00:00Z' WHERE id = ?",
                     (first["request_id"],))
    poll = client.post("/api/pair", json={"request_id": first["request_id"], "poll": first["poll"]})
    assert poll.status_code == 404 and "expired" in poll.json["message"]
    assert first["request_id"] not in [r["id"] for r in store.pending_pair_requests()]
    assert store.decide_pair_request(first["request_id"], True) is False
    assert client.post("/api/pair", json={"name": "One more"}).status_code == 202


def test_waiting_requests_show_origin_and_time(hash_app, client, isolated_data):
    client.post("/api/pair", json={"name": "Chromium"}, headers={"Origin": "chrome-extension://abcdefghijkl"})
    client.post("/api/pair", json={"name": "Chromium"})         # same name, from no extension at all
    listed = cli_run(isolated_data, "pair", "list").output
    rows = [line for line in listed.splitlines() if "Chromium" in line]
    assert len(rows) == 2
    assert "from chrome-extension://abcdefghijkl" in rows[0]
    assert "not sent by a browser extension" in rows[1]
    assert all("asked 20" in row and "expires 20" in row for row in rows)
    page = ui_client(hash_app).get("/pairing").get_data(as_text=True)
    assert "chrome-extension://abcdefghijkl" in page and "not sent by a browser extension" in page
    assert page.count(" UTC") >= 2


@pytest.mark.parametrize("body, status", [
    ({"request_id": 10**30, "poll": "x"}, 404), ({"request_id": float("inf"), "poll": "x"}, 400),
    ({"request_id": True, "poll": "x"}, 400), ({"request_id": "1e3", "poll": "x"}, 400),
    ({"request_id": 1, "poll": "x" * 10_000}, 404), ({"name": "\ud800" * 3}, 202),
])
def test_pair_fields_out_of_range(client, body, status):
    assert client.post("/api/pair", json=body).status_code == status


# -- secrets stay out of logs ---------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_access_log_names_neither_the_key_nor_a_search(hash_app, caplog):
    caplog.set_level(logging.INFO)
    key = hash_app.extensions["crosscurrent"].ui_key
    term = "quokkasecretterm"
    live = LiveServer(hash_app)
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as login:
            opener.open(f"{live.url}/login?key={key}&next=/stories")
        assert login.value.code == 302 and login.value.headers["Location"] == "/stories"
        cookie = login.value.headers["Set-Cookie"].split(";")[0]
        search = urllib.request.Request(f"{live.url}/?q={term}", headers={"Cookie": cookie})
        assert term in opener.open(search).read().decode()
    finally:
        live.stop()
    logged = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /login HTTP/1.1" in logged and "GET / HTTP/1.1" in logged
    assert key not in logged and term not in logged


@pytest.mark.parametrize("headers, status", [
    ({}, 401),
    ({security.KEY_HEADER: "not-the-key"}, 401),
    ({security.KEY_HEADER: "ключ"}, 401),
    ({security.KEY_HEADER: "KEY"}, 200),
    # The key sent as a bearer token is no API token.
    ({"Authorization": "Bearer KEY"}, 401),
])
def test_a_sign_in_ticket_needs_the_ui_key_in_its_header(hash_app, client, headers, status):
    key = hash_app.extensions["crosscurrent"].ui_key
    sent = {name: value.replace("KEY", key) for name, value in headers.items()}
    answer = client.post("/api/ui-ticket", json={}, headers=sent)
    assert answer.status_code == status
    if status == 200:
        ticket = answer.get_json()["ticket"]
        assert client.get(f"/login?ticket={ticket}").status_code == 302
        assert client.get(f"/login?ticket={ticket}").status_code == 401      # single use
    else:
        assert answer.get_json()["error"] == "unauthorized"


def test_a_new_key_signs_every_window_out(hash_app, isolated_data):
    client = ui_client(hash_app)
    old_key = hash_app.extensions["crosscurrent"].ui_key
    assert client.get("/").status_code == 200
    result = cli_run(isolated_data, "pair", "--new-key")
    assert result.exit_code == 0 and "signed out" in result.output
    new_key = (isolated_data / "ui.key").read_text().strip()
    assert new_key != old_key and (os.stat(isolated_data / "ui.key").st_mode & 0o777) == 0o600
    assert client.get("/").status_code == 401                   # the running server noticed at once
    assert hash_app.test_client().get(f"/login?key={old_key}").status_code == 401
    assert hash_app.test_client().get(f"/login?key={new_key}").status_code == 302


# -- storage errors -------------------------------------------------------------------------------------
def capture(client, auth, url, html):
    return client.post("/api/pages", json={"url": url, "html": html}, headers=auth)


def test_disk_full_is_named_and_nothing_acknowledged_is_lost(client, auth, store):
    first = capture(client, auth, "https://pier.example/1", ARTICLE)
    assert first.status_code == 201
    pages = store._writer.execute("PRAGMA page_count").fetchone()[0]
    store._writer.execute(f"PRAGMA max_page_count = {pages}")     # the database may not grow: a full disk
    full = capture(client, auth, "https://pier.example/2", OTHER_ARTICLE)
    assert full.status_code == 507 and full.json["error"] == "disk_full"
    assert "not enough disk space, nothing was stored" in full.json["message"].lower()
    assert store.counts()["articles"] == 1
    assert client.get(f"/api/articles/{first.json['article']['id']}", headers=auth).json["text"]
    health = client.get("/api/health").json["storage"]
    assert health["writable"] is False and health["error"] == "disk_full"
    store._writer.execute("PRAGMA max_page_count = 1073741823")   # space again
    assert capture(client, auth, "https://pier.example/2", OTHER_ARTICLE).status_code == 201
    assert client.get("/api/health").json["storage"] == {"writable": True, "error": None, "message": None}
    assert store.counts()["articles"] == 2


def test_read_only_database_is_named_with_its_path(client, auth, store):
    assert capture(client, auth, "https://pier.example/1", ARTICLE).status_code == 201
    with store.write() as conn:         # the token's last-used stamp is due: reading must not depend on it
        conn.execute("UPDATE tokens SET last_used_at = NULL")
    store._writer.execute("PRAGMA query_only = ON")               # every write now fails as on a read-only file
    assert client.get("/api/health").json["storage"]["error"] == "read_only"
    for response in (capture(client, auth, "https://pier.example/2", OTHER_ARTICLE),
                     client.post("/api/pair", json={"name": "Chromium"})):
        assert response.status_code == 503 and response.json["error"] == "read_only"
        assert str(store.path) in response.json["message"]
    assert client.get("/api/health").json["storage"]["writable"] is False
    assert len(client.get("/api/articles", headers=auth).json["items"]) == 1   # reading still works


def test_health_is_quick_and_writable_while_another_process_writes(client, store):
    import sqlite3
    import time

    other = sqlite3.connect(str(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert client.get("/api/health").json["storage"]["writable"] is True
        assert time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()


@contextlib.contextmanager
def mounted(*args):
    """Run a mount for a test (root only); skip when this machine does not allow it."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    target = Path(args[-1])
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", *args], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.decode().strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_really_full_disk(tmp_path):
    """A tiny tmpfs filled to the brim: a capture is refused by name and stored once space is back."""
    from server.app import create_app

    with mounted("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(tmp_path / "tiny")) as tiny:
        app = create_app({"data_dir": tiny / "data", "model": "hash", "TESTING": True})
        try:
            from helpers import issue_token

            client, auth = app.test_client(), {"Authorization": f"Bearer {issue_token(app)}"}
            assert capture(client, auth, "https://pier.example/1", ARTICLE).status_code == 201
            filler = tiny / "filler"
            # Closing the filler flushes what the last write left: that fails too, and is expected.
            with contextlib.suppress(OSError), open(filler, "wb") as f:
                while True:
                    f.write(os.urandom(64 * 1024))
                    f.flush()
            big = OTHER_ARTICLE.replace("</article>", "".join(
                f"<p>{os.urandom(3000).hex()} is what the ledger line {n} reads.</p>" for n in range(40)) + "</article>")
            full = capture(client, auth, "https://pier.example/2", big)
            assert full.status_code == 507 and full.json["error"] == "disk_full", full.json
            assert client.get("/api/health").json["storage"]["writable"] is False
            assert app.extensions["crosscurrent"].store.counts()["articles"] == 1
            filler.unlink()
            assert capture(client, auth, "https://pier.example/2", big).status_code == 201
            assert app.extensions["crosscurrent"].store.counts()["articles"] == 2
        finally:
            app.extensions["crosscurrent"].store.close()


def test_really_read_only_folder(hash_app, auth, isolated_data, tmp_path):
    """The same data seen through a read-only mount: the server reads, refuses writes by name; the CLI
    says one line."""
    from server.app import create_app

    client = hash_app.test_client()
    assert capture(client, auth, "https://pier.example/1", ARTICLE).status_code == 201
    with mounted("--bind", "-o", "ro", str(isolated_data), str(tmp_path / "view")) as view:
        app = create_app({"data_dir": view, "model": "hash", "TESTING": True})
        try:
            ro_client = app.test_client()
            assert ro_client.get("/api/health").json["storage"]["error"] == "read_only"   # before any write failed
            refused = capture(ro_client, auth, "https://pier.example/2", OTHER_ARTICLE)
            assert refused.status_code == 503 and str(view) in refused.json["message"]
            assert ro_client.post("/api/pair", json={"name": "Chromium"}).status_code == 503
            assert ro_client.get("/api/health").json["storage"]["writable"] is False
            assert len(ro_client.get("/api/articles", headers=auth).json["items"]) == 1
        finally:
            app.extensions["crosscurrent"].store.close()
        one_clear_line(cli_run(view, "pair", "--code"), str(view), "read-only")
        asked = client.post("/api/pair", json={"name": "Chromium"}).json
        one_clear_line(cli_run(view, "pair", "approve", str(asked["request_id"])), "read-only")
        saved = tmp_path / "saved"
        saved.mkdir()
        url = "https://pier.example/saved"
        (saved / "pier.html").write_text(f"<!-- saved from url=({len(url):04d}){url} -->\n" + OTHER_ARTICLE)
        one_clear_line(cli_run(view, "import", str(saved)), "read-only")
    assert hash_app.extensions["crosscurrent"].store.counts()["articles"] == 1


@pytest.mark.parametrize("command", [["stats"], ["pair", "list"], ["pair", "--code"]])
def test_data_folder_that_cannot_be_created(tmp_path, command):
    if os.geteuid() == 0:
        context = mounted("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(tmp_path / "locked"))
    else:
        (tmp_path / "locked").mkdir()
        (tmp_path / "locked").chmod(0o500)
        context = contextlib.nullcontext(tmp_path / "locked")
    with context as locked:
        one_clear_line(cli_run(locked / "data", *command), str(locked / "data"))


# -- file modes -----------------------------------------------------------------------------------------
def test_data_files_are_the_readers_alone(tmp_path, auth, hash_app, isolated_data):
    old = os.umask(0o022)       # a usual umask: the modes below must not depend on it
    try:
        client = hash_app.test_client()
        assert capture(client, auth, "https://pier.example/1", ARTICLE).status_code == 201
        names = ["crosscurrent.db", "crosscurrent.db-wal", "crosscurrent.db-shm", "ui.key"]
        modes = {name: oct(os.stat(isolated_data / name).st_mode & 0o777) for name in names}
        assert modes == {name: "0o600" for name in names}
        assert os.stat(isolated_data).st_mode & 0o777 == 0o700
        export = tmp_path / "log.csv"
        assert cli_run(isolated_data, "export", "--format", "csv", "-o", str(export)).exit_code == 0
        assert os.stat(export).st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_files_left_open_by_an_older_version_are_tightened(tmp_path):
    from server.app import create_app

    data = tmp_path / "old"
    app = create_app({"data_dir": data, "model": "hash"})
    app.extensions["crosscurrent"].store.close()
    for path in (data / "crosscurrent.db", data):
        path.chmod(0o755 if path.is_dir() else 0o644)
    app = create_app({"data_dir": data, "model": "hash"})
    app.extensions["crosscurrent"].store.close()
    assert os.stat(data / "crosscurrent.db").st_mode & 0o777 == 0o600
    assert os.stat(data).st_mode & 0o777 == 0o700


@pytest.mark.parametrize("lookup", [
    "server.stories.anchor_neighbours",                 # the earlier articles naming the same people and places
    "server.store.Store.articles_sharing_hashes",       # the earlier articles holding the very same sentences
    "server.store.Store.lexical_claim_search",          # the earlier claims sharing a claim's rarest words
])
def test_a_lookup_that_fails_on_a_reading_thread_fails_the_capture_and_stores_nothing(tmp_path, monkeypatch, lookup):
    """These lookups run beside the embedding and judging, on the reading threads: their failure still
    reaches the capture, which stores no part of the page."""
    from helpers import page_html
    from server.embeddings import HashEmbedder
    from server.pipeline import Engine
    from server.store import Store

    engine = Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    engine.capture("https://first.example/story", page_html("ostrand-denies-calls.html"))
    before = engine.store.article_ids()

    def broken(*args, **kwargs):
        raise OSError("disk I/O error")

    monkeypatch.setattr(lookup, broken)
    with pytest.raises(OSError, match="disk I/O error"):
        engine.capture("https://second.example/story", page_html("generators-confirmed.html"))
    assert engine.store.article_ids() == before
    monkeypatch.undo()
    assert engine.capture("https://second.example/story", page_html("generators-confirmed.html")).created
    engine.store.close()


def test_a_capture_compares_the_articles_sharing_its_names_while_its_claims_are_embedded(tmp_path, monkeypatch):
    """The comparison with the earlier articles that share the page's rarer names needs no vectors: it runs
    on a reading thread while the claims are embedded (it has started by the time the embedding waits)."""
    from helpers import page_html
    from server.embeddings import HashEmbedder
    from server.pipeline import Engine
    from server.store import Store

    engine = Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    engine.capture("https://first.example/story", page_html("ostrand-denies-calls.html"))
    comparing, embedding, started, seen = engine.compared_by_anchors, engine.vectors_for, threading.Event(), []
    monkeypatch.setattr(engine, "compared_by_anchors", lambda *a: started.set() or comparing(*a))
    monkeypatch.setattr(engine, "vectors_for", lambda *a, **k: seen.append(started.wait(10)) or embedding(*a, **k))
    assert engine.capture("https://second.example/story", page_html("generators-confirmed.html")).created
    assert seen == [True]
    engine.store.close()


def test_warming_the_engine_loads_the_text_steps_tables_and_stores_nothing(tmp_path, monkeypatch):
    """A start warms the engine in the background: the place names in every language (0.35 s) and the
    date parser (1.2–1.7 s, tests/test_extract.py) are loaded then, not during a reader's capture."""
    from server import pipeline, places
    from server.embeddings import HashEmbedder
    from server.store import Store

    places._names.cache_clear()
    loaded = []
    monkeypatch.setattr(pipeline, "load_date_parser", lambda: loaded.append("date parser"))
    engine = pipeline.Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    engine.warm()
    assert places._names.cache_info().currsize == 1
    assert loaded == ["date parser"]
    assert engine.store.counts()["articles"] == 0 and engine.store.counts()["claims"] == 0
    engine.store.close()


def test_a_capture_starts_its_claims_bm25_searches_before_embedding_them_and_runs_each_once(tmp_path, monkeypatch):
    """BM25 needs no vectors: the searches run on the reading threads while the claims are embedded."""
    from helpers import page_html
    from server import pipeline
    from server.embeddings import HashEmbedder
    from server.store import Store

    engine = pipeline.Engine(Store(tmp_path / "crosscurrent.db"), HashEmbedder())
    engine.capture("https://first.example/story", page_html("ostrand-denies-calls.html"))
    events, searched = [], []
    starting, embedding, searching = pipeline.lexical_searches, engine.vectors_for, engine.store.lexical_claim_search
    monkeypatch.setattr(pipeline, "lexical_searches", lambda *a, **k: events.append("searches") or starting(*a, **k))
    monkeypatch.setattr(engine, "vectors_for", lambda *a, **k: events.append("embedding") or embedding(*a, **k))
    monkeypatch.setattr(engine.store, "lexical_claim_search", lambda text, *a: searched.append(text) or searching(text, *a))
    engine.capture("https://second.example/story", page_html("generators-confirmed.html"))
    claims = engine.store.claims_of_articles([max(engine.store.article_ids())]).popitem()[1]
    assert events == ["searches", "embedding"]
    assert sorted(searched) == sorted(c["text"] for c in claims)
    engine.store.close()
