"""The in-memory claim index: appends past its capacity, finds by cosine, forgets removed articles."""

from __future__ import annotations

import numpy as np
import pytest

from server.matching import ClaimIndex


def unit(rng, n, dims=8):
    v = rng.normal(size=(n, dims)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("count", [1, 1024, 1025, 5000])
def test_every_added_vector_is_found_as_its_own_nearest(count):
    rng = np.random.default_rng(count)
    index = ClaimIndex(8)
    vectors = unit(rng, count)
    for start in range(0, count, 333):      # many appends, crossing the capacity more than once
        ids = list(range(start, min(start + 333, count)))
        index.add([1000 + i for i in ids], [i // 10 for i in ids], vectors[ids[0]:ids[-1] + 1])
    assert len(index) == count
    probe = [0, count // 2, count - 1]
    hits = index.search(vectors[probe], k=1)
    assert [h[0][0] for h in hits] == [1000 + i for i in probe]
    assert all(abs(h[0][2] - 1.0) < 1e-5 for h in hits)


@pytest.mark.parametrize("exclude, removed, expected_articles", [
    (None, None, {1, 2}),
    (1, None, {2}),
    (None, 2, {1}),
])
def test_excluded_and_removed_articles_never_match(exclude, removed, expected_articles):
    vector = np.ones((1, 8), dtype=np.float32) / np.sqrt(8)
    index = ClaimIndex(8)
    index.add([10, 20], [1, 2], np.vstack([vector, vector]))
    if removed is not None:
        index.remove_article(removed)
    hits = index.search(vector, k=5, exclude_article=exclude)[0]
    assert {article for _, article, _ in hits} == expected_articles
