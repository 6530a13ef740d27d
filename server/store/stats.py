"""Reading statistics and the reading log's export."""

from __future__ import annotations

from typing import Iterator

from .base import day_range


class StatsStore:
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
        day_range("captured_at", date_from, date_to, where, params)
        day_range("published", published_from, published_to, where, params)
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
