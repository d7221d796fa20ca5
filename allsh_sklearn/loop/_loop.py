"""The active learning loop: initial set, query, label, refit, resume.

:class:`ActiveLearningLoop` is the one loop of the package. It is driven
step by step, so that labels may come from an oracle array (a simulation,
the experiment runner) or from people, later (a labeling session):

>>> loop = ActiveLearningLoop(estimator, strategy, X_pool, classes=[0, 1])
... # doctest: +SKIP
>>> loop.start(initial, y_initial)        # iteration 0: train  # doctest: +SKIP
>>> batch = loop.query(50)                # positions in X_pool  # doctest: +SKIP
>>> loop.teach(batch, labels_from_people)  # iteration 1: refit  # doctest: +SKIP

or run to the end of a schedule with an oracle (:meth:`ActiveLearningLoop.run`).
Every random choice is derived from ``seed`` and the iteration number, so a
loop resumed from its records (:meth:`ActiveLearningLoop.resume`) continues
exactly as an uninterrupted one.
"""

import time

import numpy as np

from ..learner import ActiveLearner
from ..utils._validation import take
from ._callbacks import Callback, PrintLog
from ._planning import derive_seed
from ._records import IterationRecord, summarise_scores

__all__ = ["ActiveLearningLoop", "active_learning_loop"]


def _oracle(oracle):
    """A function ``indices -> labels`` from a callable or a label array."""
    if callable(oracle):
        return lambda indices: np.asarray(oracle(indices))
    labels = np.asarray(oracle)
    return lambda indices: labels[indices]


class ActiveLearningLoop:
    """Pool-based active learning, one step at a time.

    Parameters
    ----------
    estimator : object
        A classifier on texts with ``fit`` and ``predict_proba``; cloned at
        every training (by :class:`~allsh_sklearn.ActiveLearner`).
    query_strategy : callable
        ``strategy(classifier, X_pool, n_instances, random_state=...)``. It is
        used as it is (not cloned); if it has a ``fit`` method, it is first
        fitted on all of ``X`` (ALLSH fits its augmenter there), so that its
        state does not depend on the iteration the loop starts from.
    X : sequence of str or of (str, str)
        The pool, labeled part included; positions in it name the items.
    classes : array-like
        Every class label (labels outside it are refused).
    seed : int, default=0
        Base seed of the queries (``derive_seed(seed, "query", t)`` at
        iteration ``t``) and of the learner.
    evaluate : callable or None, default=None
        ``evaluate(model) -> dict`` of scores, called after every training;
        the results go to the records.
    callbacks : sequence of Callback, default=()
        Called at the loop's hooks (see :mod:`allsh_sklearn.loop`).
    feed_unlabeled : {"auto", True, False}, default="auto"
        Passed to :class:`~allsh_sklearn.ActiveLearner`.

    Attributes
    ----------
    learner_ : ActiveLearner
        The learner, trained on every label so far.
    records_ : list of IterationRecord
        One per iteration, iteration 0 (the initial set) first.
    labeled_indices_ : list of int
        Positions in ``X`` labeled so far, in the order they were labeled.
    labels_ : dict of {int: label}
        The label of each labeled position.
    schedule_ : list of int
        The schedule of :meth:`run` (empty when driven step by step).
    stop_reason_ : str or None
        Why a callback stopped the loop (None: not stopped).

    Examples
    --------
    >>> from sklearn.feature_extraction.text import TfidfVectorizer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from allsh_sklearn.strategies import EntropySampling
    >>> X = [f"{w} film {i}" for i in range(30) for w in ("good", "bad")]
    >>> y = np.array([1, 0] * 30)
    >>> loop = ActiveLearningLoop(
    ...     make_pipeline(TfidfVectorizer(), LogisticRegression()),
    ...     EntropySampling(), X, classes=[0, 1], seed=0)
    >>> loop.start([0, 1], y[[0, 1]]).n_labeled
    2
    >>> batch = loop.query(4)          # ask people to label these ...
    >>> loop.teach(batch, y[batch]).n_labeled  # ... and refit on their labels
    6
    >>> [r.n_labeled for r in loop.run([2, 6, 10, 12], oracle=y)]
    [2, 6, 10, 12]
    """

    def __init__(
        self,
        estimator,
        query_strategy,
        X,
        *,
        classes,
        seed=0,
        evaluate=None,
        callbacks=(),
        feed_unlabeled="auto",
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.X = X
        self.classes = np.asarray(classes)
        self.seed = seed
        self.evaluate = evaluate
        self.callbacks = list(callbacks)
        self.feed_unlabeled = feed_unlabeled
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "Each of the 'callbacks' of ActiveLearningLoop must be a "
                    f"Callback. Got {type(callback).__name__} instead."
                )
        self.records_ = []
        self.labeled_indices_ = []
        self.labels_ = {}
        self.schedule_ = []
        self.stop_reason_ = None
        self._unlabeled = np.ones(len(X), dtype=bool)
        self._pending = None

    # Hooks ------------------------------------------------------------------

    def _notify(self, hook, *args):
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def stop(self, reason):
        """Ask the loop to stop after the current iteration (for callbacks).

        Parameters
        ----------
        reason : str
        """
        self.stop_reason_ = str(reason)

    # State ------------------------------------------------------------------

    @property
    def unlabeled_indices(self):
        """Positions in ``X`` not labeled yet (ndarray of int)."""
        return np.flatnonzero(self._unlabeled)

    def _check_labels(self, indices, labels):
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(indices):
            raise ValueError(
                f"Got {len(labels)} labels for {len(indices)} items: pass one "
                "label per item."
            )
        if len(np.unique(indices)) != len(indices):
            raise ValueError(f"An item is labeled twice: {sorted(indices.tolist())}.")
        if len(indices) and (indices.min() < 0 or indices.max() >= len(self.X)):
            raise ValueError(
                f"Item positions must be in [0, {len(self.X)}). Got "
                f"{sorted(indices.tolist())}."
            )
        already = [int(i) for i in indices if not self._unlabeled[i]]
        if already:
            raise ValueError(f"Items {already} are already labeled.")
        unknown = sorted(
            {label for label in labels.tolist()} - set(self.classes.tolist())
        )
        if unknown:
            raise ValueError(
                f"Labels {unknown} are not among the classes "
                f"{self.classes.tolist()} given to ActiveLearningLoop."
            )
        return indices, labels

    def _record_labels(self, indices, labels):
        self._unlabeled[indices] = False
        for index, label in zip(indices.tolist(), labels, strict=True):
            self.labeled_indices_.append(index)
            self.labels_[index] = label

    def _labels_of(self, indices):
        return np.asarray([self.labels_[int(i)] for i in indices])

    def _batch_labels(self, labels):
        return [int(np.sum(labels == label)) for label in self.classes]

    def _scores(self):
        if self.evaluate is None:
            return {}
        return {k: float(v) for k, v in self.evaluate(self.learner_).items()}

    def _finish(self, record):
        self.records_.append(record)
        self._notify("on_iteration_end", record)
        return record

    # Steps ------------------------------------------------------------------

    def _begin(self, labeled):
        if callable(getattr(self.query_strategy, "fit", None)):
            self.query_strategy.fit(self.X)
        self._notify("on_loop_begin")
        self.learner_ = ActiveLearner(
            self.estimator,
            query_strategy=self.query_strategy,
            feed_unlabeled=self.feed_unlabeled,
            random_state=derive_seed(self.seed, "learner"),
        )
        started = time.perf_counter()
        self.learner_.fit(
            take(self.X, labeled),
            self._labels_of(labeled),
            X_unlabeled=take(self.X, self.unlabeled_indices),
        )
        return time.perf_counter() - started

    def start(self, indices, labels):
        """Label the initial set and train on it (iteration 0).

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X`` of the initial labeled set.
        labels : array-like
            Their labels.

        Returns
        -------
        record : IterationRecord
        """
        if self.records_:
            raise RuntimeError(
                "The loop has already started; query and teach to continue."
            )
        indices, labels = self._check_labels(indices, labels)
        self._record_labels(indices, labels)
        training = self._begin(self.labeled_indices_)
        return self._finish(
            IterationRecord(
                iteration=0,
                n_labeled=len(self.labeled_indices_),
                acquired=list(self.labeled_indices_),
                scores=self._scores(),
                time={"training": training},
                batch_labels=self._batch_labels(labels),
            )
        )

    def resume(self, records, labels):
        """Rebuild the loop from the records of an interrupted run and retrain.

        Parameters
        ----------
        records : sequence of IterationRecord or of dict
            Iterations ``0..T``, in order (dicts as written by
            :meth:`IterationRecord.to_dict`; other keys are ignored).
        labels : array-like or callable
            The labels of the recorded items: an array over ``X`` or
            ``labels(indices) -> labels``.

        Returns
        -------
        self : ActiveLearningLoop
            Ready to query iteration ``T + 1``.
        """
        if self.records_:
            raise RuntimeError("resume() rebuilds a new loop; this one has started.")
        records = [
            r if isinstance(r, IterationRecord) else IterationRecord.from_dict(r)
            for r in records
        ]
        if not records:
            raise ValueError("resume() needs the records of iteration 0 at least.")
        for position, record in enumerate(records):
            if record.iteration != position:
                raise ValueError(
                    f"The completed iterations must be numbered 0, 1, ... in "
                    f"order. Got {record.iteration} at position {position}."
                )
        labeled = [i for record in records for i in record.acquired]
        if len(set(labeled)) != len(labeled):
            raise ValueError("The completed iterations acquired an index twice.")
        label_of = _oracle(labels)
        indices, values = self._check_labels(labeled, label_of(np.asarray(labeled)))
        self._record_labels(indices, values)
        self._begin(self.labeled_indices_)
        self.records_ = records
        return self

    def query(self, n_instances):
        """Ask the strategy for the next items to label (nothing is labeled yet).

        The query of iteration ``t`` is seeded by
        ``derive_seed(seed, "query", t)``.

        Parameters
        ----------
        n_instances : int

        Returns
        -------
        indices : ndarray of int
            Positions in ``X``, in the strategy's order. Pass them (or the
            ones people labeled) to :meth:`teach` with their labels.
        """
        if not self.records_:
            raise RuntimeError("Call start() or resume() before query().")
        pool = self.unlabeled_indices
        iteration = len(self.records_)
        started = time.perf_counter()
        positions, _ = self.learner_.query(
            take(self.X, pool),
            n_instances=n_instances,
            random_state=derive_seed(self.seed, "query", iteration),
        )
        seconds = time.perf_counter() - started
        chosen = pool[np.asarray(positions, dtype=np.int64)]
        if len(np.unique(chosen)) != len(chosen):
            raise RuntimeError(
                f"The query strategy returned an index twice at iteration "
                f"{iteration}: {sorted(chosen.tolist())}."
            )
        history = self.learner_.query_history_[-1]
        self._pending = (chosen, seconds, history)
        self._notify("on_query_end", chosen)
        return chosen

    def teach(self, indices, labels):
        """Label items and retrain on every label so far (one iteration).

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X``: the last query's, or part of them (people may
            skip items), or any unlabeled items.
        labels : array-like
            Their labels.

        Returns
        -------
        record : IterationRecord
            With the last query's timing and scores when ``indices`` come
            from it.
        """
        if not self.records_:
            raise RuntimeError("Call start() or resume() before teach().")
        indices, labels = self._check_labels(indices, labels)
        pending, self._pending = self._pending, None
        self._record_labels(indices, labels)
        started = time.perf_counter()
        self.learner_.teach(
            take(self.X, indices),
            labels,
            X_unlabeled=take(self.X, self.unlabeled_indices),
        )
        times = {"training": time.perf_counter() - started}
        query_scores = None
        if pending is not None:
            chosen, seconds, history = pending
            times["query"] = seconds
            for key in ("inference", "selection", "augmentation"):
                times[key] = float(history["time"].get(key, 0.0))
            scores = dict(zip(chosen.tolist(), history["scores"], strict=True))
            query_scores = summarise_scores(
                [scores[i] for i in indices.tolist() if i in scores]
            )
        return self._finish(
            IterationRecord(
                iteration=len(self.records_),
                n_labeled=len(self.labeled_indices_),
                acquired=indices.tolist(),
                scores=self._scores(),
                time=times,
                batch_labels=self._batch_labels(labels),
                query_scores=query_scores,
            )
        )

    def step(self, n_instances, oracle):
        """One iteration with an oracle: query, label, retrain.

        Parameters
        ----------
        n_instances : int
        oracle : array-like or callable
            Labels over ``X``, or ``oracle(indices) -> labels``.

        Returns
        -------
        record : IterationRecord
        """
        chosen = self.query(n_instances)
        return self.teach(chosen, _oracle(oracle)(chosen))

    def run(self, schedule, oracle, initial_indices=None):
        """Run to the end of a schedule (or until a callback stops the loop).

        Parameters
        ----------
        schedule : sequence of int
            Labeled-set sizes after each iteration
            (:func:`~allsh_sklearn.loop.acquisition_schedule`);
            ``schedule[0]`` is the size of the initial set.
        oracle : array-like or callable
            Labels over ``X``, or ``oracle(indices) -> labels``.
        initial_indices : array-like of int or None, default=None
            Start from this initial set; None continues a started or resumed
            loop.

        Returns
        -------
        records : list of IterationRecord
        """
        self.schedule_ = [int(size) for size in schedule]
        label_of = _oracle(oracle)
        if initial_indices is not None:
            initial = np.asarray(initial_indices, dtype=np.int64)
            if self.schedule_[0] != len(initial):
                raise ValueError(
                    f"schedule[0] must be the size of the initial labeled set "
                    f"({len(initial)}). Got {self.schedule_[0]} instead."
                )
            self.start(initial, label_of(initial))
        elif not self.records_:
            raise RuntimeError("Give initial_indices, or start() or resume() first.")
        if len(self.labeled_indices_) != self.schedule_[len(self.records_) - 1]:
            raise ValueError(
                "The completed iterations do not follow the schedule: they hold "
                f"{len(self.labeled_indices_)} labels where the schedule expects "
                f"{self.schedule_[len(self.records_) - 1]}."
            )
        while len(self.records_) < len(self.schedule_) and self.stop_reason_ is None:
            t = len(self.records_)
            self.step(self.schedule_[t] - self.schedule_[t - 1], label_of)
        self._notify("on_loop_end")
        return self.records_


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

    A function around :class:`ActiveLearningLoop` for scripts: iteration 0
    trains on ``initial_indices``; iteration ``t >= 1`` queries
    ``schedule[t] - schedule[t - 1]`` items, labels them from ``y`` and
    retrains.

    Parameters
    ----------
    estimator : object
        A classifier on texts; cloned at every training.
    query_strategy : callable
        See :class:`ActiveLearningLoop`.
    X : sequence of str or of (str, str)
        The pool, labeled part included.
    y : array-like of shape (n_samples,)
        The oracle's labels.
    initial_indices : array-like of int
        The initial labeled set.
    schedule : sequence of int
        Labeled-set sizes after each iteration; ``schedule[0]`` must equal
        ``len(initial_indices)``.
    seed : int
        Base seed of the queries and of the learner.
    evaluate : callable or None, default=None
        ``evaluate(model) -> dict`` of scores, called after every training.
    completed : sequence of dict or IterationRecord, default=()
        Records of iterations ``0..T`` of an interrupted run; the loop
        rebuilds the labeled set from them, retrains, and continues.
    on_iteration : callable or None, default=None
        ``on_iteration(record)`` after each new iteration (a dict).
    feed_unlabeled : {"auto", True, False}, default="auto"
        Passed to :class:`~allsh_sklearn.ActiveLearner`.
    verbose : bool, default=False
        Print one line per iteration.

    Returns
    -------
    learner : ActiveLearner
        The learner after the last iteration.
    records : list of dict
        :meth:`IterationRecord.to_dict` of every iteration, completed ones
        first.
    """
    from ._callbacks import LambdaCallback

    y = np.asarray(y)
    initial_indices = np.asarray(initial_indices, dtype=np.int64)
    if int(schedule[0]) != len(initial_indices):
        raise ValueError(
            f"schedule[0] must be the size of the initial labeled set "
            f"({len(initial_indices)}). Got {schedule[0]} instead."
        )
    callbacks = []
    if on_iteration is not None:
        callbacks.append(
            LambdaCallback(on_iteration_end=lambda _, r: on_iteration(r.to_dict()))
        )
    if verbose:
        callbacks.append(PrintLog())
    loop = ActiveLearningLoop(
        estimator,
        query_strategy,
        X,
        classes=np.unique(y),
        seed=seed,
        evaluate=evaluate,
        callbacks=callbacks,
        feed_unlabeled=feed_unlabeled,
    )
    completed = list(completed)
    if completed:
        first = completed[0]
        acquired = (
            first.acquired
            if isinstance(first, IterationRecord)
            else (first["acquired"])
        )
        if [int(i) for i in acquired] != initial_indices.tolist():
            raise ValueError(
                "The completed iterations do not start from the same initial "
                "labeled set: they belong to another run."
            )
        loop.resume(completed, y)
        records = loop.run(schedule, y)
    else:
        records = loop.run(schedule, y, initial_indices=initial_indices)
    return loop.learner_, [record.to_dict() for record in records]
