"""Stories and related coverage: reports of one event join one story, across languages; others stay apart."""

from __future__ import annotations

import html

import pytest

from helpers import database_before

from server.anchors import idf
from server.store import Store
from server.stories import SCORED_CANDIDATES, anchor_neighbours, near_copies, reprint_source

VACCINE_EN = ("NTU study finds 93% of Singapore students vaccinated against COVID-19", [
    "Researchers at Nanyang Technological University (NTU) said on Tuesday that 93% of students in Singapore "
    "have received two doses of a COVID-19 vaccine.",
    "The NTU survey of 4,812 students was carried out between March and May 2021, the university said.",
    "Health Minister Ong Ye Kung welcomed the findings and said the Ministry of Health would publish "
    "its own figures next week.",
    "The study found that vaccination rates were lowest among students aged 18 to 20.",
])
VACCINE_ZH = ("南洋理工大学NTU调查：93%学生已接种COVID-19疫苗", [
    "南洋理工大学（NTU）周二发布调查报告，显示新加坡93%的学生已经完成两剂COVID-19疫苗接种。",
    "这项调查在2021年3月至5月间进行，共访问了4,812名学生。",
    "卫生部长王乙康对调查结果表示欢迎，并说卫生部将在下周公布自己的数据。",
    "调查还发现，18至20岁学生的接种率最低。",
])
FOOTBALL_EN = ("Arsenal beat Chelsea in the London derby", [
    "Arsenal beat Chelsea 3-1 at the Emirates Stadium on Saturday, with Bukayo Saka scoring twice.",
    "Mikel Arteta said his players had shown great character after conceding early to Cole Palmer.",
    "The win lifts Arsenal to second place in the Premier League table, four points behind Liverpool.",
    "Chelsea manager Enzo Maresca said his side had been punished for their mistakes.",
])


def page(title: str, paragraphs: list[str], lang: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f'<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
            f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>")


@pytest.fixture
def captured(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    ids = {}
    for key, (title, paragraphs), lang in [("en", VACCINE_EN, "en"), ("football", FOOTBALL_EN, "en"),
                                           ("zh", VACCINE_ZH, "zh")]:
        result = engine.capture(f"https://{key}.example/news/{key}", page(title, paragraphs, lang))
        assert result.created
        ids[key] = result.article_id
    return engine, ids


def story_of(engine, article_id):
    return engine.store.article_summary(article_id)["story_id"]


def test_a_chinese_report_joins_the_english_story_of_the_same_event(captured):
    engine, ids = captured
    assert story_of(engine, ids["zh"]) == story_of(engine, ids["en"])
    assert story_of(engine, ids["football"]) not in (story_of(engine, ids["en"]), None)


@pytest.mark.parametrize("article, related", [
    ("zh", ["en"]),
    ("en", ["zh"]),
    ("football", []),
])
def test_related_articles(captured, article, related):
    engine, ids = captured
    ranked = [a for a, _ in engine.related_articles(ids[article])]
    assert ranked == [ids[key] for key in related]


def test_the_view_groups_related_coverage_by_story(captured):
    engine, ids = captured
    view = engine.view(ids["zh"])
    assert [[a["id"] for a in group["articles"]] for group in view["related"]] == [[ids["en"]]]


def test_forgetting_an_article_forgets_its_anchors(captured):
    engine, ids = captured
    count = "SELECT articles FROM anchor_counts WHERE anchor = 'ntu'"
    assert engine.store.reader.execute(count).fetchone()[0] == 2
    assert engine.forget(ids["zh"])
    assert engine.store.reader.execute(count).fetchone()[0] == 1
    anchors_left = "SELECT count(*) FROM article_anchors WHERE article_id = ?"
    assert engine.store.reader.execute(anchors_left, (ids["zh"],)).fetchone()[0] == 0
    assert engine.related_articles(ids["en"]) == []


NAMED = {"a": ["Peskov", "Kremlin", "Putin"], "b": ["Peskov", "Woodward"], "c": ["Kremlin", "Asheville", "Helene"],
         "d": ["Asheville"]}


@pytest.fixture
def named(tmp_path):
    """A store of four articles, each naming the names in NAMED; (store, {key: article id})."""
    store = Store(tmp_path / "sums.db")
    with store.write() as conn:
        ids = {key: store_named(store, conn, key, names) for key, names in NAMED.items()}
    yield store, ids
    store.close()


def store_named(store, conn, key: str, names: list[str]) -> int:
    """An article whose text is its names, stored with them as its anchors; its id."""
    article_id = store.insert_article(conn, {"url": f"https://example.org/{key}", "canonical_url":
                                             f"https://example.org/{key}", "domain": "example.org",
                                             "content_hash": key, "title": key, "site": "example.org",
                                             "author": None, "published": None, "language": "en",
                                             "text": " ".join(names), "word_count": len(names),
                                             "captured_at": "2026-01-01T00:00:00Z"}, "<p></p>", "test")
    store.insert_anchors(conn, article_id, [n.lower() for n in names])
    return article_id


def test_the_stores_anchor_sums_and_shared_names_equal_those_worked_out_name_by_name(named):
    store, ids = named
    mine = ["peskov", "kremlin", "nobody"]
    counts, history = store.anchor_counts(mine)
    sums = store.anchor_overlaps([ids["a"], ids["b"], ids["c"], ids["d"]], mine, history)
    for key, names in NAMED.items():
        theirs = {n.lower() for n in names}
        rarity = {a: idf(counts.get(a) or store.anchor_counts([a])[0][a], history) for a in theirs}
        assert sums[ids[key]][0] == pytest.approx(sum(rarity.values()))
        assert sums[ids[key]][1] == pytest.approx(sum(rarity[a] for a in theirs & set(mine)))
    assert store.anchor_overlaps([], mine, history) == {}
    assert store.shared_anchors([ids["a"], ids["b"], ids["d"]], mine) == {
        ids["a"]: {"peskov", "kremlin"}, ids["b"]: {"peskov"}, ids["d"]: set()}


@pytest.mark.parametrize("weights, limit, ranked", [
    ({"peskov": 2.0, "kremlin": 1.0}, 10, ["a", "b", "c"]),         # a names both; b outweighs c
    ({"peskov": 1.0, "kremlin": 2.0}, 10, ["a", "c", "b"]),
    ({"asheville": 1.0}, 10, ["d", "c"]),                          # equal sums: the newer article first
    ({"kremlin": 0.5, "helene": 0.5, "peskov": 1.0}, 10, ["a", "c", "b"]),   # 1.5, then c and b 1.0 each
    ({"peskov": 2.0, "kremlin": 1.0}, 2, ["a", "b"]),               # only the best `limit`
    ({"nobody": 1.0}, 10, []),
    ({}, 10, []),
])
def test_the_store_ranks_the_articles_naming_the_most_weight(named, weights, limit, ranked):
    store, ids = named
    assert store.articles_naming_most(weights, limit) == [ids[key] for key in ranked]


def test_only_the_articles_naming_the_most_of_the_rarest_names_are_scored_in_full(tmp_path):
    # Twenty names, each in a handful of articles; the first SCORED_CANDIDATES articles name two of them,
    # thirty more name one: the articles to score are the ones naming two, however many share a name.
    names = [f"name{n}" for n in range(20)]
    store = Store(tmp_path / "bound.db")
    with store.write() as conn:
        ids = [store_named(store, conn, f"a{i}", [names[i % 20]] + ([names[(i + 1) % 20]] if i < SCORED_CANDIDATES
                                                                     else []))
               for i in range(SCORED_CANDIDATES + 30)]
    found = anchor_neighbours(store, names)
    assert set(found.scores) == set(ids[:SCORED_CANDIDATES])
    assert all(score > 0 for score in found.scores.values())
    store.close()


def test_upgrade_gives_stored_articles_their_anchors(tmp_path):
    path = database_before(tmp_path / "old.db", "m003_create_article_anchors",
                           [("Kremlin denies calls", "Peskov said Putin and Trump had not spoken.")] * 2)
    store = Store(path)
    counts, total = store.anchor_counts(["peskov", "kremlin", "nobody"])
    assert (counts, total) == ({"peskov": 2, "kremlin": 2}, 2)
    store.close()


@pytest.mark.parametrize("links, claim_count, identical, source", [
    # Most sentences are near-copies of article 7: a reprint of it.
    ([{"query": q, "other_article_id": 7, "similarity": 0.97} for q in range(4)], 5, {}, 7),
    # Close, but not the same sentences: not a reprint.
    ([{"query": q, "other_article_id": 7, "similarity": 0.9} for q in range(4)], 5, {}, None),
    # Identical sentence hashes count even without links.
    ([], 4, {3: 3}, 3),
    # Too short to call anything a reprint.
    ([{"query": q, "other_article_id": 7, "similarity": 0.99} for q in range(2)], 2, {}, None),
    # Two candidates: the one sharing more wins.
    ([{"query": q, "other_article_id": 7, "similarity": 0.99} for q in range(3)]
     + [{"query": q, "other_article_id": 2, "similarity": 0.99} for q in range(4)], 5, {}, 2),
])
def test_reprint_source(links, claim_count, identical, source):
    assert reprint_source(near_copies(links), claim_count, identical) == source
