"""Random and uncertainty sampling: the classic baselines.

The measures (``classifier_entropy``, ``classifier_margin``,
``classifier_least_confidence``) are kept apart from the selectors that rank
by them, as in modAL.
"""

import numpy as np
from scipy.stats import entropy as _entropy
from sklearn.utils import check_random_state

from ..utils._constraints import RandomStateLike
from ._base import BaseQueryStrategy


def classifier_entropy(proba):
    """Predictive entropy ``-sum_c p_c ln p_c`` of each row, in nats.

    Examples
    --------
    >>> classifier_entropy([[0.5, 0.5], [1.0, 0.0]]).round(4).tolist()
    [0.6931, 0.0]
    """
    return _entropy(np.asarray(proba, dtype=np.float64), axis=1)


def classifier_margin(proba):
    """Minus the gap between the two most probable classes of each row.

    Larger means more uncertain, so that every measure is maximised.

    Examples
    --------
    >>> classifier_margin([[0.6, 0.4], [0.9, 0.1]]).round(4).tolist()
    [-0.2, -0.8]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] < 2:
        return np.zeros(proba.shape[0])
    top_two = -np.partition(-proba, 1, axis=1)[:, :2]
    return -(top_two[:, 0] - top_two[:, 1])


def classifier_least_confidence(proba):
    """One minus the largest class probability of each row.

    Examples
    --------
    >>> classifier_least_confidence([[0.6, 0.4], [0.9, 0.1]]).round(4).tolist()
    [0.4, 0.1]
    """
    return 1.0 - np.asarray(proba, dtype=np.float64).max(axis=1)


class RandomSampling(BaseQueryStrategy):
    """Select pool items uniformly at random.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Used when the call does not pass its own ``random_state``. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.

    Examples
    --------
    >>> from allsh_sklearn.strategies import RandomSampling
    >>> indices, scores = RandomSampling()(None, ["a", "b", "c"], 2, random_state=0)
    >>> sorted(indices.tolist()) != [] and len(set(indices.tolist())) == 2
    True
    """

    requires_classifier = False

    _parameter_constraints = {"random_state": [RandomStateLike()]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _score(self, context):
        with context.timer.phase("selection"):
            return check_random_state(context.random_state).uniform(
                size=len(context.X_pool)
            )


class _ProbaMeasureSampling(BaseQueryStrategy):
    measure = None

    _parameter_constraints = {"random_state": [RandomStateLike()]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def _score(self, context):
        proba = context.proba()
        with context.timer.phase("selection"):
            return type(self).measure(proba)


class EntropySampling(_ProbaMeasureSampling):
    """Select the items of largest predictive entropy (Lewis and Gale, 1994).

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking when the call does not pass its own. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.
    """

    measure = staticmethod(classifier_entropy)


class MarginSampling(_ProbaMeasureSampling):
    """Select the items with the smallest gap between the top two classes.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking when the call does not pass its own. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.
    """

    measure = staticmethod(classifier_margin)


class UncertaintySampling(_ProbaMeasureSampling):
    """Select the least confident items (smallest largest probability).

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seeds tie-breaking when the call does not pass its own. Inside an
        :class:`~allsh_sklearn.ActiveLearner`, seeds its per-query seeds.
    """

    measure = staticmethod(classifier_least_confidence)
