"""Kept for imports of ``allsh_sklearn.models._default_model``: see :mod:`._loader`."""

from ._loader import (  # noqa: F401
    DEFAULT_MODEL_PACKAGE,
    default_model_path,
    load_model,
    load_tokenizer,
    quiet_transformers,
    resolve_model,
)
