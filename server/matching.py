"""Finding earlier claims that may say the same thing: vector search plus lexical search.

Vectors of every stored claim live in one contiguous float32 matrix in memory. On a small history a
capture's claims are compared with all of it in one matrix product; past EXACT_SEARCH_ROWS claims an
inverted-file partition narrows each search to the 24 lists nearest the claim: it compares the claim
with one centroid per 1,000 claims and reads some 24,000 sketches, however long the history. BM25 over
the claims' full-text index adds the candidates that share rare words (names, numbers) which the
embedding may rank lower. BM25 searches only a claim's rarest words, as many as fit in LEXICAL_POSTINGS
claims: its cost stays bounded as the history grows, and the words it skips are the ones most claims
share, which BM25 weighs least.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from .embeddings import from_blobs

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 12     # nearest claims kept per new claim
LEXICAL_CANDIDATES = 8     # BM25 hits added per new claim
LEXICAL_POSTINGS = 2_000   # claims BM25 may score per query (rarest words first): bounded at any history size
MIN_SIMILARITY = 0.35      # below this cosine a pair is never shown
# Past this many claims (about 3,000 articles) the index is partitioned into inverted lists (below), so
# a search reads a few dozen lists instead of the whole history (on a 300k-claim history: 8% of it, and
# 0.99 of the exact top 12 found; see `python -m bench speed`).
EXACT_SEARCH_ROWS = 100_000
SKETCH_DIMS = 64           # the lists hold 64-dimension sketches of the vectors: a sixth of the memory read
SKETCH_SAMPLE = 20_000     # rows the sketch basis is fitted on
LIST_ROWS = 1_000          # average rows per inverted list when the lists are fitted
PROBE_LISTS = 24           # lists read per query (of 300 at 10k articles, 3,000 at 100k)
SKETCH_CANDIDATES = 256    # rows per query, best by sketch, that are then scored exactly
TRAIN_PER_LIST = 16        # k-means training rows per list
KMEANS_ROUNDS = 5
GROUPED_LISTS = 256        # from this many lists on, rows are filed through groups of lists (see _group)
BULK_LOAD_ROWS = 100_000   # from this many claims on, the index loads in two sequential scans
ASSIGN_CHUNK = 16_384      # rows assigned to lists at a time (bounds the rows x lists score matrix)


LEXICAL_WEIGHT = 0.1       # BM25's share in the fused score (dev sweep, MAP@5: 0 0.828, 0.03 0.858, 0.1 0.871, 0.3 0.854)


def fused_score(similarity: float, bm25: float, weight: float = LEXICAL_WEIGHT) -> float:
    """Cosine plus a small bonus for shared rare words (BM25 capped, so one long name cannot dominate)."""
    return similarity + weight * min(bm25, 30.0) / 10.0


@dataclass
class Candidate:
    query: int           # index of the new claim
    claim_id: int        # earlier claim
    article_id: int
    similarity: float    # cosine of the two embeddings
    lexical: float       # BM25 score (0 when found by vector search only)

    @property
    def score(self) -> float:
        return fused_score(self.similarity, self.lexical)


def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of each point's most similar centroid, a chunk at a time."""
    labels = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), ASSIGN_CHUNK):
        labels[start:start + ASSIGN_CHUNK] = np.argmax(points[start:start + ASSIGN_CHUNK] @ centroids.T, axis=1)
    return labels


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _spherical_kmeans(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` unit centroids of `points` (cosine k-means, KMEANS_ROUNDS rounds, empty clusters re-seeded)."""
    centroids = _unit_rows(points[rng.choice(len(points), count, replace=False)])
    for _ in range(KMEANS_ROUNDS):
        labels = _nearest(points, centroids)
        order = np.argsort(labels, kind="stable")
        held, starts = np.unique(labels[order], return_index=True)
        sums = points[rng.choice(len(points), count)]
        sums[held] = np.add.reduceat(points[order], starts, axis=0)
        centroids = _unit_rows(sums)
    return centroids.astype(np.float32)


class InvertedLists:
    """An inverted-file partition of a large index. Sketches (projections on the leading right singular
    vectors of a sample, which keep dot products best) are clustered by spherical k-means; every row is
    filed under its nearest centroid, and a query reads only the PROBE_LISTS lists nearest to it. The
    queries of one capture share topics, so each probed list is read once for all the queries probing it."""

    def __init__(self, basis: np.ndarray, centroids: np.ndarray):
        self.basis = basis            # dims x sketch dims
        self.centroids = centroids    # lists x sketch dims, unit length
        self._rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(centroids)
        self._sketches: list[np.ndarray] = [np.zeros((0, basis.shape[1]), dtype=np.float32)] * len(centroids)
        self._used = np.zeros(len(centroids), dtype=np.int64)
        self._list_of_row = np.zeros(0, dtype=np.int32)
        self._group_centroids: np.ndarray | None = None
        self._members: list[np.ndarray] = []
        self.fitted_rows = 0

    def __len__(self) -> int:
        return len(self.centroids)

    @classmethod
    def fit(cls, matrix: np.ndarray, list_rows: int = LIST_ROWS, seed: int = 0) -> "InvertedLists":
        """Fit the basis and the centroids on samples of `matrix`, then file every row of it."""
        rng = np.random.default_rng(seed)
        size = len(matrix)
        sample = matrix[np.sort(rng.choice(size, min(SKETCH_SAMPLE, size), replace=False))]
        # The right singular vectors of the sample are the eigenvectors of its Gram matrix, which is small.
        _, eigenvectors = np.linalg.eigh(sample.T @ sample)
        basis = np.ascontiguousarray(eigenvectors[:, ::-1][:, :SKETCH_DIMS], dtype=np.float32)
        count = max(1, size // list_rows)
        train = matrix[np.sort(rng.choice(size, min(size, count * TRAIN_PER_LIST), replace=False))] @ basis
        lists = cls(basis, _spherical_kmeans(train, count, rng))
        lists._group(rng)
        sketches = np.empty((size, basis.shape[1]), dtype=np.float32)
        for start in range(0, size, ASSIGN_CHUNK):
            sketches[start:start + ASSIGN_CHUNK] = matrix[start:start + ASSIGN_CHUNK] @ basis
        labels = np.concatenate([lists._assign(sketches[start:start + ASSIGN_CHUNK])
                                 for start in range(0, size, ASSIGN_CHUNK)])
        # The sketches in list order, in one array; each list starts as a view of its slice (copied out
        # when it first grows).
        order = np.argsort(labels, kind="stable")
        sketches = sketches[order]
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        for label in range(count):
            lists._rows[label] = order[bounds[label]:bounds[label + 1]]
            lists._sketches[label] = sketches[bounds[label]:bounds[label + 1]]
            lists._used[label] = bounds[label + 1] - bounds[label]
        lists._list_of_row = labels.astype(np.int32)
        lists.fitted_rows = size
        return lists

    def _group(self, rng: np.random.Generator) -> None:
        """Cluster the centroids themselves (about sqrt(lists) groups), so filing a row compares it with
        the groups and then with the members of its two nearest groups only: at 3,000 lists, some 160
        products per row instead of 3,000 (the products, not the dimensions, bound the time)."""
        groups = int(np.sqrt(len(self))) if len(self) >= GROUPED_LISTS else 1
        if groups <= 1:
            self._group_centroids, self._members = None, []
            return
        self._group_centroids = _spherical_kmeans(self.centroids, groups, rng)
        group_of = _nearest(self.centroids, self._group_centroids)
        self._members = [np.flatnonzero(group_of == g) for g in range(groups)]

    def _assign(self, sketches: np.ndarray) -> np.ndarray:
        """The list each sketch is filed under: its nearest centroid within its two nearest groups."""
        if self._group_centroids is None:
            return _nearest(sketches, self.centroids)
        near = np.argpartition(-(sketches @ self._group_centroids.T), 1, axis=1)[:, :2].ravel()
        order = np.argsort(near, kind="stable")
        bounds = np.searchsorted(near[order], np.arange(len(self._members) + 1))
        labels = np.zeros(len(sketches), dtype=np.int64)
        best = np.full(len(sketches), -np.inf, dtype=np.float32)
        for group, members in enumerate(self._members):
            who = order[bounds[group]:bounds[group + 1]] // 2
            if not len(who) or not len(members):
                continue
            scores = sketches[who] @ self.centroids[members].T
            top = scores.argmax(axis=1)
            value = scores[np.arange(len(who)), top]
            better = value > best[who]
            best[who[better]], labels[who[better]] = value[better], members[top[better]]
        return labels

    def add(self, first_row: int, vectors: np.ndarray) -> None:
        """File rows first_row, first_row + 1, ... (appended to the index in that order)."""
        sketches = vectors @ self.basis
        labels = self._assign(sketches)
        needed = first_row + len(vectors)
        if needed > len(self._list_of_row):
            grown = np.zeros(max(needed, len(self._list_of_row) * 5 // 4), dtype=np.int32)
            grown[: len(self._list_of_row)] = self._list_of_row
            self._list_of_row = grown
        self._list_of_row[first_row:needed] = labels
        for offset, label in enumerate(labels):
            used = self._used[label]
            if used == len(self._rows[label]):      # full: grow by half, at least 16 rows
                capacity = used + max(16, used // 2)
                rows, sketch = np.zeros(capacity, dtype=np.int64), np.zeros((capacity, self.basis.shape[1]), np.float32)
                rows[:used], sketch[:used] = self._rows[label][:used], self._sketches[label][:used]
                self._rows[label], self._sketches[label] = rows, sketch
            self._rows[label][used] = first_row + offset
            self._sketches[label][used] = sketches[offset]
            self._used[label] = used + 1

    def forget(self, rows: np.ndarray) -> None:
        """Zero the sketches of removed rows: they score 0 and never pass the exact check."""
        for row in rows:
            label = self._list_of_row[row]
            position = np.flatnonzero(self._rows[label][: self._used[label]] == row)
            self._sketches[label][position] = 0.0

    def candidates(self, queries: np.ndarray, wanted: int, row_articles: np.ndarray,
                   exclude_article: int | None = None) -> list[np.ndarray]:
        """For each query, the rows of its probed lists, best `wanted` by sketch (unordered), leaving out
        the rows of `exclude_article` (`row_articles` gives each row's article)."""
        sketches = queries @ self.basis
        probe = min(PROBE_LISTS, len(self))
        chosen = np.argpartition(-(sketches @ self.centroids.T), probe - 1, axis=1)[:, :probe].ravel()
        order = np.argsort(chosen, kind="stable")
        by_list, asking = chosen[order], order // probe
        starts = np.flatnonzero(np.r_[True, by_list[1:] != by_list[:-1]])
        rows: list[list[np.ndarray]] = [[] for _ in range(len(queries))]
        scores: list[list[np.ndarray]] = [[] for _ in range(len(queries))]
        for start, end in zip(starts, np.r_[starts[1:], len(by_list)]):
            label, used = by_list[start], self._used[by_list[start]]
            if not used:
                continue
            who = asking[start:end]
            rough = sketches[who] @ self._sketches[label][:used].T
            for j, qi in enumerate(who):
                rows[qi].append(self._rows[label][:used])
                scores[qi].append(rough[j])
        picked = []
        for qi in range(len(queries)):
            if not rows[qi]:
                picked.append(np.zeros(0, dtype=np.int64))
                continue
            every, rough = np.concatenate(rows[qi]), np.concatenate(scores[qi])
            if exclude_article is not None:
                keep = row_articles[every] != exclude_article
                every, rough = every[keep], rough[keep]
            if len(every) > wanted:
                every = every[np.argpartition(-rough, wanted - 1)[:wanted]]
            picked.append(every)
        return picked


class ClaimIndex:
    """Every stored claim vector, appendable, searchable by cosine (vectors are L2-normalised)."""

    def __init__(self, dims: int, exact_rows: int = EXACT_SEARCH_ROWS, list_rows: int = LIST_ROWS,
                 fit_in_background: bool = False):
        self.dims = dims
        self.exact_rows = exact_rows
        self.list_rows = list_rows
        # A server fits the lists in a thread: it answers (searching every row) while they are fitted.
        self.fit_in_background = fit_in_background
        self._lock = threading.RLock()
        self._lists: InvertedLists | None = None      # once the index is large
        self._fitting: threading.Thread | None = None
        self._removed_while_fitting: list[np.ndarray] = []
        self._next_fit_rows = 0                        # after a failed fit: wait for the index to double
        self._matrix = np.zeros((1024, dims), dtype=np.float32)
        self._claim_ids = np.zeros(1024, dtype=np.int64)
        self._article_ids = np.zeros(1024, dtype=np.int64)
        self._size = 0
        self._row_of: dict[int, int] = {}
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return self._size - len(self._removed)

    @property
    def partitioned(self) -> bool:
        return self._lists is not None

    @property
    def max_claim_id(self) -> int:
        return int(self._claim_ids[: self._size].max()) if self._size else 0

    def load(self, store, model: str) -> "ClaimIndex":
        """Add every stored claim newer than the newest one held (all of them on a fresh index)."""
        with self._lock:
            after = self.max_claim_id
            count = store.claims_after(after)
            # Sized once up front: growing by doubling would hold two copies of a multi-GB matrix at once.
            self._grow(self._size + count)
            if count >= BULK_LOAD_ROWS:
                self._load_in_two_scans(store, model, after)
            else:
                for rows in store.iter_claim_vectors(model, after_id=after):
                    claim_ids, article_ids, blobs = zip(*rows)
                    self.add(claim_ids, article_ids, from_blobs(blobs, self.dims), partition=False)
            self._partition()
        log.info("claim index: %d vectors%s", len(self),
                 f" in {len(self._lists)} lists" if self._lists is not None else "")
        return self

    def _load_in_two_scans(self, store, model: str, after_id: int) -> None:
        """The claims first (narrow rows, in id order), then every stored vector in storage order, each
        copied to the rows of the claims with its text: two sequential reads, where a join looks each
        claim's vector up (3M claims: 18 s instead of 48 s)."""
        start = self._size
        row_of_text: dict[str, int] = {}
        repeats: dict[str, list[int]] = {}      # the same sentence in several claims
        for keys in store.iter_claim_keys(after_id):
            claim_ids, article_ids, hashes = zip(*keys)
            first, end = self._size, self._size + len(keys)
            self._grow(end)
            self._claim_ids[first:end] = claim_ids
            self._article_ids[first:end] = article_ids
            self._size = end              # rows past the old size are zeros until their vector is read
            for row, digest in enumerate(hashes, first):
                if row_of_text.setdefault(digest, row) != row:
                    repeats.setdefault(digest, []).append(row)
        filled = np.zeros(self._size - start, dtype=bool)
        for pairs in store.iter_vectors(model):
            rows, blobs = [], []
            for digest, blob in pairs:
                row = row_of_text.get(digest)
                if row is None:
                    continue
                rows.append(row)
                blobs.append(blob)
                for again in repeats.get(digest, ()) if repeats else ():
                    rows.append(again)
                    blobs.append(blob)
            if rows:
                self._matrix[rows] = from_blobs(blobs, self.dims)
                filled[np.asarray(rows) - start] = True
        ids = self._claim_ids[start:self._size]
        self._row_of.update(zip(ids[filled].tolist(), (np.flatnonzero(filled) + start).tolist()))
        self._removed.update(ids[~filled].tolist())      # a claim without a stored vector never matches

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        # 25% more, plus 5% headroom: at 100k articles a doubling would cost gigabytes for little.
        capacity = max(needed, capacity + capacity // 4) + max(4096, needed // 20)
        for name in ("_matrix", "_claim_ids", "_article_ids"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def add(self, claim_ids: list[int], article_ids: list[int], vectors: np.ndarray, partition: bool = True) -> None:
        if len(claim_ids) == 0:
            return
        with self._lock:
            self._grow(self._size + len(claim_ids))
            start, end = self._size, self._size + len(claim_ids)
            self._matrix[start:end] = vectors
            self._claim_ids[start:end] = claim_ids
            self._article_ids[start:end] = article_ids
            self._row_of.update(zip(self._claim_ids[start:end].tolist(), range(start, end)))
            self._size = end
            if self._lists is not None:
                self._lists.add(start, self._matrix[start:end])
            if partition:
                self._partition()

    def _partition(self) -> None:
        """Once the index is large, fit the inverted lists (about 17 s at 100k articles): at load, and
        again whenever the index has doubled since, so the lists keep their size. Until new lists are
        in place the old ones (or a scan of every row) answer."""
        with self._lock:
            fitted = self._lists.fitted_rows if self._lists is not None else 0
            if self._fitting is not None or self._size < max(self.exact_rows, 2 * fitted, self._next_fit_rows):
                return
            snapshot = self._matrix[: self._size]
            if not self.fit_in_background:
                self._lists = InvertedLists.fit(snapshot, self.list_rows)
                return
            self._removed_while_fitting = []
            self._fitting = threading.Thread(target=self._fit, args=(snapshot,), name="claim-lists", daemon=True)
            self._fitting.start()

    def _fit(self, snapshot: np.ndarray) -> None:
        """Fit lists on the rows held when the fit began, then file the rows added and forget the rows
        removed since."""
        try:
            lists = InvertedLists.fit(snapshot, self.list_rows)
        except Exception:      # noqa: BLE001 - e.g. out of memory: searching every row still works
            log.exception("fitting the claim index's lists failed; searching every row meanwhile")
            lists = None
        with self._lock:
            self._fitting = None
            if lists is None:
                self._next_fit_rows = 2 * len(snapshot)
                return
            if self._size > len(snapshot):
                lists.add(len(snapshot), self._matrix[len(snapshot):self._size])
            for rows in self._removed_while_fitting:
                lists.forget(rows)
            self._removed_while_fitting = []
            self._lists = lists
        log.info("claim index: %d vectors in %d lists", len(self), len(lists))

    def wait_for_lists(self, timeout: float | None = None) -> bool:
        """Block until a background fit is done; True when the index is partitioned."""
        thread = self._fitting
        if thread is not None:
            thread.join(timeout)
        return self._lists is not None

    def remove_article(self, article_id: int) -> None:
        """Forget an article's claims: their rows are zeroed, so they never match again."""
        with self._lock:
            rows = np.nonzero(self._article_ids[: self._size] == article_id)[0]
            self._matrix[rows] = 0.0
            if self._lists is not None:
                self._lists.forget(rows)
            if self._fitting is not None:
                self._removed_while_fitting.append(rows)
            for row in rows:
                claim_id = int(self._claim_ids[row])
                self._removed.add(claim_id)
                self._row_of.pop(claim_id, None)

    def vector_of(self, claim_id: int) -> np.ndarray | None:
        row = self._row_of.get(int(claim_id))
        return None if row is None else self._matrix[row]

    def article_of(self, claim_id: int) -> int | None:
        row = self._row_of.get(int(claim_id))
        return None if row is None else int(self._article_ids[row])

    def search(self, vectors: np.ndarray, k: int = VECTOR_CANDIDATES, exclude_article: int | None = None,
               min_similarity: float = MIN_SIMILARITY, exact: bool = False) -> list[list[tuple[int, int, float]]]:
        """For each query vector, up to k (claim id, article id, cosine), best first. `exact` reads every
        row even when the index is partitioned (to measure what the lists miss)."""
        with self._lock:
            size = self._size
            if size == 0 or len(vectors) == 0:
                return [[] for _ in range(len(vectors))]
            if self._lists is None or exact:
                every_row = np.arange(size)
                candidate_rows = [every_row] * len(vectors)
                all_scores = vectors @ self._matrix[:size].T
                if exclude_article is not None:
                    all_scores[:, self._article_ids[:size] == exclude_article] = -1.0
            else:
                candidate_rows = self._lists.candidates(vectors, SKETCH_CANDIDATES, self._article_ids, exclude_article)
                all_scores = None
            results = []
            for qi, rows in enumerate(candidate_rows):
                scores = all_scores[qi] if all_scores is not None else self._matrix[rows] @ vectors[qi]
                top = min(k, len(scores))
                if top == 0:
                    results.append([])
                    continue
                best = np.argpartition(-scores, top - 1)[:top]
                best = best[np.argsort(-scores[best])]
                results.append([
                    (int(self._claim_ids[rows[i]]), int(self._article_ids[rows[i]]), float(scores[i]))
                    for i in best if scores[i] >= min_similarity
                ])
            return results


def find_candidates(index: ClaimIndex, store, texts: list[str], vectors: np.ndarray,
                    exclude_article: int | None = None) -> list[Candidate]:
    """Hybrid candidates for every new claim: nearest vectors, plus BM25 hits scored by cosine."""
    candidates: dict[tuple[int, int], Candidate] = {}
    for qi, hits in enumerate(index.search(vectors, exclude_article=exclude_article)):
        for claim_id, article_id, similarity in hits:
            candidates[(qi, claim_id)] = Candidate(qi, claim_id, article_id, similarity, 0.0)
    for qi, text in enumerate(texts):
        for claim_id, bm25 in store.lexical_claim_search(text, LEXICAL_CANDIDATES, exclude_article, LEXICAL_POSTINGS):
            key = (qi, claim_id)
            if key in candidates:
                candidates[key].lexical = bm25
                continue
            vector = index.vector_of(claim_id)
            if vector is None:
                continue
            similarity = float(vectors[qi] @ vector)
            if similarity >= MIN_SIMILARITY:
                candidates[key] = Candidate(qi, claim_id, index.article_of(claim_id), similarity, bm25)
    return sorted(candidates.values(), key=lambda c: (c.query, -c.score))


def rank_claims(index: ClaimIndex, store, text: str, vector: np.ndarray, k: int = 20,
                lexical_weight: float | None = None) -> list[tuple[int, float]]:
    """One query's earlier claims ranked by the fused score the capture orders its links by (deeper
    than a capture looks); `lexical_weight` overrides LEXICAL_WEIGHT for a sweep."""
    weight = LEXICAL_WEIGHT if lexical_weight is None else lexical_weight
    fused: dict[int, float] = {}
    for claim_id, _article, similarity in index.search(vector[None, :], k=max(k, 50), min_similarity=-1.0)[0]:
        fused[claim_id] = similarity
    for claim_id, bm25 in store.lexical_claim_search(text, max(k, 50), postings=LEXICAL_POSTINGS):
        base = fused.get(claim_id)
        if base is None:
            other = index.vector_of(claim_id)
            if other is None:
                continue
            base = float(vector @ other)
        fused[claim_id] = fused_score(base, bm25, weight)
    return sorted(fused.items(), key=lambda kv: -kv[1])[:k]
