"""Class balancing as a wrapper around any strategy.

A strategy's batch can drift to one class when its score is larger on one
side of the decision boundary. :class:`ClassBalanced` splits the batch
between the classes the model predicts on the pool (in proportion to their
predicted share, or equally) and lets the wrapped strategy fill each share:

- a strategy that ranks by a score (``_score``: ALLSH, entropy, CAL, ...)
  is scored once on the whole pool, and each share takes the highest scores
  of its predicted class (:func:`~allsh_sklearn.utils.select_top_balanced`);
  ``ALLSH(balance=...)`` is exactly this;
- a strategy that selects a batch jointly (BADGE) selects within each
  predicted class, on parts of the pool that share the call's model outputs
  (:meth:`QueryContext.subset`), so the model runs once;
- a plain function ``f(classifier, X_pool, n_instances, random_state=...)``
  is called on each predicted class's part of the pool.

A share larger than its class (or than its class's distinct texts) gives
the rest to the other classes: the wrapped strategy fills it from the items
not selected yet.
"""

import numpy as np
from sklearn.utils import check_random_state

from ..utils._selection import group_quotas, select_top_balanced
from ..utils._validation import check_one_of, check_random_state_param, take
from ._base import BaseQueryStrategy, _token, copy_for_run

__all__ = ["ClassBalanced", "balanced_select"]


def _ranks_by_score(strategy):
    return isinstance(strategy, BaseQueryStrategy) and strategy._selects_by_score()


def _select_part(strategy, context, members, n_instances, seed, scores):
    """Let ``strategy`` select ``n_instances`` among ``members``; fill ``scores``."""
    if isinstance(strategy, BaseQueryStrategy):
        part = context.subset(members, n_instances, random_state=seed)
        indices, part_scores = strategy._select(part)
        scores[members] = part_scores
    else:
        indices, selected_scores = strategy(
            context.classifier,
            take(context.X_pool, members),
            n_instances,
            random_state=seed,
        )
        indices = np.asarray(indices, dtype=np.int64)
        scores[members[indices]] = np.asarray(selected_scores, dtype=np.float64)
    return members[indices]


def _n_distinct(duplicates, members):
    if duplicates is None:
        return len(members)
    return len(np.unique(duplicates[members]))


def balanced_select(strategy, context, proportion="pool"):
    """Class-balanced selection of ``context.n_instances`` items by ``strategy``.

    Parameters
    ----------
    strategy : BaseQueryStrategy or callable
        The strategy that fills each class's share.
    context : QueryContext
        The call's context.
    proportion : {"pool", "uniform"}, default="pool"
        Shares proportional to each predicted class's size in the pool, or
        equal.

    Returns
    -------
    indices : ndarray of shape (n_instances,), dtype=int64
        Highest score first.
    scores : ndarray of shape (n_pool,), dtype=float64
        The wrapped strategy's scores (NaN where a plain function gave none).
    predicted : ndarray of shape (n_pool,)
        The predicted class index of each pool item.
    """
    n_instances, duplicates = context.n_instances, context.duplicates
    if _ranks_by_score(strategy):
        scores = np.asarray(strategy._score(context), dtype=np.float64)
        predicted = strategy._pool_proba(context).argmax(axis=1)
        with context.timer.phase("selection"):
            indices = select_top_balanced(
                scores,
                predicted,
                n_instances,
                proportion=proportion,
                random_state=context.random_state,
                duplicates=duplicates,
            )
        return indices, scores, predicted
    if isinstance(strategy, BaseQueryStrategy):
        proba = strategy._pool_proba(context)
    else:
        proba = context.proba()
    predicted = proba.argmax(axis=1)
    labels, quotas = group_quotas(predicted, n_instances, proportion)
    seed = check_random_state(context.random_state).randint(2**31 - 1)
    scores = np.full(len(context.X_pool), np.nan)
    chosen = []
    for label, quota in zip(labels, quotas, strict=True):
        members = np.flatnonzero(predicted == label)
        n_take = min(int(quota), _n_distinct(duplicates, members))
        if n_take:
            chosen.extend(
                _select_part(strategy, context, members, n_take, seed, scores)
            )
    if len(chosen) < n_instances:
        rest = np.setdiff1d(np.arange(len(context.X_pool)), chosen)
        if duplicates is not None:
            # Copies of selected texts only if the others do not suffice.
            fresh = rest[~np.isin(duplicates[rest], duplicates[chosen])]
            if len(fresh) >= n_instances - len(chosen):
                rest = fresh
        chosen.extend(
            _select_part(
                strategy, context, rest, n_instances - len(chosen), seed, scores
            )
        )
    chosen = np.asarray(chosen, dtype=np.int64)
    tie_breaker = check_random_state(seed).permutation(len(chosen))
    order = np.lexsort((tie_breaker, -np.nan_to_num(scores[chosen], nan=-np.inf)))
    return chosen[order], scores, predicted


class ClassBalanced(BaseQueryStrategy):
    """Split the batch of any strategy between the predicted classes.

    The batch is divided between the classes the model predicts on the pool,
    in proportion to their predicted share (``"pool"``) or equally
    (``"uniform"``), and the wrapped strategy fills each share with its best
    items of that class (see :func:`balanced_select`). Not in the paper: it
    keeps batches from drifting to one class when a strategy's score is
    larger on one side of the boundary. ``ClassBalanced(ALLSH(),
    proportion="pool")`` selects what ``ALLSH(balance="pool")`` selects.

    Parameters
    ----------
    strategy : BaseQueryStrategy, callable or None, default=None
        The strategy to balance; None is :class:`ALLSH` with its defaults. It
        is copied at the first call (``strategy_``), so nothing the wrapper
        learns reaches the object given; a plain function is used as it is.
    proportion : {"pool", "uniform"}, default="pool"
        Shares proportional to each predicted class's size in the pool, or
        equal.

    Attributes
    ----------
    strategy_ : BaseQueryStrategy or callable
        The copy of ``strategy`` in use (made again when ``strategy`` or its
        parameters change).
    last_scores_ : ndarray of shape (n_pool,)
        The wrapped strategy's scores of the pool at the last call (NaN
        where a plain function gave none).
    last_predicted_ : ndarray of shape (n_pool,)
        The predicted class index of each pool item at the last call.
    last_query_time_ : dict
        Seconds spent in the phases of the last call.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.strategies import BADGE, ClassBalanced
    >>> texts = ["a good film", "a bad film", "good acting", "bad plot"]
    >>> clf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    >>> clf = clf.fit(texts, [1, 0, 1, 0])
    >>> pool = ["a good plot", "bad acting", "a film", "good good film"]
    >>> strategy = ClassBalanced(BADGE(embedding="tfidfvectorizer"), "uniform")
    >>> indices, scores = strategy(clf, pool, n_instances=2, random_state=0)
    >>> sorted(strategy.last_predicted_[indices].tolist())
    [0, 1]
    """

    def __init__(self, strategy=None, proportion="pool"):
        self.strategy = strategy
        self.proportion = proportion

    def _validate_params(self):
        check_one_of(
            self.proportion, "proportion", ("pool", "uniform"), owner="ClassBalanced"
        )
        strategy = self.strategy
        if strategy is not None and not callable(strategy):
            raise TypeError(
                "The 'strategy' parameter of ClassBalanced must be a query "
                "strategy (a callable strategy(classifier, X_pool, n_instances, "
                f"random_state=...)) or None. Got {type(strategy).__name__} "
                "instead."
            )
        if isinstance(strategy, BaseQueryStrategy):
            strategy._validate_params()
            check_random_state_param(
                strategy._own_random_state(), owner=type(strategy).__name__
            )

    def _own_random_state(self):
        if isinstance(self.strategy, BaseQueryStrategy):
            return self.strategy._own_random_state()
        return None

    def _inner(self):
        """``strategy_``, made again when the ``strategy`` parameter changed."""
        token = _token(self.strategy)
        if getattr(self, "_strategy_token", None) != token:
            if self.strategy is None:
                from ._allsh import ALLSH

                self.strategy_ = ALLSH()
            else:
                self.strategy_ = copy_for_run(self.strategy)
            self._strategy_token = token
        return self.strategy_

    def _selects_by_score(self):
        return False

    def _pool_proba(self, context):
        inner = self._inner()
        if isinstance(inner, BaseQueryStrategy):
            return inner._pool_proba(context)
        return context.proba()

    def _select(self, context):
        indices, scores, predicted = balanced_select(
            self._inner(), context, self.proportion
        )
        self.last_predicted_ = predicted
        return indices, scores

    def _copy_for_run(self):
        copy = super()._copy_for_run()
        copy.strategy = copy_for_run(self.strategy)
        return copy
