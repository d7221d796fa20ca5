"""Exceptions raised by allsh_sklearn.

Every error subclasses a built-in exception (``ValueError``, ``TypeError`` or
``RuntimeError``) so that callers can catch it without importing this module.
"""

__all__ = [
    "InvalidProbabilitiesError",
    "PoolExhaustedError",
    "NotFittedError",
]

from sklearn.exceptions import NotFittedError


class PoolExhaustedError(ValueError):
    """The pool holds fewer examples than a query asks for.

    Examples
    --------
    >>> raise PoolExhaustedError(n_available=3, n_requested=10)
    Traceback (most recent call last):
    ...
    allsh_sklearn.exceptions.PoolExhaustedError: Pool exhausted: 3 available / 10 ...
    """

    def __init__(self, n_available, n_requested):
        self.n_available = n_available
        self.n_requested = n_requested
        super().__init__(
            f"Pool exhausted: {n_available} available / {n_requested} requested. "
            "Lower 'n_instances' or pass a larger pool."
        )


class InvalidProbabilitiesError(ValueError):
    """A classifier's ``predict_proba`` returned values that are not probabilities."""
