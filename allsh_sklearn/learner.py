"""An active learner with modAL's interface that works on lists of texts.

modAL is unmaintained and its ``teach`` fails on current scikit-learn; this
class keeps its interface (``estimator``, ``query_strategy``, ``X_training``,
``y_training``, ``query``, ``teach``) and follows scikit-learn's rules:
``__init__`` only stores its arguments, the model is a clone in
``estimator_`` and the strategy a clone in ``query_strategy_``. ``fit`` and
``teach`` are all or nothing: labels are checked before anything is stored,
and a failed training leaves the learner as it was before the call.
"""

import copy
import warnings

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from .augment._cache import item_key
from .strategies import uncertainty_sampling
from .strategies._base import BaseQueryStrategy, copy_for_run, param_tokens
from .utils import Callable, Options, ParameterConstraintsMixin, RandomStateLike
from .utils._validation import (
    check_labels,
    check_n_instances,
    check_random_state_param,
    check_texts,
    take,
)


def _strategy_seed(strategy):
    """The strategy's own ``random_state`` (a wrapper's: its strategy's), or None."""
    if isinstance(strategy, BaseQueryStrategy):
        return strategy._own_random_state()
    get_params = getattr(strategy, "get_params", None)
    if get_params is None:
        return None
    return get_params(deep=False).get("random_state")


def _add_note(error, note):
    if hasattr(error, "add_note"):  # Python >= 3.11
        error.add_note(note)


class ActiveLearner(ParameterConstraintsMixin, BaseEstimator):
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
        A strategy with parameters (an estimator) is copied into
        ``query_strategy_`` by ``fit``, so that nothing it learns (a fitted
        augmenter) reaches another learner; a plain function is used as it
        is. ``set_params`` on it (``query_strategy__divergence=...``) takes
        effect at the next query.
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
        Seeds the sequence of per-query seeds, unless the strategy has its own
        ``random_state`` set, which then wins (a seeded strategy is
        reproducible inside an unseeded learner). A ``random_state`` passed
        to ``query`` wins over both. The same seed gives the same sequence
        of queries.

    Attributes
    ----------
    estimator_ : object
        The fitted clone of ``estimator``, made by ``fit`` and refitted on
        all labeled data at every ``teach`` (restored from a copy if that
        training fails).
    query_strategy_ : callable
        The copy of ``query_strategy`` the queries use (its ``last_scores_``
        and ``last_query_time_`` describe the last query).
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

        A fresh clone of ``estimator`` is trained and a fresh clone of
        ``query_strategy`` made; they replace the previous ones only if
        training succeeds (otherwise the learner is left as it was).

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
        self._validate_params()
        check_texts(X, name="X")
        y = check_labels(y, len(X), name="y")
        X = list(X)
        strategy = copy_for_run(self.query_strategy)
        estimator = clone(self.estimator)
        self._train(estimator, X, y, X_unlabeled, last_pool=None)
        # Stored only now: a failed fit leaves the previous run untouched.
        self.estimator_ = estimator
        self.X_training_ = X
        self.y_training_ = y.copy()
        self.query_history_ = []
        self.query_strategy_ = strategy
        self._strategy_source = (self.query_strategy, param_tokens(self.query_strategy))
        self._seed_source = self._query_seed()
        self._rng = check_random_state(self._seed_source)
        self._last_pool = None
        return self

    def teach(self, X, y, X_unlabeled=None):
        """Add labeled examples and retrain the estimator on all of them.

        All or nothing: the texts and labels are checked before anything is
        stored (an error names the bad labels and their positions), and if
        training fails, the learner is left as before the call (the previous
        model in ``estimator_``, ``X_training_`` and ``y_training_``
        unchanged); the error then says so and the same call can be repeated
        once the cause is fixed. Labels must be of the type of those taught
        so far (a new class of that type is fine).

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
        check_texts(X, name="X")
        if not hasattr(self, "X_training_"):
            if self.X_training is None or self.y_training is None:
                return self.fit(list(X), y, X_unlabeled=X_unlabeled)
            # Checked against the initial labels before the first fit.
            check_labels(y, len(X), name="y", like=check_labels(self.y_training))
            self.fit()
        y = check_labels(y, len(X), name="y", like=self.y_training_)
        X_all = self.X_training_ + list(X)
        y_all = np.concatenate([self.y_training_, y])
        estimator = self.estimator_
        # The estimator is refitted in place (what it keeps between fits on
        # purpose, such as a fitted augmenter and its cache, lives as long as
        # the run), from a copy kept to restore it if training fails.
        try:
            backup = copy.deepcopy(estimator)
        except Exception as error:  # an estimator that cannot be copied
            backup = None
            warnings.warn(
                f"ActiveLearner.teach could not copy {type(estimator).__name__} "
                f"before retraining it ({error}); if training fails, the "
                "estimator may be left half-trained.",
                UserWarning,
                stacklevel=2,
            )
        try:
            self._train(estimator, X_all, y_all, X_unlabeled, self._last_pool)
        except BaseException as error:
            if backup is not None:
                self.estimator_ = backup
                _add_note(
                    error,
                    "ActiveLearner.teach: training failed; the learner was left "
                    f"as before the call (the {len(X)} labels given were not "
                    "stored and the previous model is kept). Call teach again "
                    "with them once the cause is fixed.",
                )
            raise
        self.X_training_ = X_all
        self.y_training_ = y_all
        return self

    def _uses_unlabeled(self):
        if self.feed_unlabeled == "auto":
            return bool(getattr(self.estimator, "uses_unlabeled", False))
        return bool(self.feed_unlabeled)

    def _train(self, estimator, X, y, X_unlabeled, last_pool):
        if self._uses_unlabeled():
            if X_unlabeled is None and last_pool is not None:
                taught = {item_key(item) for item in X}
                X_unlabeled = [
                    item for item in last_pool if item_key(item) not in taught
                ]
            if X_unlabeled is not None and len(X_unlabeled):
                X = list(X) + list(X_unlabeled)
                # The number -1 marks unlabeled texts; string labels need an
                # object array to hold it as a number.
                dtype = y.dtype if np.issubdtype(y.dtype, np.number) else object
                unlabeled = np.full(len(X_unlabeled), -1, dtype=dtype)
                y = np.concatenate([y.astype(dtype), unlabeled])
        estimator.fit(X, y)

    _parameter_constraints = {
        "query_strategy": [
            Callable(
                description="a callable strategy(classifier, X_pool, n_instances, "
                "random_state=...)"
            )
        ],
        "feed_unlabeled": [
            Options(("auto", True, False), description="'auto', True or False")
        ],
        "random_state": [RandomStateLike()],
    }

    def _validate_params(self):
        super()._validate_params()
        # The strategy's own seed, named after the strategy.
        check_random_state_param(
            _strategy_seed(self.query_strategy),
            owner=type(self.query_strategy).__name__,
        )

    # Querying -------------------------------------------------------------

    def _query_seed(self):
        """What seeds the per-query seeds: the strategy's own, else the learner's."""
        seed = _strategy_seed(self.query_strategy)
        return self.random_state if seed is None else seed

    def _sync_strategy(self):
        """Bring ``query_strategy_`` up to date with ``query_strategy``.

        A new strategy object is copied afresh; parameters changed on the
        same object (``set_params``) are set on the copy, which rebuilds
        what depends on them at its next call.
        """
        source, tokens = self._strategy_source
        if self.query_strategy is not source:
            self.query_strategy_ = copy_for_run(self.query_strategy)
            self._strategy_source = (
                self.query_strategy,
                param_tokens(self.query_strategy),
            )
        elif tokens is not None:
            now = param_tokens(self.query_strategy)
            changed = [name for name in now if now[name] != tokens.get(name)]
            if changed:
                fresh = clone(self.query_strategy).get_params(deep=False)
                self.query_strategy_.set_params(**{k: fresh[k] for k in changed})
                self._strategy_source = (source, now)
        seed = self._query_seed()
        if param_tokens({"seed": seed}) != param_tokens({"seed": self._seed_source}):
            self._seed_source = seed
            self._rng = check_random_state(seed)
        return self.query_strategy_

    def query(self, X_pool, n_instances=1, **query_kwargs):
        """Select the pool items to label next.

        Each query has its own seed: the ``random_state`` passed here if any,
        else the next draw of a stream seeded by the strategy's own
        ``random_state`` when it is set, else by the learner's
        ``random_state``. So a seeded strategy is reproducible in an unseeded
        learner, and a seeded learner with an unseeded strategy gives the
        same queries at every run.

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
        self._validate_params()
        check_texts(X_pool, name="X_pool")
        check_n_instances(n_instances, len(X_pool))
        if "random_state" in query_kwargs:
            check_random_state_param(
                query_kwargs["random_state"], owner="ActiveLearner.query"
            )
        strategy = self._sync_strategy()
        state = self._rng.get_state()
        try:
            seed = int(self._rng.randint(2**31 - 1))
            query_kwargs.setdefault("random_state", seed)
            indices, scores = strategy(
                self, X_pool, n_instances=n_instances, **query_kwargs
            )
        except BaseException:
            self._rng.set_state(state)  # a failed query does not move the seeds
            raise
        indices = np.asarray(indices, dtype=np.int64)
        self._last_pool = list(X_pool)
        self.query_history_.append(
            {
                "indices": indices,
                "scores": np.asarray(scores, dtype=np.float64),
                "time": dict(getattr(strategy, "last_query_time_", {})),
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
