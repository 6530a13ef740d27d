"""The saved vector index of claim vectors: an HNSW graph of int8 vectors (usearch), kept beside the
database and memory-mapped on start. The only module that imports usearch.

Files, in the data folder: `claims.<model>.json` (what the index holds: model, dims, scalar kind, count,
newest claim id, the graph file's name and size) and the graph file it names,
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
from usearch.index import Index  # noqa: E402

log = logging.getLogger(__name__)

FORMAT = 1
SCALAR = "i8"           # a quarter of float32; search only picks candidates, which are then scored in float32
CONNECTIVITY = 16       # graph edges per node (HNSW's M)
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
    format: int = FORMAT


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", model) or "model"


def description_path(folder: Path, model: str) -> Path:
    return Path(folder) / f"claims.{_slug(model)}.json"


def new_graph(dims: int) -> Index:
    return Index(ndim=dims, metric="cos", dtype=SCALAR, connectivity=CONNECTIVITY,
                 expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)


def read_description(folder: Path, model: str) -> Saved | None:
    try:
        saved = Saved(**json.loads(description_path(folder, model).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("claim index description unreadable (%s): rebuilding from the database", exc)
        return None
    return saved


def open_saved(folder: Path, model: str, dims: int) -> tuple[Index, Saved] | None:
    """The saved graph, memory-mapped (read-only), with its description; None when there is none or it
    does not check out: the caller rebuilds it from the database."""
    saved = read_description(folder, model)
    if saved is None:
        return None
    path = Path(folder) / saved.graph
    problem = None
    if (saved.format, saved.model, saved.dims, saved.scalar) != (FORMAT, model, dims, SCALAR):
        problem = f"made for {saved.model} ({saved.dims} dims, {saved.scalar}, format {saved.format})"
    elif not path.is_file() or path.stat().st_size != saved.size:
        problem = f"{path.name} is missing or not the size recorded"
    else:
        try:
            # The header alone first: a file that is not a graph of this shape is never mapped.
            meta = Index.metadata(str(path))
            if meta is None or meta["dimensions"] != dims or meta["count_present"] != saved.count:
                problem = f"{path.name} does not hold the {saved.count} vectors of {dims} dims recorded"
            else:
                graph = Index.restore(str(path), view=True)
                if graph is None or len(graph) != saved.count or graph.ndim != dims:
                    problem = f"{path.name} did not load"
                else:
                    graph.expansion_search = EXPANSION_SEARCH
                    return graph, saved
        except (ValueError, RuntimeError, OSError) as exc:
            problem = f"{path.name} failed to load ({exc})"
    log.warning("claim index %s: rebuilding from the database", problem)
    return None


def load_for_update(folder: Path, saved: Saved) -> Index:
    """A writable copy of the saved graph, in memory."""
    graph = Index.restore(str(Path(folder) / saved.graph))
    if graph is None:
        raise ValueError(f"{saved.graph} did not load")
    graph.expansion_add = EXPANSION_ADD
    return graph


def save(graph: Index, folder: Path, model: str, max_claim_id: int) -> tuple[Index, Saved]:
    """Write `graph` as a new generation, describe it, and return it memory-mapped with its description."""
    folder = Path(folder)
    name = f"claims.{_slug(model)}.{uuid.uuid4().hex[:12]}.usearch"
    path = folder / name
    graph.save(str(path))
    saved = Saved(model=model, dims=graph.ndim, scalar=SCALAR, count=len(graph), max_claim_id=int(max_claim_id),
                  graph=name, size=path.stat().st_size)
    scratch = description_path(folder, model).with_suffix(".json.tmp")
    scratch.write_text(json.dumps(asdict(saved)), encoding="utf-8")
    os.replace(scratch, description_path(folder, model))
    _remove_older(folder, model, path)
    viewed = Index.restore(str(path), view=True)
    viewed.expansion_search = EXPANSION_SEARCH
    return viewed, saved


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


def add(graph: Index, keys: np.ndarray, vectors: np.ndarray, threads: int = 0) -> None:
    graph.add(np.asarray(keys, dtype=np.uint64), np.ascontiguousarray(vectors, dtype=np.float32), threads=threads)


def remove(graph: Index, keys: np.ndarray) -> None:
    keys = np.asarray(keys, dtype=np.uint64)
    if len(keys):
        graph.remove(keys)


def keys_of(graph: Index) -> np.ndarray:
    return np.asarray(graph.keys, dtype=np.int64) if len(graph) else np.zeros(0, dtype=np.int64)


def search(graph: Index, vectors: np.ndarray, count: int) -> list[np.ndarray]:
    """For each query, the keys of (about) its `count` nearest vectors, nearest first."""
    if len(graph) == 0 or len(vectors) == 0:
        return [np.zeros(0, dtype=np.int64) for _ in range(len(vectors))]
    count = min(count, len(graph))
    graph.expansion_search = max(EXPANSION_SEARCH, count)
    found = graph.search(np.ascontiguousarray(vectors, dtype=np.float32), count, threads=1)
    if not hasattr(found, "counts"):           # one query: a single list of matches
        return [np.asarray(found.keys)[: len(found)].astype(np.int64)]
    return [found.keys[i, : found.counts[i]].astype(np.int64) for i in range(len(vectors))]
