"""The saved vector index of claim vectors: an HNSW graph (usearch) of each vector's code, kept beside
the database and memory-mapped on start. The only module that imports usearch.

Codes: int8 vectors, or, in a graph started for BINARY_FROM claims or more, one bit a dimension (the sign
of the vector less the graph's centre, the mean claim vector of its history, so each bit splits the claims
about in half): 48 bytes for 384 dimensions where int8 takes 384, so the mapped file a long history's
searches walk through is a third of the size. Binary codes rank claims that are about as close as each
other loosely, which int8 does not, so a binary graph proposes eight times as many claims and a table of
their int8 codes, read only for the claims proposed, ranks them again (RankCodes). Either way the caller
scores the SCORED nearest with their float32 vectors; those the int8 codes (an int8 graph's own, a binary
graph's table's) put too far below the caller's floor (ESTIMATE_SLACK) it need not read.

Files, in the data folder: `claims.<model>.json` (what the index holds: model, dims, code kind, count,
newest claim id, the graph file's name and size, a binary graph's centre and int8 scale) and the files of
the generation it names: `claims.<model>.<generation>.usearch` (the graph) and, beside a binary graph,
`.keys` (its claim ids, int64) and `.codes` (their int8 codes, row for row, near codes side by side). A
save writes a new generation, then replaces the description: a kill at any moment leaves the old
generation intact (and orphan files, deleted by the next save). The database stays the source of truth:
a description or file that is missing, does not match, or fails to load is reported as absent and
rebuilt from the database by the caller.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import re
import tempfile
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import row_order
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
# an int8 graph is 1.5 GB and searches read through all of it; a binary one is 0.6 GB, and the int8 table
# that ranks its proposals again (1.2 GB more on disk) is read only where a search points.
BINARY_FROM = 1_000_000
# Claims a graph proposes per result wanted. Binary codes cannot order claims that are about as close as
# each other (near ties: in `bench speed`'s 100k history each sentence has 170 copies, all at a cosine of
# about 0.7 to it), so a binary graph proposes 16 per result and its int8 table keeps the SCORED nearest:
# one-off script, 170 noisy copies of each of 1,765 real sentences, a scan's top 12 found: 0.64 of them
# with 4 proposed, 0.88 with 8, 0.995 with 16 (the same search depth, so no slower), 0.996 with 32.
PROPOSED = {"i8": 2, "b1": 16}
# Claims per result wanted that the caller scores with float32 vectors: int8 ranks well enough that twice
# as many find what four times as many do (0.992 of a scan's top 12 at 30,000 claims, 0.997 at 300,000).
SCORED = 2
# How far the cosine a ranking table's int8 codes give can be from the float32 one: rounding moves it by
# at most 0.5 * sqrt(dims) / scale (0.015 at the 100k history's scale of 648), clipping the rare values
# past RANK_QUANTILE a little more (one-off script, the 7,104 claims proposed for the test pages' claims
# in `bench speed`'s 100k history: mean 0.0004, 99th percentile 0.0023, largest 0.012); an int8 graph's
# cosines, of codes scaled by 127 rather than fitted, by more (the 888 claims proposed for the test pages'
# claims in the 1k history: mean 0.0037, 99th percentile 0.0115, largest 0.014). A caller skips reading
# the float32 vector of a claim whose code puts it further than this below what it keeps.
ESTIMATE_SLACK = 0.05
# int8 codes of the ranking table: (vector - centre) * scale, the scale putting this quantile of the
# sample's values at 127 (the rare larger values are clipped).
RANK_QUANTILE = 0.9999
CONNECTIVITY = 16       # graph edges per node (HNSW's M); 12 and 8 lost 0.013 and 0.07 of recall at 300,000 claims
# Search depth while inserting, by code kind. int8: half the library's default, twice as fast to build.
# Binary codes need the default: a graph of 3 million binary codes built at 64 let a search reach 0.965 of
# a scan's top 12 whatever its depth (0.971 at 1,152), built at 128 0.991 (in 672 s instead of 434; one-off
# script on `bench speed`'s fresh 100k history), while the top 192 by Hamming distance over every code hold
# 0.9995 of them: what was lost was the graph's reach, not the codes.
EXPANSION_ADD = {"i8": 64, "b1": 128}
ADD_THREADS = 0         # threads adding a batch to a graph (0: every core; the graph then differs run to run)
EXPANSION_SEARCH = 192  # search depth of a query: 96 found 0.973 of the exact top 12 at 1k articles, 192 0.996
# Threads searching a page's claims (0: every core). Each query is searched alone, so the answers are the
# same; a capture waits on this search with the other cores idle (a 20-claim page at 1k: 6-10 ms on one
# thread, 4.6-5.2 on two).
SEARCH_THREADS = 0
# A removed claim stays in the graph as a node that searches pass through but never return, until an
# addition takes its place; near what was forgotten such nodes take up the search's depth. A merge that
# would leave this share of the graph's nodes removed builds it afresh from the database instead
# (`bench speed`'s kept 1k history after forgetting the 5 % of its claims earlier runs captured: 0.978 of
# a scan's top 12 found with them left in, 0.998 built afresh).
REBUILD_REMOVED_SHARE = 0.02


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
    scale: float | None = None          # binary codes: the int8 ranking table's scale (see RankCodes)
    format: int = FORMAT
    # Saved beside a database that lists the claims deleted since (migration m008): those are all the
    # claims it may hold in vain. A graph described without it is counted against the database once.
    lists_forgotten: bool = False


def scalar_for(count: int, binary_from: int | None = None) -> str:
    """The code kind of a graph started for `count` claims."""
    return "b1" if count >= (BINARY_FROM if binary_from is None else binary_from) else "i8"


def outgrown(scalar: str, count: int, binary_from: int | None = None) -> bool:
    """An int8 graph of `count` claims should hold binary codes. A binary graph stays binary when
    forgetting takes it back below BINARY_FROM: rebuilding back and forth would cost minutes each way."""
    return scalar == "i8" and scalar_for(count, binary_from) == "b1"


class Graph:
    """A usearch index with what its codes are taken from (a binary graph's centre) and, for a binary graph,
    its int8 ranking table: `ranks` when saved and mapped, `table` while it is built or changed."""

    def __init__(self, index: Index, scalar: str, center: np.ndarray | None = None, view: bool = False,
                 scale: float | None = None, ranks: "RankCodes | None" = None, table: "RankTable | None" = None):
        self.index = index
        self.scalar = scalar
        self.center = None if center is None else np.asarray(center, dtype=np.float32)
        self.scale = scale
        self.view = view           # mapped read-only, without usearch's key table: searched, never changed
        self.ranks = ranks
        self.table = table

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


def rank_codes(vectors: np.ndarray, center: np.ndarray, scale: float) -> np.ndarray:
    """int8 codes that order claims by cosine to a query as their float32 vectors do: a query's dot
    product with (vector - centre) differs from its cosine by the same amount for every claim."""
    return np.clip(np.rint((np.asarray(vectors, dtype=np.float32) - center) * scale), -127, 127).astype(np.int8)


def rank_scale(sample: np.ndarray, center: np.ndarray) -> float:
    """The int8 scale that puts RANK_QUANTILE of the sample's values (less the centre) within 127."""
    spread = float(np.quantile(np.abs(np.asarray(sample, dtype=np.float32) - center), RANK_QUANTILE)) if len(sample) else 0.0
    return 127.0 / spread if spread > 0 else 127.0


def _map(path: Path, dtype, shape: tuple) -> tuple[mmap.mmap | None, np.ndarray]:
    """A file as a read-only array, its pages read on demand (no read-ahead: each row is read alone)."""
    if int(np.prod(shape)) == 0:
        return None, np.zeros(shape, dtype=dtype)
    with open(path, "rb") as file:
        mapping = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    if hasattr(mapping, "madvise") and hasattr(mmap, "MADV_RANDOM"):
        mapping.madvise(mmap.MADV_RANDOM)
    return mapping, np.frombuffer(mapping, dtype=dtype, count=int(np.prod(shape))).reshape(shape)


class RankCodes:
    """A saved binary graph's int8 ranking table: its claim ids (`.keys`) and their codes (`.codes`), row
    by row, memory-mapped; rows near each other in code are written side by side (row_order). A search
    reads the rows of the claims the graph proposed and gives their pages back to the system at once (the
    page cache keeps them): otherwise the process would grow by every row a search ever read, up to the
    file's 1.2 GB at 3 million claims. Which row holds a claim is looked up in memory (`rows_of`), so a
    search reads no page of `.keys`: 4 bytes a claim id up to the highest (SQLite hands out ids in turn),
    12 a claim where the ids are too sparse for that."""

    def __init__(self, keys_path: Path, codes_path: Path, count: int, dims: int):
        self._keys_map, self.keys = _map(keys_path, np.int64, (count,))
        self._codes_map, self.codes = _map(codes_path, np.int8, (count, dims))
        self._row_of, self._sorted_keys = _row_lookup(self.keys)
        self.release()

    def __len__(self) -> int:
        return len(self.keys)

    def rows_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which of `keys` the table holds, their rows)."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(self.keys) == 0:
            return np.zeros(len(keys), dtype=bool), np.zeros(0, dtype=np.int64)
        if self._sorted_keys is None:
            inside = (keys >= 0) & (keys < len(self._row_of))
            rows = np.full(len(keys), -1, dtype=np.int64)
            rows[inside] = self._row_of[keys[inside]]
            held = rows >= 0
        else:
            at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
            held = self._sorted_keys[at] == keys
            rows = self._row_of[at].astype(np.int64)
        return held, rows[held]

    def rank(self, queries: np.ndarray, proposed: list[np.ndarray], keep: int,
             center: np.ndarray, scale: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each query's proposed keys, the `keep` nearest by their codes, nearest first, and their cosines
        to the query as the codes give them: (codes / scale + centre) . query."""
        ranked, cosines = [], []
        try:
            found = [self.rows_of(keys) for keys in proposed]
            self.prefetch(np.concatenate([rows for _held, rows in found]) if found else np.zeros(0, np.int64))
            for query, keys, (held, rows) in zip(np.asarray(queries, dtype=np.float32), proposed, found):
                keys = np.asarray(keys, dtype=np.int64)[held]
                scores = self.codes[rows].astype(np.float32) @ query
                order = np.argsort(-scores, kind="stable")[:keep]
                ranked.append(keys[order])
                cosines.append(scores[order] / np.float32(scale) + np.float32(query @ center))
        finally:
            self.release()
        return ranked, cosines

    def prefetch(self, rows: np.ndarray) -> None:
        """Ask the system for the pages of these rows all at once. Rows the page cache no longer holds are
        each a disk read; asked for one at a time as they are gathered, the reads wait on each other
        (one-off script, the 7,680 rows of a 40-claim page at 3 million claims, page cache dropped:
        1.1-2.0 s gathered in turn; asked for first, 0.6-0.9 s in five runs of six)."""
        if self._codes_map is None or not len(rows) or not hasattr(mmap, "MADV_WILLNEED"):
            return
        width, page = self.codes.shape[1], mmap.PAGESIZE
        starts = np.asarray(rows, dtype=np.int64) * width
        for first in np.unique(np.concatenate([starts // page, (starts + width - 1) // page])).tolist():
            self._codes_map.madvise(mmap.MADV_WILLNEED, first * page, page)

    def release(self) -> None:
        for mapping in (self._keys_map, self._codes_map):
            if mapping is not None and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
                mapping.madvise(mmap.MADV_DONTNEED)


LOOKUP_SLICE = 262_144     # claim ids read at a time while a table's row lookup is built


def _row_lookup(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(row of each claim id, indexed by the id, -1 where none; None) or, where the ids are too sparse for
    that, (rows of the keys sorted, the keys sorted). `keys` is read from its mapping a slice at a time:
    a whole copy would stay in the process's heap after it is freed (24 MB at 3 million claims)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int32), None
    slices = [slice(start, start + LOOKUP_SLICE) for start in range(0, len(keys), LOOKUP_SLICE)]
    if min(int(keys[part].min()) for part in slices) < 0:
        raise ValueError("the ranking table lists a negative claim id")
    highest = max(int(keys[part].max()) for part in slices)
    if highest < 4 * len(keys) + 65_536:
        row_of = np.full(highest + 1, -1, dtype=np.int32)
        for part in slices:
            row_of[keys[part]] = np.arange(part.start, min(part.stop, len(keys)), dtype=np.int32)
        return row_of, None
    order = np.argsort(keys, kind="stable")
    return order.astype(np.int32), np.asarray(keys[order])


class RankTable:
    """The ranking table of a binary graph being built or changed: the saved table it starts from (if
    any), less the claims removed, plus the claims added. Added codes are spooled to a temporary file in
    the data folder, so a build of millions of claims does not hold them in memory."""

    COPY_ROWS = 65_536

    def __init__(self, dims: int, center: np.ndarray, scale: float, base: RankCodes | None = None,
                 folder: Path | None = None):
        self.dims, self.center, self.scale, self.base, self.folder = dims, center, scale, base, folder
        self._spool = tempfile.TemporaryFile(dir=folder, prefix="claims-codes-")
        self._added: list[np.ndarray] = []
        self._removed: list[np.ndarray] = []

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._spool.seek(0, os.SEEK_END)
        self._spool.write(rank_codes(vectors, self.center, self.scale).tobytes())
        self._added.append(np.asarray(keys, dtype=np.int64).copy())

    def remove(self, keys: np.ndarray) -> None:
        """Forget keys of the base table (a key added later in this table is kept)."""
        self._removed.append(np.asarray(keys, dtype=np.int64).copy())

    def write(self, keys_path: Path, codes_path: Path) -> int:
        """Write the table: the rows of the saved table still held, in their order, then the rows added,
        near ones side by side (row_order); the number of rows. A key added twice keeps its last row."""
        added = np.concatenate(self._added) if self._added else np.zeros(0, dtype=np.int64)
        # The last row of each key added.
        order = np.argsort(added[::-1], kind="stable")
        unique, first = np.unique(added[::-1][order], return_index=True)
        added_rows = (len(added) - 1 - order[first]).astype(np.int64)
        base_keys = self.base.keys if self.base is not None else np.zeros(0, dtype=np.int64)
        removed = np.concatenate(self._removed + [unique]) if len(base_keys) else np.zeros(0, dtype=np.int64)
        base_rows = np.flatnonzero(~np.isin(base_keys, removed)) if len(base_keys) else np.zeros(0, dtype=np.int64)
        self._spool.flush()
        spooled = (np.memmap(self._spool, dtype=np.int8, mode="r", shape=(len(added), self.dims))
                   if len(added) else np.zeros((0, self.dims), dtype=np.int8))
        keys = [np.asarray(base_keys[base_rows])]
        try:
            with open(codes_path, "wb") as codes_file:
                for start in range(0, len(base_rows), self.COPY_ROWS):
                    codes_file.write(np.asarray(self.base.codes[base_rows[start:start + self.COPY_ROWS]]).tobytes())
                for at, codes in row_order.grouped(spooled, added_rows, self.folder):
                    codes_file.write(codes.tobytes())
                    keys.append(unique[at])
            Path(keys_path).write_bytes(np.concatenate(keys).astype("<i8").tobytes())
        finally:
            del spooled
            if self.base is not None:
                self.base.release()
        return len(base_rows) + len(unique)

    def close(self) -> None:
        self._spool.close()


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


def rank_paths(folder: Path, graph_name: str) -> tuple[Path, Path]:
    """The files of a binary graph's ranking table: its keys and its codes."""
    path = Path(folder) / graph_name
    return path.with_suffix(".keys"), path.with_suffix(".codes")


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", model) or "model"


def description_path(folder: Path, model: str) -> Path:
    return Path(folder) / f"claims.{_slug(model)}.json"


def new_graph(dims: int, scalar: str, sample: np.ndarray | None = None, folder: Path | None = None) -> Graph:
    """An empty graph. Binary codes are centred on the mean of `sample` (claims spread over the history),
    which also sets the scale of the int8 table that ranks their proposals; that table's rows are spooled
    in `folder` until the graph is saved."""
    index = Index(ndim=dims, metric=METRICS[scalar], dtype=scalar, connectivity=CONNECTIVITY,
                  expansion_add=EXPANSION_ADD[scalar], expansion_search=EXPANSION_SEARCH)
    if scalar != "b1":
        return Graph(index, scalar)
    if sample is None:
        raise ValueError("binary codes need a sample of the vectors to centre them")
    center = center_of(sample, dims)
    scale = rank_scale(np.asarray(sample).reshape(-1, dims), center)
    return Graph(index, scalar, center, scale=scale, table=RankTable(dims, center, scale, folder=folder))


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
    keys_path, codes_path = rank_paths(folder, saved.graph)
    problem = None
    if (saved.format, saved.model, saved.dims) != (FORMAT, model, dims) or saved.scalar not in METRICS:
        problem = f"made for {saved.model} ({saved.dims} dims, {saved.scalar}, format {saved.format})"
    elif outgrown(saved.scalar, saved.count, binary_from):
        problem = f"holds {saved.count} claims in int8 codes, not binary ones"
    elif saved.scalar == "b1" and (not isinstance(saved.center, list) or len(saved.center) != dims):
        problem = "has no centre for its codes"
    elif saved.scalar == "b1" and not (isinstance(saved.scale, (int, float)) and saved.scale > 0):
        problem = "has no scale for its ranking table"
    elif not path.is_file() or path.stat().st_size != saved.size:
        problem = f"{path.name} is missing or not the size recorded"
    elif saved.scalar == "b1" and not (_sized(keys_path, 8 * saved.count) and _sized(codes_path, dims * saved.count)):
        problem = f"the ranking table of {path.name} is missing or not the size recorded"
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
                    ranks = RankCodes(keys_path, codes_path, saved.count, dims) if saved.scalar == "b1" else None
                    return Graph(graph, saved.scalar, saved.center, view=True, scale=saved.scale, ranks=ranks), saved
        except (ValueError, RuntimeError, OSError) as exc:
            problem = f"{path.name} failed to load ({exc})"
    log.warning("claim index %s: rebuilding from the database", problem)
    return None


def _sized(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size == size


def load_for_update(folder: Path, saved: Saved) -> Graph:
    """A writable copy of the saved graph, in memory (a binary graph's ranking table: the saved one,
    mapped, plus what changes, spooled in `folder`)."""
    graph = Index.restore(str(Path(folder) / saved.graph))
    if graph is None:
        raise ValueError(f"{saved.graph} did not load")
    graph.expansion_add = EXPANSION_ADD[saved.scalar]
    if saved.scalar != "b1":
        return Graph(graph, saved.scalar)
    center = np.asarray(saved.center, dtype=np.float32)
    base = RankCodes(*rank_paths(folder, saved.graph), saved.count, saved.dims)
    return Graph(graph, saved.scalar, center, scale=saved.scale,
                 table=RankTable(saved.dims, center, saved.scale, base=base, folder=folder))


def save(graph: Graph, folder: Path, model: str, max_claim_id: int) -> tuple[Graph, Saved]:
    """Write `graph` as a new generation, describe it, and return it memory-mapped with its description."""
    folder = Path(folder)
    name = f"claims.{_slug(model)}.{uuid.uuid4().hex[:12]}.usearch"
    path = folder / name
    graph.index.save(str(path))
    ranks = None
    if graph.table is not None:
        keys_path, codes_path = rank_paths(folder, name)
        try:
            rows = graph.table.write(keys_path, codes_path)
        finally:
            graph.table.close()
        if rows != len(graph):
            raise ValueError(f"the ranking table holds {rows} claims, the graph {len(graph)}")
        ranks = RankCodes(keys_path, codes_path, rows, graph.ndim)
    saved = Saved(model=model, dims=graph.ndim, scalar=graph.scalar, count=len(graph), max_claim_id=int(max_claim_id),
                  graph=name, size=path.stat().st_size,
                  center=None if graph.center is None else [float(x) for x in graph.center],
                  scale=graph.scale, lists_forgotten=True)
    _describe(folder, saved)
    _remove_older(folder, model, path)
    return Graph(_mapped(path), graph.scalar, graph.center, view=True, scale=graph.scale, ranks=ranks), saved


def _describe(folder: Path, saved: Saved) -> None:
    """Write the description, replacing the previous one at once."""
    scratch = description_path(folder, saved.model).with_suffix(".json.tmp")
    scratch.write_text(json.dumps(asdict(saved)), encoding="utf-8")
    os.replace(scratch, description_path(folder, saved.model))


def confirm_listing(folder: Path, saved: Saved) -> Saved:
    """A graph saved before the database listed forgotten claims, found to hold only stored claims: from
    now on the list holds every claim it may hold in vain."""
    confirmed = replace(saved, lists_forgotten=True)
    _describe(folder, confirmed)
    return confirmed


def _generations(folder: Path, model: str) -> list[Path]:
    """Every file of every saved generation (graph and ranking table)."""
    return [path for suffix in ("usearch", "keys", "codes")
            for path in Path(folder).glob(f"claims.{_slug(model)}.*.{suffix}")]


def _remove_older(folder: Path, model: str, keep: Path) -> None:
    """Files of earlier generations. A file newer than ours may be another process's save in progress,
    so it stays. (A file still mapped by a search keeps its data until unmapped.)"""
    newest = keep.stat().st_mtime
    for path in _generations(folder, model):
        try:
            if path.with_suffix(keep.suffix) != keep and path.stat().st_mtime <= newest:
                path.unlink()
        except OSError:
            pass


def discard(folder: Path, model: str) -> None:
    """Forget the saved index (a reindex gives every claim a new id)."""
    for path in [description_path(folder, model), *_generations(folder, model)]:
        try:
            path.unlink()
        except OSError:
            pass


def disk_bytes(folder: Path, model: str) -> int:
    """The saved generation's size on disk: the graph and a binary graph's ranking table."""
    saved = read_description(folder, model)
    if saved is None:
        return 0
    paths = [Path(folder) / saved.graph, *rank_paths(folder, saved.graph)]
    return sum(path.stat().st_size for path in paths if path.is_file())


def add(graph: Graph, keys: np.ndarray, vectors: np.ndarray) -> None:
    _editable(graph)
    graph.index.add(np.asarray(keys, dtype=np.uint64), graph.codes(vectors), threads=ADD_THREADS)
    if graph.table is not None:
        graph.table.add(keys, vectors)


def removed_share(graph: Graph, removing: int = 0, adding: int = 0) -> float:
    """The share of the graph's nodes that will be removed claims once `removing` of those it holds are
    removed and `adding` claims added (each takes a removed node's place while there is one)."""
    nodes = graph.index.stats.nodes
    return max(0, nodes - len(graph) + removing - adding) / nodes if nodes else 0.0


def remove(graph: Graph, keys: np.ndarray) -> None:
    _editable(graph)
    keys = np.asarray(keys, dtype=np.uint64)
    if len(keys):
        graph.index.remove(keys)
        if graph.table is not None:
            graph.table.remove(keys.astype(np.int64))


def keys_of(graph: Graph) -> np.ndarray:
    _editable(graph)
    return np.asarray(graph.index.keys, dtype=np.int64) if len(graph) else np.zeros(0, dtype=np.int64)


def _among(keys: np.ndarray, ordered: np.ndarray) -> np.ndarray:
    """Which of `keys` are in the sorted array `ordered` (not re-sorting it at each search)."""
    at = np.minimum(np.searchsorted(ordered, keys), len(ordered) - 1)
    return ordered[at] == keys


def _nearest(graph: Graph, codes: np.ndarray, count: int, deeper: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each query's `count` nearest (keys, distances by the graph's codes), nearest first; `deeper`: search
    depth added to the usual."""
    graph.index.expansion_search = max(EXPANSION_SEARCH, count) + deeper
    found = graph.index.search(codes, count, threads=SEARCH_THREADS)
    if not hasattr(found, "counts"):           # one query: a single list of matches
        return [(np.asarray(found.keys)[: len(found)].astype(np.int64), np.asarray(found.distances)[: len(found)])]
    return [(found.keys[i, : found.counts[i]].astype(np.int64), found.distances[i, : found.counts[i]])
            for i in range(len(codes))]


def _past_skipped(graph: Graph, code: np.ndarray, nearest: tuple[np.ndarray, np.ndarray], proposals: int,
                  skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One query's nearest (keys, distances) less the skipped keys, `nearest` being its first `proposals`.
    Skipped keys take places among the results and in the search's depth (a query about what was forgotten
    meets copies of it first): while they crowd the results, the query asks again with room for twice as
    many as it met, in both, as far as there are skipped keys."""
    keys, distances = nearest
    most = min(proposals + len(skip), len(graph))
    room, met = 0, int(np.sum(_among(keys, skip)))
    while met > room and len(keys) < most:
        room = 2 * met
        keys, distances = _nearest(graph, code, min(proposals + room, most), deeper=room)[0]
        met = int(np.sum(_among(keys, skip)))
    kept = ~_among(keys, skip)
    return keys[kept][:proposals], distances[kept][:proposals]


@dataclass
class Proposed:
    """What a search proposes: each query's keys, nearest first by the codes, and their cosines to the
    query as int8 codes give them (within ESTIMATE_SLACK of the float32 ones): an int8 graph's own, a
    binary graph's ranking table's; None for a binary graph without its table yet."""
    keys: list[np.ndarray]
    cosines: list[np.ndarray] | None = None


def search(graph: Graph, vectors: np.ndarray, wanted: int, skip: np.ndarray | None = None) -> Proposed:
    """For each query, the keys of the claims the graph proposes for its `wanted` nearest, for the caller
    to score: SCORED per result wanted (at least for 12), nearest first by the codes. A binary graph
    proposes PROPOSED["b1"] per result and its ranking table keeps the nearest; while it is being built
    it has no table yet, and every claim it proposes is returned. `skip`: sorted keys the graph still
    holds but that are no longer claims (forgotten since it was written), passed over."""
    if len(graph) == 0 or len(vectors) == 0:
        return Proposed([np.zeros(0, dtype=np.int64) for _ in range(len(vectors))])
    wanted = max(wanted, 12)
    proposals = PROPOSED[graph.scalar] * wanted
    codes = graph.codes(vectors)
    nearest = _nearest(graph, codes, min(proposals, len(graph)))
    if skip is not None and len(skip):
        nearest = [_past_skipped(graph, codes[[i]], found, proposals, skip) for i, found in enumerate(nearest)]
    proposed = [keys for keys, _ in nearest]
    if graph.ranks is not None:
        return Proposed(*graph.ranks.rank(vectors, proposed, SCORED * wanted, graph.center, graph.scale))
    if graph.scalar == "i8":        # the graph's own distances are cosines of its int8 codes
        return Proposed(proposed, [(1.0 - distances).astype(np.float32) for _, distances in nearest])
    return Proposed(proposed)
