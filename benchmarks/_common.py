"""Set-up shared by the benchmark scripts: where the data is, a best-of timer.

The scripts run as ``python benchmarks/bench_x.py``: this directory is then on
``sys.path``, and they import ``from _common import ...``.
"""

import gzip
import json
import os
import time
from pathlib import Path

#: The benchmark data beside the repository (``../shared/data``).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def default_data_home():
    """The ``--data-home`` default: None if $ALLSH_SKLEARN_DATA is set, else
    the shared data beside the repository if it is there.

    None lets :func:`allsh_sklearn.datasets.load_dataset` find the data itself.
    """
    if os.environ.get("ALLSH_SKLEARN_DATA"):
        return None
    return str(SHARED_DATA) if SHARED_DATA.is_dir() else None


def read_rows(data_home, dataset, split):
    """The rows (dicts) of ``<data home>/<dataset>/<split>.jsonl.gz``.

    ``data_home`` None means $ALLSH_SKLEARN_DATA, else the shared data. Exits
    with a message naming the path if the file is not there.
    """
    home = data_home or os.environ.get("ALLSH_SKLEARN_DATA") or SHARED_DATA
    path = Path(home) / dataset / f"{split}.jsonl.gz"
    if not path.exists():
        raise SystemExit(f"No data file at {path}; pass --data-home.")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def best_time(function, repeat=1):
    """Return ``function()`` and its best wall time (seconds) over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return result, best
