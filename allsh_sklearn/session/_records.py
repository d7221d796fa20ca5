"""What a labeling session hands out: items, events, batches, rounds, status.

The records :class:`~allsh_sklearn.session.LabelingSession` returns, and
the functions that build them from the rows of its database.
"""

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = [
    "SKIP",
    "Batch",
    "Event",
    "HistoryRound",
    "ImportReport",
    "Item",
    "RoundInfo",
    "SessionStatus",
    "make_items",
    "round_info",
]

#: The skip marker of the terminal and of label files' ``label`` column.
SKIP = "__skip__"


@dataclass
class Item:
    """One text as an annotator sees it.

    Attributes
    ----------
    item_id : str
        The id from the data file (or the text's hash).
    text : str
    text_pair : str or None
    batch : int or None
        The batch it was served in (None outside any batch).
    position : int or None
        1-based position in that batch.
    batch_size : int or None
    guess : str or None
        The model's predicted label when the batch was queried.
    proba : dict of {str: float} or None
        The model's probabilities then, by label.
    score : float or None
        The strategy's score (for ALLSH, the divergence).
    explanation : dict or None
        Why the strategy picked it (for ALLSH, the augmented copies with the
        model's probabilities on each and their divergence; see
        :meth:`LabelingSession.why`).
    label : str or None
        The current label (latest wins).
    skipped : bool
    history : list of Event
        Filled by :meth:`LabelingSession.item` only.
    purpose : {"train", "audit"} or None
        Why it is in its batch: picked for training (by the strategy, or at
        random in a batch before any model), or drawn at random for the
        audit sample; None outside any batch.
    """

    item_id: str
    text: str
    text_pair: str | None = None
    batch: int | None = None
    position: int | None = None
    batch_size: int | None = None
    guess: str | None = None
    proba: dict | None = None
    score: float | None = None
    explanation: dict | None = None
    label: str | None = None
    skipped: bool = False
    history: list = field(default_factory=list)
    purpose: str | None = None

    def as_dict(self):
        """A JSON-friendly dict."""
        out = asdict(self)
        out["history"] = [e if isinstance(e, dict) else asdict(e) for e in self.history]
        return out


@dataclass
class Event:
    """One labeling event, as stored.

    Attributes
    ----------
    event : int
        Its number (increasing).
    item_id : str
    kind : {"label", "skip", "undo"}
    label : str or None
    annotator : str
    created_at : float
        Seconds since the epoch.
    undone : bool
        Whether a later undo took it back.
    source : str
        ``"annotate"``, ``"api"``, ``"import:<file name>"``, ...
    """

    event: int
    item_id: str
    kind: str
    label: str | None
    annotator: str
    created_at: float
    undone: bool = False
    source: str = "api"


@dataclass
class Batch:
    """A queried batch.

    Attributes
    ----------
    batch : int
    kind : {"initial", "query"}
        ``"initial"``: random (no model yet); ``"query"``: chosen by the
        strategy with the model of ``round``.
    round : int or None
    created_at : float
    items : list of Item
    n_done : int
        Items labeled or skipped.
    closed : bool
    """

    batch: int
    kind: str
    round: int | None
    created_at: float
    items: list
    n_done: int
    closed: bool

    @property
    def n_pending(self):
        """Items still to label."""
        return len(self.items) - self.n_done


@dataclass
class RoundInfo:
    """One retraining: the model, its audit estimate and the stopping rules.

    Attributes
    ----------
    round : int
    created_at : float
    n_labeled : int
        Training labels (the audit sample excluded).
    class_counts : dict of {str: int}
    n_audit : int
        Audit labels the model was scored on.
    audit_correct : int
    audit_accuracy : float or None
    audit_low, audit_high : float or None
        The Wilson 95% interval.
    mean_pool_score : float or None
    checks : list of dict
        The stopping rules' :meth:`~allsh_sklearn.stopping.StopCheck.as_dict`.
    train_seconds, query_seconds : float
    class_estimates : dict or None
        Per-class estimates from the audit sample
        (:meth:`ClassEstimates.as_dict <allsh_sklearn.session.ClassEstimates.as_dict>`:
        ``classes``, one dict per class with its training labels, audit
        support, recall and precision with their intervals; ``macro_f1``
        with its interval; ``warnings`` in plain words), plus ``round``,
        ``confidence``, ``min_train_labels``, ``recall_threshold`` and
        ``pool`` (``n`` texts predicted of the ``of`` unlabeled ones, and
        ``source``: ``"query"``, ``"pool"`` or ``"sample"``). None for
        rounds stored by an older version.
    """

    round: int
    created_at: float
    n_labeled: int
    class_counts: dict
    n_audit: int
    audit_correct: int
    audit_accuracy: float | None
    audit_low: float | None
    audit_high: float | None
    mean_pool_score: float | None
    checks: list
    train_seconds: float
    query_seconds: float
    class_estimates: dict | None = None

    @property
    def stop(self):
        """Whether any stopping rule says stop at this round."""
        return any(check["stop"] for check in self.checks)

    @property
    def stopped_by(self):
        """The names of the stopping rules that say stop at this round."""
        return [check["rule"] for check in self.checks if check["stop"]]

    @property
    def audit_summary(self):
        """The audit estimate as people read it, or None without audit labels.

        For example ``"0.812 [0.700, 0.893] n=48"``: the accuracy on the
        audit sample, its Wilson 95% interval and the number of audit labels.
        """
        if not self.n_audit:
            return None
        return (
            f"{self.audit_accuracy:.3f} [{self.audit_low:.3f}, "
            f"{self.audit_high:.3f}] n={self.n_audit}"
        )


@dataclass
class SessionStatus:
    """Where a session stands.

    Attributes
    ----------
    session_id : str
    n_items : int
    n_labeled : int
        Items with a training label.
    n_audit_labeled : int
        Items of the audit sample with a label.
    n_skipped : int
    class_counts : dict of {str: int}
        Training labels per class.
    n_events : int
        Every label, skip and undo stored.
    annotators : dict of {str: int}
        Labels given per annotator (current ones).
    batch : dict or None
        The open batch: ``batch``, ``kind``, ``size``, ``done``.
    labels_since_round : int
        Training labels given since the last retraining.
    rounds : list of RoundInfo
    should_stop : bool
        Whether a stopping rule says stop at the last round.
    n_unlabeled : int
        Texts neither labeled, skipped nor in the audit sample (those of the
        open batch included): 0 when the pool is fully labeled.
    model_up_to_date : bool
        Whether the last round's model was trained on exactly the current
        training labels (False before the first round).
    class_estimates : dict or None
        The last round's per-class estimates (see
        :attr:`RoundInfo.class_estimates`); None before the first round.
    """

    session_id: str
    n_items: int
    n_labeled: int
    n_audit_labeled: int
    n_skipped: int
    class_counts: dict
    n_events: int
    annotators: dict
    batch: dict | None
    labels_since_round: int
    rounds: list
    should_stop: bool
    n_unlabeled: int = 0
    model_up_to_date: bool = False
    class_estimates: dict | None = None

    def as_dict(self):
        """A JSON-friendly dict."""
        out = asdict(self)
        out["rounds"] = [asdict(r) for r in self.rounds]
        return out


@dataclass
class ImportReport:
    """What an import did.

    Attributes
    ----------
    path : str
    n_rows : int
        Rows (or Label Studio annotations) with a label or a skip.
    n_unlabeled : int
        Rows or tasks without one (left alone).
    n_imported : int
        Events stored.
    n_unchanged : int
        Rows not stored: their item already had the file's last label for
        it, or they repeat the row before them (see
        :meth:`LabelingSession.import_labels`).
    n_skips : int
    round : RoundInfo or None
        The retraining that followed, if any.
    """

    path: str
    n_rows: int
    n_unlabeled: int
    n_imported: int
    n_unchanged: int
    n_skips: int
    round: RoundInfo | None = None


# Helpers ---------------------------------------------------------------------------


@dataclass
class HistoryRound:
    """A stored round as the stopping rules read it."""

    n_labeled: int
    stop_set_predictions: object
    stop_set_proba: object
    mean_pool_score: float | None

    @classmethod
    def from_row(cls, row, n_labels):
        """The round of a dict with the columns of the ``rounds`` table."""
        predictions = row.get("stop_set_predictions")
        proba = row.get("stop_set_proba")
        if predictions is not None:
            predictions = np.frombuffer(predictions, dtype=np.int16)
        if proba is not None:
            proba = np.frombuffer(proba, dtype=np.float32).reshape(-1, n_labels)
        return cls(row["n_labeled"], predictions, proba, row.get("mean_pool_score"))


def make_items(rows, texts, states, labels, batch_sizes=None):
    """Items from the rows of their batches.

    Parameters
    ----------
    rows : list of tuple
        ``(item, batch, position, guess, proba, score, explanation,
        purpose)`` rows (see :meth:`SessionStore.batch_rows
        <allsh_sklearn.session._store.SessionStore.batch_rows>`).
    texts : dict of {int: (str, str, str or None)}
        ``(ext_id, text, text_pair)`` by item.
    states : dict of {int: (str, str or None)}
        The standing ``(kind, label)`` by item (absent: unlabeled).
    labels : list of str
        The session's labels, in the order of the stored probabilities.
    batch_sizes : dict of {int: int} or None, default=None

    Returns
    -------
    items : list of Item
    """
    items = []
    for item, batch, position, guess, proba, score, explanation, purpose in rows:
        ext_id, text, pair = texts[item]
        kind, label = states.get(item, (None, None))
        proba = None if proba is None else json.loads(proba)
        items.append(
            Item(
                item_id=ext_id,
                text=text,
                text_pair=pair,
                batch=batch,
                position=None if position is None else position + 1,
                batch_size=None if batch_sizes is None else batch_sizes.get(batch),
                guess=guess,
                proba=None if proba is None else dict(zip(labels, proba, strict=False)),
                score=None if score is None or math.isnan(score) else float(score),
                explanation=None if explanation is None else json.loads(explanation),
                label=label if kind == "label" else None,
                skipped=kind == "skip",
                purpose=purpose,
            )
        )
    return items


#: The columns of a row of ``SessionStore.round_rows``, in order: the fields
#: of :class:`RoundInfo` but ``audit_accuracy``.
_ROUND_COLUMNS = (
    "round created_at n_labeled class_counts n_audit audit_correct audit_low "
    "audit_high mean_pool_score checks train_seconds query_seconds class_estimates"
).split()


def round_info(row):
    """The :class:`RoundInfo` of a row of :meth:`SessionStore.round_rows
    <allsh_sklearn.session._store.SessionStore.round_rows>`."""
    info = dict(zip(_ROUND_COLUMNS, row, strict=True))
    info["class_counts"] = json.loads(info["class_counts"])
    info["checks"] = json.loads(info["checks"])
    if info["class_estimates"] is not None:
        info["class_estimates"] = json.loads(info["class_estimates"])
    n_audit, correct = info["n_audit"], info["audit_correct"]
    info["audit_accuracy"] = None if n_audit == 0 else correct / n_audit
    return RoundInfo(**info)
