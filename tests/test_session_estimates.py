"""Per-class estimates in a labeling session (issue 30, item 2), and the
stopping rules' thresholds on the status plot.

Each round stores :func:`~allsh_sklearn.session.class_estimates` of its
model (audit labels against the model's predictions on them, training
counts, the model's predictions on the unlabeled pool) in the database;
``status``, ``status --json`` and the status page show them. A session made
by the version before (schema 1, no such column) still opens.
"""

import json
import re
import sqlite3

import numpy as np
import pytest
from _session_data import LABELS, create_session, make_pool, run_rounds

from allsh_sklearn.session import (
    SCHEMA_VERSION,
    LabelingSession,
    class_estimates,
)
from allsh_sklearn.session import _rounds as rounds_module
from allsh_sklearn.session._cli import main
from allsh_sklearn.stopping import (
    LabelBudget,
    OverallUncertainty,
    StabilizingPredictions,
)


def _imbalanced_pool(n=420, n_sport=4, seed=0):
    """Three classes, ``sport`` a handful of texts: the model never predicts it."""
    table, truth = make_pool(n=n, n_classes=3, seed=seed)
    sport = [i for i in table["id"] if truth[i] == "sport"]
    keep = set(table["id"]) - set(sport[n_sport:])
    table = table[table["id"].isin(keep)].reset_index(drop=True)
    return table, {i: truth[i] for i in table["id"]}


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory):
    """A session of four rounds on the imbalanced pool, the fifth batch open."""
    table, truth = _imbalanced_pool()
    folder = tmp_path_factory.mktemp("imbalanced") / "project"
    session = create_session(folder, table, labels=LABELS, audit_fraction=0.2)
    run_rounds(session, truth, 4)
    session.next_batch()
    session.close()
    return folder, truth


def _cli(capsys, *args):
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _unlabeled_at_last_round(session):
    """Items neither labeled, skipped nor audit when the last round was trained:
    today's unlabeled ones plus the audit texts the open batch drew."""
    with session._store.read() as connection:
        batch = session._store.open_batch(connection)[0]
        rows = connection.execute(
            "SELECT i.item FROM items i LEFT JOIN item_state s ON s.item = i.item "
            "WHERE s.item IS NULL AND (i.role IS NULL OR i.item IN (SELECT item "
            "FROM batch_items WHERE batch = ? AND purpose = 'audit')) "
            "ORDER BY i.item",
            (batch,),
        ).fetchall()
    return [row[0] for row in rows]


def test_a_class_never_predicted_is_warned_about_in_status(imbalanced):
    folder, _ = imbalanced
    session = LabelingSession.open(folder, progress=False)
    status = session.status()
    estimates = status.class_estimates
    assert estimates is not None and estimates["round"] == 4
    assert estimates == status.rounds[-1].class_estimates
    assert [c["label"] for c in estimates["classes"]] == LABELS
    sport = estimates["classes"][2]
    assert sport["n_train"] < 5 and sport["pool_share"] == 0.0
    text = "\n".join(estimates["warnings"])
    assert "never predicts 'sport'" in text
    assert "'sport' has" in text
    # Every class's training labels are the round's counts.
    assert {c["label"]: c["n_train"] for c in estimates["classes"]} == (
        status.rounds[-1].class_counts
    )
    assert estimates["pool"]["source"] == "pool"
    assert estimates["pool"]["n"] == estimates["pool"]["of"] > 0


def test_the_stored_numbers_match_class_estimates_on_the_same_data(imbalanced):
    folder, truth = imbalanced
    session = LabelingSession.open(folder, progress=False)
    stored = session.status().class_estimates
    model = session.model()
    ids, X_pool = session._pool()
    with session._store.read() as connection:
        audit = connection.execute(
            "SELECT i.item, s.label FROM item_state s JOIN items i ON i.item = s.item "
            "WHERE s.kind = 'label' AND i.role = 'audit' ORDER BY i.item"
        ).fetchall()
    assert len(audit) == stored["n_audit"] > 0

    def predict(items):
        proba = session._engine().predict_proba(model, [X_pool[i] for i in items])
        return [session.labels[k] for k in proba.argmax(axis=1)]

    expected = class_estimates(
        [label for _, label in audit],
        predict([item for item, _ in audit]),
        session.labels,
        train_counts=session.rounds()[-1].class_counts,
        pool_predictions=predict(_unlabeled_at_last_round(session)),
        random_state=stored["round"],
    ).as_dict()
    for key in ("n_audit", "macro_f1", "macro_f1_low", "macro_f1_high", "warnings"):
        assert stored[key] == expected[key], key
    for got, want in zip(stored["classes"], expected["classes"], strict=True):
        assert got == pytest.approx(want, nan_ok=True)


def test_status_text_shows_the_table_and_the_warnings(imbalanced, capsys):
    folder, _ = imbalanced
    code, out, err = _cli(capsys, "status", folder)
    assert code == 0, err
    assert "per-class estimates (round 4," in out
    header = next(line for line in out.splitlines() if "recall [95%]" in line)
    assert re.search(
        r"label\s+train\s+audit\s+recall \[95%\]\s+precision \[95%\]", header
    )
    rows = {
        line.split()[0]: line
        for line in out.splitlines()[1:]
        if line.startswith("    ")
    }
    assert re.match(
        r"\s+negative\s+\d+\s+\d+\s+\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", rows["negative"]
    )
    assert rows["sport"].rstrip().endswith("0%")
    assert "macro-F1" in out
    warnings = out[out.index("  warnings:") :]
    assert "! The model never predicts 'sport'" in warnings
    # Wrapped warnings are plain words, one "!" per warning.
    assert warnings.count("!") == len(
        LabelingSession.open(folder, progress=False)
        .status()
        .class_estimates["warnings"]
    )


def test_status_json_has_an_object_per_class_macro_f1_and_warnings(imbalanced, capsys):
    folder, _ = imbalanced
    code, out, err = _cli(capsys, "status", folder, "--json")
    assert code == 0, err
    data = json.loads(out)
    estimates = data["class_estimates"]
    assert [c["label"] for c in estimates["classes"]] == LABELS
    for c in estimates["classes"]:
        assert {
            "support",
            "recall",
            "recall_low",
            "recall_high",
            "precision",
            "precision_low",
            "precision_high",
            "n_train",
            "pool_share",
        } <= set(c)
    assert set(estimates) >= {"macro_f1", "macro_f1_low", "macro_f1_high", "warnings"}
    assert any("never predicts 'sport'" in w for w in estimates["warnings"])
    assert data["rounds"][-1]["class_estimates"] == estimates
    session = LabelingSession.open(folder, progress=False)
    assert estimates == session.status().class_estimates


def test_the_status_page_shows_the_table_and_the_warnings(imbalanced):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from allsh_sklearn.web import create_app

    folder, _ = imbalanced
    app = create_app(folder)
    try:
        page = TestClient(app, base_url="http://127.0.0.1:8000").get("/status").text
    finally:
        app.state.executor.shutdown(wait=True)
    assert 'id="per-class-table"' in page
    table = page[
        page.index('id="per-class-table"') : page.index(
            "</table>", page.index('id="per-class-table"')
        )
    ]
    assert table.count("<tr") == 1 + len(LABELS)
    assert '<tr class="low"><td>sport</td>' in table
    warnings = page[page.index('id="class-warnings"') :]
    assert 'role="alert"' in page[page.index('id="class-warnings"') - 40 :][:120]
    assert (
        "never predicts &#39;sport&#39;" in warnings
        or "never predicts 'sport'" in warnings
    )
    assert re.search(r'id="macro-f1">[0-9.]+%', page)
    # The warnings come before the table, in their own box.
    assert page.index('id="class-warnings"') < page.index('id="per-class-table"')


def test_without_an_audit_sample_the_pool_and_few_labels_warnings_show(
    tmp_path, capsys
):
    table, truth = _imbalanced_pool(n=300)
    session = create_session(tmp_path / "p", table, labels=LABELS)
    run_rounds(session, truth, 2)
    session.next_batch()
    estimates = session.status().class_estimates
    assert estimates["n_audit"] == 0 and estimates["macro_f1"] is None
    assert all(c["support"] == 0 and c["recall"] is None for c in estimates["classes"])
    text = "\n".join(estimates["warnings"])
    assert "never predicts 'sport'" in text and "'sport' has" in text
    session.close()
    code, out, _ = _cli(capsys, "status", tmp_path / "p")
    assert code == 0
    assert "need labels of the audit sample" in out
    assert "never predicts 'sport'" in out


def test_a_large_pool_is_predicted_on_a_sample_and_the_warning_says_so(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(rounds_module, "POOL_SAMPLE", 50)
    table, truth = _imbalanced_pool(n=300)
    session = create_session(tmp_path / "p", table, labels=LABELS, stop_set_size=30)
    run_rounds(session, truth, 2)
    session.next_batch()
    estimates = session.status().class_estimates
    assert estimates["pool"]["source"] == "sample"
    assert estimates["pool"]["n"] == 50 < estimates["pool"]["of"]
    assert sum(round(c["pool_share"] * 50) for c in estimates["classes"]) == 50
    assert any(
        f"a random sample of 50 of the {estimates['pool']['of']:,} unlabeled texts" in w
        for w in estimates["warnings"]
    )


def test_a_class_balanced_strategy_gives_its_pool_predictions(tmp_path):
    table, truth = _imbalanced_pool(n=300)
    session = create_session(
        tmp_path / "p", table, labels=LABELS, strategy="allsh-balanced"
    )
    run_rounds(session, truth, 2)
    session.next_batch()
    estimates = session.status().class_estimates
    assert estimates["pool"]["source"] == "query"
    assert estimates["pool"]["n"] == estimates["pool"]["of"]


# A database of the version before ---------------------------------------------------


def _downgrade_to_version_1(database):
    """Make a session database what the version before wrote: schema 1,
    without the rounds' per-class estimates."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("ALTER TABLE rounds DROP COLUMN class_estimates")
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    finally:
        connection.close()


def _schema_version(database):
    connection = sqlite3.connect(database)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def test_a_version_1_database_still_opens_and_is_upgraded(tmp_path, capsys):
    assert SCHEMA_VERSION == 2
    table, truth = _imbalanced_pool(n=300)
    folder = tmp_path / "p"
    session = create_session(folder, table, labels=LABELS, audit_fraction=0.2)
    run_rounds(session, truth, 3)  # three batches labeled, two rounds trained
    n_labeled = session.status().n_labeled
    session.close()
    database = folder / "session.sqlite"
    _downgrade_to_version_1(database)

    # Read-only, it is read as it is (not upgraded): no per-class estimates.
    reader = LabelingSession.open(folder, readonly=True, progress=False)
    status = reader.status()
    assert len(status.rounds) == 2 and status.class_estimates is None
    reader.close()
    assert _schema_version(database) == 1

    # Opened for writing, it is upgraded and keeps every round and label.
    code, out, err = _cli(capsys, "status", folder)
    assert code == 0, err
    assert "no per-class estimates for this round" in out
    assert _schema_version(database) == 2
    session = LabelingSession.open(folder, progress=False)
    assert [r.class_estimates for r in session.rounds()] == [None, None]
    assert session.status().n_labeled == n_labeled
    # The next round has them.
    from _session_data import label_open_batch

    label_open_batch(session, truth)
    session.next_batch()
    rounds = session.rounds()
    assert len(rounds) == 3 and rounds[-1].class_estimates["round"] == 3
    assert rounds[-1].class_estimates["n_audit"] > 0


# Thresholds on the status plot --------------------------------------------------------


def _threshold_lines(axis):
    return {
        line.get_label(): line
        for line in axis.get_lines()
        if line.get_linestyle() == "--"
    }


def test_the_stopping_thresholds_are_dashed_lines_with_labels(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, truth = make_pool(n=120)
    session = create_session(
        tmp_path / "p",
        table,
        stopping_rules={
            "stabilizing": StabilizingPredictions(window=2, threshold=0.95),
            "uncertainty": OverallUncertainty(threshold=0.2),
            "budget": LabelBudget(60),
        },
        audit_fraction=0.2,
    )
    run_rounds(session, truth, 3)
    session.next_batch()
    figure = session.plot_learning_curve()
    try:
        top, bottom = figure.axes
        lines = _threshold_lines(bottom)
        assert set(lines) == {
            "stabilizing: stop ≥ 0.95",
            "uncertainty: stop ≤ 0.2",
            "budget: 60 labels",
        }
        assert list(lines["stabilizing: stop ≥ 0.95"].get_ydata()) == [0.95, 0.95]
        assert list(lines["uncertainty: stop ≤ 0.2"].get_ydata()) == [0.2, 0.2]
        assert list(lines["budget: 60 labels"].get_xdata()) == [60, 60]
        # Each threshold has the colour of its rule's values.
        values = {line.get_label(): line for line in bottom.get_lines()}
        assert lines["uncertainty: stop ≤ 0.2"].get_color() == (
            values["uncertainty"].get_color()
        )
        # They are in the legend.
        legend = [text.get_text() for text in bottom.get_legend().get_texts()]
        assert "stabilizing: stop ≥ 0.95" in legend
        # The budget is drawn on the accuracy panel too.
        assert any(list(line.get_xdata()) == [60, 60] for line in top.get_lines())
    finally:
        plt.close(figure)
    # Written as a PNG (the CLI's --plot and the status page's image).
    session.plot_learning_curve(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_default_rules_draw_their_thresholds(imbalanced):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder, _ = imbalanced
    session = LabelingSession.open(folder, progress=False)
    figure = session.plot_learning_curve()
    try:
        lines = _threshold_lines(figure.axes[1])
        assert set(lines) == {"stabilizing: stop ≥ 0.99", "uncertainty: stop ≤ 0.1"}
        assert np.allclose(lines["stabilizing: stop ≥ 0.99"].get_ydata(), 0.99)
    finally:
        plt.close(figure)
