"""Pages readied ahead of their capture: extracted, cut into claims and embedded, on the other core.

An import's capture loop (matching, judging, stories, writes) and the readying of the pages ahead of it
(trafilatura, claim splitting, the model) are both CPU work in Python. On two threads of one process they
share one interpreter lock, and an import ran at little more than the sum of the two (a capture loop of
36 ms a page beside 38 ms of readying: 15 pages/s). `ReadyingProcess` does the readying in a process of
its own, started for a long import and closed with it; the capture loop then costs only its own share.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass, field

from .claims import MAX_CLAIMS_PER_PAGE, Claim, extract_claims
from .embeddings import make_embedder, text_hash, to_blob
from .extract import Extracted, NotAnArticle, extract_article

# Starting the process (an interpreter, trafilatura and the model: about 2 s) costs more than it saves on
# fewer pages than this; shorter imports ready their pages on a thread.
PROCESS_MIN_PAGES = 64
# A batch takes a second or two; one that takes this long is stuck on a page, and the import goes on
# without the process (the capture loop readies what is left itself).
BATCH_WAIT_S = 300
CLOSE_WAIT_S = 5
# The process works ahead of the capture loop, so it can wait for a core: at a lower priority it takes the
# time the loop leaves, rather than pushing the loop (and a reader's own captures) off its core.
NICENESS = 10


@dataclass
class Readied:
    """A page put through a capture's first steps ahead of its turn: its extraction, its heading (the
    page's title, else the one the export gives), the claims cut under that heading and, once embedded,
    their vectors by text hash."""

    extracted: Extracted
    heading: str | None
    claims: list[Claim]
    vectors: dict[str, bytes] = field(default_factory=dict, repr=False)


def heading_of(extracted: Extracted, title: str | None) -> str | None:
    return extracted.title or (title.strip() if isinstance(title, str) and title.strip() else None)


def ready_page(html: str, url: str | None, title: str | None) -> Readied | None:
    """The page extracted and cut into claims as its capture would (None: not an article; the capture
    says why)."""
    try:
        extracted = extract_article(html, url)
    except NotAnArticle:
        return None
    heading = heading_of(extracted, title)
    return Readied(extracted, heading, extract_claims(heading, extracted.text, MAX_CLAIMS_PER_PAGE))


class ReadyingFailed(RuntimeError):
    """The readying process is gone or could not ready a batch: the caller readies the pages itself."""


class ReadyingProcess:
    """A process that readies batches of pages: `ready([(html, url, title), ...])` returns each page's
    Readied, vectors included (None when not an article).

    One caller at a time (the import's readying thread). The process ends when closed, when this one
    exits, or when this one dies (its end of the pipe closes)."""

    def __init__(self, embedder_setting: tuple[str, str | None]):
        context = multiprocessing.get_context("spawn")    # no copy of this process's threads and locks
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, *embedder_setting),
                                        name="crosscurrent-readying", daemon=True)
        self._process.start()
        theirs.close()
        self._lock = threading.Lock()       # the pipe carries one batch and its answer at a time
        self._started = False               # its model loaded: it said so first thing on the pipe
        self.closed = False                 # by its owner
        self.failed: str | None = None      # the process ended or broke: not asked again

    @property
    def usable(self) -> bool:
        return not self.closed and self.failed is None

    def wait_started(self) -> bool:
        """Blocks until the process has loaded its model (a second or two after it was started): True, or
        False when it ended or broke first."""
        with self._lock:
            try:
                self._await_start()
            except ReadyingFailed:
                return False
        return True

    def ready(self, pages: list[tuple[str, str | None, str | None]]) -> list[Readied | None]:
        """Raises ReadyingFailed when these pages could not be readied there."""
        with self._lock:
            self._await_start()
            try:
                self._pipe.send(pages)
                outcome, value = self._answer(f"over {len(pages)} pages")
            except OSError as exc:
                self.failed = f"the readying process ended ({exc or type(exc).__name__})"
                raise ReadyingFailed(self.failed) from None
        if outcome != "ok":
            raise ReadyingFailed(value)
        return value

    def _await_start(self) -> None:
        if not self.usable:
            raise ReadyingFailed(self.failed or "the readying process is closed")
        if not self._started:
            self._answer("to start")
            self._started = True

    def _answer(self, what: str) -> tuple[str, object]:
        """The process's next message, within BATCH_WAIT_S (else it is stuck and ended)."""
        try:
            if not self._pipe.poll(BATCH_WAIT_S):
                self._process.terminate()
                self.failed = f"the readying process took more than {BATCH_WAIT_S} s {what}"
                raise ReadyingFailed(self.failed)
            return self._pipe.recv()
        except (EOFError, OSError) as exc:
            self.failed = f"the readying process ended ({exc or type(exc).__name__})"
            raise ReadyingFailed(self.failed) from None

    def close(self) -> None:
        """Ends the process, after the batch under way if it ends soon."""
        self.closed = True
        if self._lock.acquire(timeout=CLOSE_WAIT_S):
            try:
                self._pipe.send(None)
            except (OSError, ValueError):
                pass
            finally:
                self._lock.release()
        self._process.join(CLOSE_WAIT_S)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(CLOSE_WAIT_S)


def _serve(pipe, embedder_name: str, cache_dir: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # Ctrl-C is for the import, which closes this process
    embedder = make_embedder(embedder_name, cache_dir)
    embedder.warm()
    if hasattr(os, "nice"):     # only now: until it has started, the loop readies the pages itself
        os.nice(NICENESS)
    try:
        pipe.send(("started", None))
    except (OSError, ValueError):
        return
    while True:
        try:
            pages = pipe.recv()
        except (EOFError, OSError):
            return
        if pages is None:
            return
        try:
            readied = [ready_page(html, url, title) for html, url, title in pages]
            texts = list(dict.fromkeys(c.text for page in readied if page for c in page.claims))
            vectors = {text_hash(t): to_blob(v) for t, v in zip(texts, embedder.embed(texts))}
            for page in readied:
                if page is not None:
                    page.vectors = {h: vectors[h] for h in (text_hash(c.text) for c in page.claims)}
            reply = ("ok", readied)
        except Exception as exc:          # a page the readying cannot handle: the capture loop will say why
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            pipe.send(reply)
        except (OSError, ValueError):
            return
