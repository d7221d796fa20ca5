"""Shared helpers: input validation, top-k selection, query timing, caches."""

from ._cache_home import get_cache_home
from ._selection import select_top, select_top_balanced
from ._sqlite import SchemaVersionError, SQLiteStore
from ._timing import QueryTimer
from ._validation import (
    check_n_instances,
    check_probabilities,
    check_texts,
    predict_proba_checked,
    take,
)

__all__ = [
    "QueryTimer",
    "SQLiteStore",
    "SchemaVersionError",
    "check_n_instances",
    "check_probabilities",
    "check_texts",
    "get_cache_home",
    "predict_proba_checked",
    "select_top",
    "select_top_balanced",
    "take",
]
