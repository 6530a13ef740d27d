"""The reader's data: every SQL statement of Crosscurrent lives in this module.

One SQLite file in WAL mode. Writes go through a single connection guarded by a lock, so a capture is
stored whole or not at all and two captures never interleave; reads use a connection per thread.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from . import storage
from .migrations import migrate
from .stopwords import ENGLISH as STOPWORDS

log = logging.getLogger(__name__)

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


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _page(page: int, per_page: int) -> tuple[int, int]:
    page = max(1, int(page or 1))
    per_page = min(max(1, int(per_page or 50)), 500)
    return page, per_page


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


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._writer = self._connect()
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
        self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()

    def _rows(self, sql: str, params=()) -> list[dict]:
        return [dict(r) for r in self.reader.execute(sql, params)]

    def _one(self, sql: str, params=()) -> dict | None:
        row = self.reader.execute(sql, params).fetchone()
        return dict(row) if row else None

    # -- captures --------------------------------------------------------------------------------
    def find_duplicate(self, canonical_url: str, content_hash: str, conn=None) -> int | None:
        conn = conn or self.reader
        row = conn.execute(
            "SELECT id FROM articles WHERE canonical_url = ? OR content_hash = ? ORDER BY id LIMIT 1",
            (canonical_url, content_hash),
        ).fetchone()
        return row[0] if row else None

    def insert_article(self, conn, article: dict, html: str, extractor_version: str) -> int:
        cur = conn.execute(
            """INSERT INTO articles (url, canonical_url, domain, content_hash, title, site, author, published,
                   language, text, word_count, captured_at, created_at)
               VALUES (:url, :canonical_url, :domain, :content_hash, :title, :site, :author, :published,
                   :language, :text, :word_count, :captured_at, :created_at)""",
            {**article, "created_at": utcnow()},
        )
        article_id = cur.lastrowid
        conn.execute(
            "INSERT INTO pages (article_id, html_gz, extractor_version) VALUES (?, ?, ?)",
            (article_id, gzip.compress(html.encode("utf-8", "replace"), 6), extractor_version),
        )
        return article_id

    def insert_claims(self, conn, article_id: int, claims: list[dict]) -> list[int]:
        ids = []
        for claim in claims:
            cur = conn.execute(
                """INSERT INTO claims (article_id, position, text, text_hash, is_headline, speaker, polarity,
                       proposition, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (article_id, claim["position"], claim["text"], claim["text_hash"], int(claim["is_headline"]),
                 claim.get("speaker"), claim.get("polarity") or "asserts", claim.get("proposition") or claim["text"],
                 json.dumps(claim.get("details") or {}, sort_keys=True)),
            )
            ids.append(cur.lastrowid)
        return ids

    def insert_links(self, conn, links: list[dict]) -> None:
        conn.executemany(
            """INSERT OR REPLACE INTO links (claim_id, other_claim_id, label, confidence, reason, similarity)
               VALUES (:claim_id, :other_claim_id, :label, :confidence, :reason, :similarity)""",
            links,
        )

    def replace_article_content(self, conn, article_id: int, article: dict) -> None:
        """Re-extraction (reindex): new text and metadata, claims and links rebuilt by the caller."""
        conn.execute(
            """UPDATE articles SET title = :title, site = :site, author = :author, published = :published,
                   language = :language, text = :text, word_count = :word_count, content_hash = :content_hash
               WHERE id = :id""",
            {**article, "id": article_id},
        )
        conn.execute("DELETE FROM claims WHERE article_id = ?", (article_id,))
        conn.execute("DELETE FROM article_anchors WHERE article_id = ?", (article_id,))

    def page_html(self, article_id: int) -> str | None:
        row = self.reader.execute("SELECT html_gz FROM pages WHERE article_id = ?", (article_id,)).fetchone()
        return gzip.decompress(row[0]).decode("utf-8", "replace") if row else None

    def article_ids(self) -> list[int]:
        return [r[0] for r in self.reader.execute("SELECT id FROM articles ORDER BY id")]

    def article_row(self, article_id: int) -> dict | None:
        return self._one("SELECT * FROM articles WHERE id = ?", (article_id,))

    # -- embeddings ------------------------------------------------------------------------------
    def get_vectors(self, model: str, hashes: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.reader.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
                (model, *chunk),
            ):
                found[row[0]] = row[1]
        return found

    def put_vectors(self, conn, model: str, vectors: dict[str, bytes]) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO embeddings (model, text_hash, vector) VALUES (?, ?, ?)",
            [(model, h, blob) for h, blob in vectors.items()],
        )

    def iter_claim_vectors(self, model: str, after_id: int = 0, batch: int = 20000) -> Iterator[list[tuple]]:
        """(claim id, article id, vector) for every stored claim after `after_id`, in id order, in batches."""
        # CROSS JOIN keeps claims outermost, read in id order: otherwise SQLite may walk the embeddings
        # and sort every vector in a temporary B-tree (gigabytes at 100k articles) before the first row.
        yield from self._plain_batches(
            """SELECT c.id, c.article_id, e.vector FROM claims c
               CROSS JOIN embeddings e ON e.model = ? AND e.text_hash = c.text_hash WHERE c.id > ? ORDER BY c.id""",
            (model, after_id), batch)

    def iter_claim_keys(self, after_id: int = 0, batch: int = 50000) -> Iterator[list[tuple]]:
        """(claim id, article id, text hash) of every claim after `after_id`, in id order, in batches."""
        yield from self._plain_batches(
            "SELECT id, article_id, text_hash FROM claims WHERE id > ? ORDER BY id", (after_id,), batch)

    def iter_vectors(self, model: str, batch: int = 20000) -> Iterator[list[tuple]]:
        """(text hash, vector) of every stored vector of `model`, in storage order: one sequential read of
        the table (NOT INDEXED: the primary key's index would visit the rows in hash order)."""
        yield from self._plain_batches(
            "SELECT text_hash, vector FROM embeddings NOT INDEXED WHERE model = ?", (model,), batch)

    def _plain_batches(self, sql: str, params: tuple, batch: int) -> Iterator[list[tuple]]:
        cursor = self.reader.cursor()
        cursor.row_factory = None        # plain tuples: millions of rows
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield rows

    def claims_after(self, after_id: int = 0) -> int:
        return self.reader.execute("SELECT count(*) FROM claims WHERE id > ?", (after_id,)).fetchone()[0]

    def claims_missing_vectors(self, model: str) -> list[dict]:
        return self._rows(
            """SELECT DISTINCT c.text_hash, c.text FROM claims c
               LEFT JOIN embeddings e ON e.model = ? AND e.text_hash = c.text_hash WHERE e.text_hash IS NULL""",
            (model,),
        )

    # -- claims for matching ---------------------------------------------------------------------
    def claims_by_ids(self, ids: list[int]) -> dict[int, dict]:
        out: dict[int, dict] = {}
        ids = list(dict.fromkeys(int(i) for i in ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.reader.execute(
                f"""SELECT c.*, a.source_id, a.story_id, a.published AS article_published, a.site AS article_site,
                           a.title AS article_title
                      FROM claims c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})""",
                chunk,
            ):
                item = dict(row)
                item["details"] = json.loads(item["details"] or "{}")
                item["is_headline"] = bool(item["is_headline"])
                out[item["id"]] = item
        return out

    def lexical_claim_search(self, text: str, limit: int = 20, exclude_article: int | None = None,
                             postings: int | None = None) -> list[tuple[int, float]]:
        """BM25 over every claim; returns (claim id, bm25 score, higher is better).

        `postings` bounds the work: only the query's rarest words are searched, as many as fit in that
        many claims. Words that most claims contain add little to BM25 and cost the most to score."""
        words = fts_words(text)
        if postings is not None:
            words = self._rarest_words(words, postings)
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in words)
        rows = self.reader.execute(
            """SELECT claims_fts.rowid, -bm25(claims_fts) AS score FROM claims_fts
               WHERE claims_fts MATCH ? ORDER BY bm25(claims_fts) LIMIT ?""",
            (query, limit + 50 if exclude_article else limit),
        ).fetchall()
        if exclude_article is not None and rows:
            own = {r[0] for r in self.reader.execute("SELECT id FROM claims WHERE article_id = ?", (exclude_article,))}
            rows = [r for r in rows if r[0] not in own]
        return [(r[0], r[1]) for r in rows[:limit]]

    def _rarest_words(self, words: list[str], postings: int) -> list[str]:
        # Counting stops at the budget, so sizing up a word that every claim contains costs no more
        # than the budget itself, at any history size.
        docs = {w: self.reader.execute(
            "SELECT count(*) FROM (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ? LIMIT ?)",
            (f'"{w}"', postings + 1)).fetchone()[0] for w in words}
        chosen, spent = [], 0
        for word in sorted(words, key=lambda w: docs[w]):
            if docs[word] == 0:
                continue           # in no claim: nothing to find
            if spent + docs[word] > postings:
                break
            chosen.append(word)
            spent += docs[word]
        return chosen

    def dismissed_pairs(self) -> list[tuple[str, str, str]]:
        """Dismissed contradictions by the texts they join, so a rebuild can dismiss them again."""
        return [tuple(r) for r in self.reader.execute(
            """SELECT c.text_hash, o.text_hash, l.dismissed_at FROM links l
                 JOIN claims c ON c.id = l.claim_id JOIN claims o ON o.id = l.other_claim_id
                WHERE l.dismissed_at IS NOT NULL""")]

    def restore_dismissed(self, pairs: list[tuple[str, str, str]]) -> None:
        with self.write() as conn:
            for mine, theirs, when in pairs:
                conn.execute(
                    """UPDATE links SET dismissed_at = ? WHERE id IN (
                         SELECT l.id FROM links l JOIN claims c ON c.id = l.claim_id
                           JOIN claims o ON o.id = l.other_claim_id
                          WHERE c.text_hash = ? AND o.text_hash = ?)""", (when, mine, theirs))

    def reset_links_and_stories(self) -> None:
        with self.write() as conn:
            conn.execute("DELETE FROM links")
            conn.execute("DELETE FROM article_anchors")
            conn.execute("DELETE FROM article_pairs")
            conn.execute("DELETE FROM word_counts")
            conn.execute("UPDATE articles SET story_id = NULL, source_id = NULL")
            conn.execute("DELETE FROM stories")

    def max_claim_id(self) -> int:
        return self.reader.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0]

    # -- stories ---------------------------------------------------------------------------------
    def create_story(self, conn, title: str | None) -> int:
        now = utcnow()
        return conn.execute(
            "INSERT INTO stories (title, created_at, updated_at) VALUES (?, ?, ?)", (title, now, now)
        ).lastrowid

    def set_article_story(self, conn, article_id: int, story_id: int, source_id: int) -> None:
        conn.execute("UPDATE articles SET story_id = ?, source_id = ? WHERE id = ?", (story_id, source_id, article_id))
        conn.execute("UPDATE stories SET updated_at = ? WHERE id = ?", (utcnow(), story_id))

    def merge_stories(self, conn, into: int, others: list[int]) -> None:
        for other in others:
            if other == into:
                continue
            conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", (into, other))
            conn.execute("DELETE FROM stories WHERE id = ?", (other,))

    def story_ids_of_articles(self, article_ids: list[int], conn=None) -> dict[int, int]:
        conn = conn or self.reader
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        return {r[0]: r[1] for r in conn.execute(
            f"SELECT id, story_id FROM articles WHERE id IN ({marks})", list(article_ids))}

    def source_of(self, article_id: int, conn=None) -> int:
        conn = conn or self.reader
        row = conn.execute("SELECT coalesce(source_id, id) FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else article_id

    def claim_hashes_by_article(self, article_ids: list[int], conn=None) -> dict[int, set[str]]:
        conn = conn or self.reader
        out: dict[int, set[str]] = {a: set() for a in article_ids}
        if not article_ids:
            return out
        marks = ",".join("?" * len(article_ids))
        for row in conn.execute(f"SELECT article_id, text_hash FROM claims WHERE article_id IN ({marks})", list(article_ids)):
            out[row[0]].add(row[1])
        return out

    def articles_sharing_hashes(self, hashes: list[str], exclude: int) -> dict[int, int]:
        """Earlier articles holding the very same sentences: {article id: sentences in common}."""
        if not hashes:
            return {}
        marks = ",".join("?" * len(hashes))
        return {r[0]: r[1] for r in self.reader.execute(
            f"""SELECT article_id, count(DISTINCT text_hash) FROM claims
                 WHERE text_hash IN ({marks}) AND article_id != ? GROUP BY article_id""",
            (*hashes, exclude),
        )}

    def insert_anchors(self, conn, article_id: int, anchors: list[str]) -> None:
        conn.executemany("INSERT OR IGNORE INTO article_anchors (anchor, article_id) VALUES (?, ?)",
                         [(a, article_id) for a in anchors])

    def anchor_counts(self, anchors: list[str], conn=None) -> tuple[dict[str, int], int]:
        """({anchor: articles naming it}, articles in all) for the given anchors."""
        conn = conn or self.reader
        counts: dict[str, int] = {}
        for start in range(0, len(anchors), 500):
            chunk = anchors[start:start + 500]
            counts.update(conn.execute(
                f"SELECT anchor, articles FROM anchor_counts WHERE anchor IN ({','.join('?' * len(chunk))})", chunk))
        total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        return counts, total

    def articles_naming(self, anchors: list[str], exclude: int | None = None, conn=None) -> list[tuple[int, str]]:
        """(article id, anchor) for every article that names one of the anchors."""
        conn = conn or self.reader
        if not anchors:
            return []
        return [tuple(r) for r in conn.execute(
            f"SELECT article_id, anchor FROM article_anchors WHERE anchor IN ({','.join('?' * len(anchors))})"
            " AND article_id != ?", (*anchors, -1 if exclude is None else exclude))]

    def anchors_of(self, article_ids: list[int], conn=None) -> dict[int, list[tuple[str, int]]]:
        """{article id: [(anchor, articles naming it), ...]}."""
        conn = conn or self.reader
        out: dict[int, list[tuple[str, int]]] = {a: [] for a in article_ids}
        if not article_ids:
            return out
        for article_id, anchor, count in conn.execute(
                f"""SELECT a.article_id, a.anchor, c.articles FROM article_anchors a
                      JOIN anchor_counts c ON c.anchor = a.anchor
                     WHERE a.article_id IN ({','.join('?' * len(article_ids))})""", list(article_ids)):
            out[article_id].append((anchor, count))
        return out

    # -- relatedness: word rarity and article pairs -----------------------------------------------
    def word_counts(self, words: list[str], conn=None) -> dict[str, int]:
        """{word: articles using it} for the given words (absent: none), in one statement."""
        conn = conn or self.reader
        return dict(conn.execute(
            "SELECT word, articles FROM word_counts WHERE word IN (SELECT value FROM json_each(?))",
            (json.dumps(list(words), ensure_ascii=False),)))

    def count_words(self, conn, words: list[str], step: int = 1) -> None:
        """Add (or with step=-1 remove) one article's distinct words to the rarity counts."""
        conn.executemany(
            "INSERT INTO word_counts (word, articles) VALUES (?, ?)"
            " ON CONFLICT (word) DO UPDATE SET articles = max(0, articles + excluded.articles)",
            [(w, step) for w in words])

    def article_count(self, conn=None) -> int:
        return (conn or self.reader).execute("SELECT count(*) FROM articles").fetchone()[0]

    def comparison_rows(self, article_ids: list[int], conn=None) -> dict[int, dict]:
        """{article id: {title, text, language}} of the articles a new one is compared with."""
        conn = conn or self.reader
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        return {r[0]: {"title": r[1], "text": r[2], "language": r[3]} for r in conn.execute(
            f"SELECT id, title, text, language FROM articles WHERE id IN ({marks})", list(article_ids))}

    def insert_pairs(self, conn, article_id: int, pairs: list[dict]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO article_pairs (article_id, other_id, anchors, words, same_story, reason)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(article_id, p["other_id"], p["anchors"], p["words"], int(p["same_story"]), p["reason"]) for p in pairs])

    def pairs_of(self, article_id: int, conn=None) -> dict[int, dict]:
        """{other article: pair} for every article paired with this one, earlier or later."""
        conn = conn or self.reader
        rows = conn.execute(
            """SELECT other_id, anchors, words, same_story, reason FROM article_pairs WHERE article_id = ?
               UNION ALL
               SELECT article_id, anchors, words, same_story, reason FROM article_pairs WHERE other_id = ?""",
            (article_id, article_id))
        return {r[0]: {"anchors": r[1], "words": r[2], "same_story": bool(r[3]), "reason": r[4]} for r in rows}

    def split_story(self, conn, story_id: int) -> None:
        """Regroup one story's articles by what still holds them together (its same-story pairs and
        reprints), after one of them was forgotten: a part no longer joined becomes a story of its own."""
        members = [r[0] for r in conn.execute("SELECT id FROM articles WHERE story_id = ? ORDER BY id", (story_id,))]
        edges = conn.execute(
            """SELECT p.article_id, p.other_id FROM article_pairs p
                 JOIN articles a ON a.id = p.article_id JOIN articles o ON o.id = p.other_id
                WHERE p.same_story = 1 AND a.story_id = ?1 AND o.story_id = ?1
               UNION ALL
               SELECT id, source_id FROM articles WHERE story_id = ?1 AND source_id IS NOT NULL AND source_id != id""",
            (story_id,)).fetchall()
        groups = connected_groups(members, edges)
        for group in groups[1:]:
            new_story = self.create_story(conn, None)
            conn.execute(f"UPDATE articles SET story_id = ? WHERE id IN ({','.join('?' * len(group))})",
                         (new_story, *group))
            self.refresh_story_title(conn, new_story)
        self.refresh_story_title(conn, story_id)

    def refresh_story_title(self, conn, story_id: int) -> None:
        """A story is named after its earliest article's headline."""
        conn.execute(
            """UPDATE stories SET title = (SELECT title FROM articles WHERE story_id = ?
                   ORDER BY coalesce(published, captured_at), id LIMIT 1) WHERE id = ?""",
            (story_id, story_id),
        )

    # -- reading: articles -----------------------------------------------------------------------
    def counts(self) -> dict:
        row = self.reader.execute(
            """SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM claims),
                      (SELECT count(*) FROM stories),
                      (SELECT count(*) FROM links WHERE label = 'disputes' AND dismissed_at IS NULL),
                      (SELECT count(DISTINCT coalesce(site, domain)) FROM articles)"""
        ).fetchone()
        return {"articles": row[0], "claims": row[1], "stories": row[2], "contradictions": row[3], "sites": row[4]}

    def list_articles(self, q=None, site=None, date_from=None, date_to=None, page=1, per_page=50) -> dict:
        page, per_page = _page(page, per_page)
        where, params = [], []
        if q and q.strip():
            match = fts_all_terms(q)
            if match:
                where.append(
                    """(a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)
                        OR a.id IN (SELECT c.article_id FROM claims c WHERE c.id IN
                                   (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?)))"""
                )
                params += [match, match]
        if site:
            where.append("(a.site = ? OR a.domain = ?)")
            params += [site, site]
        if date_from:
            where.append("a.captured_at >= ?")
            params.append(str(date_from)[:10])
        if date_to:
            where.append("a.captured_at < date(?, '+1 day')")
            params.append(str(date_to)[:10])
        sql = f"SELECT {ARTICLE_COLUMNS} FROM articles a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY a.captured_at DESC, a.id DESC LIMIT ? OFFSET ?"
        rows = self._rows(sql, (*params, per_page + 1, (page - 1) * per_page))
        return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_more": len(rows) > per_page}

    def article_summary(self, article_id: int) -> dict | None:
        return self._one(f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", (article_id,))

    def get_article(self, article_id: int) -> dict | None:
        article = self.article_summary(article_id)
        if article is None:
            return None
        article["text"] = self.reader.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
        article["claims"] = self.article_claims(article_id)
        return article

    def article_claims(self, article_id: int) -> list[dict]:
        claims = self._rows(
            """SELECT id, position, text, is_headline, speaker, polarity, proposition, details
                 FROM claims WHERE article_id = ? ORDER BY position""",
            (article_id,),
        )
        by_id = {}
        for claim in claims:
            claim["is_headline"] = bool(claim["is_headline"])
            claim["details"] = json.loads(claim["details"] or "{}")
            claim["matches"] = []
            by_id[claim["id"]] = claim
        if not by_id:
            return claims
        # Links in both directions: earlier claims this one matched, and later claims that matched it.
        for link in self._rows(LINK_SELECT + " WHERE c.article_id = ? OR o.article_id = ?"
                               " ORDER BY l.confidence DESC", (article_id, article_id)):
            if link["c_article_id"] == article_id:
                by_id[link["c_id"]]["matches"].append(_link_view(link))
            elif link["o_id"] in by_id:
                by_id[link["o_id"]]["matches"].append(_link_view(link, reverse=True))
        return claims

    def list_sites(self, limit: int = 200) -> list[dict]:
        return self._rows(
            """SELECT coalesce(site, domain) AS site, count(*) AS count FROM articles
                GROUP BY coalesce(site, domain) ORDER BY count DESC, site LIMIT ?""",
            (limit,),
        )

    def delete_article(self, article_id: int, words: list[str] | None = None) -> bool:
        """Forget an article; `words` are its distinct words, taken off the rarity counts."""
        with self.write() as conn:
            row = conn.execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            if words:
                self.count_words(conn, words, step=-1)
            # Reprints pointed at this article as their source: the earliest one becomes the source.
            orphans = [r[0] for r in conn.execute("SELECT id FROM articles WHERE source_id = ? ORDER BY id", (article_id,))]
            if orphans:
                conn.execute(f"UPDATE articles SET source_id = ? WHERE id IN ({','.join('?' * len(orphans))})",
                             (orphans[0], *orphans))
            story_id = row[0]
            if story_id is not None:
                left = conn.execute("SELECT count(*) FROM articles WHERE story_id = ?", (story_id,)).fetchone()[0]
                if left:
                    self.split_story(conn, story_id)
                else:
                    conn.execute("DELETE FROM stories WHERE id = ?", (story_id,))
            return True

    # -- reading: stories ------------------------------------------------------------------------
    def list_stories(self, page=1, per_page=50, min_articles: int = 1) -> dict:
        page, per_page = _page(page, per_page)
        rows = self._rows(
            """SELECT s.id, s.title, count(a.id) AS article_count,
                      count(DISTINCT coalesce(a.site, a.domain)) AS site_count,
                      min(a.captured_at) AS first_seen, max(a.captured_at) AS last_seen
                 FROM stories s JOIN articles a ON a.story_id = s.id
                GROUP BY s.id HAVING count(a.id) >= ?
                ORDER BY last_seen DESC, s.id DESC LIMIT ? OFFSET ?""",
            (min_articles, per_page + 1, (page - 1) * per_page),
        )
        return {"items": rows[:per_page], "page": page, "per_page": per_page, "has_more": len(rows) > per_page}

    def story_header(self, story_id: int) -> dict | None:
        return self._one(
            """SELECT s.id, s.title, count(a.id) AS article_count,
                      count(DISTINCT coalesce(a.site, a.domain)) AS site_count,
                      min(a.captured_at) AS first_seen, max(a.captured_at) AS last_seen
                 FROM stories s JOIN articles a ON a.story_id = s.id WHERE s.id = ? GROUP BY s.id""",
            (story_id,),
        )

    def story_articles(self, story_id: int) -> list[dict]:
        return self._rows(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.story_id = ? "
            "ORDER BY coalesce(a.published, substr(a.captured_at, 1, 10)) DESC, a.captured_at DESC, a.id DESC",
            (story_id,),
        )

    def get_story(self, story_id: int) -> dict | None:
        story = self.story_header(story_id)
        if story is None:
            return None
        story["articles"] = self.story_articles(story_id)
        story["links"] = [
            _link_view(r) for r in self._rows(
                LINK_SELECT + " WHERE ca.story_id = ? AND oa.story_id = ? AND l.label != 'related'"
                " ORDER BY l.label = 'disputes' DESC, l.confidence DESC LIMIT 500",
                (story_id, story_id),
            )
        ]
        return story

    # -- reading: contradictions -----------------------------------------------------------------
    def list_contradictions(self, page=1, per_page=50, include_dismissed=False, article_id=None) -> dict:
        page, per_page = _page(page, per_page)
        where = ["l.label = 'disputes'"]
        params: list = []
        if not include_dismissed:
            where.append("l.dismissed_at IS NULL")
        if article_id is not None:
            where.append("(c.article_id = ? OR o.article_id = ?)")
            params += [article_id, article_id]
        rows = self._rows(
            LINK_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY l.confidence DESC, l.id DESC LIMIT ? OFFSET ?",
            (*params, per_page + 1, (page - 1) * per_page),
        )
        return {"items": [_link_view(r) for r in rows[:per_page]], "page": page, "per_page": per_page,
                "has_more": len(rows) > per_page}

    def get_link(self, link_id: int) -> dict | None:
        row = self._one(LINK_SELECT + " WHERE l.id = ?", (link_id,))
        return _link_view(row) if row else None

    def dismiss_link(self, link_id: int) -> bool:
        with self.write() as conn:
            cur = conn.execute("UPDATE links SET dismissed_at = coalesce(dismissed_at, ?) WHERE id = ?", (utcnow(), link_id))
            return cur.rowcount > 0

    # -- reading: stats and export ----------------------------------------------------------------
    def stats(self) -> dict:
        return {
            "totals": self.counts(),
            "per_day": self._rows(
                """SELECT substr(captured_at, 1, 10) AS day, count(*) AS count FROM articles
                    WHERE captured_at >= date('now', '-89 days') GROUP BY day ORDER BY day"""
            ),
            "per_week": self._rows(
                """SELECT strftime('%Y-W%W', captured_at) AS week, count(*) AS count FROM articles
                    WHERE captured_at >= date('now', '-364 days') GROUP BY week ORDER BY week"""
            ),
            "sites": self.list_sites(limit=15),
            "stories": self.list_stories(per_page=10, min_articles=2)["items"],
            "contradictions_per_week": self._rows(
                """SELECT strftime('%Y-W%W', a.captured_at) AS week, count(*) AS count FROM links l
                     JOIN claims c ON c.id = l.claim_id JOIN articles a ON a.id = c.article_id
                    WHERE l.label = 'disputes' AND a.captured_at >= date('now', '-364 days')
                    GROUP BY week ORDER BY week"""
            ),
        }

    def export_articles(self, date_from=None, date_to=None, published_from=None, published_to=None) -> Iterator[dict]:
        """Articles read from date_from to date_to and published from published_from to published_to (days,
        inclusive; a publication filter leaves out articles whose date is unknown), oldest read first."""
        where, params = [], []
        if date_from:
            where.append("captured_at >= ?")
            params.append(str(date_from)[:10])
        if date_to:
            where.append("captured_at < date(?, '+1 day')")
            params.append(str(date_to)[:10])
        if published_from:
            where.append("substr(published, 1, 10) >= ?")
            params.append(str(published_from)[:10])
        if published_to:
            where.append("substr(published, 1, 10) <= ?")
            params.append(str(published_to)[:10])
        sql = "SELECT id FROM articles" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY captured_at, id"
        ids = [r[0] for r in self.reader.execute(sql, params)]
        for article_id in ids:
            article = self.get_article(article_id)
            if article is None:
                continue
            story = self._one("SELECT title FROM stories WHERE id = ?", (article["story_id"],)) if article["story_id"] else None
            article["story_title"] = story["title"] if story else None
            article["contradiction_count"] = sum(
                1 for c in article["claims"] for m in c["matches"] if m["label"] == "disputes" and not m["dismissed"])
            yield article

    # -- pairing and tokens ------------------------------------------------------------------------
    def insert_token(self, conn, name: str, origin: str | None, token_hash: str) -> int:
        return conn.execute(
            "INSERT INTO tokens (name, origin, token_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, origin, token_hash, utcnow()),
        ).lastrowid

    def token_by_hash(self, token_hash: str) -> dict | None:
        return self._one("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))

    def touch_token(self, token_id: int) -> None:
        with self.write() as conn:
            conn.execute("UPDATE tokens SET last_used_at = ? WHERE id = ?", (utcnow(), token_id))

    def origin_is_paired(self, origin: str) -> bool:
        return self.reader.execute(
            "SELECT 1 FROM tokens WHERE origin = ? AND revoked_at IS NULL LIMIT 1", (origin,)
        ).fetchone() is not None

    def list_tokens(self) -> list[dict]:
        return self._rows(
            "SELECT id, name, origin, created_at, last_used_at, revoked_at FROM tokens ORDER BY revoked_at IS NOT NULL, id DESC"
        )

    def revoke_token(self, token_id: int) -> bool:
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utcnow(), token_id))
            return cur.rowcount > 0

    def insert_pair_request(self, name: str, origin: str | None, poll_hash: str, *, minutes: int,
                            most: int) -> int | None:
        """A new pending request, or None when `most` requests younger than `minutes` already wait."""
        with self.write() as conn:
            # Stale requests are forgotten rather than piling up in the companion.
            conn.execute("DELETE FROM pair_requests WHERE created_at < ?", (_ago(hours=24),))
            waiting = conn.execute("SELECT count(*) FROM pair_requests WHERE status = 'pending' AND created_at >= ?",
                                   (_ago(minutes=minutes),)).fetchone()[0]
            if waiting >= most:
                return None
            return conn.execute(
                "INSERT INTO pair_requests (name, origin, poll_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, origin, poll_hash, utcnow()),
            ).lastrowid

    def pair_request(self, request_id: int) -> dict | None:
        return self._one("SELECT * FROM pair_requests WHERE id = ?", (request_id,))

    def pending_pair_requests(self, minutes: int = 10) -> list[dict]:
        """Requests still waiting, oldest first, each with the moment it stops being approvable."""
        rows = self._rows(
            "SELECT id, name, origin, created_at FROM pair_requests WHERE status = 'pending' AND created_at >= ? "
            "ORDER BY id", (_ago(minutes=minutes),))
        for row in rows:
            row["expires_at"] = _later(row["created_at"], minutes)
        return rows

    def decide_pair_request(self, request_id: int, approve: bool, minutes: int = 10) -> bool:
        with self.write() as conn:
            cur = conn.execute(
                "UPDATE pair_requests SET status = ? WHERE id = ? AND status = 'pending' AND created_at >= ?",
                ("approved" if approve else "refused", request_id, _ago(minutes=minutes)),
            )
            return cur.rowcount > 0

    def collect_pair_request(self, request_id: int, token_hash: str) -> int | None:
        """Turn an approved request into a token, once."""
        with self.write() as conn:
            req = conn.execute("SELECT * FROM pair_requests WHERE id = ? AND status = 'approved'", (request_id,)).fetchone()
            if req is None:
                return None
            token_id = self.insert_token(conn, req["name"], req["origin"], token_hash)
            conn.execute("UPDATE pair_requests SET status = 'collected', token_id = ? WHERE id = ?", (token_id, request_id))
            return token_id

    def insert_pair_code(self, code_hash: str, minutes: int = 10) -> None:
        """The one live code: it replaces any earlier one and lifts a lock left by wrong guesses."""
        with self.write() as conn:
            conn.execute("DELETE FROM pair_codes")
            conn.execute("INSERT INTO pair_codes (code_hash, expires_at) VALUES (?, ?)", (code_hash, _ago(minutes=-minutes)))
            conn.execute("DELETE FROM pair_guard")

    def redeem_pair_code(self, code_hash: str, name: str, origin: str | None, token_hash: str, *,
                         most_failures: int, lock_minutes: int) -> tuple[str, int | str | None]:
        """("approved", token id), ("wrong", failures left) or ("locked", until when).

        Wrong codes are counted; at `most_failures` the live code is burnt and redemption locked, so the
        reader must show a new code (which lifts the lock) or wait."""
        now = utcnow()
        with self.write() as conn:
            guard = conn.execute("SELECT failures, locked_until FROM pair_guard WHERE id = 1").fetchone()
            failures, locked_until = (guard["failures"], guard["locked_until"]) if guard else (0, None)
            if locked_until and locked_until > now:
                return "locked", locked_until
            conn.execute("DELETE FROM pair_codes WHERE expires_at < ?", (now,))
            if conn.execute("DELETE FROM pair_codes WHERE code_hash = ?", (code_hash,)).rowcount:
                conn.execute("DELETE FROM pair_guard")
                return "approved", self.insert_token(conn, name, origin, token_hash)
            failures += 1
            locked_until = None
            if failures >= most_failures:
                conn.execute("DELETE FROM pair_codes")
                failures, locked_until = 0, _ago(minutes=-lock_minutes)
            conn.execute("INSERT OR REPLACE INTO pair_guard (id, failures, locked_until) VALUES (1, ?, ?)",
                         (failures, locked_until))
        # Answered after the commit: the caller turns this into an error, and the guess must stay counted.
        return ("locked", locked_until) if locked_until else ("wrong", most_failures - failures)


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
