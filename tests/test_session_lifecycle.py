"""A session's life at its edges: the pool used up, exports aimed at the
session's own files, a full disk in the cache, readers without write
permission, foreign files, links, objects pickle refuses, and the CLI's
words in its errors (issue 26; issue 30, item 4)."""

import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _session_data import create_session, database_rows, label_open_batch, make_pool

from allsh_sklearn.session import (
    LabelingSession,
    NotReadyError,
    SessionError,
    StorageError,
)
from allsh_sklearn.session._cli import main


def _project(tmp_path, n=30, name="p", **params):
    table, truth = make_pool(n=n)
    return create_session(tmp_path / name, table, **params), truth


def _cli(capsys, *args):
    """Run ``allsh-label`` in this process: (exit code, stdout, stderr)."""
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _fill(path, truth):
    """Fill the label column of an exported batch as the annotator would."""
    batch = pd.read_csv(path, dtype=str, keep_default_na=False)
    batch["label"] = [truth[i] for i in batch["id"]]
    batch.to_csv(path, index=False)


# 1. The pool used up: the last labels are trained on -----------------------


def test_a_used_up_pool_gets_a_final_round_on_every_label(tmp_path):
    import joblib

    session, truth = _project(tmp_path)
    for _ in range(3):
        session.next_batch()
        label_open_batch(session, truth)
    assert [r.n_labeled for r in session.rounds()] == [10, 20]
    with pytest.raises(NotReadyError, match="fully labeled.*round 3.*all 30"):
        session.next_batch()
    assert [r.n_labeled for r in session.rounds()] == [10, 20, 30]
    assert session.current_batch() is None  # the done batch is closed
    status = session.status()
    assert status.n_unlabeled == 0 and status.model_up_to_date
    # Nothing changed since: retrain does nothing and says which round.
    assert session.retrain().round == 3 and len(session.rounds()) == 3
    model = joblib.load(session.export_model(tmp_path / "model.joblib"))
    texts = list(session._pool()[1])
    assert list(model.predict(texts)) == session.predict(texts)[0]
    # A reopened session agrees and adds no round.
    session.close()
    reopened = LabelingSession.open(tmp_path / "p", progress=False)
    with pytest.raises(NotReadyError, match="fully labeled"):
        reopened.next_batch()
    assert len(reopened.rounds()) == 3


def test_retrain_trains_on_the_last_labels_and_a_one_batch_pool_gets_a_model(
    tmp_path,
):
    session, truth = _project(tmp_path, initial_size=30)
    session.next_batch()
    label_open_batch(session, truth)
    assert session.rounds() == []
    round_info = session.retrain()
    assert round_info.round == 1 and round_info.n_labeled == 30
    assert session.current_batch() is None
    assert session.status().model_up_to_date


def test_an_open_batch_with_an_audit_text_left_stays_open_after_the_final_round(
    tmp_path,
):
    session, truth = _project(tmp_path, n=20, audit_fraction=0.3)
    audit = set()
    while session.status().n_unlabeled:
        batch = session.next_batch()
        audit |= {
            row[0]
            for row in database_rows(
                session.path, "SELECT ext_id FROM items WHERE role = 'audit'"
            )
        }
        # Audit texts last, so that undo takes back an audit label.
        for item in sorted(batch.items, key=lambda i: i.item_id in audit):
            session.label(item.item_id, truth[item.item_id], annotator="bot")
    assert session.undo(annotator="bot").item_id in audit
    # The training texts are used up; the batch still has its audit text.
    round_info = session.retrain()
    assert round_info.n_labeled == session.status().n_labeled == 14
    assert session.current_batch().n_pending == 1
    item = session.next_item("bot")
    session.label(item.item_id, truth[item.item_id], annotator="bot")
    with pytest.raises(NotReadyError, match="fully labeled"):
        session.next_batch()
    assert session.current_batch() is None and len(session.rounds()) == 2


def test_the_terminal_annotator_trains_on_the_last_labels_then_stops(tmp_path):
    import io

    from allsh_sklearn.session._annotate import annotate

    session, _ = _project(tmp_path, retrain_every=100)
    out = io.StringIO()
    summary = annotate(
        session, annotator="ann", input=io.StringIO("1\n2\n" * 15), output=out,
        progress=False,
    )  # fmt: skip
    assert summary.stopped_by == "pool exhausted" and summary.n_labeled == 30
    assert "Round 3: trained on 30 labels" in out.getvalue()
    assert "fully labeled" in out.getvalue()
    assert session.status().model_up_to_date


def test_a_used_up_pool_with_one_class_says_no_model_can_be_trained(tmp_path):
    session, _ = _project(tmp_path, n=12, batch_size=12)
    session.next_batch()
    label_open_batch(session, dict.fromkeys(make_pool(n=12)[1], "negative"))
    with pytest.raises(NotReadyError, match="no model can be trained.*two classes"):
        session.next_batch()
    with pytest.raises(NotReadyError, match="no model can be trained"):
        session.retrain()


def test_the_cli_trains_on_the_last_labels_of_a_used_up_pool(tmp_path, capsys):
    session, truth = _project(tmp_path)
    session.close()
    project, batch = tmp_path / "p", tmp_path / "batch.csv"
    for _ in range(2):
        assert _cli(capsys, "next", project, "--output", batch)[0] == 0
        _fill(batch, truth)
        assert _cli(capsys, "import", project, batch, "--retrain")[0] == 0
    assert _cli(capsys, "next", project, "--output", batch)[0] == 0
    _fill(batch, truth)
    assert _cli(capsys, "import", project, batch)[0] == 0  # no retraining yet
    # The model lags: export says which labels it saw and how to catch up.
    code, out, err = _cli(
        capsys, "export", project, tmp_path / "m.joblib", "--what", "model"
    )
    assert code == 0
    assert "round 2, trained on 20 training labels" in out
    assert "30 training labels now" in err and "allsh-label retrain" in err
    code, out, _ = _cli(capsys, "status", project)
    assert "fully labeled" in out and "labels changed since" in out
    # next trains on every label, then says the pool is fully labeled (7).
    code, out, _ = _cli(capsys, "next", project, "--output", tmp_path / "n.csv")
    assert code == 7
    assert "fully labeled" in out and "round 3 is trained on all 30" in out
    assert not (tmp_path / "n.csv").exists()
    code, out, err = _cli(
        capsys, "export", project, tmp_path / "m.joblib", "--what", "model"
    )
    assert code == 0 and "round 3, trained on 30 training labels" in out
    assert "Note" not in err
    code, out, _ = _cli(capsys, "retrain", project)
    assert code == 0 and "fully labeled" in out
    code, _, _ = _cli(capsys, "next", project, "--new")
    assert code == 7


def test_import_retrain_of_the_last_batch_trains_and_exits_0(tmp_path, capsys):
    session, truth = _project(tmp_path)
    session.close()
    project, batch = tmp_path / "p", tmp_path / "batch.csv"
    for _ in range(3):
        assert _cli(capsys, "next", project, "--output", batch)[0] == 0
        _fill(batch, truth)
        code, out, err = _cli(capsys, "import", project, batch, "--retrain")
        assert code == 0, err
    assert "Round 3: trained on 30 labels" in out and "fully labeled" not in err
    with LabelingSession.open(project, progress=False) as session:
        assert session.status().model_up_to_date


# 2. Exports never overwrite what the session keeps --------------------------


def _database_state(project):
    connection = sqlite3.connect(project / "session.sqlite")
    try:
        return connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize(
    "target",
    [
        "p/session.sqlite",
        "p/session.sqlite-wal",
        "p/./session.sqlite",
        "p/cache/labels.csv",
        "p",
        "link-to-database.csv",
        "linked-folder/session.sqlite",
    ],
)
def test_exports_refuse_the_files_the_session_keeps(tmp_path, target):
    session, truth = _project(tmp_path)
    for _ in range(2):
        session.next_batch()
        label_open_batch(session, truth)
    session.next_batch()
    (tmp_path / "p" / "cache").mkdir(exist_ok=True)
    os.symlink(tmp_path / "p" / "session.sqlite", tmp_path / "link-to-database.csv")
    os.symlink(tmp_path / "p", tmp_path / "linked-folder")
    path = tmp_path / target
    n_events = _database_state(tmp_path / "p")
    new = tmp_path / "new.csv"
    pd.DataFrame({"text": ["good", "bad"]}).to_csv(new, index=False)
    for export in (
        lambda: session.export_labels(path, format="csv"),
        lambda: session.export_batch(path, format="csv"),
        lambda: session.export_model(path),
        lambda: session.predict_file(new, path, output_format="csv"),
    ):
        with pytest.raises(ValueError, match="session's own files.*Nothing was"):
            export()
    assert _database_state(tmp_path / "p") == n_events
    assert session.status().n_labeled == 20
    # Next to the database, an export is fine.
    assert session.export_labels(tmp_path / "p" / "labels.csv") == 20


@pytest.mark.parametrize("what", ["labels", "model"])
def test_the_cli_refuses_to_export_over_the_database(tmp_path, capsys, what):
    session, truth = _project(tmp_path)
    session.next_batch()
    label_open_batch(session, truth)
    session.next_batch()
    session.close()
    database = tmp_path / "p" / "session.sqlite"
    code, _, err = _cli(
        capsys, "export", tmp_path / "p", database, "--format", "csv", "--what", what
    )
    assert code == 2
    assert "OUTPUT argument" in err and "session's database" in err
    with LabelingSession.open(tmp_path / "p", progress=False) as reopened:
        assert reopened.status().n_labeled == 10


# 3. A full disk in the augmentation cache ----------------------------------


def test_a_full_disk_in_the_augmentation_cache_is_a_storage_error(
    tmp_path, capsys, monkeypatch
):
    from allsh_sklearn.augment import SQLiteAugmentationCache

    session, truth = _project(tmp_path, n=60, strategy="allsh")
    session.next_batch()
    label_open_batch(session, truth)
    original = SQLiteAugmentationCache.set_many

    def full(self, mapping):
        connection = self.connection()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow
        return original(self, mapping)

    monkeypatch.setattr(SQLiteAugmentationCache, "set_many", full)
    with pytest.raises(StorageError, match="augmentation cache.*disk is full") as info:
        session.retrain()
    assert info.value.exit_code == 6
    assert session.rounds() == [] and session.current_batch().batch == 1
    session.close()
    code, _, err = _cli(capsys, "retrain", tmp_path / "p")
    assert code == 6
    assert "disk is full" in err and "every earlier label is safe" in err
    monkeypatch.setattr(SQLiteAugmentationCache, "set_many", original)
    with LabelingSession.open(tmp_path / "p", progress=False) as reopened:
        assert reopened.retrain().round == 1


# 4. The cache path is checked before any work -------------------------------


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_a_cache_where_no_file_can_be_made_is_refused_early():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from allsh_sklearn.augment import SQLiteAugmentationCache
    from allsh_sklearn.strategies import ALLSH

    with pytest.raises(ValueError, match="'path' parameter.*'/proc/x.sqlite'"):
        SQLiteAugmentationCache("/proc/x.sqlite")
    assert not Path("/proc/x.sqlite").exists()
    X = [f"text {i} {'good' if i % 2 else 'bad'}" for i in range(20)]
    model = make_pipeline(TfidfVectorizer(), LogisticRegression())
    model.fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="'/proc/x.sqlite'"):
        ALLSH(cache="/proc/x.sqlite", random_state=0)(model, X, 2)


def test_cache_paths_name_the_parameter_and_missing_folders_are_refused(
    tmp_path, monkeypatch
):
    from allsh_sklearn.augment import SQLiteAugmentationCache
    from allsh_sklearn.augment._persistent_cache import check_cache_path

    with pytest.raises(ValueError, match="'cache' parameter of ALLSH.*not a folder"):
        check_cache_path(tmp_path, name="cache", owner="ALLSH")
    (tmp_path / "notes.sqlite").write_text("not a database")
    with pytest.raises(ValueError, match="not an SQLite database"):
        SQLiteAugmentationCache(tmp_path / "notes.sqlite")
    with pytest.raises(TypeError, match="'cache' parameter of ALLSH"):
        check_cache_path(3, name="cache", owner="ALLSH")
    missing = tmp_path / "typo" / "copies.sqlite"
    with pytest.raises(ValueError, match="'cache' parameter of ALLSH.*does not exist"):
        check_cache_path(missing, name="cache", owner="ALLSH", create_folder=False)
    assert not missing.parent.exists()
    # Inside the cache home, a missing folder is made when the cache opens.
    monkeypatch.setenv("ALLSH_SKLEARN_CACHE", str(tmp_path / "home"))
    inside = tmp_path / "home" / "allsh" / "copies.sqlite"
    assert check_cache_path(inside, create_folder=False) == str(inside)
    # SQLiteAugmentationCache itself makes its folder, as documented.
    cache = SQLiteAugmentationCache(missing)
    cache.set_many({("f", 0, "a"): "b"})
    assert len(cache) == 1
    cache.close()


# 5. A reader without write permission -----------------------------------------


def test_a_read_only_reader_sees_a_live_writers_labels(tmp_path):
    writer, truth = _project(tmp_path)
    writer.next_batch()
    label_open_batch(writer, truth, limit=4)  # in the WAL, not checkpointed
    assert (tmp_path / "p" / "session.sqlite-wal").stat().st_size > 0
    reader = LabelingSession.open(tmp_path / "p", readonly=True, progress=False)
    assert reader.readonly and reader.status().n_labeled == 4
    label_open_batch(writer, truth, limit=1)
    assert reader.status().n_labeled == 5  # the writer is alive: reads follow
    with pytest.raises(StorageError, match="read-only"):
        reader.label(reader.current_batch().items[-1].item_id, "negative")
    reader.close()
    writer.close()


def test_a_reader_that_cannot_read_the_log_is_told_why(tmp_path, monkeypatch):
    from allsh_sklearn.session import _store

    writer, truth = _project(tmp_path)
    writer.next_batch()
    label_open_batch(writer, truth, limit=2)
    connect = sqlite3.connect

    def refused(database, *args, **kwargs):
        if isinstance(database, str) and database.endswith("?mode=ro"):
            raise sqlite3.OperationalError("unable to open database file")
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(_store.sqlite3, "connect", refused)
    with pytest.raises(StorageError, match="no write permission") as info:
        LabelingSession.open(tmp_path / "p", readonly=True, progress=False)
    assert "checkpointing" not in str(info.value)
    assert "another process is writing" in str(info.value)
    writer.close()


# 6. A foreign SQLite file is refused untouched -------------------------------


@pytest.mark.parametrize("version", [0, 1, 7])
def test_a_foreign_sqlite_file_is_refused_without_a_change(tmp_path, version):
    folder = tmp_path / "p"
    folder.mkdir()
    connection = sqlite3.connect(folder / "session.sqlite")
    connection.execute("CREATE TABLE notes (x)")
    connection.execute("INSERT INTO notes VALUES (1)")
    connection.execute(f"PRAGMA user_version = {version}")
    connection.commit()
    connection.close()
    before = (folder / "session.sqlite").read_bytes()
    with pytest.raises(SessionError, match="not a labeling session database") as info:
        LabelingSession.open(folder)
    assert "newer" not in str(info.value)
    assert (folder / "session.sqlite").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["session.sqlite"]


# 7. The Label Studio sidecar replaces a link, never its target ----------------


def test_the_labeling_configuration_replaces_a_link_not_its_target(tmp_path, capsys):
    session, _ = _project(tmp_path)
    session.close()
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "tasks.labelconfig.xml"
    link.symlink_to(target)
    code, out, err = _cli(
        capsys, "next", tmp_path / "p", "--output", tmp_path / "tasks.json"
    )
    assert code == 0, err
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and "<Choices" in link.read_text()
    # A configuration that would land in the session's files is refused
    # before anything is queried or written.
    code, _, err = _cli(
        capsys, "next", tmp_path / "p", "--output", tmp_path / "p" / "cache" / "t.json"
    )
    assert code == 2 and "--output option" in err


# 8. Objects pickle refuses ---------------------------------------------------


def test_an_unpicklable_classifier_is_refused_before_the_project_is_made(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from allsh_sklearn.strategies import entropy_sampling

    table, _ = make_pool(n=20)
    classifier = make_pipeline(
        FunctionTransformer(lambda texts: np.array([[len(t)] for t in texts])),
        LogisticRegression(),
    )
    folder = tmp_path / "new" / "project"
    with pytest.raises(TypeError, match="'classifier' parameter.*pickle") as info:
        LabelingSession.create(
            folder, table, labels=["a", "b"], classifier=classifier, progress=False
        )
    assert "Nothing was created" in str(info.value)
    assert not (tmp_path / "new").exists()

    def strategy(classifier, X_pool, n_instances=1, **kwargs):
        return entropy_sampling(classifier, X_pool, n_instances, **kwargs)

    with pytest.raises(TypeError, match="'strategy' parameter.*pickle"):
        LabelingSession.create(
            folder, table, labels=["a", "b"], strategy=strategy, progress=False
        )
    assert not (tmp_path / "new").exists()


# 9. CLI errors name CLI options ----------------------------------------------


def test_cli_errors_name_the_options_a_user_types(tmp_path, capsys):
    table, _ = make_pool(n=20)
    table.loc[3, "text"] = ""
    table.to_csv(tmp_path / "pool.csv", index=False)
    code, _, err = _cli(
        capsys, "init", tmp_path / "p", "--data", tmp_path / "pool.csv",
        "--labels", "a,b", "--id-column", "id",
    )  # fmt: skip
    assert code == 3
    assert "--drop-empty" in err and "drop_empty" not in err
    code, _, err = _cli(
        capsys, "init", tmp_path / "p", "--data", tmp_path / "pool.csv",
        "--labels", "a,a",
    )  # fmt: skip
    assert code == 2
    assert "The --labels option must" in err and "'labels' parameter" not in err
    code, _, err = _cli(
        capsys, "init", tmp_path / "p", "--data", tmp_path / "pool.csv",
        "--labels", "a,b", "--text-column", "body",
    )  # fmt: skip
    assert "--text-column" in err and "text_column" not in err
    assert not (tmp_path / "p").exists()


# 10. predict names the file and keeps its id column ----------------------------


def test_predict_names_the_file_and_keeps_its_id_column(tmp_path, capsys):
    session, truth = _project(tmp_path)
    for _ in range(2):
        session.next_batch()
        label_open_batch(session, truth)
    session.next_batch()
    session.close()
    new = tmp_path / "tickets.csv"
    pd.DataFrame({"ticket_id": ["T1", "T2"], "body": ["good", "bad"]}).to_csv(
        new, index=False
    )
    out = tmp_path / "predicted.csv"
    code, _, err = _cli(capsys, "predict", tmp_path / "p", new, "--output", out)
    assert code == 3
    assert "tickets.csv" in err and "DataFrame" not in err
    assert "--text-column" in err
    code, _, err = _cli(
        capsys, "predict", tmp_path / "p", new, "--output", out,
        "--text-column", "body", "--id-column", "ticket_id",
    )  # fmt: skip
    assert code == 0, err
    predicted = pd.read_csv(out, dtype=str)
    assert list(predicted.columns[:3]) == ["ticket_id", "text", "prediction"]
    assert list(predicted["ticket_id"]) == ["T1", "T2"]
    code, _, err = _cli(
        capsys, "predict", tmp_path / "p", new, "--output", out,
        "--text-column", "body", "--id-column", "nope",
    )  # fmt: skip
    assert code == 3 and "tickets.csv" in err and "'nope'" in err
