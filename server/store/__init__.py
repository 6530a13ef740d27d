"""The reader's data: every SQL statement of Crosscurrent lives in this package, one module per concern.

`Store` is the one object the rest of the product holds; its methods come from the modules below, which
share the connections of `base.Connections` (one writer behind a lock, a reader per thread).
"""

from __future__ import annotations

from .articles import ArticleStore
from .base import Connections, connected_groups, fts_all_terms, fts_query, fts_words, utcnow
from .claims import ClaimStore
from .pairing import PairingStore
from .stats import StatsStore
from .stories import StoryStore
from .tags import TagStore


class Store(ArticleStore, ClaimStore, StoryStore, StatsStore, PairingStore, TagStore, Connections):
    """One data folder's database: articles, claims and vectors, stories, statistics, pairing, tags."""


__all__ = ["Store", "connected_groups", "fts_all_terms", "fts_query", "fts_words", "utcnow"]
