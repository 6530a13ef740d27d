"""Stories, names and figures, word rarity and article pairs: what relates articles as a whole."""

from __future__ import annotations

import json

from ..anchors import IDF_FLOOR, PRIOR_ARTICLES
from .base import _link_view, _page, ARTICLE_COLUMNS, connected_groups, LINK_SELECT, utcnow


class StoryStore:
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

    def articles_naming_most(self, weights: dict[str, float], limit: int, conn=None) -> list[int]:
        """The `limit` articles naming the most weight of the given anchors ({anchor: weight}), most first,
        equal sums newest first; summed and ranked in one statement, so only the winners reach Python."""
        conn = conn or self.reader
        if not weights or limit <= 0:
            return []
        return [r[0] for r in conn.execute(
            """SELECT a.article_id FROM json_each(:weights) w
                 JOIN article_anchors a ON a.anchor = w.key
                GROUP BY a.article_id
                ORDER BY round(sum(w.value), 9) DESC, a.article_id DESC
                LIMIT :limit""",
            {"weights": json.dumps(weights, ensure_ascii=False), "limit": limit})]

    def anchor_overlaps(self, article_ids: list[int], mine: list[str], history: int,
                        conn=None) -> dict[int, tuple[float, float]]:
        """{article id: (the rarity of all its anchors, of those among `mine`)}, each anchor's rarity
        being `anchors.idf` of the articles naming it among `history` articles, summed in one statement."""
        conn = conn or self.reader
        if not article_ids:
            return {}
        rarity = f"(ln((:history + {PRIOR_ARTICLES} + 1.0) / (c.articles + 1.0)) + {IDF_FLOOR})"
        return {article_id: (theirs, shared) for article_id, theirs, shared in conn.execute(
            f"""SELECT a.article_id, sum({rarity}),
                       sum(CASE WHEN a.anchor IN (SELECT value FROM json_each(:mine)) THEN {rarity} ELSE 0 END)
                  FROM article_anchors a JOIN anchor_counts c ON c.anchor = a.anchor
                 WHERE a.article_id IN (SELECT value FROM json_each(:ids))
                 GROUP BY a.article_id""",
            {"history": history, "mine": json.dumps(mine, ensure_ascii=False), "ids": json.dumps(list(article_ids))})}

    def shared_anchors(self, article_ids: list[int], mine: list[str], conn=None) -> dict[int, set[str]]:
        """{article id: those of `mine` it names}, for each of the articles."""
        conn = conn or self.reader
        out: dict[int, set[str]] = {a: set() for a in article_ids}
        if not article_ids or not mine:
            return out
        for article_id, anchor in conn.execute(
                """SELECT article_id, anchor FROM article_anchors
                    WHERE anchor IN (SELECT value FROM json_each(:mine))
                      AND article_id IN (SELECT value FROM json_each(:ids))""",
                {"mine": json.dumps(list(mine), ensure_ascii=False), "ids": json.dumps(list(article_ids))}):
            out[article_id].add(anchor)
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

    def put_article_vector(self, conn, article_id: int, model: str, vector: bytes | None) -> None:
        if vector is not None:
            conn.execute("INSERT OR REPLACE INTO article_vectors (article_id, model, vector) VALUES (?, ?, ?)",
                         (article_id, model, vector))

    def article_vectors(self, article_ids: list[int], model: str, conn=None) -> dict[int, bytes]:
        """{article id: its meaning vector under `model`} for those that have one."""
        conn = conn or self.reader
        if not article_ids:
            return {}
        marks = ",".join("?" * len(article_ids))
        return dict(conn.execute(
            f"SELECT article_id, vector FROM article_vectors WHERE model = ? AND article_id IN ({marks})",
            (model, *article_ids)))

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

    def needs_reindex(self) -> bool:
        """True when the database was upgraded from a version that compared articles otherwise (without
        article pairs, or without place names and scaled figures as anchors) and has not been reindexed
        since: its stories are not what this version would make of them."""
        return self.reader.execute("SELECT EXISTS (SELECT 1 FROM upgrade_notes WHERE note = 'reindex')").fetchone()[0] == 1

    def mark_reindexed(self) -> None:
        with self.write() as conn:
            conn.execute("DELETE FROM upgrade_notes WHERE note = 'reindex'")

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
