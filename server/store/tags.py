"""Tags: the labels an imported article carried in the tool it came from (shown with it and exported)."""

from __future__ import annotations

MAX_TAG_CHARS = 100


class TagStore:
    def tag_article(self, article_id: int, tags) -> None:
        names = [t.strip()[:MAX_TAG_CHARS] for t in tags if isinstance(t, str) and t.strip()]
        if not names:
            return
        with self.write() as conn:
            conn.executemany("INSERT OR IGNORE INTO article_tags (article_id, tag) VALUES (?, ?)",
                             [(article_id, name) for name in names])

    def article_tags(self, article_id: int) -> list[str]:
        return [r[0] for r in self.reader.execute(
            "SELECT tag FROM article_tags WHERE article_id = ? ORDER BY tag", (article_id,))]

    def tags_by_article(self, article_ids: list[int]) -> dict[int, list[str]]:
        """The tags of several articles at once (a page of the history), each article's sorted."""
        found: dict[int, list[str]] = {}
        ids = list(dict.fromkeys(article_ids))
        for start in range(0, len(ids), 500):       # under SQLite's limit of bound parameters
            chunk = ids[start:start + 500]
            rows = self.reader.execute(
                f"SELECT article_id, tag FROM article_tags WHERE article_id IN ({','.join('?' * len(chunk))}) "
                "ORDER BY article_id, tag", chunk)
            for article_id, tag in rows:
                found.setdefault(article_id, []).append(tag)
        return found
