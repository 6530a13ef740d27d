"""Stories: articles that report the same event, and reprints of the same wire copy.

An arriving article joins every story it shares a same-story pair with (relatedness.py decides the
pairs, from the names, figures and words two articles share), merging them, or starts a story of its
own. Claim links alone are a weaker sign: two articles can agree on a sentence ("the Kremlin denied
it") and be about different events. An article whose sentences are mostly the very sentences of an
earlier one is a reprint: it keeps that article as its source, so the same agency copy in five outlets
counts as one source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from . import anchors as anchor_words
from . import cosines

REPRINT_SIMILARITY = cosines.REPRINT_MIN   # a sentence this close to an earlier one is the same sentence, re-edited
REPRINT_SHARE = 0.6            # share of an article's claims that must be reprinted
REPRINT_MIN_CLAIMS = 3
LOOKUP_ANCHORS = 48            # the new article's rarest anchors looked up in the history...
LOOKUP_POSTINGS = 5_000        # ...as many as name this many articles in all (the rarest always)
COMMON_ANCHOR_SHARE = 0.05     # anchors named by more of the history than this are too common to look up
# Articles scored in full after the lookup, those naming the most weight of the rarest names. Scoring reads
# every name of every candidate (~25,000 rows for 200 at 100k articles, a fifth of an import loop's CPU);
# reports of one event share the rarest names, so they rank near the top of the lookup (docs/architecture.md).
SCORED_CANDIDATES = 100


def near_copies(links: list[dict]) -> dict[int, int]:
    """{earlier article: how many of the new article's claims are near-copies of its sentences}.
    links: {query, other_article_id, similarity} for every judged pair of the new article."""
    near: dict[int, set[int]] = defaultdict(set)
    for link in links:
        if link["similarity"] >= REPRINT_SIMILARITY:
            near[link["other_article_id"]].add(link["query"])
    return {article_id: len(queries) for article_id, queries in near.items()}


def reprint_source(near: dict[int, int], claim_count: int, identical: dict[int, int]) -> int | None:
    """The earlier article this one reprints, if any (the earliest of the best candidates)."""
    if claim_count < REPRINT_MIN_CLAIMS:
        return None
    best = None
    for article_id in sorted(set(near) | set(identical)):
        shared = max(identical.get(article_id, 0), near.get(article_id, 0))
        if shared / claim_count >= REPRINT_SHARE and (best is None or shared > best[1]):
            best = (article_id, shared)
    return best[0] if best else None


@dataclass
class AnchorMatches:
    """Earlier articles sharing an article's rarer names and figures."""
    scores: dict[int, float] = field(default_factory=dict)        # {article: anchor similarity}
    weight: dict[str, float] = field(default_factory=dict)        # {anchor: rarity}


def anchor_neighbours(store, names: list[str], conn=None) -> AnchorMatches:
    """The earlier articles that share the rarer of an arriving article's `names`, with their anchor
    similarity. The rarest names find the candidates (as many as name LOOKUP_POSTINGS articles in all, so
    the rows read stay bounded in a long history whose names are each in thousands of articles); the
    SCORED_CANDIDATES best are scored over all their names, summed by the store (a few hundred rows, not
    every name of every candidate)."""
    if not names:
        return AnchorMatches()
    counts, history = store.anchor_counts(names, conn)
    weight = {a: anchor_words.idf(counts.get(a, 0), history) for a in names}
    too_common = max(20, COMMON_ANCHOR_SHARE * history)
    lookup, postings = [], 0
    for anchor in sorted((a for a in names if 0 < counts.get(a, 0) <= too_common), key=lambda a: -weight[a]):
        if lookup and (len(lookup) == LOOKUP_ANCHORS or postings + counts[anchor] > LOOKUP_POSTINGS):
            break
        lookup.append(anchor)
        postings += counts[anchor]
    best = store.articles_naming_most({a: weight[a] for a in lookup}, SCORED_CANDIDATES, conn)
    mine = sorted(weight)
    found = AnchorMatches(weight=weight)
    mine_weight = sum(weight.values())
    for other, (theirs, shared) in store.anchor_overlaps(best, mine, history, conn).items():
        score = anchor_words.overlap_score(shared, mine_weight, theirs)
        if score > 0:
            found.scores[other] = score
    return found


def anchor_names(store, article_ids: list[int], names: list[str], conn=None) -> dict[int, set[str]]:
    """{article: which of `names` (an arriving article's) it names too}."""
    return store.shared_anchors(article_ids, sorted(set(names)), conn)


def assign(store, conn, article_id: int, pairs: list, source: int | None) -> tuple[int, int]:
    """Put a freshly stored article into a story; returns (story id, source id). `pairs` are its
    relatedness.Pair with earlier articles: every story it shares a same-story pair with is merged into
    one, so a story is the connected group of its pairs whatever the order they were read in. Runs in the
    capture's write transaction."""
    source_id = store.source_of(source, conn) if source is not None else article_id
    joined = [p.other for p in pairs if p.same_story]
    stories = sorted({s for s in store.story_ids_of_articles(joined, conn).values() if s is not None})
    if stories:
        story_id = stories[0]
        store.merge_stories(conn, story_id, stories[1:])
    else:
        story_id = store.create_story(conn, None)
    store.set_article_story(conn, article_id, story_id, source_id)
    store.refresh_story_title(conn, story_id)
    return story_id, source_id
