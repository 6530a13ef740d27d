"""Stories: articles that share claims, and reprints of the same wire copy.

An arriving article joins the story of every earlier article it shares a claim with (merging those
stories when it bridges them) or starts a story of its own. An article whose sentences are mostly the
very sentences of an earlier one is a reprint: it keeps that article as its source, so the same
agency copy in five outlets counts as one source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

STRONG_SIMILARITY = 0.62       # a supports/disputes link this close ties two articles to one story
WEAK_SIMILARITY = 0.55         # ...or this many looser links do
WEAK_LINKS_NEEDED = 2
REPRINT_SIMILARITY = 0.93      # a sentence this close to an earlier one is the same sentence, re-edited
REPRINT_SHARE = 0.6            # share of an article's claims that must be reprinted
REPRINT_MIN_CLAIMS = 3


@dataclass
class ArticleEvidence:
    """What one earlier article has in common with the new one."""
    strong: int = 0
    weak: int = 0
    near_identical: int = 0
    best_similarity: float = 0.0

    @property
    def same_story(self) -> bool:
        return self.strong >= 1 or self.weak >= WEAK_LINKS_NEEDED


def gather_evidence(links: list[dict]) -> dict[int, ArticleEvidence]:
    """links: {query, other_article_id, label, similarity} for every judged pair of the new article."""
    evidence: dict[int, ArticleEvidence] = defaultdict(ArticleEvidence)
    near: dict[int, set[int]] = defaultdict(set)
    for link in links:
        ev = evidence[link["other_article_id"]]
        sim = link["similarity"]
        ev.best_similarity = max(ev.best_similarity, sim)
        if link["label"] in ("supports", "disputes") and sim >= STRONG_SIMILARITY:
            ev.strong += 1
        elif sim >= WEAK_SIMILARITY:
            ev.weak += 1
        if sim >= REPRINT_SIMILARITY:
            near[link["other_article_id"]].add(link["query"])
    for article_id, queries in near.items():
        evidence[article_id].near_identical = len(queries)
    return dict(evidence)


def reprint_source(evidence: dict[int, ArticleEvidence], claim_count: int,
                   identical: dict[int, int]) -> int | None:
    """The earlier article this one reprints, if any (the earliest of the best candidates)."""
    if claim_count < REPRINT_MIN_CLAIMS:
        return None
    best = None
    for article_id in sorted(set(evidence) | set(identical)):
        shared = max(identical.get(article_id, 0), evidence.get(article_id, ArticleEvidence()).near_identical)
        if shared / claim_count >= REPRINT_SHARE and (best is None or shared > best[1]):
            best = (article_id, shared)
    return best[0] if best else None


def assign(store, conn, article_id: int, links: list[dict], claim_hashes: list[str]) -> tuple[int, int]:
    """Put a freshly stored article into a story; returns (story id, source id). Runs in the capture's
    write transaction."""
    evidence = gather_evidence(links)
    identical = store.articles_sharing_hashes(list(set(claim_hashes)), exclude=article_id)
    source = reprint_source(evidence, len(set(claim_hashes)), identical)
    source_id = store.source_of(source, conn) if source is not None else article_id

    related_articles = [a for a, ev in evidence.items() if ev.same_story]
    if source is not None:
        related_articles.append(source)
    stories = sorted({s for s in store.story_ids_of_articles(related_articles, conn).values() if s is not None})
    if stories:
        story_id = stories[0]
        store.merge_stories(conn, story_id, stories[1:])
    else:
        story_id = store.create_story(conn, None)
    store.set_article_story(conn, article_id, story_id, source_id)
    store.refresh_story_title(conn, story_id)
    return story_id, source_id
