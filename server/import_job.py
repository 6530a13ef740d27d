"""The server's import: an uploaded file recognised at once (the window's Import page), or the browser
history the extension sends, then imported in a background thread.

One import runs at a time per server. The upload lives in a private temporary file inside the data folder
(a saved page is read only when its turn comes) and is removed when the import ends or is refused.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

from . import imports

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".csv", ".json", ".html", ".htm", ".zip")


class ImportBusy(RuntimeError):
    """An import is already running."""


class ImportJob:
    def __init__(self):
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.importer: imports.Importer | None = None
        self.name = self.kind = ""
        self.total = self.done = 0
        self.error: str | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, engine, data_dir: Path, name: str, upload) -> None:
        """Save the upload, recognise it and start importing it. ImportFormatError (nothing stored) when the
        file cannot be used, with the reader's file name in the message; ImportBusy when one is running."""
        with self._lock:
            if self.running:
                raise ImportBusy()
            path = save_upload(data_dir, name, upload)
            try:
                kind, items = imports.read_items(path)
            except imports.ImportFormatError as exc:
                path.unlink(missing_ok=True)
                raise imports.ImportFormatError(str(exc).replace(str(path), name)) from None
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            for item in items:      # a single saved page is named after the reader's file, not ours
                if item.label == str(path):
                    item.label = name
            self._launch(engine, name, kind, items, path)

    def start_items(self, engine, name: str, kind: str, items: list) -> None:
        """Start importing items already read (the browser history the extension sent); ImportBusy when
        an import is running."""
        with self._lock:
            if self.running:
                raise ImportBusy()
            self._launch(engine, name, kind, items, None)

    def _launch(self, engine, name: str, kind: str, items: list, path: Path | None) -> None:
        self.importer = imports.Importer(engine)
        self.name, self.kind, self.total, self.done, self.error = name, kind, len(items), 0, None
        self.thread = threading.Thread(target=self._run, args=(items, path), name="import", daemon=True)
        self.thread.start()

    def _counted(self, items):
        for item in items:
            yield item
            self.done += 1

    def _run(self, items: list, path: Path | None) -> None:
        try:
            self.importer.add_all(items, self._counted(items))
        except Exception as exc:    # the thread's end is the only place left to report it
            log.exception("import of %s stopped", self.kind)
            self.error = f"The import stopped: {exc}"
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        log.info("import of %s finished: %s", self.kind, self.importer.tally())

    def status(self) -> dict:
        importer = self.importer
        if importer is None:
            return {"state": "idle"}
        return {"state": "running" if self.running else "finished", "file": self.name, "format": self.kind,
                "done": self.done, "total": self.total, "created": importer.created,
                "duplicates": importer.duplicates, "skipped": [list(pair) for pair in importer.skipped],
                "error": self.error}

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


def save_upload(data_dir: Path, name: str, upload) -> Path:
    """The upload in a file only the reader can read (mkstemp makes it 0600), inside the data folder."""
    suffix = Path(name).suffix.lower()
    fd, temp = tempfile.mkstemp(prefix=".import-", suffix=suffix if suffix in UPLOAD_SUFFIXES else "",
                                dir=data_dir)
    path = Path(temp)
    try:
        with os.fdopen(fd, "wb") as out:
            upload.save(out)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def job_for(app) -> ImportJob:
    """The server's one import job (dict.setdefault is atomic, so two first requests share one)."""
    return app.extensions.setdefault("crosscurrent-import", ImportJob())
