"""The crosscurrent command, through click's runner on real data folders."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from click.testing import CliRunner

from helpers import PAGES, STORY_PAGES, page_html
from server.cli import cli


def run(data, *args, ok=True):
    result = CliRunner().invoke(cli, ["--data", str(data), "--model", "hash", *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def imported(tmp_path, isolated_data):
    folder = tmp_path / "saved"
    folder.mkdir()
    for name, url in STORY_PAGES:
        (folder / name).write_text(f"<!-- saved from url=({len(url):04d}){url} -->\n" + page_html(name))
    (folder / "notes.txt").write_text("not a page")
    (folder / "junk.html").write_bytes(b"\x00\x01\x02\xff" * 50)
    (folder / "home.html").write_text("<html><body>" + "".join(f"<a href='/{i}'>Link {i}</a>" for i in range(50)))
    result = run(isolated_data, "import", str(folder))
    return isolated_data, result


def test_import_reports_what_it_did(imported):
    data, result = imported
    assert "Imported 4 new articles, 0 already stored, 2 skipped." in result.output
    assert "junk.html" in result.output and "home.html" in result.output
    again = run(data, "import", str(data.parent / "saved"))
    assert "Imported 0 new articles, 4 already stored" in again.output


def test_import_of_an_empty_folder_fails_clearly(tmp_path, isolated_data):
    (tmp_path / "empty").mkdir()
    result = run(isolated_data, "import", str(tmp_path / "empty"), ok=False)
    assert result.exit_code != 0 and "No .html files" in result.output


def test_stats(imported):
    data, _ = imported
    assert "4 articles from 4 outlets" in run(data, "stats").output
    figures = json.loads(run(data, "stats", "--json").output)
    assert figures["totals"]["articles"] == 4


@pytest.mark.parametrize("fmt, check", [
    ("csv", lambda b: b.decode("utf-8-sig").splitlines()[0].startswith("date,title,outlet")),
    ("json", lambda b: len(json.loads(b)) == 4),
    ("html", lambda b: b.startswith(b"<!DOCTYPE NETSCAPE-Bookmark-file-1>")),
])
def test_export_to_stdout(imported, fmt, check):
    data, _ = imported
    result = CliRunner().invoke(cli, ["--data", str(data), "--model", "hash", "export", "--format", fmt])
    assert result.exit_code == 0
    assert check(result.stdout_bytes)


def test_export_markdown_needs_a_file(imported, tmp_path):
    data, _ = imported
    assert "give a file with -o" in run(data, "export", "--format", "md", ok=False).output
    target = tmp_path / "notes.zip"
    run(data, "export", "--format", "md", "-o", str(target))
    assert len(zipfile.ZipFile(target).namelist()) == 4


def test_export_rejects_a_bad_date(imported):
    data, _ = imported
    result = run(data, "export", "--from", "last week", ok=False)
    assert result.exit_code == 2 and "last week" in result.output


def test_reindex_rebuilds_from_stored_html(imported):
    data, _ = imported
    before = json.loads(run(data, "stats", "--json").output)["totals"]
    result = run(data, "reindex")
    assert "Reindexed 4 articles" in result.output
    after = json.loads(run(data, "stats", "--json").output)["totals"]
    assert (after["articles"], after["claims"]) == (before["articles"], before["claims"])


def test_reindex_with_nothing(isolated_data):
    assert "Nothing to reindex" in run(isolated_data, "reindex").output


def test_pairing_commands(isolated_data):
    from server.app import create_app

    output = run(isolated_data, "pair", "--code").output
    assert re.search(r"\b\d{6}\b", output)
    app = create_app({"data_dir": isolated_data, "model": "hash"})
    client = app.test_client()
    asked = client.post("/api/pair", json={"name": "Firefox on laptop"}).json
    listing = run(isolated_data, "pair").output
    assert "Firefox on laptop" in listing and f"pair approve {asked['request_id']}" in listing
    run(isolated_data, "pair", "approve", str(asked["request_id"]))
    token = client.post("/api/pair", json={"request_id": asked["request_id"], "poll": asked["poll"]}).json["token"]
    assert "Firefox on laptop" in run(isolated_data, "pair", "list").output
    run(isolated_data, "pair", "revoke", "1")
    response = client.get("/api/articles", headers={"Authorization": f"Bearer {token}"})
    assert response.json["error"] == "token_revoked"
    for args in (("approve", "99"), ("refuse", "99"), ("revoke", "1")):
        result = run(isolated_data, "pair", *args, ok=False)
        assert result.exit_code == 1 and "No " in result.output


def test_open_prints_a_signed_in_address(isolated_data):
    output = run(isolated_data, "--port", "7999", "open", "--print-only").output
    assert re.match(r"http://127\.0\.0\.1:7999/login\?key=\S{20,}", output.strip())


def test_bad_environment_setting_is_a_usage_error(isolated_data, monkeypatch):
    monkeypatch.setenv("CROSSCURRENT_PORT", "many")
    result = CliRunner().invoke(cli, ["stats"])
    assert result.exit_code == 2 and "CROSSCURRENT_PORT" in result.output


def test_serve_refuses_a_busy_port(isolated_data):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(isolated_data, "--port", str(port), "serve", "--no-warm", ok=False)
    assert result.exit_code == 1 and "Cannot listen" in result.output
