"""Top-k selection with seeded tie-breaking, globally or split between groups."""

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


def select_top_balanced(
    scores, groups, n_instances, proportion="pool", random_state=None
):
    """Top ``n_instances`` by score, split between groups.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Larger is more informative.
    groups : array-like of shape (n_samples,)
        The group (predicted class) of each item.
    n_instances : int
        How many items to select.
    proportion : {"pool", "uniform"}, default="pool"
        Quotas proportional to each group's size in the pool, or equal.
        Quotas are rounded by largest remainder; a group smaller than its
        quota gives the rest to the global ranking.
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Highest score first.

    Examples
    --------
    >>> from allsh_sklearn.utils import select_top_balanced
    >>> select_top_balanced([0.9, 0.8, 0.7, 0.1, 0.2], [0, 0, 0, 1, 1], 2,
    ...                     proportion="uniform").tolist()
    [0, 4]
    """
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups)
    rng = check_random_state(random_state)
    labels, counts = np.unique(groups, return_counts=True)
    if proportion == "pool":
        weights = counts / counts.sum()
    elif proportion == "uniform":
        weights = np.full(len(labels), 1.0 / len(labels))
    else:
        raise ValueError(
            "The 'proportion' parameter must be 'pool' or 'uniform'. Got "
            f"{proportion!r} instead."
        )
    exact = weights * n_instances
    quotas = np.floor(exact).astype(int)
    remainder = n_instances - quotas.sum()
    if remainder:
        quotas[np.argsort(-(exact - quotas), kind="stable")[:remainder]] += 1
    seed = rng.randint(2**31 - 1)
    chosen = []
    for label, quota in zip(labels, quotas, strict=True):
        members = np.flatnonzero(groups == label)
        take = min(int(quota), len(members))
        if take:
            chosen.extend(members[select_top(scores[members], take, random_state=seed)])
    if len(chosen) < n_instances:
        rest = np.setdiff1d(np.arange(len(scores)), chosen)
        extra = select_top(scores[rest], n_instances - len(chosen), random_state=seed)
        chosen.extend(rest[extra])
    chosen = np.asarray(chosen, dtype=np.int64)
    order = np.lexsort(
        (check_random_state(seed).permutation(len(chosen)), -scores[chosen])
    )
    return chosen[order]
