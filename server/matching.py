"""Finding earlier claims that may say the same thing: vector search plus lexical search.

Vectors of every stored claim live in one contiguous float32 matrix in memory, so a capture's claims
are compared with the whole history in one matrix product; BM25 over the claims' full-text index adds
the candidates that share rare words (names, numbers) which the embedding may rank lower. BM25 searches
only a claim's rarest words, as many as fit in LEXICAL_POSTINGS claims: its cost stays bounded as the
history grows, and the words it skips are the ones most claims share, which BM25 weighs least.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from .embeddings import from_blob

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 12     # nearest claims kept per new claim
LEXICAL_CANDIDATES = 8     # BM25 hits added per new claim
LEXICAL_POSTINGS = 2_000   # claims BM25 may score per query (rarest words first): bounded at any history size
MIN_SIMILARITY = 0.35      # below this cosine a pair is never shown
# Past this many claims (about 16k articles) a first pass over 64-dimension sketches of the vectors
# picks SKETCH_CANDIDATES rows per query, which are then scored exactly: a sixth of the memory read.
EXACT_SEARCH_ROWS = 500_000
SKETCH_DIMS = 64
SKETCH_CANDIDATES = 256
SKETCH_SAMPLE = 50_000     # rows the sketch basis is fitted on


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


class ClaimIndex:
    """Every stored claim vector, appendable, searchable by cosine (vectors are L2-normalised)."""

    def __init__(self, dims: int, exact_rows: int = EXACT_SEARCH_ROWS):
        self.dims = dims
        self.exact_rows = exact_rows
        self._lock = threading.RLock()
        self._basis: np.ndarray | None = None      # dims x SKETCH_DIMS, once the index is large
        self._sketch = np.zeros((0, SKETCH_DIMS), dtype=np.float32)
        self._matrix = np.zeros((1024, dims), dtype=np.float32)
        self._claim_ids = np.zeros(1024, dtype=np.int64)
        self._article_ids = np.zeros(1024, dtype=np.int64)
        self._size = 0
        self._row_of: dict[int, int] = {}
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return self._size - len(self._removed)

    @property
    def max_claim_id(self) -> int:
        return int(self._claim_ids[: self._size].max()) if self._size else 0

    def load(self, store, model: str) -> "ClaimIndex":
        """Add every stored claim newer than the newest one held (all of them on a fresh index)."""
        # Sized once up front: growing by doubling would hold two copies of a multi-GB matrix at once.
        self._grow(self._size + store.claims_after(self.max_claim_id))
        for rows in store.iter_claim_vectors(model, after_id=self.max_claim_id):
            self.add([r[0] for r in rows], [r[1] for r in rows], np.stack([from_blob(r[2]) for r in rows]),
                     sketch=False)
        self._update_sketch()
        log.info("claim index: %d vectors%s", len(self), " (sketched)" if self._basis is not None else "")
        return self

    def _grow(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        # 25% more, plus 5% headroom: at 100k articles a doubling would cost gigabytes for little.
        capacity = max(needed, capacity + capacity // 4) + max(4096, needed // 20)
        for name in ("_matrix", "_claim_ids", "_article_ids") + (("_sketch",) if self._basis is not None else ()):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._size] = old[: self._size]
            setattr(self, name, new)

    def add(self, claim_ids: list[int], article_ids: list[int], vectors: np.ndarray, sketch: bool = True) -> None:
        if len(claim_ids) == 0:
            return
        with self._lock:
            self._grow(self._size + len(claim_ids))
            start, end = self._size, self._size + len(claim_ids)
            self._matrix[start:end] = vectors
            self._claim_ids[start:end] = claim_ids
            self._article_ids[start:end] = article_ids
            for offset, claim_id in enumerate(claim_ids):
                self._row_of[int(claim_id)] = start + offset
            self._size = end
            if self._basis is not None:
                self._sketch[start:end] = self._matrix[start:end] @ self._basis
            elif sketch:
                self._update_sketch()

    def _update_sketch(self) -> None:
        """Once the index is large: fit the sketch basis (the leading right singular vectors of a sample,
        which keep dot products best) and sketch every row."""
        with self._lock:
            if self._basis is not None or self._size < self.exact_rows:
                return
            rng = np.random.default_rng(0)
            sample = self._matrix[np.sort(rng.choice(self._size, min(SKETCH_SAMPLE, self._size), replace=False))]
            _, _, vt = np.linalg.svd(sample, full_matrices=False)
            self._basis = np.ascontiguousarray(vt[:SKETCH_DIMS].T)
            self._sketch = np.zeros((self._matrix.shape[0], self._basis.shape[1]), dtype=np.float32)
            for start in range(0, self._size, 262_144):
                end = min(start + 262_144, self._size)
                self._sketch[start:end] = self._matrix[start:end] @ self._basis

    def remove_article(self, article_id: int) -> None:
        """Forget an article's claims: their rows are zeroed, so they never match again."""
        with self._lock:
            rows = np.nonzero(self._article_ids[: self._size] == article_id)[0]
            self._matrix[rows] = 0.0
            if self._basis is not None:
                self._sketch[rows] = 0.0
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
               min_similarity: float = MIN_SIMILARITY) -> list[list[tuple[int, int, float]]]:
        """For each query vector, up to k (claim id, article id, cosine), best first."""
        with self._lock:
            size = self._size
            if size == 0 or len(vectors) == 0:
                return [[] for _ in range(len(vectors))]
            if self._basis is None:
                rows = None
                scores = vectors @ self._matrix[:size].T
            else:
                rough = (vectors @ self._basis) @ self._sketch[:size].T
                if exclude_article is not None:
                    rough[:, self._article_ids[:size] == exclude_article] = -np.inf
                wanted = min(SKETCH_CANDIDATES, size)
                rows = np.argpartition(-rough, wanted - 1, axis=1)[:, :wanted]
                scores = np.einsum("qd,qcd->qc", vectors, self._matrix[rows])
            every_row = np.arange(size)
            if exclude_article is not None:
                own = self._article_ids[rows if rows is not None else every_row] == exclude_article
                scores[np.broadcast_to(own, scores.shape)] = -1.0
            k = min(k, scores.shape[1])
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            results = []
            for qi in range(len(vectors)):
                order = top[qi][np.argsort(-scores[qi, top[qi]])]
                row_of = rows[qi] if rows is not None else every_row
                results.append([
                    (int(self._claim_ids[row_of[i]]), int(self._article_ids[row_of[i]]), float(scores[qi, i]))
                    for i in order if scores[qi, i] >= min_similarity
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
