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

What a human-paced driver (a labeling session) needs besides:

- items kept out of the queries and of the unlabeled training data (an
  audit sample, skipped texts): :meth:`~ActiveLearningLoop.exclude`, and
  for one query only ``query(exclude=...)`` (texts someone is labeling);
- labels that change, not only grow: :meth:`~ActiveLearningLoop.label`
  (without training), :meth:`~ActiveLearningLoop.relabel`,
  :meth:`~ActiveLearningLoop.unlabel` (an undo), then
  :meth:`~ActiveLearningLoop.retrain`, which trains from scratch on every
  label in position order, so the model depends on the labeled set only;
- a model fitted earlier (stored on disk) to query from without training:
  ``start(..., model=fitted)``;
- a strategy fitted beforehand and kept as it is for the whole loop
  (``refit_strategy=False``), across retrainings too.
"""

import time

import numpy as np
from sklearn.frozen import FrozenEstimator

from ..learner import ActiveLearner
from ..utils._validation import take
from ._callbacks import HOOKS, Callback, call_hook
from ._planning import derive_seed
from ._records import IterationRecord, summarise_scores

__all__ = ["ActiveLearningLoop"]


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
        every training from scratch (:meth:`start`, :meth:`resume`,
        :meth:`retrain`) by :class:`~allsh_sklearn.ActiveLearner`. It is read
        then, so it may be replaced between trainings (for example by the
        same classifier with another ``random_state``).
    query_strategy : callable
        ``strategy(classifier, X_pool, n_instances, random_state=...)``. The
        learner works on a copy of it, kept for the whole loop (retrainings
        included), so what the copy learns (ALLSH's augmented copies) is
        not lost between iterations.
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
        Called at the loop's hooks with the loop and keyword arguments
        (:meth:`notify`; see :class:`~allsh_sklearn.loop.Callback`).
    feed_unlabeled : {"auto", True, False}, default="auto"
        Passed to :class:`~allsh_sklearn.ActiveLearner`; the unlabeled data
        it feeds leaves out the :meth:`exclude` d items.
    refit_strategy : bool, default=True
        If the strategy has a ``fit`` method, fit it on all of ``X`` when the
        loop starts (ALLSH fits its augmenter there), so that its state does
        not depend on the iteration the loop starts from. False uses a
        strategy fitted beforehand as it is (for example ALLSH fitted on a
        larger corpus, or whose fitted augmenter was stored).

    Attributes
    ----------
    learner_ : ActiveLearner
        The learner, trained on every label so far.
    records_ : list of IterationRecord
        One per iteration, iteration 0 (the initial set) first.
    labeled_indices_ : list of int
        Positions in ``X`` labeled so far, in the order they were labeled.
    labels_ : dict of {int: label}
        The label of each labeled position (the latest, after a relabel).
    model_ : object
        The fitted classifier queries use (the one given to :meth:`start`
        until the next training).
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

    Labels may change, and items may be kept out of the queries:

    >>> loop.relabel([0], [0]).unlabel([1]).retrain().n_labeled
    11
    >>> held = loop.exclude(loop.candidate_indices[:5]).excluded_indices
    >>> bool(set(loop.query(3)) & set(held))
    False
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
        refit_strategy=True,
    ):
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.X = X
        self.classes = np.asarray(classes)
        self.seed = seed
        self.evaluate = evaluate
        self.callbacks = list(callbacks)
        self.feed_unlabeled = feed_unlabeled
        self.refit_strategy = refit_strategy
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
        self._excluded = np.zeros(len(X), dtype=bool)
        self._pending = None
        # Label changes not trained on yet: (added, relabeled, removed).
        self._added, self._relabeled, self._removed = [], [], []
        # Whether the learner holds a model given to start/resume (not
        # trained by the loop): the next training then starts from scratch.
        self._given_model = False

    # Hooks ------------------------------------------------------------------

    def notify(self, hook, **kwargs):
        """Call ``hook`` of every callback: ``callback.hook(self, **kwargs)``.

        Parameters
        ----------
        hook : str
            ``"on_loop_begin"``, ``"on_query_end"``, ``"on_iteration_end"``
            or ``"on_loop_end"``.
        **kwargs
            The hook's arguments (``indices=``, ``record=``).
        """
        if hook not in HOOKS:
            raise ValueError(
                f"The 'hook' parameter must be one of {list(HOOKS)}. Got "
                f"{hook!r} instead."
            )
        for callback in self.callbacks:
            call_hook(getattr(callback, hook), hook, self, kwargs)

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

    @property
    def excluded_indices(self):
        """Positions in ``X`` kept out by :meth:`exclude` (ndarray of int)."""
        return np.flatnonzero(self._excluded)

    @property
    def candidate_indices(self):
        """Positions a query may choose: unlabeled and not excluded."""
        return np.flatnonzero(self._unlabeled & ~self._excluded)

    @property
    def model_(self):
        """The fitted classifier the queries use."""
        estimator = self.learner_.estimator_
        if isinstance(estimator, FrozenEstimator):
            return estimator.estimator
        return estimator

    def _positions(self, indices, verb="given"):
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(np.unique(indices)) != len(indices):
            raise ValueError(f"An item is {verb} twice: {sorted(indices.tolist())}.")
        if len(indices) and (indices.min() < 0 or indices.max() >= len(self.X)):
            raise ValueError(
                f"Item positions must be in [0, {len(self.X)}). Got "
                f"{sorted(indices.tolist())}."
            )
        return indices

    def _check_labels(self, indices, labels, *, labeled=False):
        """Positions and labels, checked; ``labeled``: they must be labeled."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(indices):
            raise ValueError(
                f"Got {len(labels)} labels for {len(indices)} items: pass one "
                "label per item."
            )
        indices = self._positions(indices, verb="labeled")
        if labeled:
            self._check_labeled(indices)
        else:
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

    def _check_labeled(self, indices):
        missing = [int(i) for i in indices if self._unlabeled[i]]
        if missing:
            raise ValueError(
                f"Items {missing} are not labeled: label them (label or teach) instead."
            )

    def _check_started(self, method):
        if not self.records_:
            raise RuntimeError(f"Call start() or resume() before {method}().")

    def exclude(self, indices):
        """Keep items out of the queries and of the unlabeled training data.

        For items held apart (an audit sample never trained on, texts people
        skipped): they stay excluded until :meth:`include`. Labeling one is
        still possible (it is then trained on like any other). To keep items
        out of one query only, pass them to ``query(exclude=...)``.

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X``.

        Returns
        -------
        self : ActiveLearningLoop
        """
        self._excluded[self._positions(indices)] = True
        return self

    def include(self, indices=None):
        """Undo :meth:`exclude`: the items may be queried again.

        Parameters
        ----------
        indices : array-like of int or None, default=None
            Positions in ``X``; None includes every excluded item.

        Returns
        -------
        self : ActiveLearningLoop
        """
        if indices is None:
            self._excluded[:] = False
        else:
            self._excluded[self._positions(indices)] = False
        return self

    def _record_labels(self, indices, labels):
        self._unlabeled[indices] = False
        for index, label in zip(indices.tolist(), labels, strict=True):
            self.labeled_indices_.append(index)
            self.labels_[index] = label
        self._added.extend(indices.tolist())

    def _forget_labels(self):
        self.labeled_indices_, self.labels_, self._added = [], {}, []
        self._unlabeled[:] = True

    def _training_pool(self):
        """The unlabeled items fed to training: unlabeled and not excluded."""
        return take(self.X, self.candidate_indices)

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
        self.notify("on_iteration_end", record=record)
        return record

    # Steps ------------------------------------------------------------------

    @staticmethod
    def _check_model(model):
        if model is not None and not (
            hasattr(model, "predict_proba") and hasattr(model, "classes_")
        ):
            raise TypeError(
                "The 'model' parameter must be a fitted classifier (with "
                f"predict_proba and classes_) or None. Got {type(model).__name__} "
                "instead."
            )

    def _begin(self, labeled, model=None):
        self._check_model(model)
        if self.refit_strategy and callable(getattr(self.query_strategy, "fit", None)):
            self.query_strategy.fit(self.X)
        self.notify("on_loop_begin")
        self.learner_ = ActiveLearner(
            self.estimator if model is None else FrozenEstimator(model),
            query_strategy=self.query_strategy,
            feed_unlabeled=self.feed_unlabeled,
            random_state=derive_seed(self.seed, "learner"),
        )
        started = time.perf_counter()
        self.learner_.fit(
            take(self.X, labeled),
            self._labels_of(labeled),
            X_unlabeled=None if model is not None else self._training_pool(),
        )
        self._given_model = model is not None
        self._added, self._relabeled, self._removed = [], [], []
        return time.perf_counter() - started

    def start(self, indices, labels, *, model=None):
        """Label the initial set and train on it (iteration 0).

        Parameters
        ----------
        indices : array-like of int
            Positions in ``X`` of the initial labeled set.
        labels : array-like
            Their labels.
        model : object or None, default=None
            A classifier already fitted on exactly these labels (a model
            stored earlier): the loop queries with it as it is, without
            training; the next training (:meth:`teach`, :meth:`retrain`)
            trains ``estimator`` from scratch. None trains ``estimator``.

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
        try:
            training = self._begin(self.labeled_indices_, model=model)
        except BaseException:
            self._forget_labels()  # not started: start() may be called again
            raise
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

    def resume(self, records, labels, *, model=None):
        """Rebuild the loop from the records of an interrupted run and retrain.

        Parameters
        ----------
        records : sequence of IterationRecord or of dict
            Iterations ``0..T``, in order (dicts as written by
            :meth:`IterationRecord.to_dict`; other keys are ignored).
            Labels taken back (``removed``) leave the labeled set; the
            labeled set is put in position order where an iteration trained
            from scratch (``refit``), as the interrupted loop did.
        labels : array-like or callable
            The current labels of the recorded items: an array over ``X`` or
            ``labels(indices) -> labels``.
        model : object or None, default=None
            A classifier already fitted on these labels, used as it is (see
            :meth:`start`); None retrains ``estimator``.

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
        labeled = []
        for record in records:
            if record.removed:
                removed = set(record.removed)
                labeled = [i for i in labeled if i not in removed]
            labeled += record.acquired
            if len(set(labeled)) != len(labeled):
                raise ValueError("The completed iterations acquired an index twice.")
            if record.refit:
                labeled.sort()
        label_of = _oracle(labels)
        indices, values = self._check_labels(labeled, label_of(np.asarray(labeled)))
        self._record_labels(indices, values)
        try:
            self._begin(self.labeled_indices_, model=model)
        except BaseException:
            self._forget_labels()
            raise
        self.records_ = records
        return self

    def query(self, n_instances, *, exclude=None, random_state=None):
        """Ask the strategy for the next items to label (nothing is labeled yet).

        The query of iteration ``t`` is seeded by
        ``derive_seed(seed, "query", t)`` unless ``random_state`` is given.
        It chooses among :attr:`candidate_indices` (unlabeled items not
        excluded), in position order.

        Parameters
        ----------
        n_instances : int
        exclude : array-like of int or None, default=None
            Positions to pass over in this query only (texts someone else is
            labeling right now); see :meth:`exclude` for lasting exclusions.
        random_state : int or None, default=None
            The query's seed; None derives it from ``seed`` and the
            iteration.

        Returns
        -------
        indices : ndarray of int
            Positions in ``X``, in the strategy's order. Pass them (or the
            ones people labeled) to :meth:`teach` with their labels.
        """
        self._check_started("query")
        pool = self.candidate_indices
        if exclude is not None:
            pool = np.setdiff1d(pool, self._positions(exclude), assume_unique=True)
        iteration = len(self.records_)
        if random_state is None:
            random_state = derive_seed(self.seed, "query", iteration)
        started = time.perf_counter()
        positions, _ = self.learner_.query(
            take(self.X, pool),
            n_instances=n_instances,
            random_state=random_state,
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
        self.notify("on_query_end", indices=chosen)
        return chosen

    def teach(self, indices, labels):
        """Label items and retrain on every label so far (one iteration).

        The items join the training set of the current model (the learner
        retrains on it); after a :meth:`relabel` or :meth:`unlabel`, or
        from a model given to :meth:`start`, this trains from scratch
        instead, as :meth:`retrain` does.

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
        self._check_started("teach")
        self.label(indices, labels)
        if self._relabeled or self._removed or self._given_model:
            return self.retrain()
        added = np.asarray(self._added, dtype=np.int64)
        started = time.perf_counter()
        self.learner_.teach(
            take(self.X, added),
            self._labels_of(added),
            X_unlabeled=self._training_pool(),
        )
        return self._trained(time.perf_counter() - started, refit=False)

    def label(self, indices, labels):
        """Label items without training (the next training uses them).

        For labels that arrive one at a time: :meth:`retrain` (or
        :meth:`teach`) later trains on all of them at once.

        Parameters
        ----------
        indices : array-like of int
            Unlabeled positions in ``X``.
        labels : array-like
            Their labels.

        Returns
        -------
        self : ActiveLearningLoop
        """
        self._check_started("label")
        indices, labels = self._check_labels(indices, labels)
        self._record_labels(indices, labels)
        return self

    def relabel(self, indices, labels):
        """Change the labels of labeled items (without training).

        The next training (:meth:`retrain`, or :meth:`teach`, which then
        retrains from scratch) uses the new labels.

        Parameters
        ----------
        indices : array-like of int
            Labeled positions in ``X``.
        labels : array-like
            Their new labels.

        Returns
        -------
        self : ActiveLearningLoop
        """
        self._check_started("relabel")
        indices, labels = self._check_labels(indices, labels, labeled=True)
        untrained = set(self._added)
        for index, label in zip(indices.tolist(), labels, strict=True):
            if self.labels_[index] == label:
                continue
            self.labels_[index] = label
            if index not in untrained and index not in self._relabeled:
                self._relabeled.append(index)
        return self

    def unlabel(self, indices):
        """Take labels back (an undo): the items return to the pool.

        The next training (:meth:`retrain`, or :meth:`teach`, which then
        retrains from scratch) leaves them out.

        Parameters
        ----------
        indices : array-like of int
            Labeled positions in ``X``.

        Returns
        -------
        self : ActiveLearningLoop
        """
        self._check_started("unlabel")
        indices = self._positions(indices)
        self._check_labeled(indices)
        gone = set(indices.tolist())
        untrained = set(self._added)
        self.labeled_indices_ = [i for i in self.labeled_indices_ if i not in gone]
        self._added = [i for i in self._added if i not in gone]
        self._relabeled = [i for i in self._relabeled if i not in gone]
        for index in indices.tolist():
            del self.labels_[index]
            if index not in untrained:
                self._removed.append(index)
        self._unlabeled[indices] = True
        return self

    @property
    def n_untrained(self):
        """Label changes since the last training (added, relabeled, removed)."""
        return len(self._added) + len(self._relabeled) + len(self._removed)

    def retrain(self, *, model=None):
        """Train from scratch on every label, in position order (one iteration).

        A fresh clone of ``estimator`` (read now, so it may have been
        replaced) is trained on the labeled items sorted by position, so the
        model depends on the labeled set only, not on the order labels came
        in or were changed: a loop rebuilt from the same labels trains the
        same model. The strategy's working copy is kept. The record lists
        the items labeled, relabeled and unlabeled since the last training.

        Parameters
        ----------
        model : object or None, default=None
            A classifier already fitted on exactly the current labels (a
            model stored by another process): used as it is instead of
            training (see :meth:`start`).

        Returns
        -------
        record : IterationRecord
        """
        self._check_started("retrain")
        self._check_model(model)
        self.labeled_indices_.sort()
        labeled = self.labeled_indices_
        strategy = getattr(self.learner_, "query_strategy_", None)
        self.learner_.set_params(
            estimator=self.estimator if model is None else FrozenEstimator(model)
        )
        started = time.perf_counter()
        self.learner_.fit(
            take(self.X, labeled),
            self._labels_of(labeled),
            X_unlabeled=None if model is not None else self._training_pool(),
        )
        seconds = time.perf_counter() - started
        if strategy is not None:
            # The learner's fit copies the strategy afresh; the copy it worked
            # on so far (and what it learned: cached augmentations) is kept.
            self.learner_.query_strategy_ = strategy
        self._given_model = model is not None
        return self._trained(seconds, refit=True)

    def _trained(self, seconds, *, refit):
        """The record of a training on the pending label changes."""
        added = np.asarray(self._added, dtype=np.int64)
        relabeled, removed = list(self._relabeled), list(self._removed)
        self._added, self._relabeled, self._removed = [], [], []
        pending, self._pending = self._pending, None
        times = {"training": seconds}
        query_scores = None
        if pending is not None:
            chosen, query_seconds, history = pending
            times["query"] = query_seconds
            for key in ("inference", "selection", "augmentation"):
                times[key] = float(history["time"].get(key, 0.0))
            scores = dict(zip(chosen.tolist(), history["scores"], strict=True))
            query_scores = summarise_scores(
                [scores[i] for i in added.tolist() if i in scores]
            )
        return self._finish(
            IterationRecord(
                iteration=len(self.records_),
                n_labeled=len(self.labeled_indices_),
                acquired=added.tolist(),
                scores=self._scores(),
                time=times,
                batch_labels=self._batch_labels(self._labels_of(added)),
                query_scores=query_scores,
                relabeled=relabeled,
                removed=removed,
                refit=refit,
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
        self.notify("on_loop_end")
        return self.records_
