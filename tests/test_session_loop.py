"""A labeling session drives one active learning loop for its whole life.

The loop (:class:`~allsh_sklearn.loop.ActiveLearningLoop`) is kept between
rounds; it learns every label change (new labels, relabels, undos, skips,
from any process), keeps the audit sample out, and queries from the round's
model without training it again when the labels did not change. What people
see must not depend on it: a reopened session queries the same batches, and
two sessions in one process do not share anything.
"""

import shutil

import numpy as np
import pytest
from _session_data import (
    create_session,
    current_labels,
    database_rows,
    label_open_batch,
    make_pool,
)
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from allsh_sklearn.session import LabelingSession

LABELS2 = ["negative", "positive"]


def _create(path, table, **params):
    params.setdefault("strategy", "allsh")
    params.setdefault("audit_fraction", 0.2)
    return create_session(path, table, **params)


def _training_labels(session):
    """``{id: label}`` of the labels trained on (audit sample left out)."""
    return current_labels(session, training=True)


def _loop_labels(session):
    ids = session._pool()[0]
    return {ids[i]: str(label) for i, label in session._engine()._loop.labels_.items()}


def _shown(batch):
    return [(item.item_id, item.guess, item.score) for item in batch.items]


def _other(label):
    return LABELS2[1 - LABELS2.index(label)]


def test_changing_labels_reach_the_one_loop_and_a_reopened_session_agrees(
    tmp_path,
):
    table, truth = make_pool(n=150)
    session = _create(tmp_path / "live", table)
    session.next_batch()
    label_open_batch(session, truth)
    loops = set()
    earlier = []  # ids labeled in earlier rounds (trained on)
    for round_ in range(5):
        # What a fresh process would query from the same database.
        shutil.copytree(tmp_path / "live", tmp_path / f"copy{round_}")
        batch = session.next_batch()
        reopened = LabelingSession.open(tmp_path / f"copy{round_}", progress=False)
        assert _shown(reopened.next_batch()) == _shown(batch)
        reopened.close()
        loops.add(id(session._engine()._loop))
        assert _loop_labels(session) == _training_labels(session)
        trained = [i for i in earlier if i in _training_labels(session)]
        earlier += label_open_batch(session, truth)
        if round_ == 1:  # a second look changes two labels trained on
            for item_id in trained[:2]:
                session.label(item_id, _other(truth[item_id]))
        if round_ == 2:  # a label trained on is taken back: the text is skipped
            session.skip(trained[2])
        if round_ == 3:  # a relabel undone: the label it had counts again
            session.label(trained[3], _other(truth[trained[3]]))
            session.undo(annotator="annotator")
    assert len(loops) == 1  # one loop for the whole session
    loop = session._engine()._loop
    assert any(record.relabeled for record in loop.records_)
    assert any(record.removed for record in loop.records_)
    ids = session._pool()[0]
    audit = {i for i, item_id in enumerate(ids) if item_id in _audit_ids(session)}
    batch = session.next_batch()
    assert _loop_labels(session) == _training_labels(session)
    # The audit sample is never trained on nor queried.
    assert audit and not audit & set(loop.labels_)
    assert audit <= set(loop.excluded_indices)
    assert not audit & {ids.index(item.item_id) for item in batch.items}


def _audit_ids(session):
    rows = database_rows(session.path, "SELECT ext_id FROM items WHERE role = 'audit'")
    return {row[0] for row in rows}


def test_labels_given_in_another_process_reach_the_loop(tmp_path):
    table, truth = make_pool(n=120)
    first = _create(tmp_path / "project", table, strategy="entropy")
    first.next_batch()
    label_open_batch(first, truth)
    first.next_batch()
    label_open_batch(first, truth, limit=5)
    # Another annotator's process relabels one of them and labels the rest.
    second = LabelingSession.open(tmp_path / "project", progress=False)
    labeled = list(_training_labels(second))
    second.label(labeled[0], _other(truth[labeled[0]]), annotator="other")
    label_open_batch(second, truth, annotator="other")
    shutil.copytree(tmp_path / "project", tmp_path / "copy")
    batch = first.next_batch()
    assert _loop_labels(first) == _training_labels(first)
    reopened = LabelingSession.open(tmp_path / "copy", progress=False)
    assert _shown(reopened.next_batch()) == _shown(batch)


def test_two_sessions_in_one_process_share_nothing(tmp_path):
    table_a, truth_a = make_pool(n=120, seed=1)
    table_b, truth_b = make_pool(n=120, seed=2)
    alone = _create(tmp_path / "alone", table_a, strategy="allsh-wca")
    expected = []
    for _ in range(4):
        expected.append(_shown(alone.next_batch()))
        label_open_batch(alone, truth_a)
    a = _create(tmp_path / "a", table_a, strategy="allsh-wca")
    b = _create(tmp_path / "b", table_b, strategy="allsh-wca", random_state=3)
    seen = []
    for _ in range(4):
        seen.append(_shown(a.next_batch()))
        b.next_batch()
        label_open_batch(b, truth_b)
        label_open_batch(a, truth_a)
    assert seen == expected
    engines = a._engine(), b._engine()
    assert engines[0]._loop is not engines[1]._loop
    assert engines[0].fitted_strategy_ is not engines[1].fitted_strategy_
    assert engines[0].fitted_strategy_.cache_ is not engines[1].fitted_strategy_.cache_


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF + logistic regression counting its fits (over all its clones)."""

    fits = 0

    def fit(self, X, y):
        type(self).fits += 1
        self.model_ = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_a_skipped_batch_is_requeried_from_the_kept_model_without_training(
    tmp_path,
):
    table, truth = make_pool(n=120)
    session = _create(
        tmp_path / "project",
        table,
        classifier=CountingClassifier(),
        strategy="entropy",
        audit_fraction=0.0,
    )
    for _ in range(3):
        session.next_batch()
        label_open_batch(session, truth)
    batch = session.next_batch()
    fits = CountingClassifier.fits
    for item in batch.items:
        session.skip(item.item_id)
    shutil.copytree(tmp_path / "project", tmp_path / "copy")
    again = session.next_batch()
    assert CountingClassifier.fits == fits  # the loop's model, as it is
    assert not {i.item_id for i in again.items} & {i.item_id for i in batch.items}
    # A reopened session queries from the stored model, without training.
    reopened = LabelingSession.open(tmp_path / "copy", progress=False)
    assert _shown(reopened.next_batch()) == _shown(again)
    assert CountingClassifier.fits == fits
    assert len(reopened.rounds()) == len(session.rounds()) == 3


@pytest.mark.parametrize("strategy", ["entropy", "allsh"])
def test_the_loop_model_is_the_stored_model(tmp_path, strategy):
    table, truth = make_pool(n=100)
    session = _create(tmp_path / "project", table, strategy=strategy)
    for _ in range(3):
        session.next_batch()
        label_open_batch(session, truth)
    session.next_batch()
    texts = session._pool()[1]
    live = session._engine()._loop.model_.predict_proba(texts)
    reopened = LabelingSession.open(tmp_path / "project", progress=False)
    np.testing.assert_array_equal(reopened.model().predict_proba(texts), live)


def test_retrain_tells_its_stages_to_a_progress_callback(tmp_path):
    table, truth = make_pool(n=100)
    session = _create(tmp_path / "project", table, strategy="entropy")
    stages = []
    session.next_batch(progress=lambda *stage: stages.append(stage))
    assert [stage[1:] for stage in stages] == [(0, 1), (1, 1)]  # random batch
    label_open_batch(session, truth)
    stages.clear()
    session.retrain(progress=lambda *stage: stages.append(stage))
    assert [stage[1:] for stage in stages] == [(i, 4) for i in range(5)]
    assert stages[0][0] == "training on 8 labels"
    assert stages[1][0].startswith("scoring ")
    # Every text skipped: the kept model scores again, no training stage.
    for item in session.current_batch().items:
        session.skip(item.item_id)
    stages.clear()
    session.next_batch(progress=lambda *stage: stages.append(stage))
    assert stages[0][0].startswith("scoring ") and stages[0][1:] == (1, 4)
    with pytest.raises(TypeError, match="'progress' parameter"):
        session.retrain(progress="loud")
