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
"""

import numpy as np
from sklearn.base import BaseEstimator

from ..utils._selection import select_top
from ..utils._timing import QueryTimer
from ..utils._validation import check_n_instances, check_texts, predict_proba_checked


class BaseQueryStrategy(BaseEstimator):
    """Base class of query strategies (not to be used directly).

    Subclasses implement ``_score(classifier, X_pool, timer, random_state)``
    returning one score per pool item (larger is more informative), timing
    their model passes with ``timer.phase("inference")``. Strategies that
    select a batch jointly (rather than by top-k of a score) override
    ``_select`` instead.
    """

    #: Whether the strategy needs a fitted classifier (random sampling does not).
    requires_classifier = True

    def __call__(self, classifier, X_pool, n_instances=1, *, random_state=None):
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

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype=int64
            Positions in ``X_pool``, most informative first, without repeats.
        scores : ndarray of shape (n_instances,), dtype=float64
            The informativeness of each selected item.
        """
        check_texts(X_pool, name="X_pool")
        n_instances = check_n_instances(n_instances, len(X_pool))
        self._validate_params()
        if random_state is None:
            random_state = getattr(self, "random_state", None)
        timer = QueryTimer()
        indices, scores = self._select(
            classifier, X_pool, n_instances, timer=timer, random_state=random_state
        )
        self.last_scores_ = scores
        self.last_query_time_ = timer.as_dict()
        return indices, scores[indices]

    # Subclass hooks -----------------------------------------------------

    def _validate_params(self):
        """Check the parameters before any expensive work."""

    def _score(self, classifier, X_pool, *, timer, random_state):
        raise NotImplementedError

    def _select(self, classifier, X_pool, n_instances, *, timer, random_state):
        """Return ``(indices, scores)``, ``scores`` covering the whole pool."""
        scores = np.asarray(
            self._score(classifier, X_pool, timer=timer, random_state=random_state),
            dtype=np.float64,
        )
        with timer.phase("selection"):
            indices = select_top(scores, n_instances, random_state=random_state)
        return indices, scores

    # Helpers --------------------------------------------------------------

    @staticmethod
    def _predict_proba(classifier, X, timer):
        with timer.phase("inference"):
            return predict_proba_checked(classifier, X)
