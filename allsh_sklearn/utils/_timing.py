"""Wall-clock timing of the phases of a query."""

import time
from contextlib import contextmanager


class QueryTimer:
    """Accumulate the seconds spent in named phases of a query.

    Strategies time their model passes under ``"inference"`` and their
    scoring, neighbour search or clustering under ``"selection"``, so that
    the paper's Table 13 (query time per strategy) can be rebuilt.

    Examples
    --------
    >>> timer = QueryTimer()
    >>> with timer.phase("inference"):
    ...     pass
    >>> sorted(timer.as_dict())
    ['inference', 'selection', 'total']
    """

    def __init__(self):
        self.seconds = {"inference": 0.0, "selection": 0.0}

    @contextmanager
    def phase(self, name):
        """Time the body of a ``with`` block under ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + (
                time.perf_counter() - start
            )

    def as_dict(self):
        """Return the seconds per phase and their ``"total"``."""
        result = dict(self.seconds)
        result["total"] = sum(self.seconds.values())
        return result
