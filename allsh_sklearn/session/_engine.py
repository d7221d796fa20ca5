"""The seam between a labeling session and active learning.

Everything a session does with a model happens here and only here: build
the classifier (a tier of :mod:`allsh_sklearn.models` or an estimator given
in Python), fit it on the labels, score and select the next batch with the
query strategy, predict, and explain why the strategy picked a text. The
strategy is reached through the hooks of
:class:`~allsh_sklearn.strategies.BaseQueryStrategy` only (``prepare``,
``texts_to_encode``, ``explain``), so a new strategy needs no change here.
The session around it stores labels and batches; it never fits or queries
itself.

Active learning itself is one :class:`~allsh_sklearn.loop.ActiveLearningLoop`
per session, over the whole pool, kept for the session's life:
``Engine.step`` brings its labels up to date with the database (labels,
relabels and undos from every annotator and process), retrains when they or
the round changed, and queries with the audit sample and skipped texts kept
out.
"""

import contextlib
import io
import pickle
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ..augment import SQLiteAugmentationCache
from ..augment._cache import item_key
from ..loop import ActiveLearningLoop, derive_seed
from ..models import TfidfTier, make_tier
from ..presets import PRESETS, make_strategy
from ..utils._validation import check_one_of
from ._errors import SessionError, StorageError
from ._store import storage_errors

__all__ = ["Engine", "StepResult", "check_strategy_name"]

_CHUNK = 4096


def check_strategy_name(name, classifier):
    """Check a strategy name of :data:`allsh_sklearn.presets.PRESETS`.

    Parameters
    ----------
    name : str
    classifier : str or estimator
        ALLSH + CL (``"allsh-cl"``) trains with the consistency loss, which
        only the fine-tuned tier supports.

    Returns
    -------
    preset : Preset
    """
    check_one_of(name, "strategy", PRESETS, owner="LabelingSession")
    preset = PRESETS[name]
    if preset.consistency:
        if (
            not isinstance(classifier, str)
            or not make_tier(classifier).supports_consistency
        ):
            raise ValueError(
                f"The {name!r} strategy trains the classifier with the consistency "
                "loss, which needs classifier='minilm'. Got classifier="
                f"{classifier if isinstance(classifier, str) else 'an estimator'!r}."
            )
    return preset


@dataclass
class StepResult:
    """What one step of active learning produced.

    Attributes
    ----------
    estimator : object
        The classifier fitted on the labels.
    indices : ndarray
        Positions in the pool, most informative first.
    scores : ndarray
        Their scores.
    mean_pool_score : float or None
        The mean score over the whole candidate pool.
    train_seconds, query_seconds : float
    pool_indices : ndarray or None
        The candidate pool the query scored (positions in the pool), when
        the strategy kept its predicted classes (class-balanced ones do).
    pool_predictions : list of str or None
        The model's predicted label for each of ``pool_indices``: the
        predictions the query made anyway, so the per-class estimates need
        no second pass over the pool.
    """

    estimator: object
    indices: np.ndarray
    scores: np.ndarray
    mean_pool_score: float | None
    train_seconds: float
    query_seconds: float
    pool_indices: np.ndarray | None = None
    pool_predictions: list | None = None


class _ChunkedProgress:
    """A fitted classifier whose ``predict_proba`` runs in chunks under a bar."""

    def __init__(self, estimator, progress, description):
        self.estimator_ = estimator
        self._progress = progress
        self._description = description

    @property
    def classes_(self):
        return self.estimator_.classes_

    def __sklearn_is_fitted__(self):
        return True

    def predict_proba(self, X):
        items = list(X)
        if len(items) <= _CHUNK or not self._progress:
            return self.estimator_.predict_proba(items)
        parts = []
        with tqdm(
            total=len(items), desc=self._description, unit="text", leave=False
        ) as bar:
            for start in range(0, len(items), _CHUNK):
                chunk = items[start : start + _CHUNK]
                parts.append(self.estimator_.predict_proba(chunk))
                bar.update(len(chunk))
        return np.vstack(parts)

    def __getattr__(self, name):
        if name in ("embed", "predict_proba_and_embed", "transform", "named_steps"):
            return getattr(self.estimator_, name)
        raise AttributeError(name)


class _Stages:
    """Named steps shown as a tqdm bar and/or told to ``report``.

    ``report(stage, done, total)`` is called as each step begins (``done``
    steps finished of ``total``); nothing is shown when ``progress`` is False
    and ``report`` is None.
    """

    def __init__(self, names, progress, report=None):
        self.names = list(names)
        self.report = report
        self.done = 0
        self.bar = None
        if progress and self.names:
            self.bar = tqdm(total=len(self.names), desc=self.names[0], leave=False)
        self._tell()

    def _tell(self):
        if self.report is not None and self.done < len(self.names):
            self.report(self.names[self.done], self.done, len(self.names))

    def next(self):
        self.done += 1
        self._tell()
        if self.bar is None:
            return
        self.bar.update(1)
        if self.bar.n < len(self.names):
            self.bar.set_description(self.names[self.bar.n])

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _LayeredCache:
    """An in-memory dict in front of a persistent augmentation cache.

    The persistent cache's sqlite3 errors (a full disk, a read-only folder)
    become the session's (:class:`~allsh_sklearn.session.StorageError`, ...).
    """

    def __init__(self, persistent):
        self.persistent = persistent
        self._memory = {}

    def _errors(self):
        return storage_errors(
            getattr(self.persistent, "path", "cache/augmentations.sqlite"),
            "The session's augmentation cache",
        )

    @staticmethod
    def _keys(keys):
        # Texts are their own keys; only pairs need turning into one string.
        return [
            (str(f), int(c), item if isinstance(item, str) else item_key(item))
            for f, c, item in keys
        ]

    def get_many(self, keys):
        keys = list(keys)
        memory = self._memory
        normalised = self._keys(keys)
        values = [memory.get(key) for key in normalised]
        missing = [i for i, v in enumerate(values) if v is None]
        if missing:
            with self._errors():
                fetched = self.persistent.get_many([keys[i] for i in missing])
            for i, value in zip(missing, fetched, strict=True):
                if value is not None:
                    memory[normalised[i]] = value
                    values[i] = value
        return values

    def set_many(self, mapping):
        with self._errors():
            self.persistent.set_many(mapping)
        keys = self._keys(mapping)
        self._memory.update(zip(keys, mapping.values(), strict=True))

    def __getstate__(self):
        return {"persistent": self.persistent}

    def __setstate__(self, state):
        self.persistent = state["persistent"]
        self._memory = {}


class _StrategyStore:
    """What a strategy's ``prepare`` keeps in the session, and its cache of copies.

    ``get(name)``/``put(name, data)`` are the session's stored artifacts (a
    reopened session reads back what an earlier process fitted instead of
    fitting it again); ``open_cache(name)`` is a cache of augmented copies in
    the project's cache folder, whose storage errors are the session's.

    Parameters
    ----------
    artifacts : dict-like
        ``get(name) -> bytes | None`` and ``put(name, bytes)``.
    cache_dir : pathlib.Path
        The project's cache folder.
    """

    def __init__(self, artifacts, cache_dir):
        self.artifacts = artifacts
        self.cache_dir = cache_dir

    def get(self, name):
        return self.artifacts.get(name)

    def put(self, name, data):
        self.artifacts.put(name, data)

    def open_cache(self, name):
        """The SQLite cache of copies ``name`` in the cache folder, memory in front."""
        path = self.cache_dir / name
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"Cannot create the session's cache folder {self.cache_dir}: "
                f"{error}. Free some space or fix the folder's permissions."
            ) from error
        try:
            with storage_errors(path, "The session's augmentation cache"):
                return _LayeredCache(SQLiteAugmentationCache(path))
        except ValueError as error:  # not a cache file: a damaged folder
            raise StorageError(
                f"The session's augmentation cache {path} cannot be used "
                f"({error}). Delete it: it is rebuilt when needed."
            ) from error


class _InLabelOrder:
    """A fitted classifier whose ``predict_proba`` follows the session's labels."""

    def __init__(self, engine, estimator):
        self._engine = engine
        self._estimator = estimator

    @property
    def classes_(self):
        return np.asarray(self._engine.labels)

    def predict_proba(self, X):
        return self._engine.predict_proba(self._estimator, X)


@dataclass(eq=False)
class Engine:
    """Builds, fits, queries and explains for one session (the only seam).

    Parameters
    ----------
    labels : list of str
        The label set (the classifier's classes, in this order).
    classifier : str or estimator
        A tier name of :data:`allsh_sklearn.models.TIERS`, or an unfitted
        estimator on raw texts (cloned at every fit).
    strategy : str or callable
        A name of :data:`allsh_sklearn.presets.PRESETS` or a query strategy.
    cache_dir : pathlib.Path
        The project's cache folder (embeddings, augmented copies).
    artifacts : dict-like
        ``get(name) -> bytes | None`` and ``put(name, bytes)``: where fitted
        parts shared by every round are kept (the TF-IDF vocabulary, what the
        strategy's ``prepare`` fitted) so that a reopened session does not
        refit them.
    random_state : int
    """

    labels: list
    classifier: object
    strategy: object
    cache_dir: object
    artifacts: object
    random_state: int
    # Built on first use and kept for the session's life.
    _tier: object = field(default=None, init=False, repr=False)
    _strategy: object = field(default=None, init=False, repr=False)
    _loop: object = field(default=None, init=False, repr=False)
    _loop_seed: object = field(default=None, init=False, repr=False)
    _encoded: bool = field(default=False, init=False, repr=False)

    def __post_init__(self):
        self.labels = list(self.labels)

    # Building -----------------------------------------------------------------

    def tier(self, X_pool, progress=False):
        """The prepared classifier tier (None for an estimator given in Python).

        The prepared tier (for TF-IDF, the vocabulary learned from the pool)
        is kept in the session so a reopened session does not refit it; a
        stored tier this version cannot use is prepared again (the result is
        the same: preparing uses no labels and no randomness).
        """
        if not isinstance(self.classifier, str):
            return None
        if self._tier is None:
            tier = _load_checked(self.artifacts.get("tier"))
            if tier is None or getattr(tier, "name", None) != self.classifier:
                tier = make_tier(self.classifier, cache_dir=self.cache_dir)
                if progress:
                    print(f"Preparing the {self.classifier} classifier on the pool...")
                tier.prepare(X_pool)
                self.artifacts.put("tier", pickle.dumps(tier, protocol=5))
            tier.cache_dir = self.cache_dir
            self._tier = tier
        return self._tier

    def build(self, X_pool, seed, progress=False):
        """A fresh, unfitted classifier."""
        tier = self.tier(X_pool, progress=progress)
        if tier is not None:
            return tier.build(
                classes=np.asarray(self.labels),
                random_state=seed,
                consistency=self.consistency(),
            )
        return clone(self.classifier)

    def query_strategy(self, X_pool):
        """The strategy, set up once: prepared on the whole pool (its ``prepare``).

        A strategy that learns from the pool (ALLSH, its text augmentation)
        fits it once, on every text of the pool, with the session's seed; what it
        keeps in the session (:class:`_StrategyStore`) a reopened session
        reads back instead of fitting again, and its augmented copies go to
        ``cache/augmentations.sqlite``.
        """
        if self._strategy is not None:
            return self._strategy
        strategy = self.strategy
        if isinstance(strategy, str):
            params = {"random_state": self.random_state}
            if (
                "embedding"
                in check_strategy_name(strategy, self.classifier).cls().get_params()
            ):
                tier = self.tier(X_pool)
                params["embedding"] = None if tier is None else tier.embedding
            strategy = make_strategy(strategy, **params)
        else:
            strategy = clone(strategy) if hasattr(strategy, "get_params") else strategy
        prepare = getattr(strategy, "prepare", None)
        if callable(prepare):
            strategy = prepare(
                X_pool,
                random_state=self.random_state,
                cache_dir=self.cache_dir,
                store=_StrategyStore(self.artifacts, self.cache_dir),
            )
        self._strategy = strategy
        return strategy

    def consistency(self):
        """Whether the classifier trains with the consistency loss (ALLSH + CL)."""
        if not isinstance(self.strategy, str):
            return False
        return check_strategy_name(self.strategy, self.classifier).consistency

    def threads(self):
        """One BLAS thread while a TF-IDF tier trains and predicts.

        Its logistic regression runs L-BFGS on vectors of the vocabulary's
        size; spreading each of those small vector operations over BLAS
        threads costs more than it saves. Measured side by side by
        ``benchmarks/bench_session.py`` (results/benchmarks/): fitting on
        200 SST-2 labels took 2.4 s with OpenBLAS's default two threads and
        0.24 s with one on a busy machine, 2.2 s and 0.12 s on a quieter
        one. Other classifiers keep the process's settings.
        """
        if isinstance(self._tier, TfidfTier):
            return threadpool_limits(limits=1, user_api="blas")
        return contextlib.nullcontext()

    # One step of active learning ----------------------------------------------

    def loop(self, X_pool):
        """The session's active learning loop over ``X_pool`` (built once).

        The strategy is prepared once (:meth:`query_strategy`) and kept as
        it is (``refit_strategy=False``); the estimator is set before every
        training (each round has its own seed).
        """
        if self._loop is None:
            self._loop = ActiveLearningLoop(
                None,
                self.query_strategy(X_pool),
                X_pool,
                classes=np.asarray(self.labels),
                seed=self.random_state,
                refit_strategy=False,
            )
        return self._loop

    def _sync(self, loop, labeled, y_labeled):
        """Bring the loop's labels to ``labeled``: new, changed and taken back."""
        wanted = dict(zip(labeled, y_labeled, strict=True))
        current = loop.labels_
        removed = [i for i in current if i not in wanted]
        if removed:
            loop.unlabel(removed)
        changed = [i for i in labeled if i in current and current[i] != wanted[i]]
        if changed:
            loop.relabel(changed, np.asarray([wanted[i] for i in changed], object))
        added = [i for i in labeled if i not in current]
        if added:
            loop.label(added, np.asarray([wanted[i] for i in added], dtype=object))

    def step(
        self,
        labeled,
        y_labeled,
        excluded,
        n_instances,
        *,
        X_pool,
        seed,
        model=None,
        progress=True,
        report=None,
    ):
        """Bring the loop up to date with the labels, then query the next batch.

        The session's loop learns every label change since its last
        training (from any annotator or process), retrains from scratch on
        the labels when they or ``seed`` (the round) changed, then queries
        among the texts neither labeled nor ``excluded``. Training from
        scratch in item order with the round's seed makes the model a
        function of the labels and the round only: a reopened session, or
        another process, gets the same model and the same batch.

        Parameters
        ----------
        labeled : list of int
            Positions in ``X_pool`` of the training labels (the audit sample
            excluded), in increasing order.
        y_labeled : array-like of str
            Their labels.
        excluded : iterable of int
            Positions neither queried nor fed as unlabeled data (the audit
            sample, skipped texts).
        n_instances : int
            The batch's training part; 0 trains (when the labels or the
            round changed) without querying, for a final round on a pool
            with nothing left to query.
        X_pool : list
            The whole pool.
        seed : int
            The round's seed: the classifier's, and the query's.
        model : object or None, default=None
            The round's model as stored (fitted on exactly these labels with
            this seed): used instead of training when the loop would
            otherwise have to train.
        progress : bool, default=True
            A tqdm bar over the steps (and the encoder's own while encoding).
        report : callable or None, default=None
            ``report(stage, done, total)`` as each step (training, scoring)
            begins.

        Returns
        -------
        result : StepResult
            ``indices`` are positions in ``X_pool``.
        """
        self.encode_ahead(X_pool, progress=progress)
        loop = self.loop(X_pool)
        loop.include()
        loop.exclude(sorted(excluded))
        labeled = [int(i) for i in labeled]
        y_labeled = np.asarray(y_labeled, dtype=object)
        if loop.records_:
            self._sync(loop, labeled, y_labeled)
        must_train = not loop.records_ or loop.n_untrained or seed != self._loop_seed
        candidates = np.setdiff1d(loop.candidate_indices, labeled)
        query = n_instances > 0
        bar = _Stages(
            ([f"training on {len(labeled)} labels"] if must_train else [])
            + ([f"scoring {len(candidates)} texts"] if query else []),
            progress,
            report,
        )
        times = {}
        try:
            with self.threads():
                if must_train:
                    if model is None:
                        loop.estimator = self.build(X_pool, seed, progress=progress)
                    if loop.records_:
                        record = loop.retrain(model=model)
                    else:
                        record = loop.start(labeled, y_labeled, model=model)
                    self._loop_seed = seed
                    times["train"] = record.time["training"]
                    bar.next()
                chosen = np.zeros(0, dtype=np.int64)
                if query:
                    started = time.perf_counter()
                    chosen = loop.query(
                        n_instances, random_state=derive_seed(seed, "query", 1)
                    )
                    times["query"] = time.perf_counter() - started
                    bar.next()
        finally:
            bar.close()
        estimator = loop.model_
        self._check_classes(estimator)
        if not query:
            return StepResult(
                estimator=estimator,
                indices=chosen,
                scores=np.zeros(0),
                mean_pool_score=None,
                train_seconds=times.get("train", 0.0),
                query_seconds=0.0,
            )
        self.fitted_strategy_ = loop.learner_.query_strategy_
        candidates = loop.candidate_indices
        scores_all = getattr(self.fitted_strategy_, "last_scores_", None)
        if scores_all is not None and len(scores_all) == len(candidates):
            scores_all = np.asarray(scores_all, dtype=np.float64)
            positions = np.searchsorted(candidates, chosen)
            scores, mean_score = scores_all[positions], float(np.mean(scores_all))
        else:
            scores, mean_score = np.full(len(chosen), np.nan), None
        pool_indices, pool_predictions = self._pool_predictions(estimator, candidates)
        return StepResult(
            estimator=estimator,
            indices=np.asarray(chosen, dtype=np.int64),
            scores=scores,
            mean_pool_score=mean_score,
            train_seconds=times.get("train", 0.0),
            query_seconds=times.get("query", 0.0),
            pool_indices=pool_indices,
            pool_predictions=pool_predictions,
        )

    def _pool_predictions(self, estimator, candidates):
        """The predicted label of each candidate, if the query kept them.

        Class-balanced strategies predict the whole candidate pool to share
        the batch out among the classes and keep the predicted classes
        (``last_predicted_``, column indices of ``estimator.classes_``);
        ``(None, None)`` for the others.
        """
        predicted = getattr(self.fitted_strategy_, "last_predicted_", None)
        if predicted is None or len(predicted) != len(candidates):
            return None, None
        classes = [str(c) for c in estimator.classes_]
        try:
            labels = [classes[int(k)] for k in np.asarray(predicted)]
        except (IndexError, TypeError, ValueError):
            return None, None
        return np.asarray(candidates, dtype=np.int64), labels

    def encode_ahead(self, X_pool, progress=True):
        """Encode the pool (and the strategy's extra texts) once with a frozen encoder.

        The extra texts are the strategy's ``texts_to_encode`` (ALLSH's
        augmented copies). The embeddings land in the project's cache
        (``cache/``), so a reopened session never encodes them again; texts
        already there are read back, not encoded.
        """
        if self._encoded:
            return
        tier = self.tier(X_pool)
        encoder = None if tier is None else tier.encoder()
        if encoder is not None:
            texts = list(X_pool)
            strategy = self.query_strategy(X_pool)
            texts_to_encode = getattr(strategy, "texts_to_encode", None)
            if callable(texts_to_encode):
                texts += list(texts_to_encode(X_pool))
            # One call, one progress bar; the encoder saves every finished
            # group of batches, so an interrupted encoding keeps its work.
            encoder.set_params(progress_bar=progress)
            encoder.transform(texts)
        self._encoded = True

    def fit(self, X, y, *, X_pool, seed, progress=True):
        """A fresh classifier fitted on ``(X, y)``.

        Parameters
        ----------
        X : list
        y : array-like of str
        X_pool : list
            The whole pool (the tier is prepared on it).
        seed : int
        progress : bool, default=True

        Returns
        -------
        estimator : object
        """
        estimator = self.build(X_pool, seed, progress=progress)
        self._fit(estimator, X, y, progress)
        return estimator

    def _fit(self, estimator, X, y, progress):
        bar = _Stages([f"training on {len(X)} labels"], progress)
        try:
            with self.threads():
                estimator.fit(list(X), np.asarray(y, dtype=object).astype(str))
            bar.next()
        finally:
            bar.close()
        self._check_classes(estimator)

    def _check_classes(self, estimator):
        classes = [str(c) for c in getattr(estimator, "classes_", [])]
        unknown = [c for c in classes if c not in self.labels]
        if unknown:
            raise SessionError(
                f"The classifier learned classes {unknown} that are not in the "
                f"session's labels {self.labels}."
            )

    # Predictions --------------------------------------------------------------

    def predict_proba(self, estimator, X, progress=False, description="predicting"):
        """Probabilities in the order of the session's labels, shape (n, n_labels)."""
        if len(X) == 0:
            return np.zeros((0, len(self.labels)))
        with self.threads():
            proba = _ChunkedProgress(estimator, progress, description).predict_proba(X)
        classes = [str(c) for c in estimator.classes_]
        full = np.zeros((len(X), len(self.labels)))
        for column, label in enumerate(classes):
            full[:, self.labels.index(label)] = proba[:, column]
        return full

    def explain(self, estimator, X_selected, proba):
        """Why the strategy picked each text (its ``explain``; ALLSH: the copies).

        Parameters
        ----------
        estimator : object
            The fitted classifier of the round.
        X_selected : list
            The texts the query picked.
        proba : ndarray of shape (n_texts, n_labels)
            Their probabilities in the order of the session's labels.

        Returns
        -------
        explanations : list of dict or None
            What the last query's strategy says of each text (ALLSH, per
            text: ``copies`` (each with ``text``, ``proba`` and
            ``divergence``), ``driver`` (the index of the copy with the
            largest divergence, the one WCA scores by), ``divergence`` (the
            name of the measure) and ``aggregate`` (``"max"`` or
            ``"mean"``)); None when it has nothing to say.
        """
        strategy = getattr(self, "fitted_strategy_", None)
        explain = getattr(strategy, "explain", None)
        if not callable(explain) or not X_selected:
            return None
        return explain(_InLabelOrder(self, estimator), X_selected, proba)

    # Saving models ------------------------------------------------------------

    def dumps(self, estimator):
        """Serialize a fitted classifier; the tier's shared parts are referenced."""
        buffer = io.BytesIO()
        shared = self._shared_objects()

        class _Pickler(pickle.Pickler):
            def persistent_id(self, obj):
                for name, value in shared.items():
                    if obj is value:
                        return name
                return None

        _Pickler(buffer, protocol=5).dump(estimator)
        return buffer.getvalue()

    def loads(self, data, X_pool, *, fresh_shared=False):
        """Load a classifier written by :meth:`dumps`.

        ``fresh_shared=True`` gives it its own copy of the shared parts
        without their memoized rows (for a model written to a file).
        """
        self.tier(X_pool)
        shared = self._shared_objects()

        class _Unpickler(pickle.Unpickler):
            def persistent_load(self, name):
                value = shared[name]
                if fresh_shared and hasattr(value, "transformer"):
                    return type(value)(value.transformer)
                return value

        return _Unpickler(io.BytesIO(data)).load()

    def _shared_objects(self):
        features = getattr(self._tier, "features_", None)
        return {} if features is None else {"tier-features": features}


def _load_checked(data):
    """Unpickle a stored tier; None if missing or written by another version."""
    if data is None:
        return None
    try:
        tier = pickle.loads(data)
        # Attributes the current classes expect must all be there.
        features = getattr(tier, "features_", None)
        if features is not None:
            features.get_params()
            features.transformer.get_params()
        return tier
    except Exception:  # any mismatch: prepare the tier again
        return None
