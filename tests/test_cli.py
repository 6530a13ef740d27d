"""The crosscurrent command, through click's runner on real data folders."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import STORY_PAGES, LiveServer, free_port, issue_token, page_html
from server.cli import cli
from server.security import read_ui_key


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


def test_import_reports_progress_without_a_terminal(tmp_path, isolated_data, monkeypatch):
    import server.cli

    monkeypatch.setattr(server.cli, "PROGRESS_EVERY", 2)
    folder = tmp_path / "saved"
    folder.mkdir()
    for name, url in STORY_PAGES + [("junk.html", "")]:
        (folder / name).write_text(page_html(name) if url else "not a page")
    result = CliRunner().invoke(cli, ["--data", str(isolated_data), "--model", "hash", "import", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "Importing 5 pages"
    assert [line.split(":")[0] for line in lines[1:4]] == ["2/5 pages", "4/5 pages", "5/5 pages"]
    assert lines[3] == "5/5 pages: 4 new, 0 already stored, 1 skipped"


def test_import_goes_oldest_file_first_and_keeps_each_file_time(tmp_path, isolated_data):
    from server.store import Store

    folder = tmp_path / "saved"
    folder.mkdir()
    # Named in story order, but saved in the opposite order: the file times decide.
    for age, (name, url) in enumerate(STORY_PAGES):
        path = folder / name
        path.write_text(f"<!-- saved from url=({len(url):04d}){url} -->\n" + page_html(name))
        os.utime(path, (1_700_000_000 - 86400 * age,) * 2)
    run(isolated_data, "import", str(folder))
    store = Store(isolated_data / "crosscurrent.db")
    rows = store.reader.execute("SELECT url, captured_at FROM articles ORDER BY id").fetchall()
    store.close()
    assert [url for url, _ in rows] == [url for _, url in reversed(STORY_PAGES)]
    assert [day[:10] for _, day in rows] == ["2023-11-11", "2023-11-12", "2023-11-13", "2023-11-14"]


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


@pytest.mark.parametrize("args, sites", [
    (["--published-from", "2025-03-05", "--published-to", "2025-03-06"], {"Northern Daily", "Lakeside Herald"}),
    (["--published-from", "2025-03-07"], {"Valley Wire"}),
    (["--published-to", "2025-03-04"], {"Bay Chronicle"}),
    (["--read-from", "TODAY", "--read-to", "TODAY"], {"Bay Chronicle", "Lakeside Herald", "Northern Daily", "Valley Wire"}),
    (["--from", "TODAY", "--published-from", "2025-03-07"], {"Valley Wire"}),   # --from: the day read
    (["--to", "2020-01-01"], set()),
    (["--read-to", "2020-01-01"], set()),
])
def test_export_filters_name_what_they_filter(imported, args, sites):
    import datetime as dt

    data, _ = imported
    today = dt.datetime.fromtimestamp(time.time(), dt.timezone.utc).date().isoformat()  # files were saved just now
    rows = json.loads(run(data, "export", "--format", "json", *[today if a == "TODAY" else a for a in args]).stdout)
    assert {row["site"] for row in rows} == sites


@pytest.mark.parametrize("option", ["--from", "--read-to", "--published-from"])
def test_export_rejects_a_bad_date(imported, option):
    data, _ = imported
    result = run(data, "export", option, "last week", ok=False)
    assert result.exit_code == 2 and "last week" in result.output


def test_export_help_says_which_date_each_option_filters():
    text = CliRunner().invoke(cli, ["export", "--help"]).output
    for words in ("--read-from, --from", "--read-to, --to", "--published-from", "--published-to",
                  "day you read", "publication day"):
        assert words in text


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


@pytest.fixture
def live(hash_app):
    server = LiveServer(hash_app)
    yield server
    server.stop()


@pytest.fixture
def other_folder_server(tmp_path):
    from server.app import create_app

    app = create_app({"data_dir": tmp_path / "someone-else", "model": "hash"})
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["crosscurrent"].store.close()


@pytest.mark.parametrize("announced, setting, found", [
    (None, "live", "live"),              # the server listens on the configured port
    ("live", "free", "live"),            # started with another --port: its port file says where
    ("free", "live", "live"),            # a port file left by a server that died
    ("other", "live", "live"),           # the port file's port now belongs to another data folder's server
])
def test_open_finds_the_running_server(isolated_data, live, other_folder_server, announced, setting, found):
    from server import running

    ports = {"live": live.port, "other": other_folder_server.port, "free": free_port()}
    if announced:
        running.announce(isolated_data, ports[announced])
    output = run(isolated_data, "--port", str(ports[setting]), "open", "--print-only").output
    # A single-use ticket, never the key: the address stays in the browser's history.
    assert re.fullmatch(rf"http://127\.0\.0\.1:{ports[found]}/login\?ticket=\S{{20,}}", output.strip())
    assert read_ui_key(isolated_data) not in output
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with browser.open(output.strip()) as signed_in:  # the link signs in and lands on the history
        assert signed_in.status == 200 and signed_in.url == f"http://127.0.0.1:{ports[found]}/"
    with pytest.raises(urllib.error.HTTPError) as again:  # ... once
        urllib.request.urlopen(output.strip())
    assert again.value.code == 401


@pytest.mark.parametrize("announced, setting, says", [
    (None, "free", ["the --port / CROSSCURRENT_PORT setting): no Crosscurrent server answers"]),
    ("dead", "free", ["server.json): no Crosscurrent server answers", "setting): no Crosscurrent server answers"]),
    (None, "other", ["setting): a Crosscurrent server of another data folder"]),
])
def test_open_says_which_ports_it_tried(isolated_data, other_folder_server, announced, setting, says):
    from server import running

    ports = {"other": other_folder_server.port, "free": free_port(), "dead": free_port()}
    while ports["dead"] == ports["free"]:
        ports["dead"] = free_port()
    isolated_data.mkdir(parents=True, exist_ok=True)
    if announced:
        running.announce(isolated_data, ports[announced])
    result = run(isolated_data, "--port", str(ports[setting]), "open", "--print-only", ok=False)
    assert result.exit_code == 1 and "login?" not in result.output
    assert f"port {ports[setting]} (" in result.output and "crosscurrent serve" in result.output
    for words in says:
        assert words in result.output


def test_serve_writes_its_port_in_the_data_folder_while_it_runs(isolated_data):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "CROSSCURRENT_MODEL": "hash"}
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "--data", str(isolated_data), "--port", str(port),
                               "serve", "--no-warm"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port_file = isolated_data / "server.json"
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(port_file.read_text())["port"] == port
        url = run(isolated_data, "--port", str(free_port()), "open", "--print-only").output.strip()
        assert url.startswith(f"http://127.0.0.1:{port}/login?ticket=")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, server.stderr.read().decode()[-2000:]
    assert not port_file.exists()


def test_token_for_a_script(isolated_data, hash_app):
    result = CliRunner().invoke(cli, ["--data", str(isolated_data), "--model", "hash", "token", "nightly backup"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"\S{20,}", token)  # the token alone on standard output: TOKEN=$(crosscurrent token ...)
    assert "crosscurrent pair revoke 1" in result.stderr
    client = hash_app.test_client()
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert "nightly backup" in run(isolated_data, "pair", "list").output
    run(isolated_data, "pair", "revoke", "1")
    assert client.get("/api/articles", headers={"Authorization": f"Bearer {token}"}).json["error"] == "token_revoked"


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


def test_the_command_module_loads_without_the_web_framework():
    """Every `crosscurrent` command imports server.cli, and so does the readying process an import starts
    (a spawned process imports its parent's main module again): Flask (0.2 s) waits for a command that
    needs the app."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", "import sys, server.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask'))"],
                          capture_output=True, text=True, cwd=root, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
