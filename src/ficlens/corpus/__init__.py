"""A whole archive: corpus runs into a DuckDB store, faceted queries, statistics, Parquet export.

    from ficlens.corpus import run_corpus, Store, Filters
    run_corpus(["stories/"], "fics.duckdb")
    with Store("fics.duckdb", read_only=True) as store:
        page = store.search(Filters(fandom="Grey's Anatomy", words="1000..5000"), limit=20)

The store's tables are described in docs/corpus.md (and defined in `schema.py`).
"""
from __future__ import annotations

from .query import Filters
from .runner import RunSummary, run_corpus
from .store import SearchResult, Store, StoreError

__all__ = ["Filters", "RunSummary", "SearchResult", "Store", "StoreError", "run_corpus"]
