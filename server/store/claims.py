"""Claims, their vectors and links: what matching reads and writes, and contradictions."""

from __future__ import annotations

import json
from typing import Iterator

from .base import _link_view, _page, fts_words, LINK_SELECT, LINKS_OF_ARTICLE, utcnow


class ClaimStore:
    # -- claims and links of a capture ----------------------------------------------------------
    def insert_claims(self, conn, article_id: int, claims: list[dict]) -> list[int]:
        """The claims' ids: after every id ever given (claim_id_mark), never one of a deleted claim."""
        last = conn.execute("SELECT last FROM claim_id_mark").fetchone()[0]
        ids = list(range(last + 1, last + 1 + len(claims)))
        conn.executemany(
            """INSERT INTO claims (id, article_id, position, text, text_hash, is_headline, speaker, polarity,
                   proposition, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(claim_id, article_id, claim["position"], claim["text"], claim["text_hash"], int(claim["is_headline"]),
              claim.get("speaker"), claim.get("polarity") or "asserts", claim.get("proposition") or claim["text"],
              json.dumps(claim.get("details") or {}, sort_keys=True)) for claim_id, claim in zip(ids, claims)])
        return ids

    def reserve_claim_ids(self, upto_id: int) -> None:
        """Ids up to `upto_id` are not given to new claims (the saved graph may know claims by them)."""
        with self.write() as conn:
            conn.execute("UPDATE claim_id_mark SET last = ? WHERE last < ?", (upto_id, upto_id))

    def insert_links(self, conn, links: list[dict]) -> None:
        conn.executemany(
            """INSERT OR REPLACE INTO links (claim_id, other_claim_id, label, confidence, reason, similarity)
               VALUES (:claim_id, :other_claim_id, :label, :confidence, :reason, :similarity)""",
            links,
        )

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

    def iter_claim_vectors(self, model: str, after_id: int = 0, upto_id: int | None = None,
                           batch: int = 20000) -> Iterator[list[tuple]]:
        """(claim id, article id, vector) for every stored claim after `after_id` (up to `upto_id`), in id
        order, in batches."""
        # CROSS JOIN keeps claims outermost, read in id order: otherwise SQLite may walk the embeddings
        # and sort every vector in a temporary B-tree (gigabytes at 100k articles) before the first row.
        yield from self._plain_batches(
            """SELECT c.id, c.article_id, e.vector FROM claims c
               CROSS JOIN embeddings e ON e.model = ? AND e.text_hash = c.text_hash
               WHERE c.id > ? AND c.id <= ? ORDER BY c.id""",
            (model, after_id, upto_id if upto_id is not None else 2**62), batch)

    def claim_vectors(self, model: str, claim_ids) -> dict[int, tuple[int, bytes]]:
        """{claim id: (article id, vector)} of the given claims that are stored with a vector."""
        out: dict[int, tuple[int, bytes]] = {}
        ids = list(dict.fromkeys(int(i) for i in claim_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cursor = self.reader.cursor()
            cursor.row_factory = None
            for claim_id, article_id, blob in cursor.execute(
                    f"""SELECT c.id, c.article_id, e.vector FROM claims c
                          CROSS JOIN embeddings e ON e.model = ? AND e.text_hash = c.text_hash
                         WHERE c.id IN ({marks})""", (model, *chunk)):
                out[claim_id] = (article_id, blob)
        return out

    def iter_claim_ids(self, upto_id: int, batch: int = 200000) -> Iterator[list[tuple]]:
        """(claim id,) of every claim up to `upto_id`, in id order, in batches."""
        yield from self._plain_batches("SELECT id FROM claims WHERE id <= ? ORDER BY id", (upto_id,), batch)

    def _plain_batches(self, sql: str, params: tuple, batch: int) -> Iterator[list[tuple]]:
        cursor = self.reader.cursor()
        cursor.row_factory = None        # plain tuples: millions of rows
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield rows

    def claims_after(self, after_id: int = 0) -> int:
        return self.reader.execute("SELECT count(*) FROM claims WHERE id > ?", (after_id,)).fetchone()[0]

    def forgotten_claim_ids(self, upto_id: int) -> list[int]:
        """Ids (in order) of the claims up to `upto_id` deleted since the claim graph was last written."""
        return [r[0] for r in self.reader.execute(
            "SELECT claim_id FROM forgotten_claims WHERE claim_id <= ? ORDER BY claim_id", (upto_id,))]

    def clear_forgotten_claims(self, claim_ids=None) -> None:
        """The graph written no longer holds these claims (None: it was built afresh, it holds none)."""
        with self.write() as conn:
            if claim_ids is None:
                conn.execute("DELETE FROM forgotten_claims")
            else:
                conn.executemany("DELETE FROM forgotten_claims WHERE claim_id = ?", [(int(c),) for c in claim_ids])

    def claims_upto(self, upto_id: int) -> int:
        return self.reader.execute("SELECT count(*) FROM claims WHERE id <= ?", (upto_id,)).fetchone()[0]

    def claims_missing_vectors(self, model: str) -> list[dict]:
        return self._rows(
            """SELECT DISTINCT c.text_hash, c.text FROM claims c
               LEFT JOIN embeddings e ON e.model = ? AND e.text_hash = c.text_hash WHERE e.text_hash IS NULL""",
            (model,),
        )

    # -- claims for matching ---------------------------------------------------------------------
    def claims_of_articles(self, article_ids: list[int]) -> dict[int, list[dict]]:
        """{article id: its claims in order}, without their links."""
        out: dict[int, list[dict]] = {a: [] for a in article_ids}
        if not article_ids:
            return out
        marks = ",".join("?" * len(article_ids))
        for row in self.reader.execute(
                f"""SELECT id, article_id, position, text, is_headline, speaker, polarity, proposition, details
                      FROM claims WHERE article_id IN ({marks}) ORDER BY article_id, position""", list(article_ids)):
            item = dict(row)
            item["details"] = json.loads(item["details"] or "{}")
            item["is_headline"] = bool(item["is_headline"])
            out[item["article_id"]].append(item)
        return out

    def claims_deleted(self) -> None:
        """Claims are deleted in the write under way: once committed, words found in more claims than a
        search's budget may no longer be. (Forgotten before then, a search reading the old claims could
        remember them again.)"""
        self.after_commit(lambda: self.__dict__.pop("_claims_with_common_word", None))

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
                             postings: int | None = None, sizes: dict[str, int] | None = None) -> list[tuple[int, float]]:
        """BM25 over every claim; returns (claim id, bm25 score, higher is better).

        `postings` bounds the work: only the query's rarest words are searched, as many as fit in that
        many claims. Words that most claims contain add little to BM25 and cost the most to score.
        `sizes` keeps the words' claim counts between the searches of one page (its claims share words)."""
        words = fts_words(text)
        if postings is not None:
            words = self._rarest_words(words, postings, {} if sizes is None else sizes)
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

    def _rarest_words(self, words: list[str], postings: int, sizes: dict[str, int]) -> list[str]:
        # Counting stops at the budget, so sizing up a word that every claim contains costs no more
        # than the budget itself, at any history size. A word found in more claims than a budget is
        # remembered and not counted again for that budget (counts only grow until a claim is deleted).
        common = self.__dict__.setdefault("_claims_with_common_word", {})
        for word in words:
            if word in sizes:
                continue
            if common.get(word, 0) > postings:
                sizes[word] = common[word]
                continue
            sizes[word] = self.reader.execute(
                "SELECT count(*) FROM (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ? LIMIT ?)",
                (f'"{word}"', postings + 1)).fetchone()[0]
            if sizes[word] > postings:
                common[word] = max(common.get(word, 0), sizes[word])
        docs = {w: sizes[w] for w in words}
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
            conn.execute("DELETE FROM article_vectors")
            conn.execute("DELETE FROM word_counts")
            conn.execute("UPDATE articles SET story_id = NULL, source_id = NULL")
            conn.execute("DELETE FROM stories")

    def max_claim_id(self) -> int:
        return self.reader.execute("SELECT coalesce(max(id), 0) FROM claims").fetchone()[0]

    # -- reading: contradictions -----------------------------------------------------------------
    def list_contradictions(self, page=1, per_page=50, include_dismissed=False, article_id=None) -> dict:
        page, per_page = _page(page, per_page)
        where = ["l.label = 'disputes'"]
        params: list = []
        if not include_dismissed:
            where.append("l.dismissed_at IS NULL")
        if article_id is not None:
            where.append(LINKS_OF_ARTICLE)
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
