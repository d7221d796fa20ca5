"""A prototype ALLSH variant measured by the runner, not a library strategy.

Plain ALLSH takes the global top-b by divergence. When the divergence is
larger for one predicted class than for the others (for example because the
augmenter perturbs one class's texts more, or the model is more sensitive on
one side of its boundary), every batch comes from that class and the labeled
set drifts away from the class balance. :class:`ClassBalancedALLSH` keeps
the ALLSH score and changes only the selection: the batch is split between
the classes the model predicts on the pool, in proportion to their
predicted share (or equally), and each share is filled by the top scores
within that predicted class.

This is a proposal for :class:`allsh_sklearn.strategies.ALLSH` (a
``balance`` parameter); it lives here so that the runner can compare it with
the plain method (``--strategies allsh allsh-balanced``).
"""

import numpy as np
from sklearn.utils import check_random_state

from ..strategies import ALLSH
from ..utils._selection import select_top

__all__ = ["ClassBalancedALLSH", "select_top_balanced"]


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


class ClassBalancedALLSH(ALLSH):
    """ALLSH whose batch is split between predicted classes (prototype).

    Same score as :class:`~allsh_sklearn.strategies.ALLSH`; the top-b
    selection is replaced by :func:`select_top_balanced` over the classes
    predicted on the pool.

    Parameters
    ----------
    augmenter : BaseAugmenter or None, default=None
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    divergence : {"kl", "reverse_kl", "jsd", "alpha"} or callable, default="kl"
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    alpha : float, default=0.5
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    n_augmentations : int, default=1
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    worst_case : bool, default=False
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    cache : object or None, default=None
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    random_state : int, RandomState instance or None, default=None
        See :class:`~allsh_sklearn.strategies.ALLSH`.
    proportion : {"pool", "uniform"}, default="pool"
        Batch shares proportional to the predicted class sizes in the pool,
        or equal.

    Attributes
    ----------
    last_predicted_ : ndarray of shape (n_pool,)
        The predicted class index of each pool item at the last query.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> texts = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(texts, [1, 0, 1, 0])
    >>> pool = ["a good plot", "bad acting", "a film", "good good film"]
    >>> strategy = ClassBalancedALLSH(random_state=0)
    >>> indices, scores = strategy(clf, pool, n_instances=2)
    >>> sorted(strategy.last_predicted_[indices].tolist())
    [0, 1]
    """

    def __init__(
        self,
        augmenter=None,
        divergence="kl",
        alpha=0.5,
        n_augmentations=1,
        worst_case=False,
        cache=None,
        random_state=None,
        proportion="pool",
    ):
        super().__init__(
            augmenter=augmenter,
            divergence=divergence,
            alpha=alpha,
            n_augmentations=n_augmentations,
            worst_case=worst_case,
            cache=cache,
            random_state=random_state,
        )
        self.proportion = proportion

    def _predict_proba(self, classifier, X, timer):
        # ALLSH._score predicts the pool first, then the copies: keep the first.
        proba = ALLSH._predict_proba(classifier, X, timer)
        if getattr(self, "_pool_proba", None) is None:
            self._pool_proba = proba
        return proba

    def _select(self, classifier, X_pool, n_instances, *, timer, random_state):
        self._pool_proba = None
        try:
            scores = np.asarray(
                self._score(classifier, X_pool, timer=timer, random_state=random_state),
                dtype=np.float64,
            )
            predicted = self._pool_proba.argmax(axis=1)
        finally:
            self._pool_proba = None
        with timer.phase("selection"):
            indices = select_top_balanced(
                scores,
                predicted,
                n_instances,
                proportion=self.proportion,
                random_state=random_state,
            )
        self.last_predicted_ = predicted
        return indices, scores
