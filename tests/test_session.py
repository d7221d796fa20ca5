"""LabelingSession: creating, labeling, batches, rounds, audit, status, models."""

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
from _session_data import (
    create_session,
    current_labels,
    label_open_batch,
    make_pool,
    run_rounds,
    write_table,
)

from allsh_sklearn.session import (
    InputFileError,
    LabelingSession,
    NotReadyError,
    SessionError,
    SessionVersionError,
    accuracy_interval,
)
from allsh_sklearn.stopping import (
    LabelBudget,
    StabilizingPredictions,
    cohen_kappa,
)

LABELS2 = ["negative", "positive"]


@pytest.fixture
def pool():
    return make_pool(n=120)


def _create(tmp_path, table, name="project", **params):
    return create_session(tmp_path / name, table, **params)


# Creating ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_create_from_each_file_format(tmp_path, pool, suffix):
    table, _ = pool
    path = write_table(table, tmp_path / f"texts{suffix}")
    session = _create(tmp_path, path)
    assert session.status().n_items == len(table)
    batch = session.next_batch()
    assert batch.kind == "initial" and len(batch.items) == 10
    by_id = dict(zip(table["id"], table["text"], strict=True))
    assert all(item.text == by_id[item.item_id] for item in batch.items)


def test_csv_ids_keep_leading_zeros(tmp_path):
    table = pd.DataFrame({"id": ["007", "010"], "text": ["a good film", "a bad film"]})
    table.to_csv(tmp_path / "t.csv", index=False)
    session = _create(tmp_path, tmp_path / "t.csv", batch_size=2)
    ids = {item.item_id for item in session.next_batch().items}
    assert ids == {"007", "010"}


def test_ids_from_text_hashes_merge_repeated_texts(tmp_path):
    table = pd.DataFrame({"text": ["a good film", "a bad film", "a good film"]})
    session = _create(tmp_path, table, id_column=None, batch_size=3)
    assert session.status().n_items == 2
    assert session.n_merged_duplicates == 1
    # The hash is stable: the same text gets the same id in another session.
    other = _create(tmp_path, table.iloc[[2, 1]], name="other", id_column=None)
    ids = {i.item_id for i in session.next_batch().items}
    assert ids == {i.item_id for i in other.next_batch(size=2).items}


def test_text_pairs_train_and_export(tmp_path):
    a = ["a cat sat", "the dog ran", "a cat slept", "the dog sat"] * 10
    b = ["a cat sat down", "a cat ran", "a cat slept well", "a bird sat"] * 10
    same = ["positive", "negative", "positive", "negative"] * 10
    table = pd.DataFrame(
        {"id": [f"p{i}" for i in range(40)], "premise": a, "hypothesis": b}
    )
    session = _create(
        tmp_path,
        table,
        text_column="premise",
        pair_column="hypothesis",
        batch_size=8,
    )
    truth = dict(zip(table["id"], same, strict=True))
    run_rounds(session, truth, 2)
    item = session.next_batch().items[0]
    assert item.text_pair is not None and item.guess in LABELS2
    session.export_batch(tmp_path / "pairs.csv")
    exported = pd.read_csv(tmp_path / "pairs.csv")
    assert {"text", "text_pair", "label", "guess", "session_id"} <= set(exported)


def test_missing_column_names_the_columns(tmp_path, pool):
    table, _ = pool
    with pytest.raises(InputFileError, match=r"no column 'body'.*\['id', 'text'\]"):
        _create(tmp_path, table, text_column="body")
    assert not (tmp_path / "project").exists()


def test_empty_texts_are_refused_with_their_rows_or_dropped(tmp_path, pool):
    table, _ = pool
    table = table.copy()
    table.loc[[3, 7], "text"] = ["", "   "]
    table.loc[9, "text"] = None
    with pytest.raises(InputFileError, match=r"3 row\(s\).*rows 5, 9, 11") as error:
        _create(tmp_path, table)
    assert len(error.value.problems) == 3
    session = _create(tmp_path, table, drop_empty=True)
    assert session.status().n_items == len(table) - 3


def test_duplicate_and_missing_ids_are_refused(tmp_path, pool):
    table, _ = pool
    duplicated = table.copy()
    duplicated.loc[5, "id"] = "t1"
    with pytest.raises(InputFileError, match=r"duplicate id.*'t1' \(rows 3 and 7\)"):
        _create(tmp_path, duplicated)
    missing = table.copy()
    missing.loc[2, "id"] = ""
    with pytest.raises(InputFileError, match="without an id"):
        _create(tmp_path, missing)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"labels": ["only"]}, "'labels' parameter"),
        ({"labels": ["a", "a"]}, "repeated"),
        ({"batch_size": 0}, "'batch_size' parameter of LabelingSession"),
        ({"audit_fraction": 0.95}, "'audit_fraction' parameter"),
        ({"strategy": "nope"}, "'strategy' parameter"),
        ({"classifier": "nope"}, "'classifier' parameter"),
        ({"classifier": 3}, "'classifier' parameter.*tier name.*Got int 3 instead"),
        ({"strategy": 3}, "'strategy' parameter.*strategy name.*Got int 3 instead"),
        ({"initial_size": 0}, "'initial_size' parameter.*an int >= 1 or None"),
        ({"random_state": -1}, "'random_state' parameter.*an int >= 0. Got -1"),
        ({"strategy": "allsh-cl"}, "consistency loss"),
        ({"stopping_rules": {"x": 3}}, "StoppingRule"),
    ],
)
def test_bad_parameters_fail_before_anything_is_written(
    tmp_path, pool, params, message
):
    table, _ = pool
    with pytest.raises((ValueError, TypeError), match=message):
        _create(tmp_path, table, **params)
    assert not (tmp_path / "project").exists()


# Opening ---------------------------------------------------------------------------


def test_a_folder_holds_one_session(tmp_path, pool):
    table, _ = pool
    _create(tmp_path, table)
    with pytest.raises(SessionError, match="already holds a labeling session"):
        _create(tmp_path, table)
    with pytest.raises(SessionError, match="No labeling session"):
        LabelingSession.open(tmp_path / "elsewhere")


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path, pool):
    table, _ = pool
    session = _create(tmp_path, table)
    session.close()
    database = tmp_path / "project" / "session.sqlite"
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = database.read_bytes()
    with pytest.raises(SessionVersionError, match="newer allsh_sklearn.*schema 99"):
        LabelingSession.open(tmp_path / "project")
    assert database.read_bytes() == before


def test_a_file_that_is_not_a_session_is_refused(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    sqlite3.connect(folder / "session.sqlite").execute("CREATE TABLE x (y)").close()
    with pytest.raises(SessionError, match="not a labeling session database"):
        LabelingSession.open(folder)
    (folder / "session.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(SessionError):
        LabelingSession.open(folder)


# Labeling ----------------------------------------------------------------------------


def test_label_relabel_undo_skip_keep_the_history(tmp_path, pool):
    table, _ = pool
    session = _create(tmp_path, table)
    session.next_batch()
    first = session.next_item("ann")
    session.label(first.item_id, "negative", annotator="ann")
    session.label(first.item_id, "positive", annotator="ann")
    assert session.item(first.item_id).label == "positive"  # the latest wins
    undone = session.undo(annotator="ann")
    assert (undone.item_id, undone.label) == (first.item_id, "positive")
    item = session.item(first.item_id)
    assert item.label == "negative"
    assert [(e.kind, e.label, e.undone) for e in item.history] == [
        ("label", "negative", False),
        ("label", "positive", True),
        ("undo", None, False),
    ]
    session.undo(annotator="ann")
    assert session.item(first.item_id).label is None
    assert session.undo(annotator="ann") is None
    # An undone item comes back first in the open batch.
    assert session.next_item("ann").item_id == first.item_id
    session.skip(first.item_id, annotator="ann")
    assert session.item(first.item_id).skipped
    assert session.next_item("ann").item_id != first.item_id
    assert session.status().n_skipped == 1


def test_label_checks_its_arguments(tmp_path, pool):
    table, _ = pool
    session = _create(tmp_path, table)
    with pytest.raises(
        ValueError, match=r"'label' parameter.*\['negative', 'positive'\]"
    ):
        session.label("t0", "neutral")
    with pytest.raises(KeyError, match="No item with id 'nope'"):
        session.label("nope", "positive")
    with pytest.raises(ValueError, match="'annotator' parameter"):
        session.label("t0", "positive", annotator=" ")


def test_two_annotators_are_given_different_texts(tmp_path, pool):
    table, _ = pool
    alice = _create(tmp_path, table)
    alice.next_batch()
    bob = LabelingSession.open(tmp_path / "project", progress=False)
    seen = {alice.next_item("alice").item_id, bob.next_item("bob").item_id}
    assert len(seen) == 2
    # Asking again gives each their own text back (it is still theirs).
    assert alice.next_item("alice").item_id in seen


# Batches and rounds -------------------------------------------------------------------


def test_batches_stay_random_until_two_classes_have_labels(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table)
    session.next_batch()
    for item in session.current_batch().items:
        session.label(item.item_id, "negative")
    batch = session.next_batch()
    assert batch.kind == "initial" and batch.round is None
    assert session.rounds() == []
    label_open_batch(session, truth)
    batch = session.next_batch()
    assert batch.kind == "query" and batch.round == 1
    assert all(item.guess in LABELS2 for item in batch.items)
    assert all(item.score is not None for item in batch.items)


def test_reopening_continues_with_the_same_batch(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table, strategy="allsh")
    run_rounds(session, truth, 2)
    batch = session.next_batch()
    label_open_batch(session, truth, limit=4)
    session.close()
    again = LabelingSession.open(tmp_path / "project", progress=False)
    reopened = again.current_batch()
    assert [i.item_id for i in reopened.items] == [i.item_id for i in batch.items]
    assert reopened.n_done == 4
    assert again.next_item("bot").item_id == batch.items[4].item_id


def test_the_same_labels_give_the_same_batches(tmp_path, pool):
    # What a session killed during retraining recomputes on reopening.
    table, truth = pool
    first = _create(tmp_path, table, name="a", strategy="allsh", audit_fraction=0.2)
    second = _create(tmp_path, table, name="b", strategy="allsh", audit_fraction=0.2)
    for _ in range(3):
        ids = [[i.item_id for i in s.next_batch().items] for s in (first, second)]
        assert ids[0] == ids[1]
        for session in (first, second):
            label_open_batch(session, truth)


def test_retrain_on_demand_closes_the_open_batch(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table)
    run_rounds(session, truth, 2)
    old = session.next_batch()
    label_open_batch(session, truth, limit=3)
    round_info = session.retrain()
    assert round_info.round == 3 and round_info.n_labeled == 23
    new = session.current_batch()
    assert new.batch == old.batch + 1 and new.n_done == 0
    # Nothing changed since: retraining again is a no-op.
    assert session.retrain().round == 3
    assert session.current_batch().batch == new.batch


def test_a_skipped_batch_is_requeried_without_a_new_round(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table)
    run_rounds(session, truth, 2)
    batch = session.next_batch()
    for item in batch.items:
        session.skip(item.item_id)
    again = session.next_batch()
    assert len(session.rounds()) == 2  # rounds 1 and 2; no new labels
    assert not {i.item_id for i in again.items} & {i.item_id for i in batch.items}


# Audit sample and stopping rules ------------------------------------------


def test_audit_sample_is_never_trained_on_and_gives_the_estimate(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table, audit_fraction=0.2)
    run_rounds(session, truth, 4)
    status = session.status()
    # 40 texts served, 20% of them audit: 8 audit labels, 32 training ones.
    assert (status.n_labeled, status.n_audit_labeled) == (32, 8)
    connection = sqlite3.connect(tmp_path / "project" / "session.sqlite")
    audit = [
        r[0]
        for r in connection.execute("SELECT ext_id FROM items WHERE role = 'audit'")
    ]
    assert len(audit) == 8
    last = session.rounds()[-1]
    assert (
        last.n_labeled == 32 - 10 + 2
    )  # the last batch's 8 training labels came after
    # The estimate is the model's accuracy on the audit labels it never saw.
    model = session.model()
    by_id = dict(zip(table["id"], table["text"], strict=True))
    audited = [i for i in audit if i in current_labels(session)]
    first_three_batches = audited[: last.n_audit]
    assert last.n_audit == 6
    predicted = model.predict([by_id[i] for i in first_three_batches])
    correct = int(
        sum(p == truth[i] for p, i in zip(predicted, first_three_batches, strict=True))
    )
    assert last.audit_correct == correct
    assert (last.audit_low, last.audit_high) == pytest.approx(
        accuracy_interval(correct, 6)
    )


def test_rounds_keep_the_stop_set_predictions_the_rules_read(tmp_path, pool):
    table, truth = pool
    session = _create(
        tmp_path,
        table,
        stop_set_size=30,
        stopping_rules={
            "stabilizing": StabilizingPredictions(window=2, threshold=0.95),
            "budget": LabelBudget(30),
        },
    )
    run_rounds(session, truth, 4)
    rounds = session.rounds()
    assert [r.n_labeled for r in rounds] == [10, 20, 30]
    assert [c["stop"] for r in rounds for c in r.checks if c["rule"] == "budget"] == [
        False,
        False,
        True,
    ]
    history = session._history()
    assert all(len(h.stop_set_predictions) == 30 for h in history)
    kappas = [
        cohen_kappa(a.stop_set_predictions, b.stop_set_predictions)
        for a, b in zip(history, history[1:], strict=False)
    ]
    stabilizing = [c for c in rounds[-1].checks if c["rule"] == "stabilizing"][0]
    assert stabilizing["value"] == pytest.approx(np.mean(kappas[-2:]))
    # The stored predictions are the last model's on the stop set.
    connection = sqlite3.connect(tmp_path / "project" / "session.sqlite")
    stop_texts = [
        r[0]
        for r in connection.execute(
            "SELECT text FROM items WHERE stop_set = 1 ORDER BY item"
        )
    ]
    predicted = session.model().predict(stop_texts)
    assert [LABELS2[i] for i in history[-1].stop_set_predictions] == list(predicted)
    assert session.status().should_stop


# Status, learning curve, models -------------------------------------------


def test_status_counts(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table)
    run_rounds(session, truth, 2, annotator="alice")
    session.next_batch()
    label_open_batch(session, truth, annotator="bob", limit=3)
    item = session.next_item("bob")
    session.skip(item.item_id, annotator="bob")
    status = session.status()
    assert status.n_labeled == 23 and status.n_skipped == 1
    assert status.annotators == {"alice": 20, "bob": 3}
    assert sum(status.class_counts.values()) == 23
    assert status.batch == {"batch": 3, "kind": "query", "size": 10, "done": 4}
    assert status.labels_since_round == 3  # round 2 trained on 20 labels
    assert json.loads(json.dumps(status.as_dict()))["n_items"] == 120


def test_learning_curve_png(tmp_path, pool):
    table, truth = pool
    session = _create(tmp_path, table, audit_fraction=0.2)
    run_rounds(session, truth, 3)
    path = tmp_path / "curve.png"
    session.plot_learning_curve(path, truth=[(8, 0.5), (16, 0.6)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_export_model_and_predict_a_file(tmp_path, pool):
    import joblib

    table, truth = pool
    session = _create(tmp_path, table)
    with pytest.raises(NotReadyError, match="no trained model"):
        session.export_model(tmp_path / "model.joblib")
    run_rounds(session, truth, 3)
    path = session.export_model(tmp_path / "model.joblib")
    loaded = joblib.load(path)
    new = ["good great film", "bad awful plot", "the cup final goal"]
    labels, proba = session.predict(new)
    assert list(loaded.predict(new)) == labels
    assert proba.shape == (3, 2) and np.allclose(proba.sum(axis=1), 1)
    pd.DataFrame({"text": new}).to_csv(tmp_path / "new.csv", index=False)
    session.predict_file(tmp_path / "new.csv", tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out["prediction"]) == labels
    assert list(out.columns[:3]) == ["id", "text", "prediction"]
    assert out["p(positive)"].to_numpy() == pytest.approx(proba[:, 1])


def test_estimator_and_strategy_given_in_python(tmp_path, pool):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from allsh_sklearn.strategies import MarginSampling

    table, truth = pool
    session = _create(
        tmp_path,
        table,
        classifier=make_pipeline(TfidfVectorizer(), LogisticRegression()),
        strategy=MarginSampling(),
    )
    run_rounds(session, truth, 2)
    session.close()
    again = LabelingSession.open(tmp_path / "project", progress=False)
    batch = again.next_batch()
    assert batch.kind == "query" and again.config["strategy"] == "python"
    assert "MarginSampling" in again.config["strategy_repr"]


def test_why_shows_the_copy_that_moved_the_model(tmp_path, pool):
    from allsh_sklearn.divergences import kl

    table, truth = pool
    session = _create(tmp_path, table, strategy="allsh")
    run_rounds(session, truth, 2)
    batch = session.next_batch()
    picked = [i for i in batch.items if i.explanation is not None]
    assert len(picked) == len(batch.items)
    why = session.why(picked[0].item_id)
    assert why["measure"] == "kl" and why["copy"] != picked[0].text
    p = np.array([list(why["proba"].values())])
    q = np.array([list(why["copy_proba"].values())])
    assert why["divergence"] == pytest.approx(kl(p, q)[0], abs=1e-4)
    assert why["score"] == pytest.approx(why["divergence"])
    first = session.why(session.rounds() and "t0")
    assert "reason" in first


def test_a_fine_tuned_transformer_is_exported_in_skorch_format(tmp_path):
    import joblib

    torch = pytest.importorskip("torch")
    from _tiny_models import NEGATIVE, POSITIVE, build_tiny_bert

    from allsh_sklearn.models import TransformerClassifier

    torch.set_num_threads(1)
    model_dir = build_tiny_bert(tmp_path / "tiny_bert")
    texts = POSITIVE + NEGATIVE
    table = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})
    truth = {
        f"r{i}": "positive" if i < len(POSITIVE) else "negative"
        for i in range(len(texts))
    }
    session = _create(
        tmp_path,
        table,
        classifier=TransformerClassifier(
            model=str(model_dir), lr=1e-3, batch_size=4, train_steps=5, random_state=0
        ),
        batch_size=8,
    )
    run_rounds(session, truth, 2)
    folder = session.export_model(tmp_path / "model")
    assert sorted(p.name for p in folder.iterdir()) == [
        "classes.json",
        "history.json",
        "model.joblib",
        "params.pt",
    ]
    assert json.loads((folder / "classes.json").read_text()) == LABELS2
    # skorch's format: a net built with the same parameters loads the weights.
    net = TransformerClassifier(
        model=str(model_dir),
        lr=1e-3,
        batch_size=4,
        train_steps=5,
        random_state=0,
        classes=np.array(LABELS2),
    )
    net.initialize()
    net.load_params(f_params=folder / "params.pt")
    loaded = joblib.load(folder / "model.joblib")
    expected = session.predict(texts[:4])[1]
    assert loaded.predict_proba(texts[:4]) == pytest.approx(expected, abs=1e-5)
    assert net.predict_proba(texts[:4]) == pytest.approx(expected, abs=1e-5)
