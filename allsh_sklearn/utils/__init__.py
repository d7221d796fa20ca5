"""Shared helpers: input validation, declared parameter constraints, stable keys
and seeds, top-k selection, query timing, caches."""

from ._cache_home import get_cache_home
from ._constraints import (
    Boolean,
    Callable,
    Constraint,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    ParameterConstraintsMixin,
    RandomStateLike,
    validate_parameter,
    validate_params,
)
from ._hashing import derive_seed, text_key
from ._selection import select_top, select_top_balanced
from ._sqlite import SchemaVersionError, SQLiteStore
from ._text_diff import changed_share, changed_tokens
from ._timing import QueryTimer
from ._validation import (
    check_fitted,
    check_n_instances,
    check_probabilities,
    check_texts,
    describe,
    is_pair,
    predict_proba_checked,
    take,
)

__all__ = [
    "Boolean",
    "Callable",
    "Constraint",
    "HasMethods",
    "InstanceOf",
    "Interval",
    "Options",
    "ParameterConstraintsMixin",
    "QueryTimer",
    "RandomStateLike",
    "SQLiteStore",
    "SchemaVersionError",
    "changed_share",
    "changed_tokens",
    "check_fitted",
    "check_n_instances",
    "check_probabilities",
    "check_texts",
    "derive_seed",
    "describe",
    "get_cache_home",
    "is_pair",
    "predict_proba_checked",
    "select_top",
    "select_top_balanced",
    "take",
    "text_key",
    "validate_parameter",
    "validate_params",
]
