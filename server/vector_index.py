"""The saved vector index of claim vectors: an HNSW graph (usearch) of each vector's code, kept beside
the database and memory-mapped on start. The only module that imports usearch.

Codes: int8 vectors, or, in a graph started for BINARY_FROM claims or more, one bit a dimension (the sign
of the vector less the graph's centre, the mean claim vector of its history, so each bit splits the claims
about in half): 48 bytes for 384 dimensions where int8 takes 384, so the mapped file a long history's
searches read through is a third of the size. Binary codes rank claims that are about as close as each
other loosely, which int8 does not: below that size the file is small anyway. The graph only proposes
candidates; the caller scores them with their float32 vectors.

Files, in the data folder: `claims.<model>.json` (what the index holds: model, dims, code kind, count,
newest claim id, the graph file's name and size, a binary graph's centre) and the graph file it names,
`claims.<model>.<generation>.usearch`. A save writes a new graph file, then replaces the description: a
kill at any moment leaves the old pair intact (and an orphan file, deleted by the next save). The
database stays the source of truth: a description or graph that is missing, does not match, or fails to
load is reported as absent and rebuilt from the database by the caller.
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .embeddings import load_model_runtime

# usearch's extension carries its own copy of the C++ standard library and publishes that copy's locale
# symbols to every library loaded after it; ONNX Runtime, loaded later, then crashes the process on import.
# Loaded first, it keeps the system's copy.
load_model_runtime()
from usearch.index import Index, ScalarKind  # noqa: E402

log = logging.getLogger(__name__)
_KINDS = {"i8": ScalarKind.I8, "b1": ScalarKind.B1}

FORMAT = 1
# Code kinds: usearch's scalar kind and the distance it is searched by. Hamming (bits that differ) between
# sign codes measures the angle between two vectors.
METRICS = {"i8": "cos", "b1": "hamming"}
# A graph started for this many claims or more holds binary codes. At 3 million claims (100,000 articles)
# an int8 graph is 1.5 GB, a binary one 0.6 GB; at 30,000 claims binary codes found 0.71 of an exact scan's
# top 12 (0.98 of those at a cosine of 0.45 or more, which the judge labels) and int8 0.995. The same holds
# of near ties at any size: in `bench speed`'s fresh 100k history (170 copies of each sentence, all at a
# cosine of about 0.7) binary codes found 0.66 of the top 12, int8 0.989.
BINARY_FROM = 1_000_000
# Claims a graph proposes per result wanted, each then scored in float32: int8 ranks well enough that twice
# as many find what four times as many do (0.992 of a scan's top 12 at 30,000 claims, 0.997 at 300,000);
# binary codes need the four (0.71 and 0.984 with four, 0.58 and 0.978 with two; one-off script on the
# benchmark's synthetic claims).
PROPOSED = {"i8": 2, "b1": 4}
CONNECTIVITY = 16       # graph edges per node (HNSW's M); 12 and 8 lost 0.013 and 0.07 of recall at 300,000 claims
EXPANSION_ADD = 64      # search depth while inserting: half the library's default, twice as fast to build
EXPANSION_SEARCH = 192  # search depth of a query: 96 found 0.973 of the exact top 12 at 1k articles, 192 0.996


@dataclass
class Saved:
    """The description of a saved graph (the JSON file beside it)."""
    model: str
    dims: int
    scalar: str
    count: int             # vectors in the graph
    max_claim_id: int      # every stored claim up to this id was in the database when it was saved
    graph: str             # the graph file's name, in the same folder
    size: int              # its size in bytes
    center: list[float] | None = None   # binary codes: subtracted from a vector before its signs are taken
    format: int = FORMAT


def scalar_for(count: int, binary_from: int | None = None) -> str:
    """The code kind of a graph started for `count` claims."""
    return "b1" if count >= (BINARY_FROM if binary_from is None else binary_from) else "i8"


def outgrown(scalar: str, count: int, binary_from: int | None = None) -> bool:
    """An int8 graph of `count` claims should hold binary codes. A binary graph stays binary when
    forgetting takes it back below BINARY_FROM: rebuilding back and forth would cost minutes each way."""
    return scalar == "i8" and scalar_for(count, binary_from) == "b1"


class Graph:
    """A usearch index with what its codes are taken from: a binary graph's centre."""

    def __init__(self, index: Index, scalar: str, center: np.ndarray | None = None, view: bool = False):
        self.index = index
        self.scalar = scalar
        self.center = None if center is None else np.asarray(center, dtype=np.float32)
        self.view = view           # mapped read-only, without usearch's key table: searched, never changed

    def __len__(self) -> int:
        return len(self.index)

    @property
    def ndim(self) -> int:
        return self.index.ndim

    def codes(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return np.packbits(vectors > self.center, axis=1) if self.scalar == "b1" else vectors

    def contains(self, keys: np.ndarray) -> np.ndarray:
        _editable(self)
        return np.asarray(self.index.contains(np.asarray(keys, dtype=np.uint64)), dtype=bool)


def _editable(graph: Graph) -> None:
    if graph.view:
        raise ValueError("a mapped graph has no key table: load it for update first")


def _mapped(path: Path) -> Index:
    """The graph file memory-mapped for searching. usearch's table from keys to nodes is left out: a
    search does not need it, and it took 130 MB of memory at 3 million claims (the mapping itself 46)."""
    graph = Index.restore(str(path), view=True, enable_key_lookups=False)
    if graph is not None:
        graph.expansion_search = EXPANSION_SEARCH
    return graph


def center_of(vectors: np.ndarray, dims: int) -> np.ndarray:
    """The centre binary codes are taken from: the mean of a sample of the vectors the graph starts with."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dims)
    return vectors.mean(axis=0) if len(vectors) else np.zeros(dims, dtype=np.float32)


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", model) or "model"


def description_path(folder: Path, model: str) -> Path:
    return Path(folder) / f"claims.{_slug(model)}.json"


def new_graph(dims: int, scalar: str, center: np.ndarray | None = None) -> Graph:
    if scalar == "b1" and center is None:
        raise ValueError("binary codes need a centre")
    return Graph(Index(ndim=dims, metric=METRICS[scalar], dtype=scalar, connectivity=CONNECTIVITY,
                       expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH), scalar, center)


def read_description(folder: Path, model: str) -> Saved | None:
    try:
        saved = Saved(**json.loads(description_path(folder, model).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("claim index description unreadable (%s): rebuilding from the database", exc)
        return None
    return saved


def open_saved(folder: Path, model: str, dims: int, binary_from: int | None = None) -> tuple[Graph, Saved] | None:
    """The saved graph, memory-mapped (read-only), with its description; None when there is none or it
    does not check out: the caller rebuilds it from the database."""
    saved = read_description(folder, model)
    if saved is None:
        return None
    path = Path(folder) / saved.graph
    problem = None
    if (saved.format, saved.model, saved.dims) != (FORMAT, model, dims) or saved.scalar not in METRICS:
        problem = f"made for {saved.model} ({saved.dims} dims, {saved.scalar}, format {saved.format})"
    elif outgrown(saved.scalar, saved.count, binary_from):
        problem = f"holds {saved.count} claims in int8 codes, not binary ones"
    elif saved.scalar == "b1" and (not isinstance(saved.center, list) or len(saved.center) != dims):
        problem = "has no centre for its codes"
    elif not path.is_file() or path.stat().st_size != saved.size:
        problem = f"{path.name} is missing or not the size recorded"
    else:
        try:
            # The header alone first: a file that is not a graph of this shape is never mapped.
            meta = Index.metadata(str(path))
            if (meta is None or meta["dimensions"] != dims or meta["count_present"] != saved.count
                    or meta["kind_scalar"] != _KINDS[saved.scalar]):
                problem = f"{path.name} does not hold the {saved.count} vectors of {dims} dims recorded"
            else:
                graph = _mapped(path)
                if graph is None or len(graph) != saved.count or graph.ndim != dims:
                    problem = f"{path.name} did not load"
                else:
                    return Graph(graph, saved.scalar, saved.center, view=True), saved
        except (ValueError, RuntimeError, OSError) as exc:
            problem = f"{path.name} failed to load ({exc})"
    log.warning("claim index %s: rebuilding from the database", problem)
    return None


def load_for_update(folder: Path, saved: Saved) -> Graph:
    """A writable copy of the saved graph, in memory."""
    graph = Index.restore(str(Path(folder) / saved.graph))
    if graph is None:
        raise ValueError(f"{saved.graph} did not load")
    graph.expansion_add = EXPANSION_ADD
    return Graph(graph, saved.scalar, saved.center)


def save(graph: Graph, folder: Path, model: str, max_claim_id: int) -> tuple[Graph, Saved]:
    """Write `graph` as a new generation, describe it, and return it memory-mapped with its description."""
    folder = Path(folder)
    name = f"claims.{_slug(model)}.{uuid.uuid4().hex[:12]}.usearch"
    path = folder / name
    graph.index.save(str(path))
    saved = Saved(model=model, dims=graph.ndim, scalar=graph.scalar, count=len(graph), max_claim_id=int(max_claim_id),
                  graph=name, size=path.stat().st_size,
                  center=None if graph.center is None else [float(x) for x in graph.center])
    scratch = description_path(folder, model).with_suffix(".json.tmp")
    scratch.write_text(json.dumps(asdict(saved)), encoding="utf-8")
    os.replace(scratch, description_path(folder, model))
    _remove_older(folder, model, path)
    return Graph(_mapped(path), graph.scalar, graph.center, view=True), saved


def _remove_older(folder: Path, model: str, keep: Path) -> None:
    """Graph files of earlier generations. A file newer than ours may be another process's save in
    progress, so it stays. (A file still mapped by a search keeps its data until unmapped.)"""
    newest = keep.stat().st_mtime
    for path in Path(folder).glob(f"claims.{_slug(model)}.*.usearch"):
        try:
            if path != keep and path.stat().st_mtime <= newest:
                path.unlink()
        except OSError:
            pass


def discard(folder: Path, model: str) -> None:
    """Forget the saved index (a reindex gives every claim a new id)."""
    for path in [description_path(folder, model), *Path(folder).glob(f"claims.{_slug(model)}.*.usearch")]:
        try:
            path.unlink()
        except OSError:
            pass


def disk_bytes(folder: Path, model: str) -> int:
    saved = read_description(folder, model)
    path = Path(folder) / saved.graph if saved else None
    return path.stat().st_size if path is not None and path.is_file() else 0


def add(graph: Graph, keys: np.ndarray, vectors: np.ndarray, threads: int = 0) -> None:
    _editable(graph)
    graph.index.add(np.asarray(keys, dtype=np.uint64), graph.codes(vectors), threads=threads)


def remove(graph: Graph, keys: np.ndarray) -> None:
    _editable(graph)
    keys = np.asarray(keys, dtype=np.uint64)
    if len(keys):
        graph.index.remove(keys)


def keys_of(graph: Graph) -> np.ndarray:
    _editable(graph)
    return np.asarray(graph.index.keys, dtype=np.int64) if len(graph) else np.zeros(0, dtype=np.int64)


def search(graph: Graph, vectors: np.ndarray, wanted: int) -> list[np.ndarray]:
    """For each query, the keys of the claims the graph proposes for its `wanted` nearest, nearest first
    by the codes: PROPOSED[code kind] per result wanted (at least for 12), for the caller to score."""
    if len(graph) == 0 or len(vectors) == 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(vectors))]
    count = min(PROPOSED[graph.scalar] * max(wanted, 12), len(graph))
    graph.index.expansion_search = max(EXPANSION_SEARCH, count)
    found = graph.index.search(graph.codes(vectors), count, threads=1)
    if not hasattr(found, "counts"):           # one query: a single list of matches
        return [np.asarray(found.keys)[: len(found)].astype(np.int64)]
    return [found.keys[i, : found.counts[i]].astype(np.int64) for i in range(len(vectors))]
