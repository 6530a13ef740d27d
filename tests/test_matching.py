"""The in-memory claim index: appends past its capacity, finds by cosine, forgets removed articles."""

from __future__ import annotations

import numpy as np
import pytest

from server import matching
from server.matching import ClaimIndex


def unit(rng, n, dims=8):
    v = rng.normal(size=(n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("exact_rows", [10**9, 500], ids=["exact", "partitioned"])
@pytest.mark.parametrize("count", [1, 1024, 1025, 5000])
def test_every_added_vector_is_found_as_its_own_nearest(count, exact_rows):
    rng = np.random.default_rng(count)
    index = ClaimIndex(8, exact_rows=exact_rows)
    vectors = unit(rng, count)
    for start in range(0, count, 333):      # many appends, crossing the capacity more than once
        ids = list(range(start, min(start + 333, count)))
        index.add([1000 + i for i in ids], [i // 10 for i in ids], vectors[ids[0]:ids[-1] + 1])
    assert len(index) == count
    probe = [0, count // 2, count - 1]
    hits = index.search(vectors[probe], k=1)
    assert [h[0][0] for h in hits] == [1000 + i for i in probe]
    assert all(abs(h[0][2] - 1.0) < 1e-5 for h in hits)


@pytest.mark.parametrize("exact_rows", [10**9, 1], ids=["exact", "partitioned"])
@pytest.mark.parametrize("exclude, removed, expected_articles", [
    (None, None, {1, 2}),
    (1, None, {2}),
    (None, 2, {1}),
])
def test_excluded_and_removed_articles_never_match(exclude, removed, expected_articles, exact_rows):
    vector = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    index = ClaimIndex(8, exact_rows=exact_rows)
    index.add([10, 20], [1, 2], np.vstack([vector, vector]))
    if removed is not None:
        index.remove_article(removed)
    hits = index.search(vector, k=5, exclude_article=exclude)[0]
    assert {article for _, article, _ in hits} == expected_articles


@pytest.mark.parametrize("exact_rows, list_rows, fitted_lists", [
    (10**9, 1000, 0),     # exact search
    (2000, 50, 80),       # lists fitted at 2,000 rows, fitted again at 4,000, the last 2,000 filed into them
    (6000, 25, 240),      # 240 lists, each query reads 24 of them: a tenth of the index
])
def test_partitioned_search_finds_what_exact_search_finds(exact_rows, list_rows, fitted_lists):
    # Embeddings are not isotropic: claims gather around topics. 40 topics, 6,000 claims, 384 dims.
    rng = np.random.default_rng(3)
    topics = unit(rng, 40, 384)
    vectors = topics[rng.integers(0, 40, 6000)] + 0.06 * rng.normal(size=(6000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, tested = ClaimIndex(384), ClaimIndex(384, exact_rows=exact_rows, list_rows=list_rows)
    for index in (exact, tested):
        for start in range(0, 6000, 1000):
            ids = list(range(start, start + 1000))
            index.add(ids, [i // 30 for i in ids], vectors[start:start + 1000])
    assert (len(tested._lists) if tested.partitioned else 0) == fitted_lists
    queries = vectors[rng.integers(0, 6000, 30)] + 0.02 * rng.normal(size=(30, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    want = exact.search(queries, k=12, exclude_article=3)
    got = tested.search(queries, k=12, exclude_article=3)
    found = sum(len({c for c, _, _ in g} & {c for c, _, _ in w}) for g, w in zip(got, want))
    assert found / sum(len(w) for w in want) >= 0.95
    assert all(a != 3 for hits in got for _, a, _ in hits)


def store_with_claims(path, vectors: np.ndarray, per_article: int, missing: set[int] = frozenset(),
                      same_text: dict[int, int] | None = None):
    """A real store whose claims carry `vectors` (claim i's text embeds to vectors[i]), except the claims
    in `missing`, stored without a vector, and claim j in `same_text` {j: i}, which repeats claim i's text."""
    same_text = same_text or {}
    from server.embeddings import to_blob
    from server.store import Store

    store = Store(path)
    with store.write() as conn:
        for first in range(0, len(vectors), per_article):
            number = first // per_article
            article_id = store.insert_article(conn, {
                "url": f"https://load.test/{number}", "canonical_url": f"https://load.test/{number}",
                "domain": "load.test", "content_hash": f"hash-{number}", "title": f"Article {number}",
                "site": "Load", "author": None, "published": None, "language": "en", "text": "text",
                "word_count": 1, "captured_at": "2026-01-01T00:00:00Z"}, "", "test")
            rows = [{"position": j, "text": f"claim {i}", "text_hash": f"h{same_text.get(i, i)}", "is_headline": j == 0,
                     "speaker": None, "polarity": "asserts", "proposition": f"claim {i}", "details": {}}
                    for j, i in enumerate(range(first, min(first + per_article, len(vectors))))]
            store.insert_claims(conn, article_id, rows)
        store.put_vectors(conn, "test-model", {f"h{i}": to_blob(v) for i, v in enumerate(vectors)
                                               if i not in missing and i not in same_text})
    return store


@pytest.mark.parametrize("bulk_rows", [10**9, 1], ids=["join", "two-scans"])
@pytest.mark.parametrize("exact_rows", [10**9, 1000], ids=["exact", "partitioned"])
def test_an_index_loaded_from_the_store_finds_every_claim_with_a_vector(tmp_path, monkeypatch, exact_rows, bulk_rows):
    monkeypatch.setattr(matching, "BULK_LOAD_ROWS", bulk_rows)
    rng = np.random.default_rng(5)
    vectors = unit(rng, 3000, 16)
    store = store_with_claims(tmp_path / "crosscurrent.db", vectors, per_article=30, missing={7, 2999},
                              same_text={21: 20})
    index = ClaimIndex(16, exact_rows=exact_rows, list_rows=20).load(store, "test-model")
    assert len(index) == 2998 and index.partitioned == (exact_rows == 1000)
    claim_ids = [r["id"] for r in store.reader.execute("SELECT id FROM claims ORDER BY id")]
    probe = [0, 7, 1500, 2998, 2999]
    hits = index.search(vectors[probe], k=1)
    assert [h[0][0] if h else None for h in hits[:1] + hits[2:4]] == [claim_ids[0], claim_ids[1500], claim_ids[2998]]
    # The claims stored without a vector are not in the index: their own vectors find another claim or none.
    assert all(not h or h[0][0] not in (claim_ids[7], claim_ids[2999]) for h in (hits[1], hits[4]))
    assert index.vector_of(claim_ids[7]) is None and index.article_of(claim_ids[1500]) is not None
    # Two claims with the same text share its vector.
    assert {c for c, _, s in index.search(vectors[[20]], k=2)[0] if s > 0.999} == {claim_ids[20], claim_ids[21]}
    store.close()


@pytest.mark.parametrize("fit_in_background", [False, True], ids=["in-line", "background"])
def test_rows_added_and_removed_while_the_lists_are_fitted_are_kept_track_of(fit_in_background):
    rng = np.random.default_rng(11)
    vectors = unit(rng, 3000, 16)
    index = ClaimIndex(16, exact_rows=2000, list_rows=20, fit_in_background=fit_in_background)
    index.add(list(range(1000)), [i // 10 for i in range(1000)], vectors[:1000])
    # Holding the lock keeps a background fit from installing its lists until these changes are made.
    with index._lock:
        index.add(list(range(1000, 2000)), [i // 10 for i in range(1000, 2000)], vectors[1000:2000])
        assert index.partitioned != fit_in_background          # a background fit is under way
        assert index.search(vectors[[1500]], k=1)[0][0][0] == 1500     # ... and every row is searched
        index.remove_article(150)                               # claims 1500-1509
        index.add(list(range(2000, 3000)), [i // 10 for i in range(2000, 3000)], vectors[2000:3000])
    assert index.wait_for_lists(timeout=60) and index._lists.fitted_rows == 2000
    hits = index.search(vectors[[5, 1500, 1505, 2500, 2999]], k=1)
    assert [h[0][0] if h else None for h in hits[:1] + hits[3:]] == [5, 2500, 2999]
    assert all(not h or h[0][1] != 150 for h in hits[1:3])
