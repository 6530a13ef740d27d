"""The database: migrations on a blank and an older file, atomic captures, and what forgetting removes."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlite_utils import Database

from helpers import STORY_PAGES, page_html
from server.migrations import migrations
from server.store import Store, fts_all_terms, fts_query

TABLES = {"articles", "pages", "claims", "embeddings", "links", "stories", "tokens", "pair_requests",
          "pair_codes", "articles_fts", "claims_fts"}


def test_blank_database_gets_the_whole_schema(tmp_path):
    store = Store(tmp_path / "blank.db")
    assert TABLES <= set(store.db.table_names())
    assert [m.name for m in migrations.applied(store.db)] == [m.name for m in migrations._migrations]
    assert store.reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.close()


def test_upgrade_from_the_first_schema_keeps_the_data(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m002_create_pairing")
    assert "tokens" not in old.table_names()
    old["articles"].insert({"url": "https://a.example/x", "canonical_url": "https://a.example/x", "domain": "a.example",
                            "content_hash": "h", "title": "Old", "text": "Kept text.", "captured_at": "2024-01-01T00:00:00Z",
                            "created_at": "2024-01-01T00:00:00Z"})
    old.conn.close()
    store = Store(path)
    assert TABLES <= set(store.db.table_names())
    assert store.list_articles()["items"][0]["title"] == "Old"
    assert store.list_articles(q="kept")["items"]
    store.close()
    # Opening again applies nothing twice.
    again = Store(path)
    assert len(migrations.applied(again.db)) == len(migrations._migrations)
    again.close()


def test_a_failed_capture_leaves_nothing_behind(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    store = engine.store
    name, url = STORY_PAGES[0]
    original = store.insert_links

    def broken(conn, links):
        raise sqlite3.OperationalError("disk I/O error")

    store.insert_links = broken
    with pytest.raises(sqlite3.OperationalError):
        engine.capture(url, page_html(name))
    store.insert_links = original
    counts = store.counts()
    assert counts["articles"] == counts["claims"] == counts["stories"] == 0
    assert store.reader.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
    # ...and the same page is captured fine afterwards.
    assert engine.capture(url, page_html(name)).created


def test_embeddings_are_stored_once_per_text(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    name, url = STORY_PAGES[2]
    html = page_html(name)
    engine.capture(url, html)
    before = engine.store.reader.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    calls = []
    real_embed = engine.embedder.embed
    engine.embedder.embed = lambda texts: calls.append(list(texts)) or real_embed(texts)
    # The same article at another address, one word changed: only the changed sentence is embedded.
    copy = html.replace("Wednesday", "Thursday").replace("ostrand-vale-generators", "updated-copy")
    assert engine.capture(url + "-copy", copy).created
    assert calls and sum(len(c) for c in calls) == 1
    after = engine.store.reader.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    assert after == before + 1
    blob_model = engine.store.reader.execute("SELECT DISTINCT model FROM embeddings").fetchall()
    assert [r[0] for r in blob_model] == ["hash-384"]


def test_raw_html_is_kept_compressed(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    name, url = STORY_PAGES[2]
    html = page_html(name)
    article_id = engine.capture(url, html).article_id
    assert engine.store.page_html(article_id) == html
    size = engine.store.reader.execute("SELECT length(html_gz) FROM pages").fetchone()[0]
    assert size < len(html.encode()) / 1.5


def test_forgetting_removes_claims_links_and_empty_stories(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    ids = [engine.capture(url, page_html(name)).article_id for name, url in STORY_PAGES]
    for article_id in ids:
        assert engine.forget(article_id)
    counts = engine.store.counts()
    assert counts == {"articles": 0, "claims": 0, "stories": 0, "contradictions": 0, "sites": 0}
    assert engine.store.reader.execute("SELECT count(*) FROM links").fetchone()[0] == 0
    assert len(engine.index) == 0


@pytest.mark.parametrize("text, expected", [
    ("Trump and Putin spoke", '"trump" OR "putin" OR "spoke"'),
    ('NEAR("x" AND) OR *', '"near"'),
    ("the and of", None),
    ("", None),
])
def test_fts_query_is_words_only(text, expected):
    assert fts_query(text) == expected


@pytest.mark.parametrize("text, expected", [
    ('Peskov "denied', '"Peskov"* "denied"*'),
    ("  ", None),
    ("a-b c*", '"ab"* "c"*'),
])
def test_search_box_terms(text, expected):
    assert fts_all_terms(text) == expected


def store_with_claims(path, texts: list[str]) -> Store:
    store = Store(path)
    with store.write() as conn:
        article_id = store.insert_article(conn, {
            "url": "https://a.example/1", "canonical_url": "https://a.example/1", "domain": "a.example",
            "content_hash": "h1", "title": "T", "site": "A", "author": None, "published": None, "language": "en",
            "text": "\n".join(texts), "word_count": 1, "captured_at": "2024-01-01T00:00:00Z"}, "", "test")
        store.insert_claims(conn, article_id, [
            {"position": i, "text": t, "text_hash": f"t{i}", "is_headline": False, "speaker": None,
             "polarity": "asserts", "proposition": t, "details": {}} for i, t in enumerate(texts)])
    return store


@pytest.mark.parametrize("query, postings, expected", [
    # Unbounded: plain BM25 over every word.
    ("ministers denied Peskov", None, {"peskov denied it", "ministers met 0", "ministers met 1", "ministers met 2",
                                      "ministers met 3", "ministers met 4", "ministers met 5"}),
    # Bounded: the rare words are searched first; the word most claims share no longer fits.
    ("ministers denied Peskov", 3, {"peskov denied it"}),
    ("ministers", 3, set()),
    ("ministers", 6, {f"ministers met {i}" for i in range(6)}),
    ("absent words only", 3, set()),
])
def test_lexical_search_within_a_postings_budget(tmp_path, query, postings, expected):
    texts = ["peskov denied it"] + [f"ministers met {i}" for i in range(6)]
    store = store_with_claims(tmp_path / "x.db", texts)
    found = store.lexical_claim_search(query, limit=20, postings=postings)
    text_of = dict(store.reader.execute("SELECT id, text FROM claims"))
    assert {text_of[c] for c, _ in found} == expected
    store.close()


@pytest.mark.parametrize("forget", ["article", "reindexed text"])
def test_a_word_once_too_common_for_the_budget_is_searched_again_once_its_claims_are_gone(tmp_path, forget):
    texts = ["peskov denied it"] + [f"ministers met {i}" for i in range(6)]
    store = store_with_claims(tmp_path / "x.db", texts)
    assert store.lexical_claim_search("ministers", limit=20, postings=3) == []      # 6 claims: too common
    with store.write() as conn:
        later = store.insert_article(conn, {
            "url": "https://b.example/2", "canonical_url": "https://b.example/2", "domain": "b.example",
            "content_hash": "h2", "title": "T", "site": "B", "author": None, "published": None, "language": "en",
            "text": "ministers met", "word_count": 2, "captured_at": "2024-01-02T00:00:00Z"}, "", "test")
        store.insert_claims(conn, later, [{"position": 0, "text": "ministers met again", "text_hash": "t9",
                                           "is_headline": False, "details": {}}])
    first = store.reader.execute("SELECT min(id) FROM articles").fetchone()[0]
    if forget == "article":
        store.delete_article(first)
    else:
        with store.write() as conn:
            store.replace_article_content(conn, first, {
                "title": "T", "site": "A", "author": None, "published": None, "language": "en", "text": "gone",
                "word_count": 1, "content_hash": "h3"})
    found = store.lexical_claim_search("ministers", limit=20, postings=3)
    assert [text for text, in store.reader.execute(
        f"SELECT text FROM claims WHERE id IN ({','.join(str(c) for c, _ in found)})")] == ["ministers met again"]
    store.close()


def test_a_search_during_the_deletion_does_not_keep_the_word_too_common_after_it(tmp_path):
    texts = ["peskov denied it"] + [f"ministers met {i}" for i in range(6)]
    store = store_with_claims(tmp_path / "x.db", texts)
    with store.write() as conn:
        conn.execute("DELETE FROM claims WHERE text LIKE 'ministers met %' AND position > 1")
        store.claims_deleted()
        # A search on another thread still reads the committed claims: "ministers" is too common.
        during = []
        reader = threading.Thread(target=lambda: during.append(
            store.lexical_claim_search("ministers", limit=20, postings=3)))
        reader.start()
        reader.join()
        assert during == [[]]
    assert len(store.lexical_claim_search("ministers", limit=20, postings=3)) == 1      # "ministers met 1"
    store.close()


def _plan(store, sql, params):
    return [row[3] for row in store.reader.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.mark.parametrize("query", ["article claims", "article contradictions"])
def test_the_links_of_one_article_are_read_through_indexes_not_by_reading_every_link(hash_app, query):
    """A popup answer reads the new article's links; at a few million links a scan took seconds."""
    from server.store.base import LINK_SELECT, LINKS_OF_ARTICLE

    store = hash_app.extensions["crosscurrent"].store
    filters = {"article claims": LINKS_OF_ARTICLE,
               "article contradictions": f"l.label = 'disputes' AND l.dismissed_at IS NULL AND {LINKS_OF_ARTICLE}"}
    plan = _plan(store, f"{LINK_SELECT} WHERE {filters[query]}", (1, 1))
    assert not [step for step in plan if step.startswith("SCAN")], plan


def test_an_article_shows_its_links_both_ways(hash_app):
    engine = hash_app.extensions["crosscurrent"].engine
    store = hash_app.extensions["crosscurrent"].store
    ids = [engine.capture(url, page_html(name)).article_id for name, url in STORY_PAGES]
    links = store.reader.execute(
        "SELECT c.article_id, o.article_id FROM links l JOIN claims c ON c.id = l.claim_id "
        "JOIN claims o ON o.id = l.other_claim_id").fetchall()
    assert links
    for article_id in ids:
        matches = [m for claim in store.article_claims(article_id) for m in claim["matches"]]
        expected = sum(1 for mine, theirs in links if article_id in (mine, theirs))
        assert len(matches) == expected
        assert {m["direction"] for m in matches} <= {"earlier", "later"}
        shown = store.list_contradictions(article_id=article_id, per_page=200)["items"]
        assert len(shown) == sum(1 for m in matches if m["label"] == "disputes" and not m["dismissed"])


def test_the_log_is_copied_into_the_database_by_a_thread_of_its_own_soon_after_a_write(tmp_path, monkeypatch):
    """A commit does not copy the write-ahead log back itself (every few captures that checkpoint took 9-13
    ms before the reader's answer): the checkpoint thread does it shortly after, and ends with the store."""
    import time

    from server.store import base

    monkeypatch.setattr(base, "CHECKPOINT_AFTER_S", 0.05)
    path = tmp_path / "crosscurrent.db"
    store = Store(path)
    store.reader.execute("SELECT 1")
    before = path.stat().st_size
    with store.write() as conn:       # some 400 pages: fewer than SQLite's own checkpoint waits for
        conn.execute("CREATE TABLE scratch (body TEXT)")
        conn.executemany("INSERT INTO scratch VALUES (?)", [("x" * 500,) for _ in range(3000)])
    assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == base.WRITER_CHECKPOINT_PAGES
    deadline = time.monotonic() + 10       # the file grows page by page while the checkpoint runs
    while path.stat().st_size <= before + 1_000_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.stat().st_size > before + 1_000_000
    assert store.reader.execute("SELECT count(*) FROM scratch").fetchone()[0] == 3000
    thread = store.checkpointer._thread
    assert thread is not None and thread.is_alive()
    store.close()
    assert not thread.is_alive()
