"""A few threads for the database reads a capture runs beside its own work.

SQLite lets go of Python's lock while it searches, so a read on one of these threads uses a core the
capture leaves idle once its claims are embedded. Each thread reads through a connection of its own
(`Store.reader` is one per thread), and none of them ever writes.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

MAX_THREADS = 4

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(2, min(os.cpu_count() or 1, MAX_THREADS)), thread_name_prefix="read")
        return _pool
