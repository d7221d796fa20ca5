"""Small pools and a scripted annotator shared by the labeling-session tests.

Import what a module needs::

    from _session_data import make_pool, label_open_batch
"""

from pathlib import Path

import numpy as np
import pandas as pd
from _toy_models import synthetic_texts
from sklearn.base import BaseEstimator, ClassifierMixin

LABELS = ["negative", "positive", "sport"]


def make_pool(n=120, n_classes=2, seed=0):
    """A DataFrame of ``id, text`` and the hidden labels, by id.

    Parameters
    ----------
    n : int, default=120
    n_classes : int, default=2
    seed : int, default=0

    Returns
    -------
    table : pandas.DataFrame
        Columns ``id`` (``"t0"``, ``"t1"``, ...) and ``text``.
    truth : dict of {str: str}
        The label of each id, to play the annotator.
    """
    X, y = synthetic_texts(n=n, n_classes=n_classes, seed=seed)
    ids = [f"t{i}" for i in range(n)]
    table = pd.DataFrame({"id": ids, "text": X})
    truth = {i: LABELS[label] for i, label in zip(ids, y, strict=True)}
    return table, truth


def label_open_batch(session, truth, annotator="bot", limit=None):
    """Label the open batch's texts as ``truth`` says; returns the ids labeled."""
    done = []
    while limit is None or len(done) < limit:
        item = session.next_item(annotator)
        if item is None:
            break
        session.label(item.item_id, truth[item.item_id], annotator=annotator)
        done.append(item.item_id)
    return done


def run_rounds(session, truth, n_rounds, annotator="bot"):
    """Label ``n_rounds`` batches in a row (each next batch retrains)."""
    for _ in range(n_rounds):
        session.next_batch(progress=False)
        label_open_batch(session, truth, annotator)


def write_table(table, path):
    """Write a DataFrame as CSV, JSONL or Parquet, as ``path``'s suffix says."""
    suffix = Path(path).suffix
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".jsonl":
        table.to_json(path, orient="records", lines=True)
    elif suffix == ".parquet":
        table.to_parquet(path)
    else:
        raise ValueError(f"No writer for {suffix!r} files.")
    return path


def create_session(folder, table, **params):
    """A session on ``table`` (from :func:`make_pool`) with the tests' defaults.

    Two labels, the ``"tfidf-lr"`` classifier (the session's default before
    issue 30, which the golden records and many tests were written for),
    entropy sampling, batches of 10, ids from the ``id`` column, no audit
    sample, no progress output; ``params`` override them.
    """
    from allsh_sklearn.session import LabelingSession

    params.setdefault("labels", LABELS[:2])
    params.setdefault("classifier", "tfidf-lr")
    params.setdefault("strategy", "entropy")
    params.setdefault("batch_size", 10)
    params.setdefault("id_column", "id")
    params.setdefault("progress", False)
    params.setdefault("audit_fraction", 0.0)
    return LabelingSession.create(folder, table, **params)


def database_rows(folder, sql, parameters=()):
    """Rows of a query on a project's database, read with plain sqlite3."""
    import sqlite3

    connection = sqlite3.connect(Path(folder) / "session.sqlite")
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def texts_project(folder, texts, *, labels, batch_size=6, first_batch=True, **params):
    """A project on plain texts (ids from their hashes), closed; its first
    (random) batch drawn unless ``first_batch=False``. Returns ``folder``.

    ALLSH with the ``"tfidf-lr"`` classifier (the session's defaults before
    issue 30) unless ``params`` say otherwise: the page's tests check ALLSH's
    explanations."""
    from allsh_sklearn.session import LabelingSession

    params.setdefault("classifier", "tfidf-lr")
    params.setdefault("strategy", "allsh")
    session = LabelingSession.create(
        folder,
        pd.DataFrame({"text": texts}),
        labels=labels,
        batch_size=batch_size,
        progress=False,
        **params,
    )
    if first_batch:
        session.next_batch()
    session.close()
    return folder


def labels_by_text(folder):
    """``{text: (label, annotator)}`` of every current label of a project."""
    return {
        text: (label, annotator)
        for text, label, annotator in database_rows(
            folder,
            "SELECT i.text, s.label, e.annotator FROM item_state s "
            "JOIN items i ON i.item = s.item JOIN events e ON e.event = s.event "
            "WHERE s.kind = 'label'",
        )
    }


def current_labels(session, training=False):
    """``{id: label}`` of every current label, read straight from the database.

    ``training=True``: only the labels trained on (the audit sample left out).
    """
    where = " AND i.role IS NULL" if training else ""
    return dict(
        database_rows(
            session.path,
            "SELECT i.ext_id, s.label FROM item_state s JOIN items i "
            f"ON i.item = s.item WHERE s.kind = 'label'{where}",
        )
    )


def accuracy(predicted, expected):
    """Share of equal entries."""
    return float(np.mean(np.asarray(predicted) == np.asarray(expected)))


class HeldClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression whose ``fit`` can be held at its start.

    ``fit`` touches ``started`` (a file), then waits while the file ``hold``
    exists: a test holds a retraining there and kills the process. A real
    classifier otherwise (pickled into a session by reference to this module,
    so child processes need ``tests/`` on ``PYTHONPATH``).
    """

    def __init__(self, started=None, hold=None, interrupt=None):
        self.started = started
        self.hold = hold
        self.interrupt = interrupt

    def fit(self, X, y):
        import os
        import time
        from pathlib import Path

        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if self.started is not None:
            Path(self.started).touch()
        while self.hold is not None and os.path.exists(self.hold):
            time.sleep(0.02)
        if self.interrupt is not None and os.path.exists(self.interrupt):
            raise KeyboardInterrupt
        self.model_ = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)
