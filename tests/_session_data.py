"""Small pools and a scripted annotator shared by the labeling-session tests.

Import what a module needs::

    from _session_data import make_pool, label_open_batch
"""

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


def current_labels(session):
    """``{id: label}`` of every current label, read straight from the database."""
    import sqlite3

    connection = sqlite3.connect(session.path / "session.sqlite")
    try:
        rows = connection.execute(
            "SELECT i.ext_id, s.label FROM item_state s JOIN items i "
            "ON i.item = s.item WHERE s.kind = 'label'"
        ).fetchall()
    finally:
        connection.close()
    return dict(rows)


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
