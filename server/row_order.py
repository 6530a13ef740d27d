"""The order a binary graph's ranking table is written in: codes near each other side by side.

A search reads the rows of the claims the graph proposed, which are near the query and so near each other.
Written in claim-id order those rows are scattered, one disk page each; grouped by nearness, several
share a page, and a search whose pages the system paged out reads fewer of them back (one-off script on
`bench speed`'s 100k history, the 7,104 rows proposed for its four test pages: on 7,026 pages in id
order, on 1,447 grouped; grouping its 3 million rows took 91 s). The rows are split by k-means, FANOUT
groups at a time, down to LEAF_ROWS rows; more rows than IN_MEMORY_ROWS are first split into parts
spilled to temporary files, so a build of millions of claims reads its codes twice in order and holds
one part at a time.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np

LEAF_ROWS = 24            # split down to this many rows: 96 strewed a few copies of a claim over nine pages
FANOUT = 32               # groups a group is split into at a time
FIT_SAMPLE = 8_192        # rows a split's centres are fitted on
FIT_ROUNDS = 4            # k-means rounds fitting them
ASSIGN_ROWS = 16_384      # rows compared with the centres at a time
IN_MEMORY_ROWS = 131_072  # rows ordered in memory at once (48 MB of 384-byte codes)


def near_order(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """A permutation of the rows of `codes` that puts near rows side by side: split into up to FANOUT
    groups by k-means, each group again, until a group holds LEAF_ROWS rows or fewer. The same codes
    give the same order."""
    rng = np.random.default_rng(seed)
    done: list[np.ndarray] = []
    pending = [np.arange(len(codes), dtype=np.int64)]
    while pending:
        rows = pending.pop()
        parts = _split(codes, rows, math.ceil(len(rows) / LEAF_ROWS), rng) if len(rows) > LEAF_ROWS else [rows]
        if len(parts) == 1:       # small enough, or rows too alike to split
            done.append(rows)
        else:
            pending.extend(reversed(parts))
    return np.concatenate(done) if done else np.zeros(0, dtype=np.int64)


def grouped(codes: np.ndarray, picks: np.ndarray, folder: Path | None = None,
            seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The rows `picks` of `codes` (a mapped file) in the order to write them, a part at a time:
    (indices into `picks`, their codes), near rows side by side."""
    picks = np.asarray(picks, dtype=np.int64)
    if len(picks) <= IN_MEMORY_ROWS:
        part = np.asarray(codes[picks])
        order = near_order(part, seed)
        yield order, part[order]
        return
    rng = np.random.default_rng(seed)
    in_turn = np.argsort(picks, kind="stable")          # read the file in order
    sample = np.asarray(codes[np.sort(rng.choice(picks, min(FIT_SAMPLE, len(picks)), replace=False))])
    centres = _fit(sample.astype(np.float32), math.ceil(2 * len(picks) / IN_MEMORY_ROWS), rng)
    record = np.dtype([("at", "<i8"), ("code", np.int8, (codes.shape[1],))])
    files = [tempfile.TemporaryFile(dir=folder, prefix="claims-order-") for _ in centres]
    try:
        for start in range(0, len(in_turn), ASSIGN_ROWS):
            at = in_turn[start:start + ASSIGN_ROWS]
            chunk = np.asarray(codes[picks[at]])
            labels = _nearest_centre(chunk, centres)
            for label in np.unique(labels).tolist():
                mine = labels == label
                rows = np.empty(int(mine.sum()), dtype=record)
                rows["at"], rows["code"] = at[mine], chunk[mine]
                files[label].write(rows.tobytes())
        for file in files:
            file.seek(0)
            rows = np.frombuffer(file.read(), dtype=record)
            if len(rows):
                order = near_order(rows["code"], seed)
                yield rows["at"][order], rows["code"][order]
    finally:
        for file in files:
            file.close()


def _split(codes: np.ndarray, rows: np.ndarray, parts: int, rng: np.random.Generator) -> list[np.ndarray]:
    parts = min(FANOUT, parts)
    sample = rows if len(rows) <= FIT_SAMPLE else rng.choice(rows, FIT_SAMPLE, replace=False)
    centres = _fit(np.asarray(codes[sample], dtype=np.float32), parts, rng)
    labels = np.concatenate([_nearest_centre(codes[rows[start:start + ASSIGN_ROWS]], centres)
                             for start in range(0, len(rows), ASSIGN_ROWS)])
    return [rows[labels == label] for label in range(len(centres)) if np.any(labels == label)]


def _fit(sample: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """k-means centres of a sample: `count` of its rows to start, FIT_ROUNDS rounds. (Rows alike start
    alike centres; all but the first of those are never chosen, and the split has fewer parts.)"""
    centres = sample[rng.choice(len(sample), min(count, len(sample)), replace=False)].astype(np.float32)
    for _ in range(FIT_ROUNDS):
        chosen = _nearest_centre(sample, centres)[:, None] == np.arange(len(centres))
        sizes = chosen.sum(axis=0)
        held = sizes > 0                    # a centre no row chose stays where it was
        centres[held] = (chosen.T.astype(np.float32) @ sample)[held] / sizes[held, None]
    return centres


def _nearest_centre(rows: np.ndarray, centres: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return np.argmin((centres * centres).sum(axis=1) - 2 * rows @ centres.T, axis=1)
