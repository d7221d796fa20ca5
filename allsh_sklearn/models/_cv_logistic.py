"""Logistic regression whose ``C`` is chosen by cross-validation at every fit.

An active learning run refits its classifier on 10 labels, then 40, then
500: a regularisation strength chosen once, for one number of labels, is
wrong at the others. :class:`CrossValidatedLogisticRegression` picks ``C``
from a grid by stratified k-fold log-loss on the labels it is fitted on, so
the choice follows the size of the labeled set without ever looking at a
test or development split.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..utils import Interval, ParameterConstraintsMixin

__all__ = ["CrossValidatedLogisticRegression"]

_OWNER = "CrossValidatedLogisticRegression"

#: The default grid: decades from strong to weak regularisation.
DEFAULT_CS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


class CrossValidatedLogisticRegression(
    ParameterConstraintsMixin, ClassifierMixin, BaseEstimator
):
    """Logistic regression with ``C`` chosen by k-fold log-loss at each fit.

    Each :meth:`fit` scores every ``C`` of ``Cs`` by the mean log-loss of
    a stratified k-fold split of the labels it is given (``k`` the
    smaller of ``max_folds`` and the smallest class count, so every
    training fold holds every class), takes the best (the smallest ``C``
    on ties) and refits on all the labels. When some class has a single
    label no such split exists, and ``fallback_C`` is used.

    Parameters
    ----------
    Cs : sequence of float, default=(0.01, 0.1, 1, 10, 100, 1000)
        Inverse regularisation strengths to choose from, all positive.
    max_folds : int, default=5
        The most folds of the split, at least 2.
    fallback_C : float, default=1.0
        ``C`` when a class has fewer than 2 labels.
    class_weight : {None, "balanced"}, default=None
        Passed to :class:`~sklearn.linear_model.LogisticRegression`.
    max_iter : int, default=2000
        Passed to :class:`~sklearn.linear_model.LogisticRegression`.
    random_state : int, default=0
        Shuffles the folds (the fit is otherwise deterministic).

    Attributes
    ----------
    C_ : float
        The ``C`` of the last fit.
    n_folds_ : int
        The folds of the last fit's split; 0 when no search was run (a
        single ``C`` in ``Cs``, or ``fallback_C``).
    estimator_ : LogisticRegression
        Refitted on all the labels with ``C_``.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    n_iter_ : ndarray
        The refitted model's iterations.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(-1, 1, (20, 2)), rng.normal(1, 1, (20, 2))]
    >>> y = np.r_[np.zeros(20), np.ones(20)]
    >>> model = CrossValidatedLogisticRegression().fit(X, y)
    >>> model.n_folds_, model.C_ in model.Cs
    (5, True)
    >>> CrossValidatedLogisticRegression().fit(X[19:22], y[19:22]).C_
    1.0
    """

    def __init__(
        self,
        Cs=DEFAULT_CS,
        *,
        max_folds=5,
        fallback_C=1.0,
        class_weight=None,
        max_iter=2000,
        random_state=0,
    ):
        self.Cs = Cs
        self.max_folds = max_folds
        self.fallback_C = fallback_C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state

    _parameter_constraints = {
        "max_folds": [Interval(numbers.Integral, 2, None)],
        "fallback_C": [
            Interval(
                numbers.Real,
                0,
                float("inf"),
                closed="neither",
                description="a positive, finite float",
            )
        ],
    }

    def _check_params(self):
        try:
            Cs = np.asarray(self.Cs, dtype=float) if np.ndim(self.Cs) == 1 else None
        except (TypeError, ValueError):
            Cs = None
        if Cs is None or Cs.size == 0 or not np.all(np.isfinite(Cs) & (Cs > 0)):
            raise ValueError(
                f"The 'Cs' parameter of {_OWNER} must be a non-empty sequence "
                f"of positive, finite floats. Got {self.Cs!r} instead."
            )
        self._validate_params()
        return Cs

    def _logistic_regression(self, C):
        return LogisticRegression(
            C=C, class_weight=self.class_weight, max_iter=self.max_iter
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # as LogisticRegression (TF-IDF rows)
        return tags

    def fit(self, X, y):
        """Choose ``C`` on ``(X, y)`` by k-fold log-loss, then fit on all of it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : CrossValidatedLogisticRegression
        """
        Cs = self._check_params()
        check_classification_targets(y)
        _, counts = np.unique(np.asarray(y), return_counts=True)
        n_folds = int(min(self.max_folds, counts.min())) if counts.size > 1 else 0
        if Cs.size == 1:
            n_folds, C = 0, float(Cs[0])
        elif n_folds >= 2:
            search = GridSearchCV(
                self._logistic_regression(1.0),
                {"C": [float(C) for C in Cs]},
                scoring="neg_log_loss",
                cv=StratifiedKFold(
                    n_folds, shuffle=True, random_state=self.random_state
                ),
                refit=False,
            )
            with warnings.catch_warnings():
                # lbfgs may stop short on a fold at the largest C; the
                # chosen C is refitted below, where a warning would show.
                warnings.simplefilter("ignore", UserWarning)
                search.fit(X, y)
            C = float(search.best_params_["C"])
        else:
            n_folds, C = 0, float(self.fallback_C)
        self.estimator_ = self._logistic_regression(C).fit(X, y)
        self.C_ = C
        self.n_folds_ = n_folds
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = self.estimator_.n_features_in_
        self.n_iter_ = self.estimator_.n_iter_
        return self

    def decision_function(self, X):
        """The refitted model's decision function."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X)

    def predict_proba(self, X):
        """The refitted model's class probabilities."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def predict_log_proba(self, X):
        """The refitted model's log class probabilities."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_log_proba(X)

    def predict(self, X):
        """The refitted model's predicted classes."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)
