"""Class balancing as a wrapper around any strategy.

A strategy's batch can drift to one class when its score is larger on one
side of the decision boundary. :class:`ClassBalanced` splits the batch
between the classes the model predicts on the pool (in proportion to their
predicted share, or equally) and lets the wrapped strategy fill each share:

a strategy that ranks by a score is scored once on the whole pool and each
share takes the highest scores of its predicted class; one that selects a
batch jointly (BADGE) selects within each predicted class. The selection
itself is :func:`~allsh_sklearn.strategies._balanced_selection.balanced_select`,
which ``ALLSH(balance=...)`` makes too: ``ClassBalanced(ALLSH(),
proportion=p)`` and ``ALLSH(balance=p)`` select the same batch.
"""

from ..utils._constraints import Callable, Options
from ._allsh import ALLSH
from ._balanced_selection import balanced_select
from ._base import BaseQueryStrategy, copy_for_run, param_token

__all__ = ["ClassBalanced", "balanced_select"]


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

    _parameter_constraints = {
        "strategy": [
            Callable(
                description="a query strategy (a callable strategy(classifier, "
                "X_pool, n_instances, random_state=...))"
            ),
            None,
        ],
        "proportion": [Options(("pool", "uniform"))],
    }

    def __init__(self, strategy=None, proportion="pool"):
        self.strategy = strategy
        self.proportion = proportion

    def _validate_params(self):
        # Its own parameters, then the wrapped strategy's, named after it (the
        # seed a call without one uses is the wrapped strategy's).
        super()._validate_params()
        if isinstance(self.strategy, BaseQueryStrategy):
            self.strategy._validate_params()
            self.strategy._validate_own_random_state()

    def _own_random_state(self):
        if isinstance(self.strategy, BaseQueryStrategy):
            return self.strategy._own_random_state()
        return None

    def _inner(self):
        """``strategy_``, made again when the ``strategy`` parameter changed."""
        token = param_token(self.strategy)
        if getattr(self, "_strategy_token", None) != token:
            if self.strategy is None:
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
