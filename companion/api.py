"""The js_api of the companion window: the only native actions a page may ask for.

Pages in the window show text from the web, so nothing here reads files, takes a path from the
page or runs a command. Every method returns a plain dict with "ok".
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from server import __version__, export

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 8192


def _is_day(value: str | None) -> bool:
    from server.ui import parse_day

    return parse_day(value) is not None


class CompanionApi:
    """Exposed to the page as window.pywebview.api; public methods only are reachable from JS."""

    def __init__(self, data_dir: Path, export_articles: Callable[..., Iterable[dict]],
                 window_provider: Callable[[], object | None] = lambda: None,
                 open_url: Callable[[str], bool] = webbrowser.open,
                 open_folder: Callable[[Path], None] | None = None):
        # Underscored attributes: pywebview does not expose them to the page.
        self._data_dir = Path(data_dir)
        self._export_articles = export_articles
        self._window = window_provider
        self._open_url = open_url
        self._open_folder = open_folder or _open_folder

    def version(self) -> dict:
        return {"ok": True, "version": __version__}

    def open_external(self, url: str) -> dict:
        """Open a web link in the reader's own browser (http and https only)."""
        if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
            return {"ok": False, "error": "Not a web link."}
        try:
            parts = urlsplit(url)
        except ValueError:
            return {"ok": False, "error": "Not a web link."}
        if parts.scheme not in ("http", "https") or not parts.netloc or any(c in url for c in "\r\n\t "):
            return {"ok": False, "error": "Only http and https links open in the browser."}
        log.info("opening %s in the system browser", parts.netloc)
        return {"ok": bool(self._open_url(url))}

    def reveal_data_folder(self) -> dict:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._open_folder(self._data_dir)
        except OSError as error:
            log.warning("could not open the data folder: %s", error)
            return {"ok": False, "error": "Could not open the data folder."}
        return {"ok": True}

    def save_export(self, fmt: str, date_from: str | None = None, date_to: str | None = None) -> dict:
        """Ask where to save (native dialog), then write the export there."""
        if fmt not in export.FORMATS:
            return {"ok": False, "error": "Unknown export format."}
        date_from = date_from if _is_day(date_from) else None
        date_to = date_to if _is_day(date_to) else None
        window = self._window()
        if window is None:
            return {"ok": False, "error": "No window to show a save dialog in."}
        articles = list(self._export_articles(date_from=date_from, date_to=date_to))
        result = export.render(fmt, articles)
        import webview  # imported late: the API is also used (and tested) without a GUI

        chosen = window.create_file_dialog(_save_dialog(webview), save_filename=result.filename)
        if not chosen:
            return {"ok": False, "cancelled": True}
        # The reader picked this path in a native dialog; the page never supplies one.
        target = Path(chosen if isinstance(chosen, str) else chosen[0])
        try:
            target.write_bytes(result.body)
        except OSError as error:
            log.warning("could not write the export: %s", error)
            return {"ok": False, "error": f"Could not write {target.name}."}
        return {"ok": True, "filename": target.name, "articles": len(articles)}


def _save_dialog(webview_module):
    # pywebview 6 names it FileDialog.SAVE; older releases SAVE_DIALOG.
    file_dialog = getattr(webview_module, "FileDialog", None)
    return file_dialog.SAVE if file_dialog is not None else webview_module.SAVE_DIALOG


def _open_folder(path: Path) -> None:
    if sys.platform == "darwin":
        subprocess.Popen(["open", str(path)])
    elif sys.platform == "win32":
        os.startfile(str(path))  # noqa: S606 - a folder we own, not page input
    else:
        subprocess.Popen(["xdg-open", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
