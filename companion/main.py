"""`crosscurrent` with no subcommand: the desktop window over the local server's UI.

Uses a Crosscurrent server already answering on the port, or starts one in this process. With no
display (a headless Linux box) it keeps serving and says how to open the UI in a browser.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from urllib.parse import quote

from companion.api import CompanionApi
from companion.server_thread import InstanceLock, ServerThread, probe, url_of, warm_model

log = logging.getLogger(__name__)

WINDOW_TITLE = "Crosscurrent"


def has_display(environ=None) -> bool:
    environ = os.environ if environ is None else environ
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def no_display_message(port: int) -> str:
    return (f"No display found: Crosscurrent keeps serving at {url_of(port)} — "
            "open it in your browser with `crosscurrent open`")


class WindowHost:
    """Lets the server steer the window (POST /api/ui-link navigates it to the article)."""

    def __init__(self, port: int):
        self.port = port
        self.window = None

    def show(self, path: str) -> bool:
        if self.window is None:
            return False
        self.window.load_url(url_of(self.port, path))
        self.window.restore()
        return True


def _settings(data_dir, port) -> dict:
    from server.settings import load_settings

    return load_settings({"data_dir": data_dir, "port": port})


def _gui_backend() -> str | None:
    if sys.platform.startswith("linux"):
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # Chromium refuses to sandbox as root; the window only shows our own local pages.
            os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
        return "qt"
    return None  # the platform's native web view


def open_window(port: int, ui_key: str, api: CompanionApi, host: WindowHost, *,
                on_shown=None, debug: bool = False) -> None:
    """Create the window and run the GUI loop until it closes (blocks the main thread)."""
    import webview

    from companion import csp_bridge

    csp_bridge.install()
    window = webview.create_window(
        WINDOW_TITLE, url_of(port, f"/login?key={quote(ui_key)}"), js_api=api,
        width=1200, height=820, min_size=(720, 520), text_select=True,
    )
    csp_bridge.make_eval_free(window)
    host.window = window
    try:
        webview.start(on_shown, (window,) if on_shown else None, gui=_gui_backend(), debug=debug,
                      private_mode=True)
    finally:
        host.window = None


def serve_until_interrupted(stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass


def run(data_dir=None, port=None) -> int:
    """Open the companion window; returns the process exit status."""
    from server.security import read_ui_key

    settings = _settings(data_dir, port)
    data_dir, port = Path(settings["data_dir"]), int(settings["port"])
    data_dir.mkdir(parents=True, exist_ok=True)

    server = None
    lock = InstanceLock(data_dir)
    health = probe(port)
    if health is None:
        if not lock.acquire():
            print(f"Crosscurrent is already running for {data_dir}.", file=sys.stderr)
            return 1
        from server.app import create_app

        try:
            app = create_app({"data_dir": data_dir, "port": port})
            server = ServerThread(app, port).start()
        except OSError as error:
            lock.release()
            print(f"Could not start Crosscurrent on port {port}: {error}", file=sys.stderr)
            return 1
        warm_model(app)
        store = app.extensions["crosscurrent"].store
    else:
        log.info("using the Crosscurrent server already running on port %d", port)
        store = _reader_store(data_dir)

    host = WindowHost(port)
    if server is not None:
        server.app.extensions["crosscurrent"].companion = host
    try:
        if not has_display():
            print(no_display_message(port), flush=True)
            if server is None:
                return 0  # the running server keeps serving; nothing for us to do
            serve_until_interrupted()
            return 0
        api = CompanionApi(data_dir, store.export_articles, window_provider=lambda: host.window)
        open_window(port, read_ui_key(data_dir), api, host)
        return 0
    finally:
        if server is not None:
            server.stop()
        lock.release()


def _reader_store(data_dir: Path):
    """Read access for "Save…" exports when another process serves this data folder."""
    from server.app import DB_NAME
    from server.store import Store

    return Store(data_dir / DB_NAME)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(run())
