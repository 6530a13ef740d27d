"""Claim retrieval benchmark: tweets against a history of verified claims, through the product's matching.

Every verified claim becomes the one claim of a synthetic article in a fresh store, embedded through
`Engine.vectors_for` (the embedding cache) and loaded into the engine's claim index; each tweet is then
ranked with `matching.rank_claims`: vector and BM25 candidates merged by the fused score
(`matching.fused_score`) a capture orders its links by, read deeper (50 candidates of each kind and 20
ranks, where a capture takes 12 + 8 candidates and keeps 5 links per claim). The plain BM25
baseline asks the same store's full-text index (`Store.lexical_claim_search`) and nothing else.
"persisted" ranks the same way through a second index over the same store whose every claim is in the
saved graph (built, saved, then mapped again as at a start), as in a history past MERGE_ROWS claims:
what the graph's int8 codes cost in quality on real claims (the dev set is small enough to be scanned
exactly by default); "binary" the same through a graph of binary codes, as in a history past
BINARY_FROM claims.

Output: JSONL {"id": query_id, "ranked": [claim_id, ...]} for the claims scorer.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from server.embeddings import text_hash
from server.matching import ClaimIndex, rank_claims

from .common import fresh_engine, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

RANK_DEPTH = 20            # the scorer reads MAP@1..20 and Recall@1..20
BATCH = 2000               # claims embedded and written per transaction
TEXT_MODES = ("text", "title+text")
DEFAULT_TEXT_MODE = "text"


def claim_text(claim: dict, mode: str) -> str:
    if mode == "title+text" and claim.get("title"):
        return f"{claim['title'].strip()}. {claim['text'].strip()}"
    return claim["text"].strip()


def index_claims(engine, claims: list[dict], mode: str) -> dict[int, str]:
    """Store each verified claim as a one-claim article; returns claim row id -> dataset claim id."""
    store = engine.store
    dataset_id: dict[int, str] = {}
    for start in range(0, len(claims), BATCH):
        chunk = claims[start:start + BATCH]
        texts = [claim_text(c, mode) for c in chunk]
        _vectors, fresh = engine.vectors_for(texts)
        with store.write() as conn:
            for claim, text in zip(chunk, texts):
                article_id = store.insert_article(conn, {
                    "url": f"https://claims.bench/{claim['id']}", "canonical_url": f"https://claims.bench/{claim['id']}",
                    "domain": "claims.bench", "content_hash": text_hash(claim["id"]), "title": claim.get("title"),
                    "site": "claims.bench", "author": None, "published": None, "language": "en", "text": text,
                    "word_count": len(text.split()), "captured_at": "2026-01-01T00:00:00Z",
                }, "", "bench")
                [row_id] = store.insert_claims(conn, article_id, [{
                    "position": 0, "text": text, "text_hash": text_hash(text), "is_headline": True,
                    "speaker": None, "polarity": "asserts", "proposition": text, "details": {},
                }])
                dataset_id[row_id] = claim["id"]
            store.put_vectors(conn, engine.embedder.model_name, fresh)
    return dataset_id


def _rankings(engine, queries, vectors, dataset_id, ranker) -> list[dict]:
    rows = []
    for query, vector in zip(queries, vectors):
        ranked = [dataset_id[cid] for cid in ranker(query["text"], vector) if cid in dataset_id]
        rows.append({"id": query["id"], "ranked": ranked[:RANK_DEPTH]})
    return rows


def run(data_dir: Path, outputs: dict[str, Path], limit: int | None = None, mode: str = DEFAULT_TEXT_MODE,
        weights: tuple[float, ...] = ()) -> dict:
    """Index once, then write one prediction file per ranker named in `outputs`:
    "fused" (rank_claims with its default weight), "bm25" (the baseline), "w=<weight>" (weight sweep) and
    "persisted" (rank_claims through an index whose claims are all in the saved graph) and "binary" (the
    same, its graph in binary codes)."""
    data_dir = Path(data_dir)
    claims = read_jsonl(data_dir / "claims.jsonl")
    queries = read_jsonl(data_dir / "queries.jsonl")
    if limit is not None:
        queries = queries[:limit]
    stats: dict = {"claims": len(claims), "queries": len(queries), "text": mode}
    with fresh_engine() as engine, tempfile.TemporaryDirectory(prefix="crosscurrent-graph-") as graph_folder:
        started = time.perf_counter()
        dataset_id = index_claims(engine, claims, mode)
        index = engine.index
        stats["index_seconds"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        query_vectors = engine.embedder.embed([q["text"] for q in queries]) if queries else np.zeros((0, 384))
        rankers = {
            "fused": lambda text, vec: [c for c, _ in rank_claims(index, engine.store, text, vec, k=RANK_DEPTH)],
            "bm25": lambda text, vec: [c for c, _ in engine.store.lexical_claim_search(text, RANK_DEPTH)],
        }
        for name, binary_from in (("persisted", None), ("binary", 0)):
            if name not in outputs:
                continue
            model, folder = engine.embedder.model_name, Path(graph_folder) / name
            folder.mkdir()
            ClaimIndex(index.dims, folder, merge_rows=1, background=False,
                       binary_from=binary_from).load(engine.store, model).close()
            persisted = ClaimIndex(index.dims, folder, binary_from=binary_from).load(engine.store, model)
            stats[f"{name}_graph"] = {"vectors": persisted.in_graph, "codes": persisted.codes}
            rankers[name] = (lambda graph: lambda text, vec: [
                c for c, _ in rank_claims(graph, engine.store, text, vec, k=RANK_DEPTH)])(persisted)
        for weight in weights:
            rankers[f"w={weight:g}"] = (lambda w: lambda text, vec: [
                c for c, _ in rank_claims(index, engine.store, text, vec, k=RANK_DEPTH, lexical_weight=w)])(weight)
        for name, out in outputs.items():
            write_jsonl(out, _rankings(engine, queries, query_vectors, dataset_id, rankers[name]))
        stats["rank_seconds"] = round(time.perf_counter() - started, 1)
    log.info("claims: %s", stats)
    return stats


def predict(data_dir: Path, out: Path, limit: int | None = None, mode: str = DEFAULT_TEXT_MODE) -> dict:
    return run(data_dir, {"fused": Path(out)}, limit, mode)


def baseline(data_dir: Path, out: Path, limit: int | None = None, mode: str = DEFAULT_TEXT_MODE) -> dict:
    return run(data_dir, {"bm25": Path(out)}, limit, mode)
