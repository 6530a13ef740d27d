"""Coverage benchmark: what the reader is shown right after each capture, end to end.

Every page of `articles.jsonl` (`url`, `html`) is captured in file order with `Engine.capture` and answered
with `Engine.view`, the two calls `POST /api/pages` makes. Right after each capture the answer's related
coverage (every article of every group, folded reprints included) and the articles its contradictions
come from are written out, so an article only counts as shown if the popup showed it at that moment.

The baseline, computed in the same run: a naive TF-IDF cosine over title + text against every earlier
article, shown when it reaches BASELINE_THRESHOLD.

Output: JSONL {"id", "shown": [article_id, ...], "disputed": [article_id, ...]} for the coverage scorer.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import Counter
from pathlib import Path

from server.pipeline import CaptureError

from .common import fresh_engine, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

BASELINE_THRESHOLD = 0.275
_WORD = re.compile(r"\w+", re.UNICODE)


def shown_in(answer: dict) -> tuple[list[int], list[int]]:
    """(article ids listed as related coverage, article ids shown as disputing) in one capture's answer."""
    shown: list[int] = []
    for group in answer.get("related", []):
        for entry in group.get("articles", []):
            shown.append(entry["id"])
            shown.extend(other["id"] for other in entry.get("also_in", []))
    disputed = [c["other"]["article"]["id"] for c in answer.get("contradictions", [])]
    return list(dict.fromkeys(shown)), list(dict.fromkeys(disputed))


def predict(data_dir: Path, out: Path, limit: int | None = None, embedder=None) -> dict:
    articles = read_jsonl(Path(data_dir) / "articles.jsonl")
    if limit is not None:
        articles = articles[:limit]
    dataset_id: dict[int, str] = {}
    refused: Counter = Counter()
    rows = []
    started = time.perf_counter()
    with fresh_engine(embedder) as engine:
        for number, article in enumerate(articles):
            url = article.get("url") or f"https://coverage.bench/{article['id']}"
            try:
                result = engine.capture(url, article["html"])
            except CaptureError as exc:
                refused[exc.code] += 1
                rows.append({"id": article["id"], "shown": [], "disputed": []})
                continue
            answer = engine.view(result.article_id)
            if result.created:
                dataset_id[result.article_id] = article["id"]
            shown, disputed = shown_in(answer)
            rows.append({"id": article["id"],
                         "shown": [dataset_id[a] for a in shown if a in dataset_id],
                         "disputed": [dataset_id[a] for a in disputed if a in dataset_id]})
            if (number + 1) % 50 == 0:
                log.info("coverage: %d of %d captured", number + 1, len(articles))
    write_jsonl(out, rows)
    seconds = time.perf_counter() - started
    stats = {"articles": len(articles), "captured": len(dataset_id), "refused": dict(refused),
             "ms_per_capture": round(1000 * seconds / max(1, len(articles)), 1),
             "by_language_pair": by_language_pair(articles, rows)}
    log.info("coverage: %s", stats)
    return stats


def by_language_pair(articles: list[dict], rows: list[dict]) -> dict:
    """Links shown and missed per pair of languages ("en-zh"), when the data says each article's story and
    language: what works across languages and what does not."""
    if not all(a.get("story") and a.get("lang") for a in articles):
        return {}
    story = {a["id"]: a["story"] for a in articles}
    lang = {a["id"]: a["lang"] for a in articles}
    seen: list[str] = []
    table: dict[str, Counter] = {}
    for row in rows:
        me = row["id"]
        shown = set(row["shown"])
        for other in seen:
            key = "-".join(sorted((lang[me], lang[other])))
            counts = table.setdefault(key, Counter())
            gold = story[other] == story[me]
            counts["gold"] += gold
            counts["shown"] += other in shown
            counts["right"] += gold and other in shown
        seen.append(me)
    return {key: {"precision": round(c["right"] / c["shown"], 3) if c["shown"] else None,
                  "recall": round(c["right"] / c["gold"], 3) if c["gold"] else None,
                  "shown": c["shown"], "gold_links": c["gold"]}
            for key, c in sorted(table.items())}


def baseline(data_dir: Path, out: Path, limit: int | None = None, threshold: float = BASELINE_THRESHOLD) -> dict:
    """Naive TF-IDF: show every earlier article whose title + text cosine reaches `threshold`. Document
    frequencies grow with the stream, as a reader's history would."""
    articles = read_jsonl(Path(data_dir) / "articles.jsonl")
    if limit is not None:
        articles = articles[:limit]
    frequency: Counter = Counter()
    earlier: list[tuple[str, Counter]] = []
    rows = []
    for article in articles:
        words = Counter(w.lower() for w in _WORD.findall(_plain_text(article)))
        frequency.update(words.keys())
        total = len(earlier) + 1

        def vector(counts: Counter) -> dict[str, float]:
            weights = {w: (1 + math.log(c)) * math.log((total + 1) / (frequency[w] + 1)) for w, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
            return {w: v / norm for w, v in weights.items()}

        mine = vector(words)
        shown = []
        for other_id, other_words in earlier:
            theirs = vector(other_words)
            if sum(v * theirs.get(w, 0.0) for w, v in mine.items()) >= threshold:
                shown.append(other_id)
        rows.append({"id": article["id"], "shown": shown})
        earlier.append((article["id"], words))
    write_jsonl(out, rows)
    return {"articles": len(articles)}


def _plain_text(article: dict) -> str:
    """Title + text; pages given only as HTML (coverage-web) are read with the product's extractor."""
    text = f"{article.get('title') or ''} {article.get('text') or ''}".strip()
    if text or not article.get("html"):
        return text
    from server.extract import NotAnArticle, extract_article

    try:
        extracted = extract_article(article["html"], article.get("url"))
    except NotAnArticle:
        return ""
    return f"{extracted.title or ''} {extracted.text}"
