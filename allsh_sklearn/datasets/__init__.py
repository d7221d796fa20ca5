"""Loaders for the benchmark datasets of the ALLSH paper.

The datasets live in a data home (an argument, else the ``ALLSH_SKLEARN_DATA``
environment variable, else ``~/allsh_sklearn_data``), one folder per dataset::

    <data_home>/<name>/meta.json
    <data_home>/<name>/<split>.jsonl.gz

:func:`load_dataset` reads a split, :func:`list_datasets` shows what is
there, and :func:`fetch_dataset` downloads the public originals and writes
them in that layout. :func:`make_word_sentiment` generates a small
synthetic sentiment task for tests and benchmarks.
"""

from ._download import DownloadError, fetch_dataset
from ._loaders import (
    KNOWN_DATASETS,
    DataHomeNotFoundError,
    DatasetNotFoundError,
    SplitNotFoundError,
    get_data_home,
    list_datasets,
    load_dataset,
)
from ._synthetic import make_word_sentiment

__all__ = [
    "KNOWN_DATASETS",
    "DataHomeNotFoundError",
    "DatasetNotFoundError",
    "DownloadError",
    "SplitNotFoundError",
    "fetch_dataset",
    "get_data_home",
    "list_datasets",
    "load_dataset",
    "make_word_sentiment",
]
