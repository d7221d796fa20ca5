"""A labeling session's rounds: retrain, audit, check the stopping rules, draw.

:func:`advance` is what :meth:`LabelingSession.next_batch
<allsh_sklearn.session.LabelingSession.next_batch>` and
:meth:`~allsh_sklearn.session.LabelingSession.retrain` do when a batch is
due: read the labels (:func:`take_snapshot`), train a model on them when
they changed since the last round, score it on the audit sample and ask the
stopping rules (:func:`evaluate_round`), query the next batch (or draw it at
random while fewer than two classes have labels), place the audit texts in
it, explain the picks, and write the round and the batch in one transaction
(:func:`write_round`). When the pool is used up, :func:`final_round` trains
on every label without querying a batch.

Every function takes the session (a
:class:`~allsh_sklearn.session.LabelingSession`) it works for.
"""

import json
import math
import time
from dataclasses import dataclass

import numpy as np

from ..stopping import evaluate_rules
from ..utils import derive_seed, text_key
from ..utils._validation import check_int
from ._audit import accuracy_interval, class_estimates
from ._errors import NotReadyError, StorageError
from ._model_io import stored_model
from ._records import HistoryRound
from ._store import storage_errors

__all__ = [
    "AUDIT_CONFIDENCE",
    "MIN_TRAIN_LABELS",
    "POOL_SAMPLE",
    "RECALL_THRESHOLD",
    "Snapshot",
    "advance",
    "history",
    "label_digest",
    "seed",
    "take_snapshot",
]

#: Unlabeled texts the model predicts at each round for the per-class
#: estimates' "never predicted" warning, when the query kept no predictions.
POOL_SAMPLE = 2000

#: The per-class estimates' settings: interval level, the fewest training
#: labels a class should have, the lowest estimated recall not warned about.
AUDIT_CONFIDENCE = 0.95
MIN_TRAIN_LABELS = 5
RECALL_THRESHOLD = 0.5


def seed(random_state, *parts):
    """A seed derived from the session's ``random_state`` and ``parts``.

    Parameters
    ----------
    random_state : int
    *parts : int
        What the seed is for (a round's number, a batch's, a purpose).

    Returns
    -------
    seed : int
        In ``[0, 2**31 - 1)``.
    """
    return derive_seed(random_state, *parts, mixer="seed_sequence")


def label_digest(train):
    """A digest of the training labels ``(item, label, event)``: equal digests,
    equal labels (the events that gave them aside)."""
    text = "\n".join(f"{item}\t{label}" for item, label, _ in train)
    return text_key(text, algorithm="sha1")


def history(session):
    """Every stored round of ``session`` as the stopping rules read it.

    Returns
    -------
    rounds : list of HistoryRound
    """
    n_labels = len(session.labels)
    return [
        HistoryRound.from_row(row, n_labels) for row in session._store.history_rows()
    ]


# What a round starts from ----------------------------------------------------------


@dataclass
class Snapshot:
    """The labels and batches a round starts from, read in one transaction.

    Attributes
    ----------
    train : list of (int, str, int)
        ``(item, label, event)`` of every training label.
    audit : list of (int, str)
        ``(item, label)`` of every labeled audit text.
    last_round : tuple or None
        ``(round, label_event, class_counts)`` of the last round.
    last_digest : str or None
        The digest of the labels the last round was trained on.
    open_batch : tuple or None
        ``(batch, kind, round, created_at)`` of the open batch.
    pending : int
        Texts of the open batch with no label or skip.
    busy : set of int
        Items labeled, skipped or in the audit sample.
    slots : (int, int)
        Texts and audit texts of every batch so far.
    n_batches : int
    stop_set : list of int
    """

    train: list
    audit: list
    last_round: tuple | None
    last_digest: str | None
    open_batch: tuple | None
    pending: int
    busy: set
    slots: tuple
    n_batches: int
    stop_set: list


def take_snapshot(store, connection):
    """The :class:`Snapshot` of the session database, inside a read.

    Parameters
    ----------
    store : SessionStore
    connection : sqlite3.Connection
        Of a :meth:`SessionStore.read` block.

    Returns
    -------
    snapshot : Snapshot
    """
    last = store.last_round(connection)
    open_batch = store.open_batch(connection)
    pending = 0
    if open_batch is not None:
        size, done = store.batch_progress(connection, open_batch[0])
        pending = size - done
    return Snapshot(
        train=store.training_labels(connection),
        audit=store.audit_labels(connection),
        last_round=last,
        last_digest=store.round_digest(connection, None if last is None else last[0]),
        open_batch=open_batch,
        pending=pending,
        busy=store.busy_items(connection),
        slots=store.batch_slots(connection),
        n_batches=store.batch_count(connection),
        stop_set=store.stop_set(connection),
    )


# Drawing a batch -------------------------------------------------------------------


class _Stages:
    """Tells a ``progress(stage, done, total)`` callback (if any) the stages."""

    def __init__(self, report):
        self.report = report

    def tell(self, stage, done, total):
        if self.report is not None:
            self.report(stage, done, total)

    def for_engine(self, end, total):
        """The callback of the engine's stages, which end at stage ``end`` of
        ``total`` (None without a callback)."""
        report = self.report
        if report is None:
            return None
        return lambda stage, done, n: report(stage, done + end - n, total)


def _check_progress(progress):
    """The stage callback given as ``progress`` (None for a bool or None)."""
    if progress is None or isinstance(progress, bool | np.bool_):
        return None
    if callable(progress):
        return progress
    raise TypeError(
        "The 'progress' parameter must be True, False, None or a callable "
        f"progress(stage, done, total). Got {type(progress).__name__} instead."
    )


@dataclass
class DrawnBatch:
    """A batch drawn, not yet written.

    Attributes
    ----------
    number : int
    kind : {"initial", "query"}
    round_number : int or None
        The round whose model queried it (None for a random batch).
    entries : list of (int, str, float or None)
        ``(item, purpose, score)`` in batch order.
    guesses : list of str or None
    probas : ndarray or None
    explanations : dict of {int: dict} or None
        By position.
    """

    number: int
    kind: str
    round_number: int | None
    entries: list
    guesses: list | None = None
    probas: object = None
    explanations: dict | None = None

    def rows(self):
        """The ``batch_items`` rows of the batch."""
        rows = []
        for position, (item, purpose, score) in enumerate(self.entries):
            explanation = None
            if self.explanations is not None and position in self.explanations:
                explanation = json.dumps(self.explanations[position])
            proba = None
            if self.probas is not None:
                proba = json.dumps([round(float(p), 6) for p in self.probas[position]])
            guess = None if self.guesses is None else self.guesses[position]
            rows.append(
                (self.number, position, item, purpose, score, guess, proba, explanation)
            )
        return rows


def advance(session, *, size, progress, close_open, force=False):
    """Retrain if labels changed, query a batch and store it: one transaction.

    Returns the open batch afterwards, or None when the pool is used up
    (a final round was trained, if the labels changed). The caches the
    engine writes meanwhile (augmented copies, embeddings) fail like the
    database: a full disk there is a :class:`StorageError` too.

    Parameters
    ----------
    session : LabelingSession
    size : int or None
        The batch's size (None: the session's).
    progress : bool, callable or None
        See :meth:`LabelingSession.retrain
        <allsh_sklearn.session.LabelingSession.retrain>`.
    close_open : bool
        Close the open batch.
    force : bool, default=False
        A retraining asked for: does nothing when no label changed and the
        open batch still has texts.

    Returns
    -------
    batch : Batch or None
    """
    with storage_errors(session.path / "cache", "The session's cache"):
        return _advance(
            session, size=size, progress=progress, close_open=close_open, force=force
        )


def _batch_size(session, size):
    """The size of the next batch (the first one's is ``initial_size``)."""
    if size is None:
        size = session.config["batch_size"]
        with session._store.read() as connection:
            if session._store.batch_count(connection) == 0:
                size = session.config.get("initial_size") or size
    check_int(size, "size", 1, owner="next_batch")
    return size


def _advance(session, *, size, progress, close_open, force):
    """:func:`advance`, its cache errors not yet translated."""
    if session.readonly:
        raise StorageError(
            f"The session in {session.path} is read-only: no batch can be queried."
        )
    size = _batch_size(session, size)
    stages = _Stages(_check_progress(progress))
    progress = session.progress if progress is None else bool(progress)
    if stages.report is not None:
        progress = False
    with session._store.read() as connection:
        snap = take_snapshot(session._store, connection)
    digest = label_digest(snap.train)
    changed = snap.last_round is None or snap.last_digest != digest
    if force and not changed and snap.open_batch is not None and snap.pending > 0:
        stages.tell("no label changed since the last round", 1, 1)
        return session.current_batch()
    ids, X_pool = session._pool()
    candidates = [i for i in range(len(ids)) if i not in snap.busy]
    if not candidates:
        final_round(session, snap, digest, changed, progress, stages)
        return None
    n_audit = _audit_plan(session, snap, size)
    n_train = min(size - n_audit, len(candidates))
    number = snap.n_batches + 1
    classes = {label for _, label, _ in snap.train}
    if len(classes) < 2:
        stages.tell("drawing a batch at random (no model yet)", 0, 1)
        train_items = _draw_at_random(session, candidates, n_train, number)
        if progress and snap.train:
            print(
                f"Only the class {sorted(classes)} has labels so far: this "
                "batch is drawn at random too."
            )
        entries = _place_audit(session, snap, train_items, None, n_audit, number)
        batch = DrawnBatch(number, "initial", None, entries)
        write_round(session, snap, digest, batch=batch, close_open=close_open)
        stages.tell("done", 1, 1)
        return session.current_batch()
    engine = session._engine()
    # Unchanged labels (a batch wholly skipped): the same round's model (kept
    # by the loop, or as stored) queries a new batch.
    last = snap.last_round
    round_number = 1 if last is None else last[0] + int(changed)
    result = _train_and_query(
        session, snap, n_train, round_number, X_pool, changed, progress, stages
    )
    estimator = result.estimator
    round_row = None
    if changed:
        stages.tell("checking the audit sample and the stopping rules", 2, 4)
        round_row = evaluate_round(
            session, engine, estimator, snap, round_number, result, X_pool, progress
        )
    train_items = [int(i) for i in result.indices]
    scores = [float(s) for s in result.scores]
    entries = _place_audit(session, snap, train_items, scores, n_audit, number)
    stages.tell("explaining and saving the batch", 3, 4)
    batch = _explained_batch(
        session, engine, estimator, X_pool, entries, number, round_number
    )
    write_round(
        session,
        snap,
        digest,
        batch=batch,
        round_row=round_row,
        estimator=estimator if round_row is not None else None,
        close_open=close_open,
    )
    session._model = (round_number, estimator)
    stages.tell("done", 4, 4)
    return session.current_batch()


def _draw_at_random(session, candidates, n_train, batch_number):
    """The training texts of a batch drawn at random (no model yet)."""
    rng = np.random.RandomState(seed(session.config["random_state"], 0, batch_number))
    chosen = rng.choice(len(candidates), size=n_train, replace=False)
    return [candidates[i] for i in chosen]


def _train_and_query(
    session, snap, n_train, round_number, X_pool, changed, progress, stages
):
    """Train the round's model (unless kept) and let the strategy pick
    ``n_train`` texts: the engine's :class:`StepResult`."""
    train = snap.train
    train_set = {item for item, _, _ in train}
    return session._engine().step(
        [item for item, _, _ in train],
        [label for _, label, _ in train],
        snap.busy - train_set,
        n_train,
        X_pool=X_pool,
        seed=seed(session.config["random_state"], round_number),
        model=None if changed else stored_model(session, round_number, X_pool),
        progress=progress,
        # The engine's stages (training, if needed, then scoring) are the
        # first two of four.
        report=stages.for_engine(2, 4),
    )


def _place_audit(session, snap, train_items, scores, n_audit, batch_number):
    """The batch's ``(item, purpose, score)`` entries: the training texts and
    the audit texts drawn for it, in a random order (annotators cannot tell
    audit texts apart)."""
    if scores is None:
        scores = [None] * len(train_items)
    audit_items = _draw_audit(session, n_audit, exclude=set(train_items))
    rng = np.random.RandomState(seed(session.config["random_state"], 1, batch_number))
    entries = [
        (item, "train", score) for item, score in zip(train_items, scores, strict=True)
    ]
    entries += [(item, "audit", None) for item in audit_items]
    order = rng.permutation(len(entries))
    return [entries[i] for i in order]


def _explained_batch(session, engine, estimator, X_pool, entries, number, round_number):
    """A queried batch with the model's guesses and the strategy's reasons."""
    X_batch = [X_pool[item] for item, _, _ in entries]
    probas = engine.predict_proba(estimator, X_batch)
    guesses = [session.labels[int(i)] for i in probas.argmax(axis=1)]
    picked = [i for i, (_, purpose, _) in enumerate(entries) if purpose == "train"]
    explained = engine.explain(estimator, [X_batch[i] for i in picked], probas[picked])
    explanations = None
    if explained is not None:
        explanations = dict(zip(picked, explained, strict=True))
    return DrawnBatch(
        number, "query", round_number, entries, guesses, probas, explanations
    )


def final_round(session, snap, digest, changed, progress, stages):
    """Train on every label when the pool is used up: a round, no batch.

    Nothing is left to query, so the round stores the model, the audit
    estimate and the stopping rules' verdicts only; the open batch is
    closed when none of its texts is left. Does nothing when the last
    round was trained on exactly these labels.
    """
    train = snap.train
    classes = {label for _, label, _ in train}
    if len(classes) < 2:
        have = f"only {sorted(classes)} has labels" if classes else "none is labeled"
        raise NotReadyError(
            "Every text of the pool is labeled, skipped or in the audit "
            f"sample, but no model can be trained: {have}, and a model "
            "needs labels of two classes. Undo some skips (or relabel) to "
            "go on."
        )
    close_open = snap.open_batch is not None and snap.pending == 0
    round_row = estimator = None
    if changed:
        last = snap.last_round
        round_number = 1 if last is None else last[0] + 1
        _, X_pool = session._pool()
        engine = session._engine()
        train_set = {item for item, _, _ in train}
        result = engine.step(
            [item for item, _, _ in train],
            [label for _, label, _ in train],
            snap.busy - train_set,
            0,
            X_pool=X_pool,
            seed=seed(session.config["random_state"], round_number),
            progress=progress,
            report=stages.for_engine(1, 3),
        )
        estimator = result.estimator
        stages.tell("checking the audit sample and the stopping rules", 1, 3)
        round_row = evaluate_round(
            session, engine, estimator, snap, round_number, result, X_pool, progress
        )
        stages.tell("saving the model", 2, 3)
    if changed or close_open:
        write_round(
            session,
            snap,
            digest,
            round_row=round_row,
            estimator=estimator,
            close_open=close_open,
        )
    if not changed:
        stages.tell("the model is trained on every label already", 1, 1)
        return
    session._model = (round_row["round"], estimator)
    stages.tell("done", 3, 3)


# The audit sample ------------------------------------------------------------------


def _audit_plan(session, snap, size):
    """How many audit texts a batch of ``size`` texts gets."""
    fraction = session.config["audit_fraction"]
    n_slots, n_audit_slots = snap.slots
    if fraction <= 0:
        return 0
    target = math.floor(fraction * (n_slots + size) + 1e-9)
    return max(0, min(size - 1, target - n_audit_slots))


def _draw_audit(session, n_audit, exclude):
    """The next ``n_audit`` audit texts, none of ``exclude``."""
    if n_audit == 0:
        return []
    store = session._store
    with store.read() as connection:
        items = store.unlabeled_by_audit_rank(connection, n_audit + len(exclude))
    return [item for item in items if item not in exclude][:n_audit]


# Evaluating a round ----------------------------------------------------------------


def evaluate_round(
    session, engine, estimator, snap, round_number, result, X_pool, progress
):
    """The row of the ``rounds`` table of a model just trained.

    The stop set's predictions, the audit estimate, the per-class estimates
    and the stopping rules' verdicts (on the stored rounds and this one).

    Returns
    -------
    row : dict of {str: object}
        By column.
    """
    labels = session.labels
    stop_items = snap.stop_set
    stop_proba = engine.predict_proba(
        estimator, [X_pool[i] for i in stop_items], progress, "stop set"
    )
    stop_predictions = stop_proba.argmax(axis=1).astype(np.int16)
    audit = snap.audit
    predicted = []
    if audit:
        audit_proba = engine.predict_proba(estimator, [X_pool[i] for i, _ in audit])
        predicted = [labels[int(i)] for i in audit_proba.argmax(axis=1)]
        correct = int(
            sum(p == label for p, (_, label) in zip(predicted, audit, strict=True))
        )
        low, high = accuracy_interval(correct, len(audit))
    else:
        correct, low, high = 0, None, None
    counts = {label: 0 for label in labels}
    for _, label, _ in snap.train:
        counts[label] += 1
    stop_set = dict(zip(stop_items, stop_predictions.tolist(), strict=True))
    pool = _pool_predictions(
        session, engine, estimator, snap, round_number, result, X_pool, stop_set
    )
    estimates = _class_estimates(
        labels, round_number, [label for _, label in audit], predicted, counts, pool
    )
    label_event = max((event for _, _, event in snap.train), default=0)
    row = {
        "round": round_number,
        "created_at": time.time(),
        "n_labeled": len(snap.train),
        "label_event": label_event,
        "class_counts": json.dumps(counts),
        "n_audit": len(audit),
        "audit_correct": correct,
        "audit_low": low,
        "audit_high": high,
        "mean_pool_score": result.mean_pool_score,
        "stop_set_predictions": stop_predictions.tobytes(),
        "stop_set_proba": stop_proba.astype(np.float32).tobytes(),
        "train_seconds": result.train_seconds,
        "query_seconds": result.query_seconds,
        "class_estimates": json.dumps(estimates),
    }
    rounds = history(session) + [HistoryRound.from_row(row, len(labels))]
    checks = evaluate_rules(session._rules(), rounds)
    row["checks"] = json.dumps([check.as_dict() for check in checks])
    return row


def _pool_predictions(
    session, engine, estimator, snap, round_number, result, X_pool, stop_set
):
    """The model's predictions on the unlabeled pool, for the "never
    predicted" warning of the per-class estimates.

    They are those the query made anyway when the strategy kept them
    (class-balanced ones); otherwise those of a seeded random sample of at
    most :data:`POOL_SAMPLE` unlabeled texts, the stop set's predictions
    (``stop_set``, ``{text: class index}``) reused where the sample meets it.

    Returns
    -------
    pool : dict
        ``labels`` (the predicted labels, or None without unlabeled texts),
        ``size`` (the number of unlabeled texts a sample stands for, None
        when it is not a sample), ``source`` (``"query"``, ``"sample"``,
        ``"pool"`` or None) and ``n_unlabeled``.
    """
    labels = session.labels
    busy = snap.busy
    unlabeled = [i for i in range(len(X_pool)) if i not in busy]
    pool_labels, pool_size, source = None, None, None
    if result.pool_predictions is not None:
        pool_labels, source = list(result.pool_predictions), "query"
    elif unlabeled:
        sample = np.asarray(unlabeled)
        if len(sample) > POOL_SAMPLE:
            rng = np.random.RandomState(
                seed(session.config["random_state"], 2, round_number)
            )
            sample = np.sort(rng.choice(sample, POOL_SAMPLE, replace=False))
            pool_size = len(unlabeled)
        known = {int(i): stop_set[int(i)] for i in sample if int(i) in stop_set}
        missing = [int(i) for i in sample if int(i) not in known]
        if missing:
            proba = engine.predict_proba(estimator, [X_pool[i] for i in missing])
            known.update(zip(missing, proba.argmax(axis=1).tolist(), strict=True))
        pool_labels = [labels[int(known[int(i)])] for i in sample]
        source = "sample" if pool_size is not None else "pool"
    return {
        "labels": pool_labels,
        "size": pool_size,
        "source": source,
        "n_unlabeled": len(unlabeled),
    }


def _class_estimates(
    labels, round_number, audit_labels, audit_predicted, train_counts, pool
):
    """The round's per-class estimates (:func:`class_estimates`), as a dict.

    ``pool`` is :func:`_pool_predictions`'s.
    """
    pool_labels = pool["labels"]
    estimates = class_estimates(
        audit_labels,
        audit_predicted,
        labels,
        train_counts=train_counts,
        pool_predictions=pool_labels,
        pool_size=pool["size"],
        confidence=AUDIT_CONFIDENCE,
        min_train_labels=MIN_TRAIN_LABELS,
        recall_threshold=RECALL_THRESHOLD,
        random_state=round_number,
    )
    out = estimates.as_dict()
    out.update(
        round=round_number,
        confidence=AUDIT_CONFIDENCE,
        min_train_labels=MIN_TRAIN_LABELS,
        recall_threshold=RECALL_THRESHOLD,
        pool={
            "n": 0 if pool_labels is None else len(pool_labels),
            "of": pool["n_unlabeled"],
            "source": pool["source"],
        },
    )
    return out


# Writing a round -------------------------------------------------------------------


def write_round(
    session, snap, digest, *, batch=None, round_row=None, estimator=None, close_open
):
    """Store a round, close the open batch and store the next batch: one
    transaction.

    Nothing is written when another process queried or trained since
    ``snap`` was read: its batch and its round are kept.

    Parameters
    ----------
    session : LabelingSession
    snap : Snapshot
    digest : str
        Of the training labels (:func:`label_digest`).
    batch : DrawnBatch or None, default=None
        None for a final round: nothing left to query.
    round_row : dict or None, default=None
        The new round (:func:`evaluate_round`), if one was trained.
    estimator : object or None, default=None
        The new round's model.
    close_open : bool
    """
    store = session._store
    model = None
    if estimator is not None:
        model = session._engine().dumps(estimator)
    now = time.time()
    last = snap.last_round
    with store.write() as connection:
        if store.batch_count(connection) != snap.n_batches:
            return
        if store.latest_round(connection) != (None if last is None else last[0]):
            return
        if round_row is not None:
            store.insert_round(connection, round_row, digest, model)
        if close_open:
            store.close_batches(connection, now)
        if batch is None:
            return
        store.insert_batch(
            connection, batch.number, batch.round_number, batch.kind, now, batch.rows()
        )
