"""The in-memory claim index: appends past its capacity, finds by cosine, forgets removed articles."""

from __future__ import annotations

import numpy as np
import pytest

from server.matching import ClaimIndex


def unit(rng, n, dims=8):
    v = rng.normal(size=(n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("exact_rows", [10**9, 500], ids=["exact", "sketched"])
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


@pytest.mark.parametrize("exact_rows", [10**9, 1], ids=["exact", "sketched"])
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


def test_sketched_search_finds_what_exact_search_finds():
    # Embeddings are not isotropic: claims gather around topics. 40 topics, 6,000 claims, 384 dims.
    rng = np.random.default_rng(3)
    topics = unit(rng, 40, 384)
    vectors = topics[rng.integers(0, 40, 6000)] + 0.06 * rng.normal(size=(6000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact, sketched = ClaimIndex(384), ClaimIndex(384, exact_rows=2000)
    for index in (exact, sketched):
        for start in range(0, 6000, 1000):
            ids = list(range(start, start + 1000))
            index.add(ids, [i // 30 for i in ids], vectors[start:start + 1000])
    assert sketched._basis is not None and exact._basis is None
    queries = vectors[rng.integers(0, 6000, 30)] + 0.02 * rng.normal(size=(30, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    want = exact.search(queries, k=12, exclude_article=3)
    got = sketched.search(queries, k=12, exclude_article=3)
    found = sum(len({c for c, _, _ in g} & {c for c, _, _ in w}) for g, w in zip(got, want))
    assert found / sum(len(w) for w in want) >= 0.95
    assert all(a != 3 for hits in got for _, a, _ in hits)
