"""Drive the real extension in Debian's Chromium (through Playwright) against a real Crosscurrent server."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
EXTENSION_DIR = REPO / "extension"
CHROMIUM = Path("/usr/bin/chromium")
PAGES_DIR = REPO / "tests" / "pages"
CROSSCURRENT = Path(sys.executable).with_name("crosscurrent")
FINAL_STATE = "#view > [data-state]:not([data-state='working'])"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_directory(directory: Path):
    """A quiet http.server over `directory` on 127.0.0.1; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http_json(url: str, token: str | None = None, timeout: float = 5) -> tuple[int, dict | None]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


@dataclass
class CrosscurrentServer:
    """`crosscurrent serve` on a data folder; stop() and start() again keep the same port and data."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"serve-{self.port}.log"

    def start(self, timeout: float = 90) -> None:
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [str(CROSSCURRENT), "--data", str(self.data_dir), "--port", str(self.port), "serve"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"crosscurrent serve exited with {self.process.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError):
                if http_json(self.url + "/api/health", timeout=2)[0] == 200:
                    return
            time.sleep(0.3)
        raise TimeoutError(f"crosscurrent serve did not answer /api/health: {self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cli(self, *args: str) -> str:
        """Runs `crosscurrent --data DIR ARGS...` (as the reader would in a terminal); returns stdout."""
        result = subprocess.run(
            [str(CROSSCURRENT), "--data", str(self.data_dir), *args],
            capture_output=True, text=True, timeout=60, check=True,
        )
        return result.stdout

    def one_time_code(self) -> str:
        output = self.cli("pair", "--code")
        found = re.search(r"\b(\d{6})\b", output)
        assert found, f"no 6-digit code in {output!r}"
        return found.group(1)

    def pairing_ids(self) -> tuple[list[int], list[int]]:
        """(waiting request ids, paired browser ids) from `crosscurrent pair list`."""
        waiting, paired, section = [], [], None
        for line in self.cli("pair", "list").splitlines():
            if not line.startswith(" "):
                section = waiting if line.startswith("Waiting") else paired if line.startswith("Paired") else None
            elif section is not None:
                section.append(int(line.split()[0]))
        return waiting, paired

    def articles(self, token: str) -> list[dict]:
        status, body = http_json(self.url + "/api/articles", token)
        assert status == 200, status
        return body["items"]


class ExtensionBrowser:
    """A Chromium profile with the unpacked extension; `worker` is its background service worker."""

    def __init__(self, playwright, profile_dir: Path, screenshots: Path | None = None, extension_dir: Path = EXTENSION_DIR):
        self.screenshots = screenshots
        self.context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                f"--disable-extensions-except={extension_dir}",
                f"--load-extension={extension_dir}",
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )
        workers = self.context.service_workers
        self.worker = workers[0] if workers else self.context.wait_for_event("serviceworker", timeout=15000)
        self.extension_id = self.worker.url.split("/")[2]

    def close(self) -> None:
        self.context.close()

    def extension_url(self, page: str) -> str:
        return f"chrome-extension://{self.extension_id}/{page}"

    def storage(self, key: str):
        return self.worker.evaluate("async (key) => (await chrome.storage.local.get(key))[key]", key)

    def badge_text(self) -> str:
        return self.worker.evaluate("chrome.action.getBadgeText({})")

    def open_news_tab(self, url: str, select: str | None = None) -> int:
        """Opens `url` in a tab (selecting the text of the `select` element, as a reader would) and returns
        the tab id the extension knows it by."""
        page = self.context.new_page()
        page.goto(url)
        if select:
            page.locator(select).first.select_text()
        return self.worker.evaluate(
            "async (url) => (await chrome.tabs.query({url})).map((tab) => tab.id)[0]", url.split("#")[0]
        )

    def capture(self, tab_id: int, shot: str | None = None, working_shot: str | None = None, timeout: float = 120_000):
        """Opens the popup aimed at `tab_id`; returns (popup page, final state).

        The popup normally captures the tab the toolbar button was clicked in (activeTab). A test cannot
        click the toolbar, so it opens popup.html?tab=ID in a tab of its own. The pages under test are
        served from 127.0.0.1, which the manifest's host permission for the local server already covers,
        so scripting.executeScript works there exactly as it does after a click: no test-only permission.
        """
        popup = self.context.new_page()
        # As wide as the toolbar popup; tall enough that a screenshot shows the whole answer.
        popup.set_viewport_size({"width": 380, "height": 1600})
        popup.goto(self.extension_url(f"popup.html?tab={tab_id}"))
        if working_shot and popup.locator("#view > [data-state='working']").count():
            self.screenshot(popup, working_shot)
        popup.wait_for_selector(FINAL_STATE, timeout=timeout)
        if shot:
            self.screenshot(popup, shot)
        return popup, popup.locator(FINAL_STATE).get_attribute("data-state")

    def pair_with_code(self, server_url: str, code: str) -> str:
        """Pairs through the options page like a reader would; returns the stored token."""
        options = self.context.new_page()
        options.goto(self.extension_url("options.html"))
        options.fill("#server-address", server_url)
        options.fill("#pair-code", code)
        options.click("#code-form button[type=submit]")
        options.wait_for_selector("#pairing-state[data-state='paired']", timeout=30000)
        self.screenshot(options, "options-paired")
        options.close()
        return self.storage("pairing")["token"]

    def screenshot(self, page, name: str) -> None:
        if self.screenshots is not None:
            self.screenshots.mkdir(parents=True, exist_ok=True)
            # The body, as the toolbar popup would size itself to it.
            page.locator("body").screenshot(path=str(self.screenshots / f"{name}.png"))
