"""Batches out and labels in: CSV, JSONL, Parquet and Label Studio task JSON."""

import json
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pandas as pd
import pytest
from _session_data import (
    create_session,
    current_labels,
    database_rows,
    make_pool,
    run_rounds,
    write_table,
)

from allsh_sklearn.session import (
    InputFileError,
    LabelingSession,
    label_studio_config,
    label_studio_model_version,
    label_studio_score,
)

FIXTURES = Path(__file__).parent / "fixtures" / "labelstudio"
LABELS2 = ["negative", "positive"]


def _create(tmp_path, table, **params):
    return create_session(tmp_path / "project", table, **params)


def _n_events(session):
    return database_rows(session.path, "SELECT COUNT(*) FROM events")[0][0]


@pytest.fixture
def session_and_truth(tmp_path):
    table, truth = make_pool(n=80)
    session = _create(tmp_path, table)
    session.next_batch()
    return session, truth


# CSV, JSONL, Parquet ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_batch_round_trip_with_a_partly_labeled_file(
    tmp_path, session_and_truth, suffix
):
    session, truth = session_and_truth
    path = tmp_path / f"batch{suffix}"
    assert session.export_batch(path) == 10
    read = {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True)}
    table = read.get(suffix, pd.read_parquet)(path)
    assert list(table.columns) == [
        "id",
        "text",
        "label",
        "guess",
        "guess_probability",
        "session_id",
    ]
    assert set(table["session_id"]) == {session.session_id}
    # People labeled six of the ten texts.
    table["label"] = [truth[i] if n < 6 else "" for n, i in enumerate(table["id"])]
    table["annotator"] = "carol"
    write_table(table, path)
    report = session.import_labels(path)
    assert (report.n_imported, report.n_unlabeled, report.n_unchanged) == (6, 4, 0)
    labels = current_labels(session)
    assert labels == {i: truth[i] for i in table["id"][:6]}
    assert session.status().annotators == {"carol": 6}
    assert session.current_batch().n_pending == 4
    # Importing the same file again changes nothing.
    before = _n_events(session)
    again = session.import_labels(path)
    assert (again.n_imported, again.n_unchanged) == (0, 6)
    assert _n_events(session) == before


def test_unknown_ids_and_labels_refuse_the_whole_file(tmp_path, session_and_truth):
    session, truth = session_and_truth
    session.export_batch(tmp_path / "b.csv")
    table = pd.read_csv(tmp_path / "b.csv")
    table["label"] = [truth[i] for i in table["id"]]
    table.loc[2, "label"] = "neutral"
    table.loc[5, "id"] = "t9999"
    table.to_csv(tmp_path / "b.csv", index=False)
    before = _n_events(session)
    with pytest.raises(InputFileError) as error:
        session.import_labels(tmp_path / "b.csv")
    message = str(error.value)
    assert "row 4: label 'neutral' is not in ['negative', 'positive']" in message
    assert "row 7: id 't9999' is not in this session" in message
    assert "Nothing was imported" in message
    assert len(error.value.problems) == 2
    assert _n_events(session) == before


def test_a_file_from_another_session_is_refused(tmp_path, session_and_truth):
    session, truth = session_and_truth
    other = LabelingSession.create(
        tmp_path / "other",
        make_pool(n=80)[0],
        labels=LABELS2,
        id_column="id",
        batch_size=10,
        progress=False,
    )
    other.next_batch()
    other.export_batch(tmp_path / "theirs.jsonl")
    table = pd.read_json(tmp_path / "theirs.jsonl", lines=True)
    table["label"] = [truth[i] for i in table["id"]]
    table.to_json(tmp_path / "theirs.jsonl", orient="records", lines=True)
    with pytest.raises(InputFileError, match="exported from another session"):
        session.import_labels(tmp_path / "theirs.jsonl")
    assert _n_events(session) == 0
    # Without the session column the ids are trusted.
    table.drop(columns="session_id").to_json(
        tmp_path / "mine.jsonl", orient="records", lines=True
    )
    assert session.import_labels(tmp_path / "mine.jsonl").n_imported == 10


def test_skip_marker_and_relabels_in_a_file(tmp_path, session_and_truth):
    session, truth = session_and_truth
    ids = [item.item_id for item in session.current_batch().items]
    pd.DataFrame(
        {"id": [ids[0], ids[1], ids[1]], "label": ["__skip__", "negative", "positive"]}
    ).to_csv(tmp_path / "l.csv", index=False)
    report = session.import_labels(tmp_path / "l.csv", annotator="dave")
    assert (report.n_imported, report.n_skips) == (3, 1)
    assert session.item(ids[0]).skipped
    assert session.item(ids[1]).label == "positive"
    assert [e.label for e in session.item(ids[1]).history] == ["negative", "positive"]


def test_label_file_without_an_id_column(tmp_path, session_and_truth):
    session, _ = session_and_truth
    pd.DataFrame({"key": ["t1"], "label": ["positive"]}).to_csv(
        tmp_path / "x.csv", index=False
    )
    with pytest.raises(InputFileError, match="no 'id' column"):
        session.import_labels(tmp_path / "x.csv")


def test_export_labels_round_trips_into_a_new_session(tmp_path, session_and_truth):
    session, truth = session_and_truth
    run_rounds(session, truth, 2)
    session.export_labels(tmp_path / "labels.csv")
    exported = pd.read_csv(tmp_path / "labels.csv")
    assert set(exported.columns) >= {"id", "text", "label", "annotator", "labeled_at"}
    assert dict(zip(exported["id"], exported["label"], strict=True)) == current_labels(
        session
    )
    fresh = LabelingSession.create(
        tmp_path / "fresh",
        make_pool(n=80)[0],
        labels=LABELS2,
        id_column="id",
        progress=False,
    )
    with pytest.raises(InputFileError, match="another session"):
        fresh.import_labels(tmp_path / "labels.csv")
    exported.drop(columns="session_id").to_csv(tmp_path / "labels.csv", index=False)
    fresh.import_labels(tmp_path / "labels.csv")
    assert current_labels(fresh) == current_labels(session)


# Label Studio -----------------------------------------------------------------------


@pytest.fixture
def tickets(tmp_path):
    session = LabelingSession.create(
        tmp_path / "tickets",
        FIXTURES / "tickets.csv",
        labels=["billing", "bug", "account"],
        text_column="body",
        id_column="ticket_id",
        strategy="entropy",
        batch_size=6,
        progress=False,
    )
    session.next_batch()
    return session


def test_label_studio_export_from_the_documented_format(tickets):
    report = tickets.import_labels(FIXTURES / "export_tickets.json")
    assert (report.n_rows, report.n_unlabeled, report.n_skips) == (6, 1, 1)
    assert current_labels(tickets) == {
        "T-1001": "billing",
        "T-1002": "bug",  # the later of two annotations
        "T-1005": "bug",
        "T-1006": "billing",
    }
    assert tickets.item("T-1003").skipped
    history = tickets.item("T-1002").history
    assert [(e.label, e.annotator) for e in history] == [
        ("billing", "labelstudio:1"),
        ("bug", "labelstudio:2"),
    ]
    # Annotation times are kept (2024-05-02T11:20:00Z).
    assert history[-1].created_at == pytest.approx(1714648800.0)
    assert tickets.item("T-1004").label is None


def test_label_studio_round_trip(tmp_path, tickets):
    path = tmp_path / "tasks.json"
    assert tickets.export_batch(path) == 6
    tasks = json.loads(path.read_text())
    texts = pd.read_csv(FIXTURES / "tickets.csv").set_index("ticket_id")["body"]
    for task in tasks:
        data = task["data"]
        assert data["text"] == texts[data["allsh_id"]]
        assert data["allsh_session"] == tickets.session_id
        assert "annotations" not in task
    # What Label Studio adds when people label the imported tasks.
    answers = {"T-1001": "billing", "T-1002": "bug", "T-1003": "account"}
    for number, task in enumerate(tasks, start=1):
        task["id"] = number
        label = answers.get(task["data"]["allsh_id"])
        task["annotations"] = (
            []
            if label is None
            else [
                {
                    "id": 100 + number,
                    "completed_by": 3,
                    "result": [
                        {
                            "id": f"r{number}",
                            "from_name": "label",
                            "to_name": "text",
                            "type": "choices",
                            "value": {"choices": [label]},
                            "origin": "manual",
                        }
                    ],
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": "2024-06-01T09:00:00Z",
                    "updated_at": "2024-06-01T09:00:00Z",
                    "lead_time": 3.0,
                    "task": number,
                }
            ]
        )
    path.write_text(json.dumps(tasks))
    report = tickets.import_labels(path)
    assert (report.n_imported, report.n_unlabeled) == (3, 3)
    assert current_labels(tickets) == answers


def test_label_studio_export_of_another_session_or_with_bad_tasks(tmp_path, tickets):
    tasks = json.loads((FIXTURES / "export_tickets.json").read_text())
    foreign = json.loads(json.dumps(tasks))
    foreign[0]["data"]["allsh_session"] = "0" * 32
    (tmp_path / "foreign.json").write_text(json.dumps(foreign))
    with pytest.raises(InputFileError, match="another session"):
        tickets.import_labels(tmp_path / "foreign.json")
    broken = json.loads(json.dumps(tasks))
    broken[0]["annotations"][0]["result"][0]["value"]["choices"] = ["billing", "bug"]
    del broken[1]["data"]["allsh_id"]
    broken[4]["annotations"][0]["result"][0]["value"]["choices"] = ["refund"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(InputFileError) as error:
        tickets.import_labels(tmp_path / "broken.json")
    message = str(error.value)
    assert "task 1: an annotation with 2 choices" in message
    assert "task 2: no data.allsh_id" in message
    assert current_labels(tickets) == {}
    (tmp_path / "not.json").write_text("{oops")
    with pytest.raises(InputFileError, match="not valid JSON"):
        tickets.import_labels(tmp_path / "not.json")


def test_label_studio_unknown_label_is_reported(tmp_path, tickets):
    tasks = json.loads((FIXTURES / "export_tickets.json").read_text())
    tasks[4]["annotations"][0]["result"][0]["value"]["choices"] = ["refund"]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    with pytest.raises(InputFileError, match="task 5: label 'refund' is not in"):
        tickets.import_labels(tmp_path / "t.json")


def _predictions(path):
    """``{item_id: prediction}`` of a Label Studio batch export."""
    tasks = json.loads(Path(path).read_text())
    assert all(len(task["predictions"]) == 1 for task in tasks)
    return {task["data"]["allsh_id"]: task["predictions"][0] for task in tasks}


def test_label_studio_batch_export_scores_the_batch_order(tmp_path, tickets):
    batch = tickets.current_batch()
    first = batch.items[0].item_id
    tickets.label(first, "bug", annotator="ann")
    assert tickets.export_batch(tmp_path / "tasks.json") == 5
    predictions = _predictions(tmp_path / "tasks.json")
    assert first not in predictions
    for item in batch.items[1:]:
        prediction = predictions[item.item_id]
        # Label Studio serves the lowest score first: the batch's order, the
        # batch's size counting the labeled text too.
        assert prediction["score"] == (item.position - 1) / (2 * 6)
        assert prediction["score"] == label_studio_score(item.position, 6)
        assert prediction["result"] == []  # no model yet: no guess, still placed
        assert prediction["model_version"] == "allsh-label round 0 batch 1"
    order = sorted(predictions, key=lambda i: predictions[i]["score"])
    assert order == [item.item_id for item in batch.items[1:]]


def test_label_studio_batch_export_after_a_round(tmp_path, session_and_truth):
    session, truth = session_and_truth
    run_rounds(session, truth, 1)
    batch = session.next_batch()
    assert (batch.round, batch.batch) == (1, 2)
    session.export_batch(tmp_path / "tasks.json")
    predictions = _predictions(tmp_path / "tasks.json")
    assert len(predictions) == len(batch.items) == 10
    for item in batch.items:
        prediction = predictions[item.item_id]
        (region,) = prediction["result"]
        assert region["value"]["choices"] == [item.guess]
        assert prediction["score"] == label_studio_score(item.position, 10)
        assert prediction["model_version"] == label_studio_model_version(1, 2)
    assert label_studio_model_version(1, 2) == "allsh-label round 1 batch 2"
    assert {p["score"] for p in predictions.values()} == {k / 20 for k in range(10)}


def _labeled_by(session, annotators):
    """Label the open batch's first texts, one per annotator."""
    given = {}
    for item, annotator in zip(session.current_batch().items, annotators, strict=False):
        session.label(item.item_id, "bug", annotator=annotator)
        given[item.item_id] = annotator
    return given


def test_label_studio_labels_export_completed_by_in_label_studio_s_form(
    tmp_path, tickets
):
    names = ["labelstudio:3", "ann@example.org", "alice", "labelstudio", "ls:007"]
    given = _labeled_by(tickets, names)
    tickets.export_labels(tmp_path / "labels.json")
    tasks = json.loads((tmp_path / "labels.json").read_text())
    by_annotator = {given[t["data"]["allsh_id"]]: t for t in tasks}
    assert by_annotator["labelstudio:3"]["annotations"][0]["completed_by"] == 3
    assert by_annotator["ann@example.org"]["annotations"][0]["completed_by"] == {
        "email": "ann@example.org"
    }
    for name in ["labelstudio:3", "ann@example.org"]:
        assert "allsh_annotator" not in by_annotator[name]["data"]
    for name in ["alice", "labelstudio", "ls:007"]:
        task = by_annotator[name]
        (annotation,) = task["annotations"]
        # Label Studio would take any completed_by for one of its users.
        assert "completed_by" not in annotation
        assert task["data"]["allsh_annotator"] == name
        assert task["data"]["allsh_labeled_at"] == annotation["created_at"]
    # Each name comes back as it was.
    fresh = LabelingSession.create(
        tmp_path / "fresh",
        FIXTURES / "tickets.csv",
        labels=["billing", "bug", "account"],
        text_column="body",
        id_column="ticket_id",
        progress=False,
    )
    for task in tasks:
        del task["data"]["allsh_session"]
    (tmp_path / "moved.json").write_text(json.dumps(tasks))
    assert fresh.import_labels(tmp_path / "moved.json").n_imported == 5
    assert fresh.status().annotators == {name: 1 for name in names}


def test_label_studio_annotations_made_since_the_export_keep_their_user(
    tmp_path, tickets
):
    given = _labeled_by(tickets, ["alice", "bob"])
    tickets.export_labels(tmp_path / "labels.json")
    tasks = json.loads((tmp_path / "labels.json").read_text())
    by_annotator = {given[t["data"]["allsh_id"]]: t for t in tasks}
    # In Label Studio, user 7 replaced alice's annotation with a new one, and
    # user 8 added one to bob's task: their created_at is not the exported one.
    alice = by_annotator["alice"]
    alice["annotations"] = [
        dict(
            alice["annotations"][0],
            id=50,
            completed_by=7,
            created_at="2030-01-01T00:00:00Z",
            updated_at="2030-01-01T00:00:00Z",
            result=[
                {
                    "from_name": "label",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["account"]},
                }
            ],
        )
    ]
    bob = by_annotator["bob"]
    bob["annotations"].append(
        dict(
            bob["annotations"][0],
            id=51,
            completed_by={"id": 8, "email": "eve@example.org"},
            created_at="2030-01-02T00:00:00Z",
            updated_at="2030-01-02T00:00:00Z",
            result=alice["annotations"][0]["result"],  # "account"
        )
    )
    (tmp_path / "back.json").write_text(json.dumps(tasks))
    tickets.import_labels(tmp_path / "back.json")
    alice_id = alice["data"]["allsh_id"]
    assert tickets.item(alice_id).history[-1].annotator == "labelstudio:7"
    assert tickets.item(alice_id).label == "account"
    # bob's exported annotation (its time unchanged) stays bob's; eve's later
    # one is hers.
    history = tickets.item(bob["data"]["allsh_id"]).history
    assert [(e.annotator, e.label) for e in history] == [
        ("bob", "bug"),
        ("eve@example.org", "account"),
    ]
    # A changed time without a user: the name is not claimed for it either.
    del alice["annotations"][0]["completed_by"]
    alice["annotations"][0]["created_at"] = "2031-01-01T00:00:00Z"
    alice["annotations"][0]["updated_at"] = "2031-01-01T00:00:00Z"
    alice["annotations"][0]["result"][0]["value"]["choices"] = ["billing"]
    (tmp_path / "again.json").write_text(json.dumps(tasks))
    tickets.import_labels(tmp_path / "again.json")
    assert tickets.item(alice_id).history[-1].annotator == "import"


def test_label_studio_allsh_annotator_that_is_not_a_name_is_refused(tmp_path, tickets):
    _labeled_by(tickets, ["alice"])
    tickets.export_labels(tmp_path / "labels.json")
    tasks = json.loads((tmp_path / "labels.json").read_text())
    tasks[0]["data"]["allsh_annotator"] = ["alice"]
    (tmp_path / "bad.json").write_text(json.dumps(tasks))
    with pytest.raises(InputFileError, match="data.allsh_annotator is a list"):
        tickets.import_labels(tmp_path / "bad.json")


def test_label_studio_config_names_the_labels():
    root = ElementTree.fromstring(label_studio_config(["a & b", "c"], pair=True))
    assert [t.get("name") for t in root.iter("Text")] == ["text", "text_pair"]
    choices = root.find("Choices")
    assert (choices.get("name"), choices.get("toName")) == ("label", "text")
    assert [c.get("value") for c in choices.iter("Choice")] == ["a & b", "c"]


def test_an_unwritable_destination_leaves_no_partial_file(tmp_path, session_and_truth):
    session, _ = session_and_truth
    with pytest.raises(InputFileError, match="does not exist"):
        session.export_batch(tmp_path / "missing" / "b.csv")
    session.export_batch(tmp_path / "b.csv")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    shutil.rmtree(tmp_path / "project" / "cache", ignore_errors=True)
