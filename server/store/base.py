"""Connections and the helpers every part of the store shares.

One SQLite file in WAL mode. Writes go through a single connection guarded by a lock, so a capture is
stored whole or not at all and two captures never interleave; reads use a connection per thread. The log
is copied back into the database (a checkpoint) on a thread of its own, not at a write's commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from .. import storage
from ..migrations import migrate
from ..stopwords import ENGLISH as STOPWORDS

log = logging.getLogger(__name__)

# A commit that fills SQLite's write-ahead log to its default 1,000 pages also copies the log back into the
# database and syncs both (a checkpoint): 9-13 ms that every eighth capture of a long page paid before
# its answer. A thread of its own does it instead, CHECKPOINT_AFTER_S after a write (the writes of that
# second share one checkpoint); the writer still does it should the log reach WRITER_CHECKPOINT_PAGES.
CHECKPOINT_AFTER_S = 1.0
WRITER_CHECKPOINT_PAGES = 10_000

ARTICLE_COLUMNS = (
    "a.id, a.url, a.canonical_url, a.domain, a.title, a.site, a.author, a.published, a.language, "
    "a.captured_at, a.story_id, a.source_id, a.word_count, "
    "(SELECT count(*) FROM claims c WHERE c.article_id = a.id) AS claim_count"
)
LINK_SELECT = """
    SELECT l.id, l.label, l.confidence, l.reason, l.similarity, l.dismissed_at,
           c.id AS c_id, c.text AS c_text, c.article_id AS c_article_id,
           o.id AS o_id, o.text AS o_text,
           oa.id AS oa_id, oa.title AS oa_title, oa.site AS oa_site, oa.published AS oa_published,
           oa.url AS oa_url, oa.captured_at AS oa_captured_at,
           ca.title AS ca_title, ca.site AS ca_site, ca.published AS ca_published, ca.url AS ca_url,
           ca.captured_at AS ca_captured_at
      FROM links l
      JOIN claims c ON c.id = l.claim_id
      JOIN articles ca ON ca.id = c.article_id
      JOIN claims o ON o.id = l.other_claim_id
      JOIN articles oa ON oa.id = o.article_id
"""
# The links of one article, either way (two `?` for its id). Written as two indexed look-ups: a filter on
# `c.article_id = ? OR o.article_id = ?` read every link in the database for each popup answer.
LINKS_OF_ARTICLE = """l.id IN (
    SELECT id FROM links WHERE claim_id IN (SELECT id FROM claims WHERE article_id = ?)
    UNION SELECT id FROM links WHERE other_claim_id IN (SELECT id FROM claims WHERE article_id = ?))"""


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _page(page: int, per_page: int) -> tuple[int, int]:
    page = max(1, int(page or 1))
    per_page = min(max(1, int(per_page or 50)), 500)
    return page, per_page


def day_range(column: str, first, last, where: list[str], params: list) -> None:
    """Add conditions keeping `column` (an ISO date or timestamp) between two days, both included."""
    if first:
        where.append(f"substr({column}, 1, 10) >= ?")
        params.append(str(first)[:10])
    if last:
        where.append(f"substr({column}, 1, 10) <= ?")
        params.append(str(last)[:10])


def fts_words(text: str, max_terms: int = 24) -> list[str]:
    """The searchable words of free text: letters and digits only, no stopwords, each once."""
    words: list[str] = []
    for raw in "".join(ch if ch.isalnum() else " " for ch in text.lower()).split():
        if len(raw) < 3 or raw in STOPWORDS or raw in words:
            continue
        words.append(raw)
        if len(words) >= max_terms:
            break
    return words


def fts_query(text: str, max_terms: int = 24) -> str | None:
    """A safe FTS5 OR-query from free text: words only, quoted, so user input is never FTS syntax."""
    words = fts_words(text, max_terms)
    return " OR ".join(f'"{w}"' for w in words) if words else None


def fts_all_terms(text: str) -> str | None:
    """A safe FTS5 AND-query for the reader's search box: every word, as the start of a word
    ("flood" finds "flood", "flooded" and "Floodwaters")."""
    words = ["".join(ch for ch in w if ch.isalnum()) for w in text.split()]
    words = [f'"{w}"*' for w in words if w]
    return " ".join(words) if words else None


class Checkpointer:
    """Copies the write-ahead log back into the database on a thread of its own (started at the first
    write), CHECKPOINT_AFTER_S after a write. Passive: it never waits for, nor holds up, readers and the
    writer; what a reader still uses is copied at a later one."""

    def __init__(self, connect):
        self._connect = connect
        self._written = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def written(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="checkpoint", daemon=True)
                self._thread.start()
        self._written.set()

    def _run(self) -> None:
        conn = self._connect()
        try:
            while True:
                self._written.wait()
                if self._stop.wait(CHECKPOINT_AFTER_S):
                    return
                self._written.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:     # busy, or a full disk: the writer's own checkpoint remains
                    log.debug("checkpoint: %s", exc)
        finally:
            conn.close()

    def stop(self) -> None:
        """Ends the thread (the last connection's close copies what is left)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._written.set()
        if thread is not None:
            thread.join(10)


class Connections:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._after_commit: list = []       # what the write under way does once it is committed
        self._writer = self._connect()
        self._writer.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        self.checkpointer = Checkpointer(self._connect)
        self._local = threading.local()
        self.write_problem: storage.StorageError | None = None
        self.db = Database(self._writer)
        with self._write_lock:
            migrate(self.db)

    # -- connections -------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            conn.execute("SELECT ln(1)")
        except sqlite3.OperationalError:   # an SQLite built without its math functions
            conn.create_function("ln", 1, math.log, deterministic=True)
        return conn

    @property
    def reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """The one way to change the database: serialised, and all or nothing."""
        with self._write_lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                self._after_commit.clear()
                try:
                    yield self._writer
                    self._writer.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (disk full) may leave the transaction open, or SQLite may have
                    # rolled it back already: either way the connection must be clean for the next write.
                    if self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self.write_problem = storage.describe(exc, self.path)
                raise
            self.write_problem = None
            self.checkpointer.written()
            for action in self._after_commit:
                action()
            self._after_commit.clear()

    def after_commit(self, action) -> None:
        """Run `action` once the write under way is committed (readers see the change only then)."""
        self._after_commit.append(action)

    def check_writable(self) -> storage.StorageError | None:
        """Why the database cannot be written now, or None: a write transaction opened and dropped,
        plus what the last write ran into (a full disk shows only when pages are written)."""
        with self._write_lock:
            # Briefly: another process writing (an import) makes this busy, which is not a storage problem.
            self._writer.execute("PRAGMA busy_timeout = 200")
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                # A write that changes nothing: a read-only file refuses it, BEGIN alone passes there.
                self._writer.execute("DELETE FROM pair_guard WHERE 0")
            except sqlite3.Error as exc:
                problem = storage.describe(exc, self.path)
                if problem is not None:
                    return problem
            finally:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                self._writer.execute("PRAGMA busy_timeout = 30000")
        free = storage.free_bytes(self.path.parent)
        if free is not None and free < 1024 * 1024:
            return storage.disk_full(self.path)
        return self.write_problem

    def close(self) -> None:
        self.checkpointer.stop()
        self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()

    def _rows(self, sql: str, params=()) -> list[dict]:
        return [dict(r) for r in self.reader.execute(sql, params)]

    def _one(self, sql: str, params=()) -> dict | None:
        row = self.reader.execute(sql, params).fetchone()
        return dict(row) if row else None


def _later(moment: str, minutes: int) -> str:
    when = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")) + dt.timedelta(minutes=minutes)
    return when.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def connected_groups(members: list[int], edges) -> list[list[int]]:
    """Members grouped by the edges between them, largest group first (ties: the earliest member)."""
    parent = {m: m for m in members}

    def root(m: int) -> int:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for a, b in edges:
        if a in parent and b in parent:
            parent[root(a)] = root(b)
    groups: dict[int, list[int]] = {}
    for m in members:
        groups.setdefault(root(m), []).append(m)
    return sorted(groups.values(), key=lambda g: (-len(g), min(g)))


def _ago(**delta) -> str:
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _link_view(row: dict, reverse: bool = False) -> dict:
    """A link as the reader sees it from one side: `claim` is theirs, `other` is the matched one."""
    mine, theirs = ("o", "c") if reverse else ("c", "o")
    mine_article, theirs_article = ("oa", "ca") if reverse else ("ca", "oa")
    return {
        "id": row["id"],
        "label": row["label"],
        "confidence": round(row["confidence"], 3),
        "reason": row["reason"],
        "similarity": round(row["similarity"], 3),
        "dismissed": row["dismissed_at"] is not None,
        "direction": "earlier" if not reverse else "later",
        "claim": {
            "id": row[f"{mine}_id"],
            "text": row[f"{mine}_text"],
            "article": _article_ref(row, mine_article, row["c_article_id"] if not reverse else row["oa_id"]),
        },
        "other": {
            "id": row[f"{theirs}_id"],
            "text": row[f"{theirs}_text"],
            "article": _article_ref(row, theirs_article, row["oa_id"] if not reverse else row["c_article_id"]),
        },
    }


def _article_ref(row: dict, prefix: str, article_id: int) -> dict:
    return {
        "id": article_id,
        "title": row[f"{prefix}_title"],
        "site": row[f"{prefix}_site"],
        "published": row[f"{prefix}_published"],
        "url": row[f"{prefix}_url"],
        "captured_at": row[f"{prefix}_captured_at"],
    }
