"""Finding or starting the local server the window shows."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from server import running
from server.running import probe, url_of  # noqa: F401 (the companion's names for them)

log = logging.getLogger(__name__)


class InstanceLock:
    """One companion per data folder: a lock file holding the pid of the running one."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "companion.lock"
        self.acquired = False

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                if self._holder_alive():
                    return False
                log.info("removing a stale lock left by a companion that is gone")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.acquired = True
            return True
        return False

    def _holder_alive(self) -> bool:
        try:
            pid = int(self.path.read_text().strip() or 0)
        except (OSError, ValueError):
            return False
        if pid <= 0 or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        except OSError:
            return False
        return True

    def release(self) -> None:
        if self.acquired:
            self.path.unlink(missing_ok=True)
            self.acquired = False


class ServerThread:
    """The Flask app served by werkzeug on 127.0.0.1 from a background thread."""

    def __init__(self, app, port: int):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port  # the real one when port 0 asked for any
        self.thread = threading.Thread(target=self.server.serve_forever, name="crosscurrent-server", daemon=True)

    def start(self) -> "ServerThread":
        self.thread.start()
        running.announce(self.app.extensions["crosscurrent"].settings["data_dir"], self.port)
        log.info("serving at %s", url_of(self.port))
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        running.withdraw(self.app.extensions["crosscurrent"].settings["data_dir"], self.port)


def warm_model(app) -> threading.Thread:
    """Load the embedding model and claim index in the background so the first capture is quick."""

    def warm():
        try:
            app.extensions["crosscurrent"].engine.warm()
            log.info("embedding model ready")
        except Exception:  # a failed warm-up only delays the first capture
            log.exception("could not warm the embedding model")

    thread = threading.Thread(target=warm, name="crosscurrent-warm-model", daemon=True)
    thread.start()
    return thread
