"""An active learner with modAL's interface that works on lists of texts.

modAL is unmaintained and its ``teach`` fails on current scikit-learn; this
class keeps its interface (``estimator``, ``query_strategy``, ``X_training``,
``y_training``, ``query``, ``teach``) and follows scikit-learn's rules:
``__init__`` only stores its arguments, the model is a clone in
``estimator_``, and labels given to ``teach`` are stored before the model is
retrained, so none is lost if training fails or is interrupted.
"""

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from .augment._cache import item_key
from .strategies import uncertainty_sampling
from .utils._validation import check_texts, take


def _check_labeled(X, y):
    """Check labeled texts and their labels.

    Parameters
    ----------
    X : sequence of str or of (str, str)
        Labeled texts.
    y : array-like
        Their labels, one per text.

    Returns
    -------
    y : ndarray
        The labels as an array.
    """
    check_texts(X, name="X")
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same length. Got {len(X)} texts and "
            f"{len(y)} labels instead."
        )
    return y


class ActiveLearner(BaseEstimator):
    """Pool-based active learning around any text classifier.

    Parameters
    ----------
    estimator : object
        A classifier with ``fit`` and ``predict_proba`` on raw texts, for
        example ``make_pipeline(TfidfVectorizer(), LogisticRegression())`` or
        a :class:`~allsh_sklearn.models.TransformerClassifier`. It is cloned.
    query_strategy : callable, default=uncertainty_sampling
        ``query_strategy(classifier, X_pool, n_instances, random_state=...)
        -> (indices, scores)``, for example :data:`allsh_sklearn.strategies.allsh`.
    X_training : sequence of str or of (str, str), default=None
        The initial labeled texts.
    y_training : array-like, default=None
        Their labels.
    feed_unlabeled : {"auto", True, False}, default="auto"
        Whether to pass the remaining pool to the estimator as unlabeled
        examples (label ``-1``, as in scikit-learn's semi-supervised
        estimators) when it is retrained. ``"auto"`` does so when the
        estimator says it uses them (``estimator.uses_unlabeled`` is true, as
        for a transformer classifier with the consistency loss): this is how
        "ALLSH + CL" runs.
    random_state : int, RandomState instance or None, default=None
        Seeds each query's ``random_state``; the same seed gives the same
        sequence of queries.

    Attributes
    ----------
    estimator_ : object
        The fitted clone of ``estimator``, made by ``fit`` and refitted on
        all labeled data at every ``teach``.
    X_training_ : list
        Every labeled text so far, in the order it was taught.
    y_training_ : ndarray
        Their labels.
    query_history_ : list of dict
        One entry per query: ``indices``, ``scores`` and the strategy's
        ``time`` split (inference, selection, ...).

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn import ActiveLearner
    >>> from allsh_sklearn.strategies import entropy_sampling
    >>> learner = ActiveLearner(
    ...     make_pipeline(TfidfVectorizer(), LogisticRegression()),
    ...     query_strategy=entropy_sampling,
    ...     X_training=["a good film", "a bad film"], y_training=[1, 0],
    ...     random_state=0,
    ... )
    >>> pool = ["good acting", "bad plot", "a film"]
    >>> indices, texts = learner.query(pool, n_instances=1)
    >>> learner = learner.teach(texts, [1])
    >>> len(learner.X_training_)
    3
    """

    def __init__(
        self,
        estimator,
        query_strategy=uncertainty_sampling,
        X_training=None,
        y_training=None,
        feed_unlabeled="auto",
        random_state=None,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.X_training = X_training
        self.y_training = y_training
        self.feed_unlabeled = feed_unlabeled
        self.random_state = random_state

    # Training -------------------------------------------------------------

    def fit(self, X=None, y=None, X_unlabeled=None):
        """Start over from a labeled set and train the estimator on it.

        Parameters
        ----------
        X : sequence of str or of (str, str), default=None
            Labeled texts; None uses ``X_training``.
        y : array-like, default=None
            Their labels; None uses ``y_training``.
        X_unlabeled : sequence, default=None
            Unlabeled texts for an estimator that uses them.

        Returns
        -------
        self : ActiveLearner
        """
        if X is None:
            X, y = self.X_training, self.y_training
        if X is None or y is None:
            raise ValueError(
                "ActiveLearner.fit needs labeled data: pass X and y, or set "
                "'X_training' and 'y_training'. Got None instead."
            )
        self._check_params()
        y = _check_labeled(X, y)
        self.X_training_ = list(X)
        self.y_training_ = y.copy()
        self.query_history_ = []
        self._rng = check_random_state(self.random_state)
        self._last_pool = None
        self.__dict__.pop("estimator_", None)
        self._train(X_unlabeled)
        return self

    def teach(self, X, y, X_unlabeled=None):
        """Add labeled examples and retrain the estimator on all of them.

        The examples are stored before training, so they are kept (in
        ``X_training_``/``y_training_``) even if training fails.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Newly labeled texts.
        y : array-like
            Their labels.
        X_unlabeled : sequence, default=None
            Unlabeled texts for an estimator that uses them. None, with
            ``feed_unlabeled`` on, uses the last queried pool minus the texts
            taught so far.

        Returns
        -------
        self : ActiveLearner
        """
        y = _check_labeled(X, y)
        if not hasattr(self, "X_training_"):
            return self.fit(list(X), y, X_unlabeled=X_unlabeled)
        self.X_training_ = self.X_training_ + list(X)
        self.y_training_ = np.concatenate([self.y_training_, y])
        self._train(X_unlabeled)
        return self

    def _uses_unlabeled(self):
        if self.feed_unlabeled == "auto":
            return bool(getattr(self.estimator, "uses_unlabeled", False))
        return bool(self.feed_unlabeled)

    def _train(self, X_unlabeled):
        # One clone per run, refitted at every teach: what the estimator keeps
        # between fits on purpose (an augmentation cache, a fitted augmenter)
        # lives as long as the run.
        estimator = self.__dict__.get("estimator_")
        if estimator is None:
            estimator = clone(self.estimator)
        X, y = self.X_training_, self.y_training_
        if self._uses_unlabeled():
            if X_unlabeled is None and self._last_pool is not None:
                taught = {item_key(item) for item in X}
                X_unlabeled = [
                    item for item in self._last_pool if item_key(item) not in taught
                ]
            if X_unlabeled:
                X = list(X) + list(X_unlabeled)
                # The number -1 marks unlabeled texts; string labels need an
                # object array to hold it as a number.
                dtype = y.dtype if np.issubdtype(y.dtype, np.number) else object
                unlabeled = np.full(len(X_unlabeled), -1, dtype=dtype)
                y = np.concatenate([y.astype(dtype), unlabeled])
        estimator.fit(X, y)
        self.estimator_ = estimator

    def _check_params(self):
        if not callable(self.query_strategy):
            raise TypeError(
                "The 'query_strategy' parameter of ActiveLearner must be a "
                "callable strategy(classifier, X_pool, n_instances, "
                f"random_state=...). Got {type(self.query_strategy).__name__} "
                "instead."
            )
        if self.feed_unlabeled not in ("auto", True, False):
            raise ValueError(
                "The 'feed_unlabeled' parameter of ActiveLearner must be 'auto', "
                f"True or False. Got {self.feed_unlabeled!r} instead."
            )

    # Querying -------------------------------------------------------------

    def query(self, X_pool, n_instances=1, **query_kwargs):
        """Select the pool items to label next.

        Parameters
        ----------
        X_pool : sequence of str or of (str, str)
            The unlabeled pool.
        n_instances : int, default=1
            How many items to select.
        **query_kwargs : dict
            Passed to the query strategy.

        Returns
        -------
        indices : ndarray of shape (n_instances,)
            Positions in ``X_pool``.
        X_selected : sequence
            ``X_pool[indices]``, of the same type as ``X_pool``.
        """
        self._ensure_fitted()
        self._check_params()
        query_kwargs.setdefault("random_state", int(self._rng.randint(2**31 - 1)))
        indices, scores = self.query_strategy(
            self, X_pool, n_instances=n_instances, **query_kwargs
        )
        indices = np.asarray(indices, dtype=np.int64)
        self._last_pool = list(X_pool)
        self.query_history_.append(
            {
                "indices": indices,
                "scores": np.asarray(scores, dtype=np.float64),
                "time": dict(getattr(self.query_strategy, "last_query_time_", {})),
            }
        )
        return indices, take(X_pool, indices)

    # Prediction -------------------------------------------------------------

    def _ensure_fitted(self):
        if not hasattr(self, "estimator_"):
            if self.X_training is not None and self.y_training is not None:
                self.fit()
            else:
                raise NotFittedError(
                    "This ActiveLearner has no labeled data yet: pass X_training "
                    "and y_training, or call fit(X, y) or teach(X, y) first."
                )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "estimator_") or (
            self.X_training is not None and self.y_training is not None
        )

    @property
    def classes_(self):
        """The class labels of the fitted estimator."""
        self._ensure_fitted()
        return self.estimator_.classes_

    def predict(self, X):
        """Predict class labels with the current estimator."""
        self._ensure_fitted()
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Predict class probabilities with the current estimator."""
        self._ensure_fitted()
        return self.estimator_.predict_proba(X)

    def score(self, X, y):
        """Return the current estimator's ``score`` (accuracy for classifiers)."""
        self._ensure_fitted()
        return self.estimator_.score(X, y)

    def __getattr__(self, name):
        # Give strategies access to the estimator's extra methods (embed,
        # predict_proba_and_embed) through the learner.
        if name in ("embed", "predict_proba_and_embed", "transform"):
            estimator = self.__dict__.get("estimator_")
            if estimator is not None and hasattr(estimator, name):
                return getattr(estimator, name)
        raise AttributeError(
            f"'{type(self).__name__}' object has no attribute '{name}'"
        )
