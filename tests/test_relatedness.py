"""Related coverage is decided per article: what two articles share as a whole, not one loose sentence."""

from __future__ import annotations

import html
import itertools
import math
from collections import Counter

import numpy as np
import pytest

from helpers import STORY_PAGES, database_before, page_html
from server import relatedness
from server.anchors import idf
from server.relatedness import SAME_STORY, SHOWN, Pair

# -- words and languages -------------------------------------------------------------------------------


@pytest.mark.parametrize("title, text, present, absent", [
    ("Floods hit Kuala Lumpur", "Floods hit the city again.", {"floods": 2, "kuala": 1, "again": 1}, {"a"}),
    ("", "The 2024 budget: 3 billion", {"2024": 1, "3": 1, "billion": 1}, set()),
    ("", "新加坡总理", {"新加": 1, "加坡": 1, "坡总": 1, "总理": 1}, {"新加坡总理"}),
    ("", "对COVID-19的调查", {"covid": 1, "19": 1, "对": 1, "调查": 1}, set()),
])
def test_words(title, text, present, absent):
    counted = relatedness.words(title, text)
    for word, count in present.items():
        assert counted[word] == count, word
    assert not absent & set(counted)


@pytest.mark.parametrize("declared, text, expected", [
    ("en", "Anything", "en"),
    ("zh-Hans", "Anything", "zh"),
    (None, "The minister said on Tuesday that the budget would pass.", "latin"),
    (None, "南洋理工大学周二发布调查报告，显示新加坡学生已经完成接种。", "cjk"),
])
def test_language_of(declared, text, expected):
    assert relatedness.language_of(declared, text) == expected


# -- the decision for one pair -------------------------------------------------------------------------

@pytest.mark.parametrize("pair, same_story, shown", [
    # Same language: many rare words in common, or many rare names.
    (Pair(1, anchors=0.05, words=SAME_STORY.words, same_language=True), True, True),
    (Pair(1, anchors=SAME_STORY.anchors, words=0.0, same_language=True), True, True),
    (Pair(1, anchors=0.05, words=SHOWN.words, same_language=True), False, True),
    (Pair(1, anchors=0.05, words=0.05, same_language=True), False, False),
    # Across languages words cannot overlap: names and figures decide, at their own level.
    (Pair(1, anchors=SAME_STORY.anchors_across, words=0.0, same_language=False), True, True),
    (Pair(1, anchors=SHOWN.anchors_across, words=0.0, same_language=False), False, True),
    (Pair(1, anchors=0.05, words=0.9, same_language=False), False, False),
    # The same wire copy is the same story whatever the figures.
    (Pair(1, anchors=0.0, words=0.0, same_language=True, reprint=True), True, True),
    # Two English reports that say the same in other words; a cosine is not scaled down to show.
    (Pair(1, anchors=0.05, words=0.05, same_language=True, meaning=SAME_STORY.meaning), True, True),
    (Pair(1, anchors=0.05, words=0.05, same_language=True, meaning=SAME_STORY.meaning - 0.01), False, False),
])
def test_pair_decision(pair, same_story, shown):
    assert (pair.same_story, pair.shown) == (same_story, shown)


def test_shown_is_looser_than_same_story():
    for name in ("words", "anchors", "anchors_across"):
        assert 0 < getattr(SHOWN, name) < getattr(SAME_STORY, name)


@pytest.mark.parametrize("pair, reason", [
    (Pair(1, 0.4, 0.31, True, ["Peskov", "Kremlin"]), "shares names Peskov, Kremlin and 31% word overlap"),
    (Pair(1, 0.4, 0.0, False, ["NTU"]), "shares names NTU"),
    (Pair(1, 0.0, 0.3, True, []), "shares 30% word overlap"),
    (Pair(1, 0.0, 0.0, True, [], reprint=True), "the same wire copy"),
    (Pair(1, 0.0, 0.05, True, [], meaning=0.9), "says much the same in other words"),
    (Pair(1, 0.4, 0.05, True, ["Kremlin"], meaning=0.9), "shares names Kremlin; says much the same in other words"),
    (Pair(1, 0.4, 0.05, True, ["Kremlin"], meaning=0.5), "shares names Kremlin"),
])
def test_reason_in_words(pair, reason):
    assert pair.reason() == reason


def test_reasons_quote_names_as_written():
    assert relatedness.original_case("peskov", "Dmitry Peskov said") == "Peskov"
    assert relatedness.original_case("nasa", "a NASA probe") == "NASA"


def _article(language: str, meaning) -> relatedness.Article:
    return relatedness.Article([], {}, language, "", None if meaning is None else np.asarray(meaning, np.float32))


def _other(language: str, meaning) -> relatedness.Other:
    return relatedness.Other(0.0, set(), language, 0.0, None if meaning is None else np.asarray(meaning, np.float32))


@pytest.mark.parametrize("mine, theirs, expected", [
    (("en", [1.0, 0.0]), ("en", [0.8, 0.6]), 0.8),
    # The model reads English only: Malay or Chinese vectors say too little to join a story.
    (("ms", [1.0, 0.0]), ("ms", [1.0, 0.0]), 0.0),
    (("en", [1.0, 0.0]), ("zh", [1.0, 0.0]), 0.0),
    # An article without claims (or stored before meaning vectors) has none.
    (("en", None), ("en", [1.0, 0.0]), 0.0),
    (("en", [1.0, 0.0]), ("en", None), 0.0),
])
def test_meaning_is_compared_between_english_articles_only(mine, theirs, expected):
    [pair] = relatedness.compare(_article(*mine), {7: _other(*theirs)}, None)
    assert pair.meaning == pytest.approx(expected)


@pytest.mark.parametrize("vectors, expected", [
    ([[1.0, 0.0], [0.0, 1.0]], [2 ** -0.5, 2 ** -0.5]),
    ([[0.6, 0.8]], [0.6, 0.8]),
    ([[1.0, 0.0], [-1.0, 0.0]], None),
    (np.zeros((0, 2)), None),
])
def test_meaning_vector_is_the_unit_mean_of_claim_vectors(vectors, expected):
    found = relatedness.meaning_vector(np.asarray(vectors, np.float32))
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(np.asarray(expected), abs=1e-6)


def _tfidf_cosine(a: Counter, b: Counter, frequency: dict[str, int], articles: int) -> float:
    """The words' cosine worked out word by word, as the definition reads."""
    def unit(counts):
        weights = {w: (1 + math.log(c)) * idf(frequency.get(w, 0), articles) for w, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        return {w: v / norm for w, v in weights.items()}
    ua, ub = unit(a), unit(b)
    return sum(v * ub.get(w, 0.0) for w, v in ua.items())


FREQUENCY = {"the": 99, "minister": 50, "peskov": 1, "kremlin": 3, "said": 90}


@pytest.mark.parametrize("mine, theirs, expected", [
    ({"peskov": 1, "the": 5}, {"peskov": 2, "the": 1}, None),
    ({"peskov": 1, "the": 5}, {"peskov": 1, "the": 5}, 1.0),          # the same words: 1
    ({"peskov": 1}, {"minister": 3, "said": 1}, 0.0),                  # none shared: 0
    ({"peskov": 1, "kremlin": 2, "said": 7}, {"kremlin": 1, "said": 2, "nowhere": 4}, None),  # a word no count knows
    ({}, {"peskov": 1}, 0.0),
    ({"peskov": 1}, {}, 0.0),
])
def test_word_similarities_are_tfidf_cosines(mine, theirs, expected):
    scores = relatedness.word_similarities(Counter(mine), {7: Counter(theirs)},
                                           lambda words: {w: FREQUENCY[w] for w in words if w in FREQUENCY}, 100)
    if expected is None:
        expected = _tfidf_cosine(Counter(mine), Counter(theirs), FREQUENCY, 100)
    assert scores == {7: pytest.approx(expected, abs=1e-12)}


def test_words_a_frequency_lookup_was_not_asked_about_change_nothing():
    mine, theirs = Counter({"peskov": 1, "said": 3}), {7: Counter({"peskov": 2, "kremlin": 1})}
    asked = relatedness.word_similarities(mine, theirs, lambda words: {w: FREQUENCY[w] for w in words if w in FREQUENCY}, 100)
    assert relatedness.word_similarities(mine, theirs, lambda words: dict(FREQUENCY), 100) == asked


def test_a_shared_rare_word_weighs_more_than_a_shared_common_one():
    frequency = lambda words: {w: FREQUENCY[w] for w in words if w in FREQUENCY}  # noqa: E731
    scores = relatedness.word_similarities(Counter({"peskov": 1, "the": 1}),
                                           {1: Counter({"peskov": 1, "minister": 1}), 2: Counter({"the": 1, "minister": 1})},
                                           frequency, 100)
    assert scores[1] > scores[2] > 0


# -- through the engine (fast embedder) ----------------------------------------------------------------

def page(title: str, paragraphs: list[str], lang: str = "en") -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>")


GENERIC = "Police said the investigation was continuing and asked witnesses to come forward."
BRIDGE_A = ("Harbour bridge in Oresund closed after ferry Valkyrie strikes pillar", [
    "The Oresund harbour bridge was closed on Monday after the ferry Valkyrie struck one of its pillars.",
    "Engineers from Sundby Marine inspected the damaged pillar for six hours, the port authority said.",
    "Ferry operator Nordlys Lines said 212 passengers were taken ashore at Helsingor without injury.",
    GENERIC,
])
BRIDGE_B = ("Valkyrie captain questioned over Oresund bridge crash", [
    "The captain of the ferry Valkyrie was questioned on Tuesday about Monday's crash into the Oresund bridge.",
    "Nordlys Lines said the Valkyrie had lost steering shortly before it struck the pillar.",
    "Sundby Marine engineers said the Oresund bridge could reopen to cars by Friday.",
    GENERIC,
])
ORCHARD = ("Apple growers in Tarnow count frost damage after cold May nights", [
    "Apple growers around Tarnow said frost on three May nights had destroyed up to half of the blossom.",
    "The Tarnow orchard cooperative Sadowniczy asked the regional government for emergency loans.",
    "Farmers in the Malopolska region expect the smallest harvest since 2019, the cooperative said.",
    GENERIC,
])


@pytest.fixture
def engine(hash_app):
    return hash_app.extensions["crosscurrent"].engine


def capture(engine, key: str, article, lang: str = "en") -> int:
    title, paragraphs = article
    return engine.capture(f"https://{key}.example/news/{key}", page(title, paragraphs, lang)).article_id


def test_one_generic_sentence_does_not_make_related_coverage(engine):
    bridge = capture(engine, "a", BRIDGE_A)
    orchard = capture(engine, "orchard", ORCHARD)
    assert engine.view(orchard)["related"] == []
    assert engine.store.article_summary(orchard)["story_id"] != engine.store.article_summary(bridge)["story_id"]


def test_two_reports_of_one_event_are_shown_with_a_reason(engine):
    first = capture(engine, "a", BRIDGE_A)
    capture(engine, "orchard", ORCHARD)
    second = capture(engine, "b", BRIDGE_B)
    related = engine.view(second)["related"]
    assert [[a["id"] for a in group["articles"]] for group in related] == [[first]]
    assert "Valkyrie" in related[0]["articles"][0]["reason"] or "Oresund" in related[0]["articles"][0]["reason"]
    # Seen from the earlier article, the later one is there too.
    assert [a["id"] for a in engine.view(first)["related"][0]["articles"]] == [second]


# -- stories that do not depend on the order of reading (real pages, real model) -----------------------

WOODWARD, ASHEVILLE, KREMLIN, DENIES = range(4)


@pytest.mark.model
def test_the_story_pages_form_one_story_in_every_order(tmp_path, real_embedder):
    from server.pipeline import Engine
    from server.store import Store

    pages = [page_html(name) for name, _ in STORY_PAGES]
    failures = []
    for number, order in enumerate(itertools.permutations(range(4))):
        store = Store(tmp_path / f"order{number}.db")
        engine = Engine(store, real_embedder)
        ids = {i: engine.capture(STORY_PAGES[i][1], pages[i]).article_id for i in order}
        story = {i: store.article_summary(ids[i])["story_id"] for i in ids}
        together = story[WOODWARD] == story[KREMLIN] == story[DENIES]
        apart = story[ASHEVILLE] not in (story[WOODWARD], story[KREMLIN], story[DENIES])
        if not (together and apart):
            failures.append(order)
        store.close()
    assert failures == []


def test_a_bridging_article_merges_two_stories_and_forgetting_it_splits_them(engine):
    store = engine.store
    # Two reports that share little with each other, and a third that shares much with each.
    left = ("Oresund bridge pillar damaged, engineers inspect", [
        "The Oresund harbour bridge was closed on Monday after one of its pillars was struck.",
        "Engineers from Sundby Marine inspected the damaged pillar for six hours, the port authority said.",
        "Sundby Marine said cracks in the pillar's concrete casing would need weeks of repair work.",
    ])
    right = ("Nordlys Lines takes 212 passengers ashore at Helsingor", [
        "Ferry operator Nordlys Lines said 212 passengers were taken ashore at Helsingor without injury.",
        "Nordlys Lines said buses took the 212 passengers from Helsingor to Copenhagen overnight.",
        "The company offered every passenger a refund and a free return crossing within a year.",
    ])
    a = capture(engine, "left", left)
    b = capture(engine, "right", right)
    stories_before = {store.article_summary(a)["story_id"], store.article_summary(b)["story_id"]}
    bridge = capture(engine, "bridge", BRIDGE_A)
    after = {store.article_summary(x)["story_id"] for x in (a, b, bridge)}
    if len(stories_before) == 2:
        assert len(after) == 1, "the article that reports both halves joins the two stories"
        assert engine.forget(bridge)
        assert store.article_summary(a)["story_id"] != store.article_summary(b)["story_id"]
    else:
        pytest.fail("the two halves were already one story: the case no longer tests a bridge")


def test_upgrade_counts_the_words_of_stored_articles(tmp_path):
    from server.store import Store

    path = database_before(tmp_path / "old.db", "m004_article_pairs_and_word_counts",
                           [("Ferry strikes bridge", f"The ferry Valkyrie struck pillar {n}.") for n in range(2)])
    store = Store(path)
    assert store.word_counts(["valkyrie", "ferry", "0", "the", "absent"]) == {"valkyrie": 2, "ferry": 2, "0": 1}
    assert store.pairs_of(1) == {}
    assert store.needs_reindex()          # `serve` says to run `crosscurrent reindex` once
    from server.embeddings import make_embedder
    from server.pipeline import Engine

    Engine(store, make_embedder("hash")).reindex()
    assert not store.needs_reindex()
    store.close()


def test_a_database_from_before_place_anchors_asks_for_a_reindex(tmp_path):
    from server.store import Store

    store = Store(database_before(tmp_path / "old.db", "m007_place_anchors_and_article_vectors",
                                  [("日本首相访问德国", "日本首相访问德国。")]))
    assert store.needs_reindex()
    store.close()


def test_a_new_database_needs_no_reindex(tmp_path):
    from server.store import Store

    store = Store(tmp_path / "new.db")
    assert not store.needs_reindex()
    store.close()


def _dispute(claim_id, claim_article, other_id, other_article, confidence):
    return {"confidence": confidence, "claim": {"id": claim_id, "article": {"id": claim_article}},
            "other": {"id": other_id, "article": {"id": other_article}}}


@pytest.mark.parametrize("contradictions, kept", [
    # A denial disputes the headline and the body sentence that repeats it: one dispute, the surer one.
    ([_dispute(1, 10, 100, 20, 0.6), _dispute(1, 10, 101, 20, 0.8)], [(1, 101)]),
    # Seen from the earlier article: its headline and body are disputed by the same later claim.
    ([_dispute(100, 20, 1, 10, 0.7), _dispute(101, 20, 1, 10, 0.9)], [(101, 1)]),
    # Two claims disputing two different claims are two disputes.
    ([_dispute(1, 10, 100, 20, 0.6), _dispute(2, 10, 102, 20, 0.7)], [(2, 102), (1, 100)]),
    # One claim disputing two articles is two disputes.
    ([_dispute(1, 10, 100, 20, 0.6), _dispute(1, 10, 300, 30, 0.7)], [(1, 300), (1, 100)]),
])
def test_one_disagreement_is_shown_once(contradictions, kept):
    from server.pipeline import one_per_disagreement

    assert [(c["claim"]["id"], c["other"]["id"]) for c in one_per_disagreement(contradictions)] == kept


REOPENING = ("Oresund harbour bridge to reopen on Friday after ferry crash", [
    "The Oresund harbour bridge will reopen to cars on Friday, the port authority said on Tuesday.",
    "Engineers from Sundby Marine finished repairs to the pillar struck by the ferry Valkyrie on Monday.",
    "Nordlys Lines said the Valkyrie would stay in dry dock at Helsingor for at least three weeks.",
    "The port authority said traffic on the bridge would be limited to one lane until the weekend.",
])
NOT_REOPENING = ("Oresund harbour bridge will not reopen on Friday, port authority says", [
    "The Oresund harbour bridge will not reopen on Friday, the port authority said on Wednesday.",
    "Sundby Marine engineers found new cracks in the pillar struck by the ferry Valkyrie on Monday.",
    "Nordlys Lines said the Valkyrie would stay in dry dock at Helsingor while inspectors examine it.",
    "The port authority gave no new date for the reopening of the bridge.",
])


@pytest.mark.model
def test_the_popup_says_how_an_earlier_report_stands_to_this_headline(real_app):
    engine = real_app.extensions["crosscurrent"].engine
    # The earlier report denies what this page's headline states as fact.
    earlier = capture(engine, "notreopen", NOT_REOPENING)
    later = capture(engine, "reopen", REOPENING)
    entries = engine.view(later)["related"][0]["articles"]
    assert [e["id"] for e in entries] == [earlier]
    assert entries[0]["stance"]["label"] == "disputes", entries[0]["stance"]
    assert entries[0]["stance"]["reason"]
