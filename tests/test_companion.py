"""The companion window: a real pywebview Qt window under Xvfb, its js_api, and the no-display mode.

The window runs in a child process (this file run as a script) so that Qt's one-per-process
application and its GUI thread stay out of pytest's process; the child writes what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from helpers import STORY_PAGES, page_html

ROOT = Path(__file__).resolve().parents[1]
# Two pages of the story in tests/pages: the window opens on the second one's article.
PAGES = [STORY_PAGES[0], STORY_PAGES[2]]


# --- helpers ------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"PYTHONPATH": str(ROOT), "CROSSCURRENT_MODEL": "hash", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def xwd_to_png(xwd: bytes) -> bytes:
    """Convert Xvfb's XWD framebuffer (24-bit TrueColor in 32-bit pixels) to a PNG."""
    endian = ">" if struct.unpack(">I", xwd[4:8])[0] == 7 else "<"
    fields = struct.unpack(endian + "25I", xwd[:100])
    header_size, width, height = fields[0], fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line, ncolors = fields[7], fields[11], fields[12], fields[19]
    assert bits_per_pixel == 32, f"unexpected {bits_per_pixel} bits per pixel"
    start = header_size + 12 * ncolors
    rows = []
    for y in range(height):
        line = xwd[start + y * bytes_per_line: start + y * bytes_per_line + width * 4]
        rgb = bytearray(width * 3)
        # byte_order 0 = LSBFirst: the pixel's bytes are B, G, R, X.
        r, g, b = (2, 1, 0) if byte_order == 0 else (1, 2, 3)
        rgb[0::3], rgb[1::3], rgb[2::3] = line[r::4], line[g::4], line[b::4]
        rows.append(b"\x00" + bytes(rgb))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def distinct_colours(png_rows_source: bytes, sample: int = 4000) -> int:
    step = max(len(png_rows_source) // sample // 4 * 4, 4)
    return len({png_rows_source[i:i + 3] for i in range(0, len(png_rows_source) - 4, step)})


@pytest.fixture
def xvfb(tmp_path):
    if shutil.which("Xvfb") is None:
        pytest.skip("the Xvfb binary is not installed (Debian package xvfb)")
    fbdir = tmp_path / "fb"
    fbdir.mkdir()
    for number in range(90, 130):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        process = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1280x860x24", "-nolisten", "tcp", "-fbdir", str(fbdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                yield {"display": f":{number}", "framebuffer": fbdir / "Xvfb_screen0"}
                process.terminate()
                process.wait(timeout=10)
                return
            time.sleep(0.1)
        process.kill()
        process.wait()
    pytest.fail("could not start Xvfb on any display :90-:129")


# --- the real window -------------------------------------------------------------------------------

@pytest.mark.window
def test_window_shows_the_ui_and_answers_js_api(xvfb, tmp_path):
    result_file = tmp_path / "result.json"
    env = child_env(DISPLAY=xvfb["display"], QT_QPA_PLATFORM="xcb",
                    QTWEBENGINE_CHROMIUM_FLAGS="--disable-gpu --disable-dev-shm-usage",
                    QTWEBENGINE_DISABLE_SANDBOX="1")
    started = time.monotonic()
    child = subprocess.run(
        [sys.executable, __file__, "window", str(tmp_path / "data"), str(result_file), str(xvfb["framebuffer"])],
        env=env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert result_file.exists(), f"the window process wrote nothing:\n{child.stdout}\n{child.stderr[-4000:]}"
    result = json.loads(result_file.read_text())
    assert "error" not in result, result.get("error")

    assert result["version"] == {"ok": True, "version": result["server_version"]}
    assert result["title"].endswith("Crosscurrent")
    assert result["companion_class"] is True, "app.js did not see pywebviewready"
    # Only the four native actions are reachable from the page, and they refuse page-chosen tricks.
    assert result["api_methods"] == ["open_external", "reveal_data_folder", "save_export", "version"]
    assert result["javascript_url"]["ok"] is False
    assert result["web_url"] == {"ok": True}
    assert result["opened"] == ["https://example.org/story"]
    assert result["article_heading"].startswith("Ostrand's office"), "the article page did not load in the window"

    for name in ("window-history.png", "window-article.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG")
        if os.environ.get("CROSSCURRENT_SCREENSHOTS"):
            target = Path(os.environ["CROSSCURRENT_SCREENSHOTS"])
            target.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(png)
    assert result["colours_history"] > 8, "the screenshot looks blank"
    assert child.returncode == 0, child.stderr[-4000:]
    print(f"window test took {time.monotonic() - started:.1f} s")


# --- no display ----------------------------------------------------------------------------------

@pytest.mark.window
def test_without_display_it_keeps_serving_and_says_how_to_open(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        # Ctrl+C as from a terminal: a runner started in the background passes SIGINT on as ignored.
        [sys.executable, "-c", "import signal, sys, companion.main as m; "
         "signal.signal(signal.SIGINT, signal.default_int_handler); sys.exit(m.run(sys.argv[1], int(sys.argv[2])))",
         str(tmp_path / "data"), str(port)],
        env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = process.stdout.readline()
        assert line.strip() == (f"No display found: Crosscurrent keeps serving at http://127.0.0.1:{port}/ — "
                                "open it in your browser with `crosscurrent open`")
        from companion.server_thread import probe

        assert probe(port, timeout=5)["name"] == "crosscurrent"
        assert (tmp_path / "data" / "companion.lock").read_text() == str(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert not (tmp_path / "data" / "companion.lock").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- js_api, lock and bridge (no window) ---------------------------------------------------------------

class FakeWindow:
    def __init__(self, chosen):
        self.chosen, self.asked = chosen, []

    def create_file_dialog(self, dialog_type, save_filename=""):
        self.asked.append(save_filename)
        return self.chosen


def make_api(tmp_path, window=None, articles=()):
    from companion.api import CompanionApi

    opened, folders, calls = [], [], []

    def export_articles(date_from=None, date_to=None):
        calls.append((date_from, date_to))
        return list(articles)

    api = CompanionApi(tmp_path / "data", export_articles, window_provider=lambda: window,
                       open_url=lambda url: opened.append(url) or True, open_folder=folders.append)
    return api, opened, folders, calls


@pytest.mark.parametrize("url, ok", [
    ("https://news.example/a", True),
    ("http://127.0.0.1:7412/", True),
    ("javascript:alert(1)", False),
    ("file:///etc/passwd", False),
    ("https://", False),
    ("https://x.example/a b", False),
    ("https://x.example/\nHeader: 1", False),
    (["https://x.example"], False),
    ("https://x.example/" + "a" * 9000, False),
])
def test_open_external_only_opens_web_links(tmp_path, url, ok):
    api, opened, _, _ = make_api(tmp_path)
    assert api.open_external(url)["ok"] is ok
    assert opened == ([url] if ok else [])


def test_js_api_exposes_only_four_methods():
    from companion.api import CompanionApi

    public = sorted(name for name in dir(CompanionApi) if not name.startswith("_"))
    assert public == ["open_external", "reveal_data_folder", "save_export", "version"]


def test_reveal_data_folder_opens_only_the_data_folder(tmp_path):
    api, _, folders, _ = make_api(tmp_path)
    assert api.reveal_data_folder() == {"ok": True}
    assert folders == [tmp_path / "data"]


@pytest.mark.parametrize("fmt, date_from, date_to, chosen, expected, dates", [
    ("csv", "2024-10-01", "2024-10-31", "{dir}/log.csv", {"ok": True, "filename": "log.csv", "articles": 1},
     ("2024-10-01", "2024-10-31")),
    ("json", "../../etc", "2024-13-01", ["{dir}/log.json"], {"ok": True, "filename": "log.json", "articles": 1},
     (None, None)),
    ("md", None, None, None, {"ok": False, "cancelled": True}, (None, None)),
    ("exe", None, None, "{dir}/x", {"ok": False, "error": "Unknown export format."}, None),
])
def test_save_export_writes_where_the_reader_chose(tmp_path, fmt, date_from, date_to, chosen, expected, dates):
    pytest.importorskip("webview")
    if isinstance(chosen, str):
        chosen = chosen.format(dir=tmp_path)
    elif isinstance(chosen, list):
        chosen = [c.format(dir=tmp_path) for c in chosen]
    window = FakeWindow(chosen)
    article = {"id": 1, "title": "T", "url": "https://a.example/", "captured_at": "2024-10-09T10:00:00Z"}
    api, _, _, calls = make_api(tmp_path, window, [article])
    assert api.save_export(fmt, date_from, date_to) == expected
    assert calls == ([dates] if dates else [])
    if expected.get("ok"):
        assert (tmp_path / expected["filename"]).stat().st_size > 0
        assert window.asked[0].startswith("crosscurrent-")


@pytest.mark.parametrize("environ, platform, expected", [
    ({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({}, "darwin", True), ({}, "win32", True),
])
def test_has_display(monkeypatch, environ, platform, expected):
    from companion import main

    monkeypatch.setattr(main.sys, "platform", platform)
    assert main.has_display(environ) is expected


@pytest.mark.parametrize("holder, acquired", [
    (None, True),                       # no lock file
    ("999999999", True),                # a companion that is gone: stale lock
    ("not a pid", True),
    ("{parent}", False),                # a live process holds it
])
def test_instance_lock(tmp_path, holder, acquired):
    from companion.server_thread import InstanceLock

    lock = InstanceLock(tmp_path)
    if holder is not None:
        lock.path.write_text(holder.format(parent=os.getppid()))
    assert lock.acquire() is acquired
    if acquired:
        assert lock.path.read_text() == str(os.getpid())
        lock.release()
        assert not lock.path.exists()
    else:
        assert lock.path.exists()


def test_bridge_rewrite_matches_the_installed_pywebview():
    webview = pytest.importorskip("webview")
    from companion.csp_bridge import CLOSURE, rewrite_bridge

    source = (Path(webview.__file__).parent / "js" / "api.js").read_text()
    rewritten = rewrite_bridge(source)
    assert "new Function" not in rewritten and CLOSURE in rewritten


# --- the child process ---------------------------------------------------------------------------------

def _wait_for(window, script: str, expected=True, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        try:
            value = window.evaluate_js(script)
        except Exception:  # the page may be between two loads
            value = None
        if value == expected:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{script!r} stayed {value!r}")


def _screenshot(framebuffer: Path, target: Path) -> int:
    time.sleep(0.8)  # let the compositor paint the last frame
    xwd = framebuffer.read_bytes()
    png = xwd_to_png(xwd)
    target.write_bytes(png)
    return distinct_colours(xwd[len(xwd) // 4: len(xwd) * 3 // 4])


def window_child(data_dir: str, result_file: str, framebuffer: str) -> int:
    from companion.api import CompanionApi
    from companion.main import WindowHost, open_window
    from companion.server_thread import ServerThread
    from server import __version__
    from server.app import create_app
    from server.security import read_ui_key

    app = create_app({"data_dir": data_dir, "model": "hash"})
    engine = app.extensions["crosscurrent"].engine
    for name, url in PAGES:
        engine.capture(url, page_html(name))
    server = ServerThread(app, 0).start()
    host = WindowHost(server.port)
    app.extensions["crosscurrent"].companion = host
    opened: list[str] = []
    api = CompanionApi(Path(data_dir), app.extensions["crosscurrent"].store.export_articles,
                       window_provider=lambda: host.window, open_url=lambda url: opened.append(url) or True)
    out = Path(result_file).parent
    result: dict = {"server_version": __version__}

    def checks(window):
        try:
            _wait_for(window, "document.documentElement.classList.contains('in-companion')"
                              " && location.pathname === '/'")
            result["companion_class"] = True
            result["title"] = window.evaluate_js("document.title")
            result["version"] = window.evaluate_js("window.pywebview.api.version()")
            result["api_methods"] = sorted(window.evaluate_js("Object.keys(window.pywebview.api)"))
            result["javascript_url"] = window.evaluate_js("window.pywebview.api.open_external('javascript:alert(1)')")
            result["web_url"] = window.evaluate_js("window.pywebview.api.open_external('https://example.org/story')")
            result["opened"] = opened
            result["colours_history"] = _screenshot(Path(framebuffer), out / "window-history.png")
            host.show("/articles/2")
            _wait_for(window, "location.pathname === '/articles/2' && document.readyState === 'complete'")
            _wait_for(window, "document.documentElement.classList.contains('in-companion')")
            result["article_heading"] = window.evaluate_js("document.querySelector('h1').textContent")
            _screenshot(Path(framebuffer), out / "window-article.png")
        except Exception as error:  # reported to the test through the result file
            result["error"] = repr(error)
        finally:
            Path(result_file).write_text(json.dumps(result))
            window.destroy()

    try:
        open_window(server.port, read_ui_key(data_dir), api, host, on_shown=checks)
    finally:
        server.stop()
    return 0


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "window":
    sys.exit(window_child(*sys.argv[2:]))
