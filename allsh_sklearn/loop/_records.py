"""The record of one active learning iteration, with a stable serialisation."""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["IterationRecord", "query_times", "summarise_run", "summarise_scores"]

#: The phases of ``IterationRecord.time`` after a query (iteration 0 has
#: only ``"training"``).
TIME_KEYS = ("training", "inference", "selection", "augmentation", "query")


def summarise_scores(values):
    """``{"min", "mean", "max"}`` of the selected items' scores ({} for none).

    Parameters
    ----------
    values : array-like of float

    Returns
    -------
    summary : dict of {str: float}

    Examples
    --------
    >>> summarise_scores([0.5, 1.0, 1.5])
    {'min': 0.5, 'mean': 1.0, 'max': 1.5}
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {}
    return {
        "min": float(values.min()),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }


@dataclass
class IterationRecord:
    """What happened at one iteration of an active learning loop.

    Iteration 0 trains on the initial labeled set; iteration ``t >= 1``
    labels the items of one query and retrains. Records are what a loop is
    resumed from (:meth:`ActiveLearningLoop.resume`), so they hold the
    acquired positions in order.

    Parameters
    ----------
    iteration : int
        0 for the initial set, then 1, 2, ...
    n_labeled : int
        Labeled items after this iteration.
    acquired : list of int
        Positions in the pool labeled at this iteration, in query order
        (the initial set at iteration 0).
    scores : dict of {str: float}
        The loop's ``evaluate`` results after training (e.g. accuracy on
        each evaluation set).
    time : dict of {str: float}
        Seconds: ``"training"``, and after a query ``"query"`` (the whole
        call) with the strategy's own split into ``"inference"``,
        ``"selection"`` and ``"augmentation"``.
    batch_labels : list of int
        How many acquired items fell in each class (in ``classes`` order).
    query_scores : dict of {str: float} or None, default=None
        Min, mean and max of the strategy's scores of the acquired items
        (None at iteration 0 and for items taught without a query).
    relabeled : list of int, default=[]
        Positions labeled before whose label changed at this iteration
        (:meth:`ActiveLearningLoop.relabel`).
    removed : list of int, default=[]
        Positions whose label was taken back at this iteration
        (:meth:`ActiveLearningLoop.unlabel`); they are back in the pool.
    refit : bool, default=False
        Whether this iteration trained from scratch on every label in
        position order (:meth:`ActiveLearningLoop.retrain`) rather than
        adding the acquired items to the training set.

    Examples
    --------
    >>> record = IterationRecord(0, 2, [5, 9], {"test": 0.5}, {"training": 0.1},
    ...                          [1, 1])
    >>> IterationRecord.from_dict(record.to_dict()) == record
    True
    >>> sorted(record.to_dict())
    ['acquired', 'batch_labels', 'iteration', 'n_labeled', 'scores', 'time']
    """

    iteration: int
    n_labeled: int
    acquired: list
    scores: dict = field(default_factory=dict)
    time: dict = field(default_factory=dict)
    batch_labels: list = field(default_factory=list)
    query_scores: dict | None = None
    relabeled: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    refit: bool = False

    def to_dict(self):
        """The record as a JSON-ready dict.

        ``query_scores`` is written only when set, ``relabeled`` and
        ``removed`` only when not empty and ``refit`` only when true, so the
        records of a loop that only ever adds labels keep their form.

        The keys and value types are stable: this is the line the experiment
        runner writes to ``iterations.jsonl``.

        Returns
        -------
        data : dict
        """
        data = {
            "iteration": int(self.iteration),
            "n_labeled": int(self.n_labeled),
            "acquired": [int(i) for i in self.acquired],
            "scores": {key: float(value) for key, value in self.scores.items()},
            "time": {key: float(value) for key, value in self.time.items()},
            "batch_labels": [int(count) for count in self.batch_labels],
        }
        if self.query_scores is not None:
            data["query_scores"] = dict(self.query_scores)
        for key in ("relabeled", "removed"):
            if getattr(self, key):
                data[key] = [int(i) for i in getattr(self, key)]
        if self.refit:
            data["refit"] = True
        return data

    @classmethod
    def from_dict(cls, data):
        """Rebuild a record from :meth:`to_dict` output (other keys are ignored).

        Parameters
        ----------
        data : dict

        Returns
        -------
        record : IterationRecord
        """
        return cls(
            iteration=int(data["iteration"]),
            n_labeled=int(data["n_labeled"]),
            acquired=[int(i) for i in data["acquired"]],
            scores=dict(data.get("scores", {})),
            time=dict(data.get("time", {})),
            batch_labels=list(data.get("batch_labels", [])),
            query_scores=data.get("query_scores"),
            relabeled=[int(i) for i in data.get("relabeled", [])],
            removed=[int(i) for i in data.get("removed", [])],
            refit=bool(data.get("refit", False)),
        )


def query_times(records):
    """The seconds of every query among ``records``, per phase.

    Parameters
    ----------
    records : sequence of IterationRecord

    Returns
    -------
    times : dict of {str: ndarray}
        For each phase of :data:`TIME_KEYS`, one value per query (0.0 when
        the strategy did not report the phase); iteration 0 is left out.
    """
    queries = [record for record in records if record.iteration > 0]
    return {
        key: np.asarray([float(r.time.get(key, 0.0)) for r in queries])
        for key in TIME_KEYS
    }


def _mean_words(texts):
    words = [
        len(item.split())
        if isinstance(item, str)
        else sum(len(t.split()) for t in item)
        for item in texts
    ]
    return float(np.mean(words)) if words else 0.0


def summarise_run(records, X, y, classes):
    """What a finished run amounts to: its curve, times and acquired labels.

    Parameters
    ----------
    records : sequence of IterationRecord
        Every iteration of the run.
    X : sequence of str or of (str, str)
        The pool.
    y : ndarray
        Its labels.
    classes : ndarray
        The class labels.

    Returns
    -------
    summary : dict
        ``curve`` ([labeled count, scores] per iteration), ``final``
        (the last scores), ``n_queries``, ``query_time`` (mean seconds per
        phase), ``first_query_time``, ``classes``, ``pool_class_counts``,
        ``acquired_class_counts`` (the queried items, initial set excluded),
        ``acquired_mean_words`` and ``pool_mean_words``.
    """
    queries = records[1:]
    acquired = [i for r in queries for i in r.acquired]
    return {
        "curve": [[r.n_labeled, r.scores] for r in records],
        "final": records[-1].scores,
        "n_queries": len(queries),
        "query_time": {
            key: float(np.mean(values)) if len(values) else 0.0
            for key, values in query_times(records).items()
        },
        "first_query_time": dict(queries[0].time) if queries else {},
        "classes": [c.item() for c in classes],
        "pool_class_counts": [int(np.sum(y == c)) for c in classes],
        "acquired_class_counts": [int(np.sum(y[acquired] == c)) for c in classes],
        "acquired_mean_words": _mean_words([X[i] for i in acquired]),
        "pool_mean_words": _mean_words(X),
    }
