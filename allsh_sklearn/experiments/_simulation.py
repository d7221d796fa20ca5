"""A whole active learning loop as one scikit-learn estimator.

:class:`ActiveLearningSimulation` runs pool-based active learning on its
training data, with the training labels as the oracle: ``fit(X, y)`` starts
from a random labeled set, queries ``batch_size`` items at a time with its
strategy until ``budget`` items are labeled, and keeps the model trained on
the acquired labels. Because it is an estimator, ``GridSearchCV``,
``cross_val_score`` and ``clone`` work on it, and nested parameters reach
the strategy (``query_strategy__divergence``).

The loop itself is :func:`active_learning_loop`, shared with the
experiment runner. Every random choice in it is derived from a base seed and
the iteration number (never from a sequential stream), so a loop restarted
from the labels acquired up to iteration ``t`` continues exactly as an
uninterrupted one.
"""

import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..augment import stable_seed as _stable_seed
from ..learner import ActiveLearner
from ..utils._validation import check_int, check_real, check_texts, take

__all__ = [
    "ActiveLearningSimulation",
    "acquisition_schedule",
    "active_learning_loop",
    "derive_seed",
    "initial_labeled_indices",
    "resolve_size",
]

_TIME_KEYS = ("training", "inference", "selection", "augmentation", "query")


def derive_seed(*parts):
    """Return a seed in ``[0, 2**31 - 1)`` derived from ``parts``, stable across runs.

    Examples
    --------
    >>> derive_seed(0, "query", 3) == derive_seed(0, "query", 3)
    True
    """
    return _stable_seed(*parts) % (2**31 - 1)


def resolve_size(value, n_samples, name, owner="ActiveLearningSimulation"):
    """Turn an absolute (int) or relative (float in (0, 1]) size into a count.

    Parameters
    ----------
    value : int or float
        An int ``>= 1`` is a count; a float in ``(0, 1]`` a fraction of
        ``n_samples``, rounded to the nearest int (at least 1).
    n_samples : int
        The size fractions refer to.
    name : str
        The parameter name, for error messages.
    owner : str, default="ActiveLearningSimulation"
        The class name, for error messages.

    Returns
    -------
    size : int

    Examples
    --------
    >>> resolve_size(0.01, 60614, "budget")
    606
    >>> resolve_size(50, 60614, "budget")
    50
    """
    message = (
        f"The '{name}' parameter of {owner} must be an int >= 1 (a count) or a "
        f"float in (0, 1] (a fraction of the {n_samples} training texts). Got "
        f"{value!r} instead."
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(message)
        return int(value)
    if not 0.0 < value <= 1.0:
        raise ValueError(message)
    return max(1, int(round(value * n_samples)))


def initial_labeled_indices(y, size, random_state=None):
    """Draw ``size`` random indices holding one example of each class if possible.

    One index per class is drawn first (classes in sorted order, as long as
    ``size`` allows), then the rest uniformly from the remaining indices.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.
    size : int
        How many indices, ``1 <= size <= n_samples``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    indices : ndarray of shape (size,), dtype=int64
        Distinct indices, in the order they were drawn.

    Examples
    --------
    >>> initial_labeled_indices([0, 0, 0, 1, 1, 1], 2, random_state=0).tolist()
    [0, 4]
    """
    y = np.asarray(y)
    rng = check_random_state(random_state)
    chosen = []
    for label in np.unique(y)[:size]:
        chosen.append(int(rng.choice(np.flatnonzero(y == label))))
    rest = np.setdiff1d(np.arange(len(y)), chosen)
    extra = rng.choice(rest, size - len(chosen), replace=False)
    return np.concatenate([chosen, extra]).astype(np.int64)


def acquisition_schedule(n_initial, checkpoints, batch_size):
    """Labeled-set sizes after each iteration, hitting every checkpoint exactly.

    Parameters
    ----------
    n_initial : int
        Size of the initial labeled set (iteration 0).
    checkpoints : sequence of int
        Labeled-set sizes at which the model must be evaluated (budgets);
        the last one ends the loop.
    batch_size : int
        Items acquired per iteration; the batch before a checkpoint is
        shortened to land on it.

    Returns
    -------
    sizes : list of int
        ``sizes[0] == n_initial``; ``sizes[t]`` is the size after iteration
        ``t``.

    Examples
    --------
    >>> acquisition_schedule(10, [100, 130], 40)
    [10, 50, 90, 100, 130]
    """
    sizes = [int(n_initial)]
    for checkpoint in sorted(set(int(c) for c in checkpoints)):
        while sizes[-1] < checkpoint:
            sizes.append(min(sizes[-1] + int(batch_size), checkpoint))
    return sizes


def _summary(values):
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {}
    return {
        "min": float(values.min()),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


def active_learning_loop(
    estimator,
    query_strategy,
    X,
    y,
    *,
    initial_indices,
    schedule,
    seed,
    evaluate=None,
    completed=(),
    on_iteration=None,
    feed_unlabeled="auto",
    verbose=False,
):
    """Run (or resume) pool-based active learning with ``y`` as the oracle.

    Iteration 0 trains on ``initial_indices``; iteration ``t >= 1`` queries
    ``schedule[t] - schedule[t - 1]`` items of the remaining pool, labels
    them from ``y`` and retrains. The query of iteration ``t`` is seeded by
    ``derive_seed(seed, "query", t)``, so the result does not depend on
    whether earlier iterations ran in this call or were ``completed`` before.

    Parameters
    ----------
    estimator : object
        A classifier on texts; cloned at every training.
    query_strategy : callable
        ``strategy(classifier, X_pool, n_instances, random_state=...)``. It is
        used as it is (not cloned); if it has a ``fit`` method, it is first
        fitted on all of ``X`` (ALLSH fits its augmenter there), so that its
        state does not depend on which iteration the loop starts from.
    X : sequence of str or of (str, str)
        The pool, labeled part included.
    y : array-like of shape (n_samples,)
        The oracle's labels.
    initial_indices : array-like of int
        The initial labeled set.
    schedule : sequence of int
        Labeled-set sizes after each iteration (see
        :func:`acquisition_schedule`); ``schedule[0]`` must equal
        ``len(initial_indices)``.
    seed : int
        Base seed of the queries and of the learner.
    evaluate : callable or None, default=None
        ``evaluate(model) -> dict`` of scores, called after every training.
    completed : sequence of dict, default=()
        Records of iterations ``0..T`` of an interrupted run, as passed to
        ``on_iteration``; the loop rebuilds the labeled set from their
        ``acquired`` lists, retrains, and continues at ``T + 1``.
    on_iteration : callable or None, default=None
        ``on_iteration(record)`` after each new iteration.
    feed_unlabeled : {"auto", True, False}, default="auto"
        Passed to :class:`~allsh_sklearn.ActiveLearner`.
    verbose : bool, default=False
        Print one line per iteration.

    Returns
    -------
    learner : ActiveLearner
        The learner after the last iteration.
    records : list of dict
        One per iteration (the completed ones first), with ``iteration``,
        ``n_labeled``, ``acquired`` (positions in ``X``), ``scores`` (from
        ``evaluate``), ``time`` (seconds: training, and for queries
        inference, selection, augmentation, query), and for queries
        ``query_scores`` (min/mean/max of the selected items' scores) and
        ``batch_labels`` (class counts of the acquired batch).
    """
    y = np.asarray(y)
    initial_indices = np.asarray(initial_indices, dtype=np.int64)
    schedule = [int(size) for size in schedule]
    if schedule[0] != len(initial_indices):
        raise ValueError(
            f"schedule[0] must be the size of the initial labeled set "
            f"({len(initial_indices)}). Got {schedule[0]} instead."
        )
    records = [dict(record) for record in completed]
    if records:
        if [int(i) for i in records[0]["acquired"]] != initial_indices.tolist():
            raise ValueError(
                "The completed iterations do not start from the same initial "
                "labeled set: they belong to another run."
            )
        for position, record in enumerate(records):
            if record["iteration"] != position:
                raise ValueError(
                    f"The completed iterations must be numbered 0, 1, ... in "
                    f"order. Got {record['iteration']} at position {position}."
                )
    labeled = [int(i) for record in records for i in record["acquired"]]
    if records and len(labeled) != schedule[len(records) - 1]:
        raise ValueError(
            "The completed iterations do not follow the schedule: they hold "
            f"{len(labeled)} labels where the schedule expects "
            f"{schedule[len(records) - 1]}."
        )
    if len(set(labeled)) != len(labeled):
        raise ValueError("The completed iterations acquired an index twice.")
    classes = np.unique(y)
    unlabeled = np.ones(len(y), dtype=bool)
    if callable(getattr(query_strategy, "fit", None)):
        query_strategy.fit(X)

    def remaining_pool():
        return np.flatnonzero(unlabeled)

    def scores_of(model):
        if evaluate is None:
            return {}
        return {key: float(value) for key, value in evaluate(model).items()}

    def batch_labels(indices):
        counts = [int(np.sum(y[indices] == label)) for label in classes]
        return counts

    start_iteration = len(records)
    if not records:
        labeled = initial_indices.tolist()
    unlabeled[labeled] = False
    learner = ActiveLearner(
        estimator,
        query_strategy=query_strategy,
        feed_unlabeled=feed_unlabeled,
        random_state=derive_seed(seed, "learner"),
    )
    started = time.perf_counter()
    learner.fit(take(X, labeled), y[labeled], X_unlabeled=take(X, remaining_pool()))
    training = time.perf_counter() - started
    if not records:
        record = {
            "iteration": 0,
            "n_labeled": len(labeled),
            "acquired": list(labeled),
            "scores": scores_of(learner),
            "time": {"training": training},
            "batch_labels": batch_labels(labeled),
        }
        records.append(record)
        start_iteration = 1
        if on_iteration is not None:
            on_iteration(record)
        if verbose:
            print(f"iteration 0: {len(labeled)} labeled, scores {record['scores']}")
    for iteration in range(start_iteration, len(schedule)):
        pool = remaining_pool()
        n_instances = schedule[iteration] - schedule[iteration - 1]
        started = time.perf_counter()
        positions, texts = learner.query(
            take(X, pool),
            n_instances=n_instances,
            random_state=derive_seed(seed, "query", iteration),
        )
        query_seconds = time.perf_counter() - started
        chosen = pool[np.asarray(positions, dtype=np.int64)]
        if len(np.unique(chosen)) != len(chosen):
            raise RuntimeError(
                f"The query strategy returned an index twice at iteration "
                f"{iteration}: {sorted(chosen.tolist())}."
            )
        unlabeled[chosen] = False
        labeled.extend(int(i) for i in chosen)
        started = time.perf_counter()
        learner.teach(texts, y[chosen], X_unlabeled=take(X, remaining_pool()))
        training = time.perf_counter() - started
        history = learner.query_history_[-1]
        times = {"training": training, "query": query_seconds}
        for key in ("inference", "selection", "augmentation"):
            times[key] = float(history["time"].get(key, 0.0))
        record = {
            "iteration": iteration,
            "n_labeled": len(labeled),
            "acquired": [int(i) for i in chosen],
            "scores": scores_of(learner),
            "time": times,
            "query_scores": _summary(history["scores"]),
            "batch_labels": batch_labels(chosen),
        }
        records.append(record)
        if on_iteration is not None:
            on_iteration(record)
        if verbose:
            print(
                f"iteration {iteration}: {len(labeled)} labeled, scores "
                f"{record['scores']}, query {query_seconds:.2f}s"
            )
    return learner, records


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
    >>> from allsh_sklearn.experiments import ActiveLearningSimulation
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
        resolve_size(self.initial_size, n_samples, "initial_size")
        resolve_size(self.budget, n_samples, "budget")

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
        n_pool = len(y_pool)
        budget = resolve_size(self.budget, n_pool, "budget")
        n_initial = max(
            resolve_size(self.initial_size, n_pool, "initial_size"),
            min(len(np.unique(y_pool)), budget),
        )
        if budget > n_pool:
            raise ValueError(
                f"The 'budget' parameter of ActiveLearningSimulation asks for "
                f"{budget} labels but the pool holds {n_pool} texts. Lower the "
                "budget."
            )
        if n_initial > budget:
            raise ValueError(
                f"The initial labeled set ({n_initial}) is larger than the budget "
                f"({budget}). Lower 'initial_size' or raise 'budget'."
            )
        initial = initial_labeled_indices(
            y_pool, n_initial, random_state=derive_seed(seed, "initial")
        )
        schedule = acquisition_schedule(n_initial, [budget], self.batch_size)
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

        learner, records = active_learning_loop(
            self.estimator,
            strategy,
            X_pool,
            y_pool,
            initial_indices=initial,
            schedule=schedule,
            seed=seed,
            evaluate=evaluate,
            feed_unlabeled=self.feed_unlabeled,
            verbose=self.verbose,
        )
        to_input = positions  # pool positions -> positions in X
        self.query_strategy_ = strategy
        self.learner_ = learner
        self.estimator_ = learner.estimator_
        self.initial_indices_ = to_input[initial]
        acquired = [i for record in records[1:] for i in record["acquired"]]
        self.acquired_indices_ = to_input[np.asarray(acquired, dtype=np.int64)]
        self.labeled_indices_ = np.concatenate(
            [self.initial_indices_, self.acquired_indices_]
        )
        self.learning_curve_ = {
            "n_labeled": np.array([r["n_labeled"] for r in records]),
            "score": np.array([r["scores"].get("score", np.nan) for r in records]),
        }
        self.query_times_ = {
            key: np.array([r["time"].get(key, 0.0) for r in records[1:]])
            for key in _TIME_KEYS
        }
        self.n_queries_ = len(records) - 1
        return self

    def predict(self, X):
        """Predict class labels with the final model.

        Parameters
        ----------
        X : sequence of str or of (str, str)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Predict class probabilities with the final model.

        Parameters
        ----------
        X : sequence of str or of (str, str)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.non_deterministic = self.random_state is None
        return tags
