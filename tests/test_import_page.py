"""The window's Import page: upload, recognition, a background import, its progress and report."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from helpers import csrf_of, ui_client
from server import import_job, imports

SAMPLES = Path(__file__).parent / "imports"
WAIT_S = 30


def upload(client, app, name: str, data: bytes, csrf: str | None = None):
    form = {"csrf": csrf_of(app) if csrf is None else csrf, "file": (io.BytesIO(data), name)}
    return client.post("/import", data=form, content_type="multipart/form-data")


def finished_status(client) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status = client.get("/import/status").json
        if status["state"] == "finished":
            return status
        time.sleep(0.05)
    raise AssertionError(f"the import did not finish in {WAIT_S} s: {status}")


def leftovers(data_dir: Path) -> list[str]:
    return [p.name for p in data_dir.glob(".import-*")]


def test_wallabag_upload_imports_in_the_background(hash_app, isolated_data):
    client = ui_client(hash_app)
    assert client.get("/import/status").json == {"state": "idle"}
    response = upload(client, hash_app, "wallabag.json", (SAMPLES / "wallabag.json").read_bytes())
    assert response.status_code == 302 and response.headers["Location"] == "/import"
    status = finished_status(client)
    assert (status["format"], status["file"]) == ("Wallabag export", "wallabag.json")
    assert (status["done"], status["total"], status["created"], status["duplicates"], status["skipped"]) == (
        2, 2, 2, 0, [])
    titles = {a["title"] for a in hash_app.extensions["crosscurrent"].store.export_articles()}
    assert "Branch libraries cut Saturday opening hours" in titles and len(titles) == 2
    assert leftovers(isolated_data) == []
    page = client.get("/import").get_data(as_text=True)
    assert "Imported wallabag.json" in page and 'data-count="created">2<' in page
    assert '<progress class="import-bar" max="2" value="2"' in page

    # The same file again: everything already stored, nothing fetched.
    assert upload(client, hash_app, "wallabag.json", (SAMPLES / "wallabag.json").read_bytes()).status_code == 302
    assert (lambda s: (s["created"], s["duplicates"]))(finished_status(client)) == (0, 2)


def test_the_report_names_each_skipped_item_and_why(hash_app, isolated_data):
    client = ui_client(hash_app)
    short = b"<!doctype html><html><body><p>Back in five minutes.</p></body></html>"
    assert upload(client, hash_app, "kettle note.html", short).status_code == 302
    status = finished_status(client)
    assert (status["format"], status["created"], len(status["skipped"])) == ("saved page", 0, 1)
    label, reason = status["skipped"][0]
    assert label == "kettle note.html" and reason
    page = client.get("/import").get_data(as_text=True)
    assert '<span class="skipped-label">kettle note.html</span>' in page
    assert leftovers(isolated_data) == []


BROKEN = [
    ("broken.json", b'[{"url": "https://example.org/a", "title": "A"', "broken.json"),
    ("notes.csv", b"name,colour\nkettle,blue\n", "notes.csv"),
    ("empty.html", b"", "empty.html"),
    ("damaged.zip", b"PK\x03\x04 not really a zip", "damaged zip"),
]


@pytest.mark.parametrize("name, data, said", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_file_that_cannot_be_used_is_refused_with_one_line(hash_app, isolated_data, name, data, said):
    client = ui_client(hash_app)
    response = upload(client, hash_app, name, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page[page.index('class="notice error"'):].split("</p>", 1)[0]
    assert said in error and ".import-" not in error    # the reader's file name, never the temporary one
    assert list(hash_app.extensions["crosscurrent"].store.export_articles()) == []
    assert client.get("/import/status").json == {"state": "idle"}
    assert leftovers(isolated_data) == []


@pytest.mark.parametrize("method, path, form", [
    ("GET", "/import", None), ("GET", "/import/status", None), ("POST", "/import", "upload")])
def test_import_needs_the_signed_in_window(hash_app, method, path, form):
    client = hash_app.test_client()
    data = {"csrf": csrf_of(hash_app), "file": (io.BytesIO((SAMPLES / "wallabag.json").read_bytes()), "w.json")}
    response = client.open(path, method=method, data=data if form else None,
                           content_type="multipart/form-data" if form else None)
    assert response.status_code == 401
    assert import_job.job_for(hash_app).status() == {"state": "idle"}


@pytest.mark.parametrize("csrf", ["", "forged"])
def test_import_without_the_form_token_is_refused(hash_app, csrf):
    client = ui_client(hash_app)
    response = upload(client, hash_app, "wallabag.json", (SAMPLES / "wallabag.json").read_bytes(), csrf=csrf)
    assert response.status_code == 403
    assert import_job.job_for(hash_app).status() == {"state": "idle"}


def test_a_second_start_while_one_runs_gets_a_message(hash_app, isolated_data, monkeypatch):
    release, started = threading.Event(), threading.Event()
    real_add = imports.Importer.add

    def held_add(self, item):
        started.set()
        assert release.wait(WAIT_S)
        real_add(self, item)

    monkeypatch.setattr(imports.Importer, "add", held_add)
    client = ui_client(hash_app)
    sample = (SAMPLES / "wallabag.json").read_bytes()
    assert upload(client, hash_app, "wallabag.json", sample).status_code == 302
    try:
        assert started.wait(WAIT_S)
        saved = list(isolated_data.glob(".import-*"))      # the upload, private, until the import ends
        assert len(saved) == 1 and saved[0].stat().st_mode & 0o777 == 0o600
        status = client.get("/import/status").json
        assert (status["state"], status["done"], status["total"]) == ("running", 0, 2)
        page = client.get("/import").get_data(as_text=True)
        assert 'data-import-state="running"' in page and "disabled" in page
        second = upload(client, hash_app, "pocket.csv", (SAMPLES / "pocket.csv").read_bytes())
        assert second.status_code == 409
        assert "An import is already running" in second.get_data(as_text=True)
        assert client.get("/import/status").json["file"] == "wallabag.json"
    finally:
        release.set()
        import_job.job_for(hash_app).wait(WAIT_S)
    assert finished_status(client)["created"] == 2
    assert leftovers(isolated_data) == []


def test_a_missing_file_is_asked_for(hash_app):
    client = ui_client(hash_app)
    response = client.post("/import", data={"csrf": csrf_of(hash_app)}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose a file" in response.get_data(as_text=True)


def test_the_page_lists_the_formats_and_a_file_input(hash_app):
    page = ui_client(hash_app).get("/import").get_data(as_text=True)
    assert 'type="file"' in page and 'accept=".csv,.json,.html,.htm,.zip"' in page
    for name in ("Pocket", "Instapaper", "Wallabag", "Omnivore", "Karakeep", "Bookmarks", "Saved pages"):
        assert name in page
    assert "<script>" not in page    # the CSP allows only the static script


@pytest.mark.parametrize("page", ["article", "history"])
def test_the_tags_an_import_carried_are_shown(hash_app, isolated_data, page):
    client = ui_client(hash_app)
    assert upload(client, hash_app, "wallabag.json", (SAMPLES / "wallabag.json").read_bytes()).status_code == 302
    finished_status(client)
    store = hash_app.extensions["crosscurrent"].store
    tagged = {a["title"]: a["id"] for a in store.export_articles() if a["tags"]}
    assert list(tagged) == ["Branch libraries cut Saturday opening hours"]
    html = client.get(f"/articles/{tagged.popitem()[1]}" if page == "article" else "/").get_data(as_text=True)
    assert html.count('<span class="tag">libraries</span>') == 1
    assert html.count('class="tag"') == 1      # the untagged article shows none
