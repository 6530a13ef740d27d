"""Story benchmark: capture plain-text articles in order through the Engine, then read related coverage.

Each article is wrapped as minimal HTML and captured with `Engine.capture`, exactly as a page from the
browser would be. An article's related ranking is the product's own (`Engine.related_articles`, what
the popup's related coverage is grouped from): its story first, then articles sharing its names and
figures or a claim. The story the product assigned (`article_summary(id)["story_id"]`) is reported as "story".

Output: JSONL {"id", "related": [article_id, ...], "story"} for the stories scorer.
"""

from __future__ import annotations

import html
import logging
import time
from pathlib import Path

from server.claims import split_sentences
from server.pipeline import CaptureError

from .common import fresh_engine, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

SENTENCES_PER_PARAGRAPH = 3


def as_html(title: str, text: str, lang: str | None) -> str:
    """The article as the smallest page the extractor accepts: a title, a headline and paragraphs."""
    paragraphs = []
    for block in (b for b in text.split("\n") if b.strip()):
        sentences = split_sentences(block) or [block]
        for start in range(0, len(sentences), SENTENCES_PER_PARAGRAPH):
            paragraphs.append(" ".join(sentences[start:start + SENTENCES_PER_PARAGRAPH]))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    title = html.escape(title or "")
    return (f'<html lang="{html.escape(lang or "en")}"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def predict(data_dir: Path, out: Path, limit: int | None = None) -> dict:
    articles = read_jsonl(Path(data_dir) / "articles.jsonl")
    if limit is not None:
        articles = articles[:limit]
    started = time.perf_counter()
    stored: dict[str, int] = {}
    refused: dict[str, str] = {}
    with fresh_engine() as engine:
        for article in articles:
            page = as_html(article.get("title") or "", article["text"], article.get("lang"))
            try:
                result = engine.capture(f"https://stories.bench/{article['id']}", page)
            except CaptureError as exc:
                refused[article["id"]] = exc.code
                continue
            stored[article["id"]] = result.article_id
        capture_seconds = time.perf_counter() - started
        dataset_id = {row_id: ident for ident, row_id in stored.items()}
        rows = []
        for article in articles:
            row_id = stored.get(article["id"])
            if row_id is None:
                rows.append({"id": article["id"], "related": []})
                continue
            related = [dataset_id[a] for a, _ in engine.related_articles(row_id) if a in dataset_id]
            story = engine.store.article_summary(row_id)["story_id"]
            rows.append({"id": article["id"], "related": related,
                         "story": f"s{story}" if story is not None else f"a{row_id}"})
        write_jsonl(out, rows)
    stats = {"articles": len(articles), "captured": len(stored), "refused": len(refused),
             "refused_codes": sorted(set(refused.values())),
             "ms_per_capture": round(1000 * capture_seconds / max(1, len(articles)), 1)}
    log.info("stories: %s", stats)
    return stats
