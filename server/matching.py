"""Finding earlier claims that may say the same thing: vector search plus lexical search.

The claim index is two parts. The claims up to some id are in a saved HNSW graph of int8 or binary codes
(server/vector_index.py), memory-mapped from the data folder, so a start reads none of its vectors; the
graph only proposes candidates (vector_index.SCORED per result wanted, a binary graph's ranked by int8
codes first), which are scored with their float32 vectors read from the database, so every cosine is exact
and claims forgotten since the save drop out.
The newer claims (fewer than MERGE_ROWS) are held in memory as float32 and scanned exactly; a small
history is only that. When they reach MERGE_ROWS they are merged into a new generation of the graph in
a background thread, as they are at close. A graph that is missing, stale or unreadable is rebuilt from
the database in a background thread while the server answers (see ClaimIndex.load). BM25 over the
claims' full-text index adds the candidates that share rare words (names, numbers) which the embedding
may rank lower. BM25 searches only a claim's rarest words, as many as fit in LEXICAL_POSTINGS claims:
its cost stays bounded as the history grows, and the words it skips are the ones most claims share,
which BM25 weighs least.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import cosines, readers, vector_index
from .embeddings import from_blobs

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 12     # nearest claims kept per new claim
LEXICAL_CANDIDATES = 8     # BM25 hits added per new claim
# Claims BM25 may score per query (rarest words first), bounded at any history size. 2,000 gave the same
# claims MAP@5 (0.8713 against 0.8730) and kept a 40-claim page waiting 20 ms longer at 1k articles.
LEXICAL_POSTINGS = 500
MIN_SIMILARITY = cosines.SHOWN_MIN   # below this cosine a pair is never shown
# Claims held in memory and scanned exactly before they are merged into the saved graph (about 700
# articles; the scan of 20,000 rows takes a few ms, a merge some seconds in the background).
MERGE_ROWS = 20_000
SAVE_AT_CLOSE_ROWS = 1_000  # at close, fewer newer claims than this are left to be read again at the next start
# ... and fewer than this share of the graph: a merge rewrites the whole graph (at 3 million claims, 15 s
# and twice its size in memory), so a big graph waits for MERGE_ROWS newer claims (a start reads 20,000 in
# 0.4-0.8 s).
CLOSE_MERGE_SHARE = 0.05
BUILD_BATCH = 4_096        # rows added to a graph at a time (a search waits for at most one batch)
CENTER_SAMPLE = 4_096      # claims whose mean centres a graph's binary codes


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
    """Every stored claim's vector, searchable by cosine (vectors are L2-normalised): a saved graph of
    the claims up to `graph_max_id`, memory-mapped, plus the newer ones in memory. Without a store and a
    folder (a bare index, as in tests) everything stays in memory and is scanned exactly."""

    def __init__(self, dims: int, folder: Path | str | None = None, merge_rows: int | None = None,
                 background: bool = True, binary_from: int | None = None):
        self.dims = dims
        self.folder = Path(folder) if folder is not None else None
        self.merge_rows = MERGE_ROWS if merge_rows is None else merge_rows
        # Claims from which the graph holds binary codes (vector_index.BINARY_FROM unless told otherwise).
        self.binary_from = vector_index.BINARY_FROM if binary_from is None else binary_from
        # A server builds and merges the graph in a thread and answers meanwhile; tests may do it in line.
        self.background = background
        self._lock = threading.RLock()
        self._store = None
        self._model = ""
        self._graph = None                     # memory-mapped, or in memory while it is being built
        self._saved: vector_index.Saved | None = None
        self._graph_max_id = 0                 # claims up to this id are in the graph (or being added to it)
        self._building = False                 # the graph is in memory, growing: searched under the lock
        self._prune: bool | None = False       # the graph holds claims forgotten since: drop them at the next
                                               # merge (None: not known yet, counted once after a start)
        self._skip = np.zeros(0, dtype=np.int64)   # those of them the database lists: searches pass over them
        self._retry_rows = 0                   # after a failed merge: wait for twice the claims before the next
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._matrix = np.zeros((1024, dims), dtype=np.float32)   # the newer claims
        self._claim_ids = np.zeros(1024, dtype=np.int64)
        self._article_ids = np.zeros(1024, dtype=np.int64)     # -1: forgotten
        self._size = 0
        self._live = 0
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        graph = self._graph
        return (len(graph) if graph is not None else 0) + self._live

    @property
    def max_claim_id(self) -> int:
        with self._lock:
            newest = int(self._claim_ids[: self._size].max()) if self._size else 0
            return max(self._graph_max_id, newest)

    @property
    def in_graph(self) -> int:
        """Vectors in the graph (the rest are scanned exactly)."""
        graph = self._graph
        return len(graph) if graph is not None else 0

    @property
    def codes(self) -> str | None:
        """The saved graph's code kind ("i8" or "b1"), None before one is saved."""
        saved = self._saved
        return saved.scalar if saved is not None else None

    @property
    def ready(self) -> bool:
        """No graph is being built or merged."""
        return self._worker is None or not self._worker.is_alive()

    # -- loading ---------------------------------------------------------------------------------------
    def load(self, store, model: str) -> "ClaimIndex":
        """On first use: map the saved graph (or start rebuilding it from the database when it is
        missing, stale or unreadable), then read the claims newer than it into memory. Later calls read
        only the claims stored since (by another process)."""
        with self._lock:
            first = self._store is None
            self._store, self._model = store, model
            if first and self.folder is not None:
                self._open_or_rebuild()
            self._top_up()
        self._maybe_merge()
        with self._lock:
            unknown = self._prune is None and self._saved is not None and not self._building
        if unknown and self.ready:
            self._run(self._prune_if_stale)
        log.info("claim index: %d vectors (%d in the saved graph)", len(self), self.in_graph)
        return self

    def start_empty(self, store, model: str) -> "ClaimIndex":
        """An index that starts from nothing and forgets the saved graph (a reindex renumbers every claim)."""
        with self._lock:
            self._store, self._model = store, model
            if self.folder is not None:
                vector_index.discard(self.folder, model)
                store.clear_forgotten_claims()
        return self

    def _forgotten(self) -> np.ndarray:
        """The claims the graph may hold that the database no longer has (sorted ids)."""
        return np.asarray(self._store.forgotten_claim_ids(self._graph_max_id), dtype=np.int64)

    def _open_or_rebuild(self) -> None:
        store = self._store
        opened = vector_index.open_saved(self.folder, self._model, self.dims, self.binary_from)
        if opened is not None:
            self._graph, self._saved = opened
            self._graph_max_id = self._saved.max_claim_id
            store.reserve_claim_ids(self._graph_max_id)     # a graph saved by a version that gave ids again
            self._skip = self._forgotten()
            # Articles forgotten since it was saved are listed by the database. A graph saved before the
            # list has its claims counted against the database once, after the first answer (a scan of the
            # claims table: a kept 100k history's start waited 104 s for it, so never at every start).
            self._prune = True if len(self._skip) else (False if self._saved.lists_forgotten else None)
            return
        vector_index.discard(self.folder, self._model)
        store.clear_forgotten_claims()      # a graph built now reads only the claims stored
        if store.claims_after(0) < self.merge_rows:
            return                             # a small history: all of it in memory
        self._graph_max_id = store.max_claim_id()
        self._graph, self._building = self._new_graph(store.claims_upto(self._graph_max_id), self._graph_max_id), True
        self._run(self._build, self._graph, self._graph_max_id)

    def _new_graph(self, count: int, upto_id: int):
        """An empty graph for `count` claims; binary codes (and the int8 table that ranks what they
        propose) are centred on the mean of claims spread evenly over the history up to `upto_id`."""
        scalar = vector_index.scalar_for(count, self.binary_from)
        if scalar != "b1":
            return vector_index.new_graph(self.dims, scalar)
        ids = np.unique(np.linspace(1, max(1, upto_id), CENTER_SAMPLE).astype(np.int64)).tolist()
        blobs = [blob for _article, blob in self._store.claim_vectors(self._model, ids).values()]
        return vector_index.new_graph(self.dims, scalar, from_blobs(blobs, self.dims), folder=self.folder)

    def _top_up(self) -> None:
        for rows in self._store.iter_claim_vectors(self._model, after_id=self.max_claim_id):
            claim_ids, article_ids, blobs = zip(*rows)
            self._append(claim_ids, article_ids, from_blobs(blobs, self.dims))

    # -- changes ----------------------------------------------------------------------------------------
    def _append(self, claim_ids, article_ids, vectors: np.ndarray) -> None:
        with self._lock:
            # A capture's claims may have been read from the database (by a top-up) before it adds them.
            new = [i for i, claim_id in enumerate(claim_ids) if int(claim_id) not in self._row_of]
            if len(new) < len(claim_ids):
                claim_ids, article_ids = [claim_ids[i] for i in new], [article_ids[i] for i in new]
                vectors = vectors[new]
            needed = self._size + len(claim_ids)
            if needed > len(self._claim_ids):
                capacity = max(needed, 2 * len(self._claim_ids))
                for name in ("_matrix", "_claim_ids", "_article_ids"):
                    old = getattr(self, name)
                    new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                    new[: self._size] = old[: self._size]
                    setattr(self, name, new)
            start = self._size
            self._matrix[start:needed] = vectors
            self._claim_ids[start:needed] = claim_ids
            self._article_ids[start:needed] = article_ids
            self._row_of.update(zip(self._claim_ids[start:needed].tolist(), range(start, needed)))
            self._size, self._live = needed, self._live + len(claim_ids)

    def add(self, claim_ids: list[int], article_ids: list[int], vectors: np.ndarray) -> None:
        if len(claim_ids) == 0:
            return
        self._append(claim_ids, article_ids, vectors)
        self._maybe_merge()

    def remove_article(self, article_id: int) -> None:
        """Forget an article's claims (already deleted from the database). In memory they go now; the
        graph's searches pass over them (the database lists them) until a merge drops them."""
        with self._lock:
            rows = np.flatnonzero(self._article_ids[: self._size] == article_id)
            self._article_ids[rows] = -1
            self._matrix[rows] = 0.0
            for row in rows:
                self._row_of.pop(int(self._claim_ids[row]), None)
            self._live -= len(rows)
            if self._graph is not None:
                self._prune = True
        if self._graph is not None and self._store is not None:
            skip = self._forgotten()
            with self._lock:
                self._skip = skip
        self._maybe_merge()

    # -- the graph: build, merge, save -----------------------------------------------------------------
    def _run(self, work, *args) -> None:
        if not self.background:
            work(*args)
            return
        self._worker = threading.Thread(target=self._guarded, args=(work, *args), name="claim-graph", daemon=True)
        self._worker.start()

    def _guarded(self, work, *args) -> None:
        try:
            work(*args)
        except Exception:      # noqa: BLE001 - e.g. a full disk: the exact scan of memory still answers
            log.exception("saving the claim index failed; newer claims stay in memory")
            self._retry_rows = 2 * max(self._live, self.merge_rows)
        with self._lock:
            self._worker = None
        self._maybe_merge()

    def _maybe_merge(self, rows: int | None = None) -> None:
        with self._lock:
            newer = self._live >= (max(self.merge_rows, self._retry_rows) if rows is None else rows)
            # Forgotten claims the graph still holds make searches ask it for more: as many as a merge at
            # close is worth are dropped from it.
            forgotten = len(self._skip) >= max(self.close_merge_rows, self._retry_rows)
            if (self._store is None or self.folder is None or self._building or not self.ready
                    or self._stop.is_set() or not (newer or forgotten)
                    or self._live + len(self._skip) == 0):
                return
            self._worker = None
            self._run(self._merge)

    def _build(self, graph, upto_id: int) -> None:
        """Add every stored claim up to `upto_id` to a new graph, a batch at a time (searchable between
        batches: a capture meanwhile finds what is in it so far, plus every newer claim), then save it."""
        for rows in self._store.iter_claim_vectors(self._model, after_id=0, upto_id=upto_id, batch=BUILD_BATCH):
            if self._stop.is_set():
                return
            claim_ids, _articles, blobs = zip(*rows)
            with self._lock:
                vector_index.add(graph, np.asarray(claim_ids), from_blobs(blobs, self.dims))
        viewed, saved = vector_index.save(graph, self.folder, self._model, upto_id)
        with self._lock:
            self._graph, self._saved, self._building = viewed, saved, False
        log.info("claim index: graph of %d vectors built and saved", saved.count)

    def _prune_if_stale(self) -> None:
        """A graph saved before the database listed the claims forgotten since may hold some: its claims
        are counted (seconds at millions, after the first answer), and it is merged without them if so."""
        saved = self._saved
        if self._store.claims_upto(saved.max_claim_id) != saved.count:
            with self._lock:
                self._prune = True
            self._merge()
            return
        with self._lock:
            if self._prune is None:
                self._prune = False
            if self._saved is saved:
                self._saved = vector_index.confirm_listing(self.folder, saved)

    def _merge(self) -> None:
        """A new generation of the graph: the saved one, less the claims forgotten since, plus the
        claims in memory. Searches use the mapped graph and memory until it is in place."""
        with self._lock:
            size, saved, prune = self._size, self._saved, self._prune
            live = self._article_ids[:size] >= 0
            keys, vectors = self._claim_ids[:size][live].copy(), self._matrix[:size][live].copy()
            self._prune = False
        forgotten = self._forgotten()           # deleted before the claims stored are read below: pruned
        if len(forgotten):
            prune = True
        newest = max(self._graph_max_id, int(keys.max()) if len(keys) else 0)
        count = (saved.count if saved else 0) + len(keys)
        graph = None
        if saved and not vector_index.outgrown(saved.scalar, count, self.binary_from):
            graph = vector_index.load_for_update(self.folder, saved)
            if vector_index.removed_share(graph, len(forgotten), len(keys)) >= vector_index.REBUILD_REMOVED_SHARE:
                graph = None
        if graph is None:
            # The first graph, one grown past BINARY_FROM, or one that would hold too many removed claims:
            # its claims are read again from the database.
            graph = self._new_graph(count, newest)
            if saved:
                for rows in self._store.iter_claim_vectors(self._model, after_id=0, upto_id=saved.max_claim_id,
                                                           batch=BUILD_BATCH):
                    if self._stop.is_set():
                        return
                    claim_ids, _articles, blobs = zip(*rows)
                    vector_index.add(graph, np.asarray(claim_ids), from_blobs(blobs, self.dims))
                saved = prune = None       # only stored claims were read: nothing to prune
        if saved and prune is None:
            prune = self._store.claims_upto(saved.max_claim_id) != saved.count
        if saved and prune:
            held = vector_index.keys_of(graph)
            stored = np.concatenate([np.asarray(ids, dtype=np.int64).ravel()
                                     for ids in self._store.iter_claim_ids(saved.max_claim_id)] or [np.zeros(0, np.int64)])
            vector_index.remove(graph, np.setdiff1d(held, stored))
            # Claims stored under ids a version before gave again, which no start read into memory.
            lacking = np.setdiff1d(np.setdiff1d(stored, held), keys).tolist()
            for start in range(0, len(lacking), BUILD_BATCH):
                rows = self._store.claim_vectors(self._model, lacking[start:start + BUILD_BATCH])
                if rows:
                    vector_index.add(graph, np.asarray(list(rows)), from_blobs([blob for _, blob in rows.values()], self.dims))
        # An id a version before gave again (after the newest article was forgotten): the new claim replaces the old.
        if len(graph) and len(keys):
            vector_index.remove(graph, keys[graph.contains(keys)])
        for start in range(0, len(keys), BUILD_BATCH):
            if self._stop.is_set():
                return
            vector_index.add(graph, keys[start:start + BUILD_BATCH], vectors[start:start + BUILD_BATCH])
        viewed, saved = vector_index.save(graph, self.folder, self._model, newest)
        del graph
        # Claims newer than the old graph that were forgotten from memory before this merge read it: the
        # new graph never held them either, and listed they would be passed over (and counted) in vain.
        newer = np.asarray(self._store.forgotten_claim_ids(newest), dtype=np.int64)
        never_held = np.setdiff1d(newer[newer > self._graph_max_id], keys)
        if len(forgotten) or len(never_held):
            self._store.clear_forgotten_claims(np.concatenate([forgotten, never_held]).tolist())
        with self._lock:
            # The rows merged leave memory; rows added (or forgotten) meanwhile stay.
            kept = np.arange(size, self._size)
            forgotten_meanwhile = bool(np.any(self._article_ids[:size][live] < 0))
            self._matrix = self._matrix[kept].copy() if len(kept) else np.zeros((1024, self.dims), np.float32)
            self._claim_ids = self._claim_ids[kept].copy() if len(kept) else np.zeros(1024, np.int64)
            self._article_ids = self._article_ids[kept].copy() if len(kept) else np.zeros(1024, np.int64)
            self._size = len(kept)
            self._live = int(np.sum(self._article_ids[: self._size] >= 0))
            self._row_of = {int(c): r for r, c in enumerate(self._claim_ids[: self._size]) if self._article_ids[r] >= 0}
            self._graph, self._saved, self._graph_max_id = viewed, saved, newest
            self._prune = self._prune or forgotten_meanwhile
            self._skip = np.setdiff1d(self._skip, forgotten)
        log.info("claim index: %d vectors merged; the saved graph holds %d", len(keys), saved.count)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until a build or merge in progress is done; True when none is."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return self.ready

    @property
    def close_merge_rows(self) -> int:
        """Newer claims that make a merge at close worth its cost."""
        return min(self.merge_rows, max(SAVE_AT_CLOSE_ROWS, int(CLOSE_MERGE_SHARE * self.in_graph)))

    def close(self, save: bool = True) -> None:
        """Stop building (the next start builds again), then save the claims in memory into the graph
        when there are enough of them to be worth it."""
        self._stop.set()
        self.wait_until_ready()
        self._stop.clear()
        if save and not self._building:
            self.background, background = False, self.background
            try:
                self._maybe_merge(rows=self.close_merge_rows)
            except Exception:      # noqa: BLE001 - the database still holds every claim
                log.exception("saving the claim index at close failed")
            self.background = background
        self._stop.set()

    # -- reading --------------------------------------------------------------------------------------
    def vectors_of(self, claim_ids) -> dict[int, tuple[int, np.ndarray]]:
        """{claim id: (article id, float32 vector)} of the given claims that are indexed."""
        out: dict[int, tuple[int, np.ndarray]] = {}
        rest = []
        with self._lock:
            for claim_id in claim_ids:
                row = self._row_of.get(int(claim_id))
                if row is not None:
                    out[int(claim_id)] = (int(self._article_ids[row]), self._matrix[row].copy())
                else:
                    rest.append(int(claim_id))
            store = self._store if self._graph is not None else None
        if rest and store is not None:
            for claim_id, (article_id, blob) in self._stored_vectors(store, rest).items():
                out[claim_id] = (article_id, np.frombuffer(blob, dtype="<f4"))
        return out

    def _stored_vectors(self, store, claim_ids: list[int]) -> dict[int, tuple[int, bytes]]:
        """{claim id: (article id, vector blob)} read from the database, the ids sorted and shared out
        over the reading threads (each claim three B-tree lookups: disk reads in a long history)."""
        return readers.split_lookup(lambda ids: store.claim_vectors(self._model, ids), sorted(claim_ids))

    def vector_of(self, claim_id: int) -> np.ndarray | None:
        found = self.vectors_of([claim_id]).get(int(claim_id))
        return None if found is None else found[1]

    def article_of(self, claim_id: int) -> int | None:
        found = self.vectors_of([claim_id]).get(int(claim_id))
        return None if found is None else found[0]

    def search(self, vectors: np.ndarray, k: int = VECTOR_CANDIDATES, exclude_article: int | None = None,
               min_similarity: float = MIN_SIMILARITY) -> list[list[tuple[int, int, float]]]:
        """For each query vector, up to k (claim id, article id, cosine), best first."""
        found: list[dict[int, tuple[int, float]]] = [{} for _ in range(len(vectors))]
        if len(vectors) == 0:
            return []
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            graph, store, skip = self._graph, self._store, self._skip
            proposed = None
            if graph is not None and self._building:     # in memory and growing: not while a batch is added
                proposed = vector_index.search(graph, vectors, k, skip)
            size = self._size
            matrix, claim_ids, article_ids = self._matrix[:size], self._claim_ids[:size], self._article_ids[:size]
        if graph is not None and proposed is None:
            proposed = vector_index.search(graph, vectors, k, skip)
        if proposed is not None and store is not None:
            # The graph proposes, float32 vectors from the database decide: read for the claims whose
            # codes leave them a chance of min_similarity (most of an unrelated page's proposals have none,
            # and each is three B-tree lookups, disk reads in a long history).
            keys_of = proposed.keys
            if proposed.cosines is not None:
                floor = min_similarity - vector_index.ESTIMATE_SLACK
                keys_of = [keys[cosines >= floor] for keys, cosines in zip(proposed.keys, proposed.cosines)]
            rows = self._stored_vectors(store, np.unique(np.concatenate(keys_of)).tolist())
            ids = list(rows)
            column = {claim_id: i for i, claim_id in enumerate(ids)}
            if ids:
                scores = vectors @ from_blobs([rows[c][1] for c in ids], self.dims).T
                for qi, keys in enumerate(keys_of):
                    for key in keys.tolist():
                        i = column.get(key)
                        if i is not None and rows[key][0] != exclude_article:
                            found[qi][key] = (rows[key][0], float(scores[qi, i]))
        if size:
            scores = vectors @ matrix.T
            scores[:, article_ids < 0] = -np.inf
            if exclude_article is not None:
                scores[:, article_ids == exclude_article] = -np.inf
            top = min(k, size)
            best = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            for qi in range(len(vectors)):
                for row in best[qi]:
                    if scores[qi, row] > -np.inf:
                        found[qi][int(claim_ids[row])] = (int(article_ids[row]), float(scores[qi, row]))
        return [[(claim_id, article_id, score)
                 for claim_id, (article_id, score) in sorted(hits.items(), key=lambda kv: -kv[1][1])[:k]
                 if score >= min_similarity] for hits in found]


def lexical_searches(store, texts: list[str], exclude_article: int | None = None) -> list[Future]:
    """Each text's BM25 hits, searched on the reading threads (server/readers.py): they need no vectors,
    so a capture starts them before its claims are embedded."""
    sizes: dict[str, int] = {}           # shared by the page's searches: the same value whoever fills it
    return [readers.pool().submit(store.lexical_claim_search, text, LEXICAL_CANDIDATES, exclude_article,
                                  LEXICAL_POSTINGS, sizes) for text in texts]


def find_candidates(index: ClaimIndex, store, texts: list[str], vectors: np.ndarray,
                    exclude_article: int | None = None, searches: list[Future] | None = None) -> list[Candidate]:
    """Hybrid candidates for every new claim: nearest vectors, plus BM25 hits scored by cosine.

    The BM25 searches (`searches`, from lexical_searches: started here when not given) run on the
    reading threads while the vector search runs here."""
    if searches is None:
        searches = lexical_searches(store, texts, exclude_article)
    candidates: dict[tuple[int, int], Candidate] = {}
    for qi, hits in enumerate(index.search(vectors, exclude_article=exclude_article)):
        for claim_id, article_id, similarity in hits:
            candidates[(qi, claim_id)] = Candidate(qi, claim_id, article_id, similarity, 0.0)
    lexical = [search.result() for search in searches]
    known = index.vectors_of({claim_id for hits in lexical for claim_id, _ in hits
                              if not any((qi, claim_id) in candidates for qi in range(len(texts)))})
    for qi, hits in enumerate(lexical):
        for claim_id, bm25 in hits:
            key = (qi, claim_id)
            if key in candidates:
                candidates[key].lexical = bm25
                continue
            if claim_id not in known:
                continue
            article_id, vector = known[claim_id]
            similarity = float(vectors[qi] @ vector)
            if similarity >= MIN_SIMILARITY:
                candidates[key] = Candidate(qi, claim_id, article_id, similarity, bm25)
    return sorted(candidates.values(), key=lambda c: (c.query, -c.score))


def rank_claims(index: ClaimIndex, store, text: str, vector: np.ndarray, k: int = 20,
                lexical_weight: float | None = None) -> list[tuple[int, float]]:
    """One query's earlier claims ranked by the fused score the capture orders its links by (deeper
    than a capture looks); `lexical_weight` overrides LEXICAL_WEIGHT for a sweep."""
    weight = LEXICAL_WEIGHT if lexical_weight is None else lexical_weight
    fused: dict[int, float] = {}
    for claim_id, _article, similarity in index.search(vector[None, :], k=max(k, 50), min_similarity=-1.0)[0]:
        fused[claim_id] = similarity
    lexical = store.lexical_claim_search(text, max(k, 50), postings=LEXICAL_POSTINGS)
    known = index.vectors_of([claim_id for claim_id, _ in lexical if claim_id not in fused])
    for claim_id, bm25 in lexical:
        base = fused.get(claim_id)
        if base is None:
            if claim_id not in known:
                continue
            base = float(vector @ known[claim_id][1])
        fused[claim_id] = fused_score(base, bm25, weight)
    return sorted(fused.items(), key=lambda kv: -kv[1])[:k]
