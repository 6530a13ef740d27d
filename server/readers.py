"""A few threads for the database reads a capture runs beside its own work.

SQLite lets go of Python's lock while it searches, so a read on one of these threads uses a core the
capture leaves idle once its claims are embedded. Each thread reads through a connection of its own
(`Store.reader` is one per thread), and none of them ever writes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

MAX_THREADS = 4
# Point reads a capture waits on at once (rows by id) are split over this many threads: rows the page
# cache no longer holds are each a disk read, and side by side the disk serves them sooner than in turn.
# They have threads of their own, so that they never queue behind the page's BM25 searches.
POINT_THREADS = 4
POINT_CHUNK = 64            # the fewest keys a share is given: a smaller lookup stays on the calling thread

_pool: ThreadPoolExecutor | None = None
_points: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, min(os.cpu_count() or 1, MAX_THREADS)), thread_name_prefix="read")
        return _pool


def _point_pool() -> ThreadPoolExecutor:
    global _points
    with _lock:
        if _points is None:
            _points = ThreadPoolExecutor(POINT_THREADS - 1, thread_name_prefix="read-points")
        return _points


def split_lookup(lookup: Callable[[list], dict], keys: list) -> dict:
    """`lookup(keys)` (a dict by key) run as up to POINT_THREADS lookups of a share of the keys each, one
    of them on the calling thread; their results merged."""
    keys = list(keys)
    parts = min(POINT_THREADS, len(keys) // POINT_CHUNK)
    if parts < 2:
        return lookup(keys)
    size = -(-len(keys) // parts)             # each a run of neighbouring keys: rows that share pages
    shares = [keys[i:i + size] for i in range(0, len(keys), size)]
    others = [_point_pool().submit(lookup, share) for share in shares[1:]]
    found = lookup(shares[0])
    for other in others:
        found.update(other.result())
    return found
