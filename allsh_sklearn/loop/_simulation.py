"""A whole active learning loop as one scikit-learn estimator.

:class:`ActiveLearningSimulation` runs pool-based active learning on its
training data, with the training labels as the oracle: ``fit(X, y)`` starts
from a random labeled set, queries ``batch_size`` items at a time with its
strategy until ``budget`` items are labeled, and keeps the model trained on
the acquired labels. Because it is an estimator, ``GridSearchCV``,
``cross_val_score`` and ``clone`` work on it, and nested parameters reach
the strategy (``query_strategy__divergence``).

The loop itself is :class:`~allsh_sklearn.loop.ActiveLearningLoop`, shared
with the experiment runner and the labeling session. Every random choice in
it is derived from a base seed and the iteration number (never from a
sequential stream), so a loop restarted from the labels acquired up to
iteration ``t`` continues exactly as an uninterrupted one.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import check_int, check_real, check_texts, take
from ._callbacks import PrintLog
from ._loop import ActiveLearningLoop
from ._planning import derive_seed, initial_labeled_indices, plan_labeling
from ._records import query_times

__all__ = ["ActiveLearningSimulation"]


class ActiveLearningSimulation(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Simulate pool-based active learning on labeled data; keep the final model.

    ``fit(X, y)`` treats ``X`` as the unlabeled pool and ``y`` as the oracle:
    it labels a random initial set (``initial_size``, at least one example
    per class where possible), then repeatedly trains ``estimator`` on the
    labels so far and asks ``query_strategy`` for ``batch_size`` more, until
    ``budget`` examples are labeled. The model trained on the acquired labels
    is ``estimator_``; ``predict``, ``predict_proba`` and ``score`` use it.
    So ``GridSearchCV`` over this estimator compares query strategies (or
    their parameters) by the accuracy they buy with the same budget.

    Parameters
    ----------
    estimator : object
        A classifier on raw texts with ``fit`` and ``predict_proba`` (for
        example ``make_pipeline(TfidfVectorizer(), LogisticRegression())``);
        it is cloned at every training.
    query_strategy : callable or None, default=None
        ``strategy(classifier, X_pool, n_instances, random_state=...) ->
        (indices, scores)``, for example
        :class:`~allsh_sklearn.strategies.ALLSH` (None). It is cloned; a
        strategy with ``fit`` (ALLSH) is fitted on the whole pool first.
        Parameterised strategies are estimators, so
        ``query_strategy__divergence`` is a valid grid key.
    initial_size : int or float, default=0.001
        The initial random labeled set: a count, or a fraction of the pool
        (the paper's 0.1%). Raised to the number of classes when smaller, so
        that the first model sees every class.
    batch_size : int, default=50
        Items acquired per query (the paper's 50).
    budget : int or float, default=0.01
        The total number of labels, initial set included: a count or a
        fraction of the pool (the paper's 1%).
    validation_fraction : float or None, default=None
        If set, this stratified fraction of ``(X, y)`` is held out of the
        pool and the model is scored on it after every query
        (``learning_curve_``). ``fit(..., X_val=, y_val=)`` gives an explicit
        validation set instead.
    feed_unlabeled : {"auto", True, False}, default="auto"
        Whether the estimator also receives the remaining pool as unlabeled
        texts (label ``-1``), see :class:`~allsh_sklearn.ActiveLearner`.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial set, every query and the validation split. Every
        random choice is derived from it and the iteration number.
    verbose : bool, default=False
        Print one line per iteration.
    callbacks : list of Callback or None, default=None
        Called by the loop at its hooks (see :mod:`allsh_sklearn.loop`):
        logging, progress, stopping rules. A stopping rule that stops the
        loop early leaves fewer labels than ``budget``.

    Attributes
    ----------
    learner_ : ActiveLearner
        The learner at the end of the loop.
    estimator_ : object
        The final model, trained on all acquired labels.
    query_strategy_ : callable
        The fitted clone of ``query_strategy``.
    classes_ : ndarray
        The class labels of ``y``.
    initial_indices_ : ndarray of int
        Positions in ``X`` of the initial labeled set.
    acquired_indices_ : ndarray of int
        Positions in ``X`` of the queried items, in the order they were
        acquired (the initial set excluded).
    labeled_indices_ : ndarray of int
        ``initial_indices_`` followed by ``acquired_indices_``.
    validation_indices_ : ndarray of int or None
        Positions held out by ``validation_fraction``.
    learning_curve_ : dict of ndarray
        ``"n_labeled"`` after each iteration (0 is the initial set) and
        ``"score"``, the validation score then (NaN without validation).
    query_times_ : dict of ndarray
        Seconds per query: ``"training"`` (retraining after the query),
        ``"inference"``, ``"selection"`` and ``"augmentation"`` (the
        strategy's own split) and ``"query"`` (the whole query call).
    n_queries_ : int
        The number of queries made.

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.loop import ActiveLearningSimulation
    >>> from allsh_sklearn.strategies import EntropySampling
    >>> X = [f"{w} film {i}" for i in range(40) for w in ("good", "bad")]
    >>> y = [1, 0] * 40
    >>> sim = ActiveLearningSimulation(
    ...     make_pipeline(TfidfVectorizer(), LogisticRegression()),
    ...     EntropySampling(), initial_size=4, batch_size=4, budget=12,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> len(sim.labeled_indices_), sim.n_queries_
    (12, 2)
    >>> sim.score(["a good film", "a bad film"], [1, 0])
    1.0
    """

    def __init__(
        self,
        estimator,
        query_strategy=None,
        initial_size=0.001,
        batch_size=50,
        budget=0.01,
        validation_fraction=None,
        feed_unlabeled="auto",
        random_state=None,
        verbose=False,
        callbacks=None,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.initial_size = initial_size
        self.batch_size = batch_size
        self.budget = budget
        self.validation_fraction = validation_fraction
        self.feed_unlabeled = feed_unlabeled
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def _check_params(self, n_samples):
        if not (
            hasattr(self.estimator, "fit") and hasattr(self.estimator, "predict_proba")
        ):
            raise TypeError(
                "The 'estimator' parameter of ActiveLearningSimulation must be a "
                "classifier with 'fit' and 'predict_proba'. Got "
                f"{type(self.estimator).__name__} instead."
            )
        if self.query_strategy is not None and not callable(self.query_strategy):
            raise TypeError(
                "The 'query_strategy' parameter of ActiveLearningSimulation must "
                "be a callable strategy(classifier, X_pool, n_instances, "
                "random_state=...) or None (ALLSH). Got "
                f"{type(self.query_strategy).__name__} instead."
            )
        owner = "ActiveLearningSimulation"
        check_int(self.batch_size, "batch_size", 1, owner=owner)
        check_real(
            self.validation_fraction,
            "validation_fraction",
            "None or a float in (0, 1)",
            lambda fraction: 0.0 < fraction < 1.0,
            owner=owner,
            allow_none=True,
        )
        if self.feed_unlabeled not in ("auto", True, False):
            raise ValueError(
                "The 'feed_unlabeled' parameter of ActiveLearningSimulation must "
                f"be 'auto', True or False. Got {self.feed_unlabeled!r} instead."
            )
        plan_labeling(
            n_samples,
            1,
            initial_size=self.initial_size,
            budgets=[self.budget],
            batch_size=self.batch_size,
        )

    def fit(self, X, y, X_val=None, y_val=None):
        """Run the active learning loop on ``(X, y)``; keep the final model.

        Parameters
        ----------
        X : sequence of str or of (str, str)
            The pool.
        y : array-like of shape (n_samples,)
            The oracle's labels; only the acquired ones reach the estimator.
        X_val : sequence of str or None, default=None
            A validation set scored after every iteration.
        y_val : array-like or None, default=None
            Its labels.

        Returns
        -------
        self : ActiveLearningSimulation
        """
        check_texts(X, name="X")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(
                f"y must be 1-d with one label per text of X ({len(X)}). Got shape "
                f"{y.shape} instead."
            )
        self._check_params(len(X))
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        if X_val is not None and self.validation_fraction is not None:
            raise ValueError(
                "Pass either X_val/y_val or validation_fraction, not both."
            )
        if isinstance(self.random_state, numbers.Integral):
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        self.classes_ = np.unique(y)
        positions = np.arange(len(y))
        self.validation_indices_ = None
        if self.validation_fraction is not None:
            stratify = (
                y if np.bincount(np.searchsorted(self.classes_, y)).min() >= 2 else None
            )
            positions, held_out = train_test_split(
                positions,
                test_size=self.validation_fraction,
                random_state=derive_seed(seed, "validation"),
                stratify=stratify,
            )
            positions, held_out = np.sort(positions), np.sort(held_out)
            self.validation_indices_ = held_out
            X_val, y_val = take(X, held_out), y[held_out]
        X_pool, y_pool = take(X, positions), y[positions]
        plan = plan_labeling(
            len(y_pool),
            len(np.unique(y_pool)),
            initial_size=self.initial_size,
            budgets=[self.budget],
            batch_size=self.batch_size,
        )
        initial = initial_labeled_indices(
            y_pool, plan.n_initial, random_state=derive_seed(seed, "initial")
        )
        strategy = self.query_strategy
        if strategy is None:
            from ..strategies import ALLSH

            strategy = ALLSH()
        strategy = clone(strategy, safe=False)
        if (
            hasattr(strategy, "get_params")
            and "random_state" in strategy.get_params(deep=False)
            and strategy.get_params(deep=False)["random_state"] is None
        ):
            # Seeds the augmenter, so that the same random_state gives the same run.
            strategy.set_params(random_state=derive_seed(seed, "strategy"))
        evaluate = None
        if X_val is not None:
            y_val = np.asarray(y_val)

            def evaluate(model):
                return {"score": model.score(X_val, y_val)}

        loop = ActiveLearningLoop(
            self.estimator,
            strategy,
            X_pool,
            classes=np.unique(y_pool),
            seed=seed,
            evaluate=evaluate,
            callbacks=[
                *(self.callbacks or []),
                *([PrintLog()] if self.verbose else []),
            ],
            feed_unlabeled=self.feed_unlabeled,
        )
        records = loop.run(plan.schedule, y_pool, initial_indices=initial)
        learner = loop.learner_
        to_input = positions  # pool positions -> positions in X
        # the copy the learner queried with (it holds the last query's state)
        self.query_strategy_ = getattr(learner, "query_strategy_", strategy)
        self.learner_ = learner
        self.estimator_ = learner.estimator_
        self.initial_indices_ = to_input[initial]
        acquired = [i for record in records[1:] for i in record.acquired]
        self.acquired_indices_ = to_input[np.asarray(acquired, dtype=np.int64)]
        self.labeled_indices_ = np.concatenate(
            [self.initial_indices_, self.acquired_indices_]
        )
        self.learning_curve_ = {
            "n_labeled": np.array([r.n_labeled for r in records]),
            "score": np.array([r.scores.get("score", np.nan) for r in records]),
        }
        self.query_times_ = query_times(records)
        self.n_queries_ = len(records) - 1
        return self

    def predict(self, X):
        """Predict class labels with the final model (``estimator_``).

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Texts or sentence pairs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return self._final_model().predict(X)

    def predict_proba(self, X):
        """Predict class probabilities with the final model (``estimator_``).

        Parameters
        ----------
        X : sequence of str or of (str, str)
            Texts or sentence pairs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return self._final_model().predict_proba(X)

    def _final_model(self):
        check_is_fitted(self, "estimator_")
        return self.estimator_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags
