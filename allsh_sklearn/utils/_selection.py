"""Top-k selection with seeded tie-breaking."""

import numpy as np
from sklearn.utils import check_random_state


def select_top(scores, n_instances, random_state=None):
    """Return the indices of the ``n_instances`` largest scores.

    Ties are broken by a random permutation drawn from ``random_state``, so
    that equal scores (for example, a model that predicts the same
    distribution everywhere) do not always favour the start of the pool.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Scores, larger is more informative. NaN is not allowed.
    n_instances : int
        How many indices to return, ``1 <= n_instances <= n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seed of the tie-breaking permutation.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Indices into ``scores``, highest score first.

    Examples
    --------
    >>> from allsh_sklearn.utils import select_top
    >>> select_top([0.1, 0.9, 0.5], 2).tolist()
    [1, 2]
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1:
        raise ValueError(
            f"The 'scores' parameter must be one-dimensional. Got shape {scores.shape}."
        )
    if np.isnan(scores).any():
        raise ValueError("The 'scores' parameter must not contain NaN.")
    if not 1 <= n_instances <= scores.shape[0]:
        raise ValueError(
            f"The 'n_instances' parameter must be in [1, {scores.shape[0]}]. "
            f"Got {n_instances!r} instead."
        )
    tie_breaker = check_random_state(random_state).permutation(scores.shape[0])
    order = np.lexsort((tie_breaker, -scores))
    return order[:n_instances].astype(np.int64)
