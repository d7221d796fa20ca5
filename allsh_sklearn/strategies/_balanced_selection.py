"""Class-balanced selection: a batch shared out between the predicted classes.

The selection :class:`~allsh_sklearn.strategies.ClassBalanced` makes (and
``ALLSH(balance=...)``, which is ``ClassBalanced(ALLSH(), proportion=...)``
without the wrapper): the batch is split between the classes the model
predicts on the pool, in proportion to their predicted share or equally,
and the strategy fills each share:

- a strategy that ranks by a score (``_score``: ALLSH, entropy, CAL, ...)
  is scored once on the whole pool, and each share takes the highest scores
  of its predicted class (:func:`~allsh_sklearn.utils.select_top_balanced`);
- a strategy that selects a batch jointly (BADGE) selects within each
  predicted class, on parts of the pool that share the call's model outputs
  (:meth:`QueryContext.subset`), so the model runs once;
- a plain function ``f(classifier, X_pool, n_instances, random_state=...)``
  is called on each predicted class's part of the pool.

A share larger than its class (or than its class's distinct texts) gives
the rest to the other classes: the strategy fills it from the items not
selected yet.
"""

import numpy as np
from sklearn.utils import check_random_state

from ..utils._selection import group_quotas, select_top_balanced
from ..utils._validation import take
from ._base import BaseQueryStrategy

__all__ = ["balanced_select"]


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
