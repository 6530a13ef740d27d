"""Articles: storing a capture, reading the history, forgetting."""

from __future__ import annotations

import gzip
import json

from .base import day_range, _link_view, _page, ARTICLE_COLUMNS, fts_all_terms, LINK_SELECT, LINKS_OF_ARTICLE, utcnow


class ArticleStore:
    # -- captures --------------------------------------------------------------------------------
    def find_duplicate(self, canonical_url: str, content_hash: str, conn=None) -> int | None:
        conn = conn or self.reader
        row = conn.execute(
            "SELECT id FROM articles WHERE canonical_url = ? OR content_hash = ? ORDER BY id LIMIT 1",
            (canonical_url, content_hash),
        ).fetchone()
        return row[0] if row else None

    def article_id_for_url(self, canonical_url: str) -> int | None:
        """The article stored under this address, or that an import found there: an import skips it unfetched."""
        row = self.reader.execute(
            "SELECT id FROM articles WHERE canonical_url = ?1 "
            "UNION ALL SELECT article_id FROM imported_urls WHERE canonical_url = ?1 LIMIT 1",
            (canonical_url,)).fetchone()
        return row[0] if row else None

    def remember_imported_url(self, canonical_url: str, article_id: int) -> None:
        with self.write() as conn:
            conn.execute("INSERT OR IGNORE INTO imported_urls (canonical_url, article_id) SELECT ?1, ?2 "
                         "WHERE NOT EXISTS (SELECT 1 FROM articles WHERE canonical_url = ?1)", (canonical_url, article_id))

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

    def replace_article_content(self, conn, article_id: int, article: dict) -> None:
        """Re-extraction (reindex): new text and metadata, claims and links rebuilt by the caller."""
        conn.execute(
            """UPDATE articles SET title = :title, site = :site, author = :author, published = :published,
                   language = :language, text = :text, word_count = :word_count, content_hash = :content_hash
               WHERE id = :id""",
            {**article, "id": article_id},
        )
        replaced = [r[0] for r in conn.execute("SELECT id FROM claims WHERE article_id = ?", (article_id,))]
        conn.execute("DELETE FROM claims WHERE article_id = ?", (article_id,))
        # A reindex starts a new claim graph: the claims it replaces were never in it, nothing to pass over.
        conn.executemany("DELETE FROM forgotten_claims WHERE claim_id = ?", [(c,) for c in replaced])
        self.claims_deleted()
        conn.execute("DELETE FROM article_anchors WHERE article_id = ?", (article_id,))

    def page_html(self, article_id: int) -> str | None:
        row = self.reader.execute("SELECT html_gz FROM pages WHERE article_id = ?", (article_id,)).fetchone()
        return gzip.decompress(row[0]).decode("utf-8", "replace") if row else None

    def article_ids(self) -> list[int]:
        return [r[0] for r in self.reader.execute("SELECT id FROM articles ORDER BY id")]

    def article_row(self, article_id: int) -> dict | None:
        return self._one("SELECT * FROM articles WHERE id = ?", (article_id,))

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
        day_range("a.captured_at", date_from, date_to, where, params)
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
        article["tags"] = self.article_tags(article_id)
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
        for link in self._rows(LINK_SELECT + f" WHERE {LINKS_OF_ARTICLE} ORDER BY l.confidence DESC",
                               (article_id, article_id)):
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
            self.claims_deleted()
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
