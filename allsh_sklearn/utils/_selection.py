"""Top-k selection with seeded tie-breaking, globally or split between groups.

A batch holds at most one item per distinct text: selectors take a
``duplicates`` array (from :func:`duplicate_groups`) and skip the later
copies of a text already selected, filling the batch with the next best
items. Only when the pool has fewer distinct texts than the batch are
copies taken again (best first). Pools without repeated texts give exactly
the selection made without ``duplicates``.
"""

import json

import numpy as np
from sklearn.utils import check_random_state

from ._hashing import text_key
from ._validation import is_pair


def text_digests(X):
    """64-bit digests of the texts (or text pairs) of ``X``, stable across runs.

    Parameters
    ----------
    X : sequence of str or of (str, str)

    Returns
    -------
    digests : ndarray of shape (n_samples,), dtype=uint64
        Equal items have equal digests (a pair is compared as a pair).

    Examples
    --------
    >>> d = text_digests(["a film", "a plot", "a film"])
    >>> bool(d[0] == d[2]), bool(d[0] == d[1])
    (True, False)
    """
    items = X
    return np.fromiter(
        (_text_digest(item) for item in items), dtype=np.uint64, count=len(items)
    )


def _text_digest(item):
    """The 8-byte BLAKE2b digest of a text (or of a pair, as JSON) as an int."""
    text = json.dumps(list(item), ensure_ascii=False) if is_pair(item) else item
    key = text_key(text, algorithm="blake2b", digest_size=8)
    return int.from_bytes(bytes.fromhex(key), "little")


def duplicate_groups(X=None, *, digests=None):
    """Group ids of repeated texts, or None when every text is distinct.

    Parameters
    ----------
    X : sequence of str or of (str, str), default=None
        The pool.
    digests : ndarray of uint64, default=None
        Its :func:`text_digests`, if already computed.

    Returns
    -------
    groups : ndarray of shape (n_samples,), dtype=int64, or None
        Equal texts share a group id; None if no text repeats.

    Examples
    --------
    >>> duplicate_groups(["a", "b", "a"]).tolist()
    [0, 1, 0]
    >>> duplicate_groups(["a", "b"]) is None
    True
    """
    if digests is None:
        digests = text_digests(X)
    unique, groups = np.unique(digests, return_inverse=True)
    if len(unique) == len(digests):
        return None
    return groups.astype(np.int64).ravel()


def _first_of_each_group(order, duplicates, n_instances, taken=()):
    """The first ``n_instances`` of ``order`` with one item per group.

    Items whose group is in ``taken`` or already picked are skipped; if fewer
    than ``n_instances`` remain, the skipped ones fill the rest in ``order``.
    """
    seen = set(int(g) for g in taken)
    picked, skipped = [], []
    for index in order:
        group = int(duplicates[index])
        if group in seen:
            skipped.append(index)
            continue
        seen.add(group)
        picked.append(index)
        if len(picked) == n_instances:
            break
    if len(picked) < n_instances:
        picked.extend(skipped[: n_instances - len(picked)])
    return np.asarray(picked, dtype=np.int64)


def select_top(scores, n_instances, random_state=None, duplicates=None):
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
    duplicates : array-like of shape (n_samples,) or None, default=None
        Group ids of repeated texts (:func:`duplicate_groups`): at most one
        item per group is selected while other groups remain.

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
    if duplicates is not None:
        return _first_of_each_group(order, np.asarray(duplicates), n_instances)
    return order[:n_instances].astype(np.int64)


def group_quotas(groups, n_instances, proportion="pool"):
    """Split a batch between groups, by their share of the pool or equally.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        The group (predicted class) of each item.
    n_instances : int
        The batch size.
    proportion : {"pool", "uniform"}, default="pool"
        Quotas proportional to each group's size in the pool, or equal.
        Rounded by largest remainder, ties to the first group.

    Returns
    -------
    labels : ndarray
        The distinct groups, sorted.
    quotas : ndarray of int
        The share of the batch of each, summing to ``n_instances`` (a group
        may get more than its size; the caller gives the rest to others).

    Examples
    --------
    >>> labels, quotas = group_quotas([0, 0, 0, 1], 3)
    >>> labels.tolist(), quotas.tolist()
    ([0, 1], [2, 1])
    """
    labels, counts = np.unique(np.asarray(groups), return_counts=True)
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
    return labels, quotas


def select_top_balanced(
    scores, groups, n_instances, proportion="pool", random_state=None, duplicates=None
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
    duplicates : array-like of shape (n_samples,) or None, default=None
        Group ids of repeated texts (:func:`duplicate_groups`): at most one
        item per repeated text while other texts remain.

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
    labels, quotas = group_quotas(groups, n_instances, proportion)
    seed = rng.randint(2**31 - 1)
    if duplicates is not None:
        duplicates = np.asarray(duplicates)
    chosen = []
    for label, quota in zip(labels, quotas, strict=True):
        members = np.flatnonzero(groups == label)
        if duplicates is not None:
            # A class's quota counts its distinct texts.
            quota = min(int(quota), len(np.unique(duplicates[members])))
        take = min(int(quota), len(members))
        if take:
            chosen.extend(
                members[
                    select_top(
                        scores[members],
                        take,
                        random_state=seed,
                        duplicates=None if duplicates is None else duplicates[members],
                    )
                ]
            )
    if len(chosen) < n_instances:
        rest = np.setdiff1d(np.arange(len(scores)), chosen)
        if duplicates is None:
            extra = select_top(
                scores[rest], n_instances - len(chosen), random_state=seed
            )
        else:
            tie_breaker = check_random_state(seed).permutation(len(rest))
            order = np.lexsort((tie_breaker, -scores[rest]))
            extra = _first_of_each_group(
                order,
                duplicates[rest],
                n_instances - len(chosen),
                taken=duplicates[chosen],
            )
        chosen.extend(rest[extra])
    chosen = np.asarray(chosen, dtype=np.int64)
    order = np.lexsort(
        (check_random_state(seed).permutation(len(chosen)), -scores[chosen])
    )
    return chosen[order]
