"""The query-strategy contract shared by every strategy.

A strategy is a callable ``strategy(classifier, X_pool, n_instances=1, *,
random_state=None) -> (indices, scores)``: ``indices`` are the positions in
``X_pool`` to label, most informative first, and ``scores`` their
informativeness (modAL's ``ActiveLearner.query`` unpacks this pair).

Strategies are small scikit-learn estimators without ``fit``: their
parameters are reachable through ``get_params``/``set_params`` (so
``GridSearchCV`` can tune ``query_strategy__divergence``) and ``clone``
copies them. After a call, ``last_scores_`` holds the scores of the whole
pool and ``last_query_time_`` the seconds spent in model passes
(``"inference"``) and in scoring and selection (``"selection"``).

Rules every strategy follows:

- seeds: the ``random_state`` of the call wins; when it is None, the
  strategy's own ``random_state`` parameter is used. (Inside an
  :class:`~allsh_sklearn.ActiveLearner`, a strategy's own ``random_state``
  seeds the learner's sequence of per-query seeds.)
- repeated texts: a text that occurs several times in the pool is selected
  at most once per batch while other texts remain (``deduplicate=False``
  selects positions regardless of their texts);
- state: whatever a strategy learns from a pool (ALLSH's augmenter) is
  rebuilt when the parameters it was built from change (``set_params``) or
  when a pool holds texts the state was not built on.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone

from ..utils._selection import duplicate_groups, select_top
from ..utils._timing import QueryTimer
from ..utils._validation import (
    check_bool,
    check_n_instances,
    check_random_state_param,
    check_texts,
    predict_proba_checked,
)


def _token(value):
    """A comparable summary of a parameter value, to notice changes.

    Plain values compare by value, estimators by identity and parameters
    (so ``set_params`` on a nested estimator is noticed), anything else
    (caches, callables, RandomState instances) by identity.
    """
    if value is None or isinstance(value, str | bytes | numbers.Number | np.generic):
        return ("value", type(value).__name__, repr(value))
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        return (
            "estimator",
            id(value),
            type(value).__qualname__,
            tuple(sorted((name, _token(v)) for name, v in params.items())),
        )
    return ("object", id(value))


def param_tokens(strategy):
    """``{name: token}`` of a strategy's parameters, None without ``get_params``.

    Parameters
    ----------
    strategy : object or dict
        An estimator-like strategy, or a dict of parameter values.

    Returns
    -------
    tokens : dict or None
        Equal tokens mean unchanged parameters.
    """
    if isinstance(strategy, dict):
        params = strategy
    elif callable(getattr(strategy, "get_params", None)):
        params = strategy.get_params(deep=False)
    else:
        return None
    return {name: _token(value) for name, value in params.items()}


def copy_for_run(strategy):
    """The copy of a strategy that one active learning run works on.

    Estimator-like strategies are cloned, so that nothing learned in one run
    (a fitted augmenter, a warning already shown) reaches another; what an
    explicit ``fit`` learned from a corpus is kept (see ``ALLSH.fit``). A
    plain function is stateless and used as it is.

    Parameters
    ----------
    strategy : callable

    Returns
    -------
    strategy : callable
    """
    if isinstance(strategy, BaseQueryStrategy):
        return strategy._copy_for_run()
    if isinstance(strategy, BaseEstimator):
        return clone(strategy)
    return strategy


class BaseQueryStrategy(BaseEstimator):
    """Base class of query strategies (not to be used directly).

    Subclasses implement ``_score(classifier, X_pool, timer, random_state)``
    returning one score per pool item (larger is more informative), timing
    their model passes with ``timer.phase("inference")``. Strategies that
    select a batch jointly (rather than by top-k of a score) override
    ``_select`` instead, honouring its ``duplicates`` argument. State built
    during a call (ALLSH's augmenter) must be rebuilt when the parameters it
    comes from change; ``_copy_for_run`` gives the copy an active learner
    works on.
    """

    #: Whether the strategy needs a fitted classifier (random sampling does not).
    requires_classifier = True

    def __call__(
        self, classifier, X_pool, n_instances=1, *, random_state=None, deduplicate=True
    ):
        """Select ``n_instances`` items of ``X_pool`` to label.

        Parameters
        ----------
        classifier : object
            A fitted classifier with ``predict_proba`` on raw texts (a
            scikit-learn pipeline, a :class:`TransformerClassifier`, an
            :class:`ActiveLearner`, or a modAL learner).
        X_pool : sequence of str or of (str, str)
            The unlabeled pool.
        n_instances : int, default=1
            How many items to select.
        random_state : int, RandomState instance or None, default=None
            Seeds tie-breaking (and sampling, for random strategies). When
            None, the strategy's own ``random_state`` parameter (if any) is used.
        deduplicate : bool, default=True
            Select a text that occurs several times in the pool once (its
            first-ranked occurrence), filling the batch with the next best
            items; copies are taken only when the pool has fewer distinct
            texts than ``n_instances``. False selects positions regardless of
            their texts (the protocol of the paper's experiments). Pools
            without repeated texts give the same selection either way.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=int64
            Positions in ``X_pool``, most informative first, without repeats.
        scores : ndarray of shape (n_instances,), dtype=float64
            The informativeness of each selected item.
        """
        check_texts(X_pool, name="X_pool")
        n_instances = check_n_instances(n_instances, len(X_pool))
        check_random_state_param(
            random_state, owner=f"{type(self).__name__}.__call__"
        )
        check_bool(deduplicate, "deduplicate", owner=f"{type(self).__name__}.__call__")
        self._validate_params()
        check_random_state_param(
            getattr(self, "random_state", None), owner=type(self).__name__
        )
        if random_state is None:
            random_state = getattr(self, "random_state", None)
        timer = QueryTimer()
        with timer.phase("selection"):
            duplicates = duplicate_groups(X_pool) if deduplicate else None
        indices, scores = self._select(
            classifier,
            X_pool,
            n_instances,
            timer=timer,
            random_state=random_state,
            duplicates=duplicates,
        )
        self.last_scores_ = scores
        self.last_query_time_ = timer.as_dict()
        return indices, scores[indices]

    # Subclass hooks -----------------------------------------------------

    def _validate_params(self):
        """Check the parameters before any expensive work."""

    def _score(self, classifier, X_pool, *, timer, random_state):
        raise NotImplementedError

    def _select(
        self, classifier, X_pool, n_instances, *, timer, random_state, duplicates
    ):
        """Return ``(indices, scores)``, ``scores`` covering the whole pool.

        ``duplicates`` holds the group ids of repeated texts (None when every
        text is distinct); at most one item per group should be selected.
        """
        scores = np.asarray(
            self._score(classifier, X_pool, timer=timer, random_state=random_state),
            dtype=np.float64,
        )
        with timer.phase("selection"):
            indices = select_top(
                scores, n_instances, random_state=random_state, duplicates=duplicates
            )
        return indices, scores

    def _copy_for_run(self):
        """The copy an active learner works on (see :func:`copy_for_run`)."""
        return clone(self)

    # Helpers --------------------------------------------------------------

    @staticmethod
    def _predict_proba(classifier, X, timer):
        with timer.phase("inference"):
            return predict_proba_checked(classifier, X)
