"""Tags: the labels an imported article carried in the tool it came from."""

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
