"""The ML backend's contract with Label Studio, from recorded request bodies.

``tests/fixtures/labelstudio/backend/`` holds what Label Studio 1.23.2 really
sent the backend (``/setup``, webhooks for a label, a skip, an update and a
deletion, ``/predict``, "start training"; see its README). Each test replays
them through the backend's Starlette application (TestClient) onto a real
:class:`~allsh_sklearn.session.LabelingSession` made like the recorded one,
and reads the session afterwards. The same backend against a running Label
Studio: ``test_labelstudio_integration.py``.
"""

import copy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _session_data import make_pool

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from allsh_sklearn.labelstudio import (  # noqa: E402
    LabelStudioBackend,
    LabelStudioClient,
    LabelStudioError,
    Link,
    check_backend_address,
    create_app,
)
from allsh_sklearn.labelstudio._app import basic_authorization, scrub  # noqa: E402
from allsh_sklearn.labelstudio._backend import batch_score  # noqa: E402
from allsh_sklearn.session import LabelingSession  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "labelstudio" / "backend"
RECORDED_SESSION = "e97c72b7435c4b259761fb4f04691086"
SECRET = "contract-test-secret-0123456789"
AUTH = {"Authorization": basic_authorization(SECRET)}
FIRST_BATCH = ["t15", "t13", "t43", "t48", "t41", "t20", "t56", "t35"]
ROOT = Path(__file__).resolve().parents[1]


def make_session(folder, **params):
    """The recorded session: same pool, labels and parameters, first batch drawn."""
    table, truth = make_pool(n=60, n_classes=2)
    options = dict(
        labels=["negative", "positive"],
        id_column="id",
        classifier="tfidf-lr",
        strategy="entropy",
        batch_size=8,
        audit_fraction=0.25,
        stop_set_size=10,
        progress=False,
    )
    options.update(params)
    session = LabelingSession.create(folder, table, **options)
    session.next_batch()
    return session, truth


def fixture(name, session=None):
    """A recorded body (its session id replaced by ``session``'s)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    if session is not None:
        text = text.replace(RECORDED_SESSION, session.session_id)
    return json.loads(text)


def webhooks():
    return sorted(path.name for path in FIXTURES.glob("*-webhook-*.json"))


@pytest.fixture
def project(tmp_path):
    return make_session(tmp_path / "project")


@pytest.fixture
def backend(project):
    session, _ = project
    return LabelStudioBackend(session)


@pytest.fixture
def client(backend):
    return TestClient(create_app(backend, secret=SECRET))


def replay(client, name, session, *, status=200):
    recorded = fixture(name, session)
    response = client.post(recorded["path"], json=recorded["body"], headers=AUTH)
    assert response.status_code == status, response.text
    return response.json()


def events(session, item_id):
    return [e for e in session.item(item_id).history if e.kind in ("label", "skip")]


def standing(session, item_id):
    item = session.item(item_id)
    return "skip" if item.skipped else item.label


# The recorded bodies ---------------------------------------------------------------


def test_fixtures_are_what_label_studio_sent():
    names = sorted(path.name for path in FIXTURES.glob("*.json"))
    assert names[0] == "01-setup.json" and names[-1] == "09-webhook-start-training.json"
    for name in names:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        body = json.loads(text)["body"]
        # The tokens Label Studio sends (its owner's API token in /setup, the
        # project's token in webhooks) were hidden when they were recorded.
        assert "access_token" not in body or body["access_token"] == "<hidden>"
        assert '"token": "<hidden>"' in text or '"token"' not in text


def test_setup_answers_the_order_s_model_version(client, project):
    session, _ = project
    assert replay(client, "01-setup.json", session) == {
        "model_version": "allsh-label round 0 batch 1"
    }
    assert client.get("/health", headers=AUTH).json()["status"] == "UP"


def test_annotations_become_labels_skips_and_relabels_once(client, project):
    session, _ = project
    assert [i.item_id for i in session.current_batch().items] == FIRST_BATCH
    answers = [
        replay(client, name, session)
        for name in webhooks()
        if name < "07"  # created x4 (one cancelled), then updated
    ]
    assert [a.get("label", 0) + a.get("skip", 0) for a in answers[:4]] == [1] * 4
    assert answers[1]["skip"] == 1
    assert answers[4]["relabel"] == 1
    assert standing(session, "t15") == "negative"  # annotation 12, updated
    assert standing(session, "t13") == "skip"
    assert standing(session, "t43") == "positive"
    assert standing(session, "t48") == "negative"
    t15 = events(session, "t15")
    assert [(e.kind, e.label) for e in t15] == [
        ("label", "positive"),
        ("label", "negative"),
    ]
    assert all(e.annotator == "labelstudio:1" for e in t15)
    assert t15[0].source.startswith("labelstudio:12:2026-")
    for item_id in ("t13", "t43", "t48"):
        assert len(events(session, item_id)) == 1


def test_a_webhook_sent_again_changes_nothing(client, project):
    session, _ = project
    created = webhooks()[:4]  # a label, a skip, two labels
    for name in created:
        replay(client, name, session)
    before = session.status().n_events
    for name in created:
        assert replay(client, name, session)["unchanged"] == 1
    assert session.status().n_events == before
    # The update, then the creation again (older): the update stands.
    replay(client, "06-webhook-annotation-updated.json", session)
    assert replay(client, "02-webhook-annotation-created.json", session) == {
        "status": "ok",
        "action": "ANNOTATION_CREATED",
        "stale": 1,
    }
    assert standing(session, "t15") == "negative"


def test_a_label_given_elsewhere_later_is_not_undone_by_a_replay(client, project):
    session, _ = project
    replay(client, "04-webhook-annotation-created.json", session)  # t43 positive
    session.label("t43", "negative", annotator="alice", source="web")
    assert replay(client, "04-webhook-annotation-created.json", session)["stale"] == 1
    assert standing(session, "t43") == "negative"


def test_a_deleted_annotation_unlabels(client, project):
    session, _ = project
    for name in webhooks()[:4]:  # t48's annotation, deleted below, comes last
        replay(client, name, session)
    assert standing(session, "t48") == "negative"
    assert replay(client, "07-webhook-annotations-deleted.json", session) == {
        "status": "ok",
        "action": "ANNOTATIONS_DELETED",
        "unlabel": 1,
    }
    # t48 is unlabeled, pending again in its batch, its label kept as undone.
    assert standing(session, "t48") is None
    history = session.item("t48").history
    assert [(e.kind, e.undone) for e in history] == [("label", True), ("undo", False)]
    assert history[1].annotator == history[0].annotator == "labelstudio:1"
    assert history[1].source == "labelstudio:15:deleted"
    assert "t48" in [
        i.item_id for i in session.current_batch().items if i.label is None
    ]
    # Sent again: nothing left to take back.
    assert (
        replay(client, "07-webhook-annotations-deleted.json", session)["unchanged"] == 1
    )
    assert len(session.item("t48").history) == 2


def test_a_deleted_updated_annotation_leaves_no_version_of_it(client, project):
    session, _ = project
    replay(client, "02-webhook-annotation-created.json", session)
    replay(client, "06-webhook-annotation-updated.json", session)  # same annotation
    assert len(events(session, "t15")) == 2
    deleted = fixture("07-webhook-annotations-deleted.json", session)
    deleted["body"]["annotations"] = [{"id": 12}]
    response = client.post("/webhook", json=deleted["body"], headers=AUTH)
    assert response.status_code == 200 and response.json()["unlabel"] == 1
    assert standing(session, "t15") is None
    history = session.item("t15").history
    assert all(e.undone for e in history if e.kind == "label")  # both versions
    undos = [e for e in history if e.kind == "undo"]
    assert [(e.annotator, e.source) for e in undos] == [
        ("labelstudio:1", "labelstudio:12:deleted")
    ] * 2


def test_a_deletion_leaves_the_labels_of_other_annotations_alone(client, project):
    session, _ = project
    replay(client, "02-webhook-annotation-created.json", session)  # t15, 12
    session.label("t15", "positive", annotator="alice", source="web")  # later
    deleted = fixture("07-webhook-annotations-deleted.json", session)
    deleted["body"]["annotations"] = [{"id": 12}]
    response = client.post("/webhook", json=deleted["body"], headers=AUTH)
    assert response.json()["unchanged"] == 1
    assert standing(session, "t15") == "positive"
    assert not any(e.undone for e in session.item("t15").history)


def test_a_deletion_this_process_did_not_see_is_left_to_the_sync(client, backend):
    body = fixture("07-webhook-annotations-deleted.json")["body"]
    body["annotations"] = [{"id": 999}]
    response = client.post("/webhook", json=body, headers=AUTH)
    assert response.json()["queued"] == 1
    assert backend.worker._pending["sync"]


def test_predict_scores_make_label_studio_serve_the_batch_order(client, project):
    session, _ = project
    answer = replay(client, "08-predict.json", session)
    results = answer["results"]
    assert answer["model_version"] == "allsh-label round 0 batch 1"
    tasks = fixture("08-predict.json")["body"]["tasks"]
    assert len(results) == len(tasks) == 8
    by_item = {t["data"]["allsh_id"]: r for t, r in zip(tasks, results, strict=True)}
    scores = [by_item[item_id]["score"] for item_id in FIRST_BATCH]
    assert scores == sorted(scores) and scores == [p / 16 for p in range(8)]
    assert all(0 <= s < 0.5 for s in scores)  # Label Studio takes [0, 1] only
    assert all(r["model_version"] == answer["model_version"] for r in results)
    assert all(r["result"] == [] for r in results)  # no model yet: no guess
    # Labeled texts move behind the ones still to label.
    session.label("t15", "positive", annotator="bot")
    rescored = replay(client, "08-predict.json", session)["results"]
    assert rescored[0]["score"] >= 0.5
    assert [r["score"] for r in rescored[1:]] == scores[1:]


def test_predict_and_the_session_s_batch_export_agree(client, project, tmp_path):
    # One formula, in the session: a batch exported as Label Studio tasks is
    # served in the order /predict gives, under the same model version.
    session, _ = project
    session.label("t13", "positive", annotator="bot")
    assert session.export_batch(tmp_path / "tasks.json") == 7
    exported = {
        task["data"]["allsh_id"]: task["predictions"][0]
        for task in json.loads((tmp_path / "tasks.json").read_text())
    }
    answer = replay(client, "08-predict.json", session)
    tasks = fixture("08-predict.json")["body"]["tasks"]
    compared = 0
    for task, result in zip(tasks, answer["results"], strict=True):
        prediction = exported.get(task["data"]["allsh_id"])
        if prediction is not None:
            assert result["score"] == prediction["score"]
            assert result["model_version"] == prediction["model_version"]
            assert result["result"] == prediction["result"] == []
            compared += 1
    assert compared == 7


def test_predictions_carry_the_model_s_guess_after_a_round(tmp_path):
    session, truth = make_session(tmp_path / "p")
    for item in session.current_batch().items:
        session.label(item.item_id, truth[item.item_id], annotator="bot")
    batch = session.next_batch()  # round 1
    client = TestClient(create_app(LabelStudioBackend(session), secret=SECRET))
    body = fixture("08-predict.json", session)["body"]
    template = body["tasks"][0]
    body["tasks"] = []
    for item in batch.items + [session.item("t0")]:
        task = copy.deepcopy(template)
        task["data"].update(text=item.text, allsh_id=item.item_id)
        body["tasks"].append(task)
    answer = client.post("/predict", json=body, headers=AUTH).json()
    assert answer["model_version"] == f"allsh-label round 1 batch {batch.batch}"
    results = answer["results"]
    for item, result in zip(batch.items, results, strict=False):
        (region,) = result["result"]
        assert region["from_name"] == "label" and region["to_name"] == "text"
        assert region["value"]["choices"][0] in session.labels
        assert result["score"] == batch_score(item.position, len(batch.items))
    assert 0.5 <= results[-1]["score"] <= 1.0  # t0: not in the batch


def test_start_training_retrains_in_the_background(project):
    session, truth = project
    backend = LabelStudioBackend(session)
    client = TestClient(create_app(backend, secret=SECRET))
    for item in session.current_batch().items[:6]:
        session.label(item.item_id, truth[item.item_id], annotator="bot")
    assert session.rounds() == []
    backend.worker.start()
    try:
        backend.worker.wait_idle(60)  # the first cycle: nothing is due
        assert session.rounds() == []
        answer = replay(client, "09-webhook-start-training.json", session)
        assert answer["action"] == "START_TRAINING"
        assert backend.worker.wait_idle(120)
    finally:
        backend.worker.stop()
    assert [r.round for r in session.rounds()] == [1]
    assert backend.order()[0] == "allsh-label round 1 batch 2"


def test_every_n_labels_retrains_in_the_background(project):
    session, truth = project
    backend = LabelStudioBackend(session, retrain_every=3)
    client = TestClient(create_app(backend, secret=SECRET))
    template = fixture("02-webhook-annotation-created.json", session)["body"]
    backend.worker.start()
    try:
        backend.worker.wait_idle(60)
        number = 100
        for item in session.current_batch().items:
            if session.rounds():
                break
            number += 1
            body = copy.deepcopy(template)
            body["annotation"]["id"] = number
            body["task"]["data"].update(text=item.text, allsh_id=item.item_id)
            body["annotation"]["result"][0]["value"]["choices"] = [truth[item.item_id]]
            answer = client.post("/webhook", json=body, headers=AUTH)
            assert answer.status_code == 200 and answer.json()["label"] == 1
            backend.worker.wait_idle(120)
    finally:
        backend.worker.stop()
    assert session.rounds(), "no retraining after the labels"
    status = session.status()
    assert status.rounds[0].n_labeled >= 3
    assert backend.order()[0].startswith("allsh-label round 1 batch ")


# Sync with Label Studio's API (a stand-in for its REST client) -----------------------


class FakeLabelStudio:
    """What the backend asks of Label Studio's API, over in-memory tasks."""

    url = "http://label-studio.invalid"

    def __init__(self, tasks):
        self.tasks_ = copy.deepcopy(tasks)
        self.predictions = []
        self.model_version = ""
        self.calls = []

    def tasks(self, project_id):
        self.calls.append("tasks")
        return copy.deepcopy(self.tasks_)

    def import_tasks(self, project_id, tasks):
        self.calls.append(("import_tasks", len(tasks)))
        start = max([t["id"] for t in self.tasks_], default=0)
        for number, task in enumerate(tasks, start=start + 1):
            self.tasks_.append({"id": number, "annotations": [], **task})
        return len(tasks)

    def import_predictions(self, project_id, predictions):
        self.calls.append(("import_predictions", len(predictions)))
        self.predictions += predictions
        return len(predictions)

    def model_versions(self, project_id):
        versions = {}
        for prediction in self.predictions:
            version = prediction["model_version"]
            versions[version] = versions.get(version, 0) + 1
        return versions

    def project(self, project_id):
        return {"id": project_id, "model_version": self.model_version}

    def update_project(self, project_id, **fields):
        self.calls.append(("update_project", fields))
        self.model_version = fields.get("model_version", self.model_version)

    def delete_model_version(self, project_id, version):
        self.calls.append(("delete_model_version", version))
        self.predictions = [
            p for p in self.predictions if p["model_version"] != version
        ]


def test_pull_brings_back_what_webhooks_missed_once(backend, project):
    session, _ = project
    # Label Studio's state at the recording's end, as /predict carried it:
    # t15 negative (updated), t13 skipped, t43 positive, t48's annotation deleted.
    tasks = fixture("08-predict.json", session)["body"]["tasks"]
    backend.link = Link(FakeLabelStudio(tasks), 3)
    pulled = backend.pull()
    assert pulled == {"label": 2, "skip": 1}
    assert [standing(session, i) for i in FIRST_BATCH[:4]] == [
        "negative",
        "skip",
        "positive",
        None,
    ]
    assert backend.pull() == {"unchanged": 3}
    assert session.status().n_events == 3


def test_pull_takes_back_a_label_whose_annotation_was_deleted(client, backend, project):
    session, _ = project
    replay(client, "05-webhook-annotation-created.json", session)  # t48, then gone
    assert standing(session, "t48") == "negative"
    # A backend restarted after the deletion's webhook: only the sync sees it.
    backend._annotations.clear()
    tasks = fixture("08-predict.json", session)["body"]["tasks"]
    backend.link = Link(FakeLabelStudio(tasks), 3)
    assert backend.pull() == {"label": 2, "skip": 1, "unlabel": 1}
    assert standing(session, "t48") is None
    assert backend.pull() == {"unchanged": 3}
    assert [e.kind for e in session.item("t48").history] == ["label", "undo"]


def test_publish_imports_the_batch_and_pushes_its_order_once(backend, project):
    session, truth = project
    fake = FakeLabelStudio([])
    backend.link = Link(fake, 3)
    report = backend.publish()
    assert report == {
        "imported": 8,
        "predicted": 8,
        "model_version": "allsh-label round 0 batch 1",
    }
    assert fake.model_version == "allsh-label round 0 batch 1"
    order = sorted(fake.predictions, key=lambda p: p["score"])
    ids = {t["id"]: t["data"]["allsh_id"] for t in fake.tasks_}
    assert [ids[p["task"]] for p in order] == FIRST_BATCH
    assert all(t["data"]["allsh_session"] == session.session_id for t in fake.tasks_)
    assert backend.publish()["predicted"] == 0  # nothing changed: nothing pushed
    # A new round: new texts imported, every task scored again, the old
    # version's predictions deleted.
    for item in session.current_batch().items:
        session.label(item.item_id, truth[item.item_id], annotator="bot")
    session.next_batch()
    report = backend.publish()
    assert report["imported"] == 8 and report["predicted"] == 16
    assert fake.model_versions(3) == {report["model_version"]: 16}
    assert ("delete_model_version", "allsh-label round 0 batch 1") in fake.calls


# Security and validation -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": basic_authorization("wrong-secret-0123456789")},
        {"Authorization": basic_authorization(SECRET, user="admin")},
        {"Authorization": "Bearer " + SECRET},
        {"Authorization": "Basic !!!"},
    ],
)
def test_every_route_needs_the_shared_secret(client, project, headers):
    session, _ = project
    for method, path in [
        ("GET", "/health"),
        ("POST", "/webhook"),
        ("POST", "/predict"),
    ]:
        body = None if method == "GET" else fixture("08-predict.json")["body"]
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401
        assert "Basic authentication" in response.json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert session.status().n_events == 0


def _with(name, change):
    body = fixture(name)["body"]
    change(body)
    return body


@pytest.mark.parametrize(
    "path, body, status, message",
    [
        ("/webhook", b"{not json", 400, "not valid JSON"),
        ("/webhook", b"\xff\xfe", 400, "UTF-8"),
        ("/webhook", b"[1, 2]", 400, "got a list"),
        ("/webhook", {"annotation": {}}, 400, "'action'"),
        (
            "/webhook",
            {"action": "ANNOTATION_CREATED", "annotation": [1]},
            400,
            "'annotation' object",
        ),
        (
            "/webhook",
            lambda: _with(
                "02-webhook-annotation-created.json",
                lambda b: b["task"]["data"].pop("allsh_id"),
            ),
            422,
            "data.allsh_id",
        ),
        (
            "/webhook",
            lambda: _with(
                "02-webhook-annotation-created.json",
                lambda b: b["task"]["data"].update(allsh_id="nope"),
            ),
            422,
            "not in this session",
        ),
        (
            "/webhook",
            lambda: _with(
                "02-webhook-annotation-created.json",
                lambda b: b["annotation"]["result"][0]["value"].update(
                    choices=["sport"]
                ),
            ),
            422,
            "'sport' is not one of the session's labels",
        ),
        (
            "/webhook",
            lambda: _with(
                "02-webhook-annotation-created.json",
                lambda b: b["annotation"].update(was_cancelled="yes"),
            ),
            400,
            "'was_cancelled' must be true or false",
        ),
        (
            "/webhook",
            lambda: _with(
                "07-webhook-annotations-deleted.json",
                lambda b: b.update(annotations=[{"id": "x"}]),
            ),
            400,
            "{'id': <int>}",
        ),
        ("/predict", {"tasks": {}}, 400, "'tasks', a list"),
        (
            "/predict",
            lambda: _with(
                "08-predict.json", lambda b: b["tasks"][3]["data"].pop("text")
            ),
            422,
            "task 4 of 8",
        ),
        ("/setup", {"project": ["x"]}, 400, "'project'"),
    ],
)
def test_bad_bodies_are_refused_with_a_json_message(
    client, project, path, body, status, message
):
    session, _ = project
    if callable(body):
        body = json.loads(
            json.dumps(body()).replace(RECORDED_SESSION, session.session_id)
        )
    if isinstance(body, bytes):
        response = client.post(path, content=body, headers=AUTH)
    else:
        response = client.post(path, json=body, headers=AUTH)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert session.status().n_events == 0


def test_tasks_of_another_session_or_project_are_refused(client, backend, project):
    session, _ = project
    body = fixture("02-webhook-annotation-created.json")["body"]  # its own session
    response = client.post("/webhook", json=body, headers=AUTH)
    assert response.status_code == 422 and "another labeling session" in response.text
    predict = fixture("08-predict.json")["body"]
    assert client.post("/predict", json=predict, headers=AUTH).status_code == 422
    backend.link = Link(FakeLabelStudio([]), 7)
    body = fixture("02-webhook-annotation-created.json", session)["body"]
    response = client.post("/webhook", json=body, headers=AUTH)
    assert response.status_code == 409 and "project 7" in response.json()["error"]
    assert session.status().n_events == 0


def test_large_bodies_are_refused_before_they_are_read(backend):
    client = TestClient(create_app(backend, secret=SECRET, max_body=1000))
    body = fixture("08-predict.json")["body"]
    response = client.post("/predict", json=body, headers=AUTH)
    assert response.status_code == 413 and "1,000 bytes" in response.json()["error"]


def test_ignored_actions_are_acknowledged(client, project):
    session, _ = project
    response = client.post(
        "/webhook", json={"action": "PROJECT_UPDATED", "project": {}}, headers=AUTH
    )
    assert response.json() == {"status": "ok", "action": "PROJECT_UPDATED"}


def test_short_secrets_are_refused(backend):
    with pytest.raises(ValueError, match="at least 16 characters"):
        create_app(backend, secret="short")


def test_record_keeps_bodies_without_tokens(backend, project, tmp_path):
    session, _ = project
    folder = tmp_path / "recorded"
    client = TestClient(create_app(backend, secret=SECRET, record=folder))
    replay(client, "01-setup.json", session)
    body = fixture("01-setup.json")["body"]
    body["access_token"] = "a-real-token-0123456789"
    client.post("/setup", json=body, headers=AUTH)
    texts = [p.read_text() for p in sorted(folder.glob("*.json"))]
    assert len(texts) == 2 and all("a-real-token" not in t for t in texts)
    assert json.loads(texts[1])["body"]["access_token"] == "<hidden>"
    assert scrub({"a": [{"token": "x"}]}) == {"a": [{"token": "<hidden>"}]}


def test_loopback_by_default_like_the_labeling_page():
    assert check_backend_address("127.0.0.1") is False
    assert check_backend_address("::1") is False
    with pytest.raises(ValueError, match="--allow-remote"):
        check_backend_address("0.0.0.0")
    assert check_backend_address("0.0.0.0", allow_remote=True) is True


# The command -------------------------------------------------------------------------


def _command(project, *options, env=None):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ALLSH_LABELSTUDIO_SECRET", "LABEL_STUDIO_API_KEY")
    }
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "allsh_sklearn.labelstudio", str(project), *options],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=ROOT,
    )


def test_command_refuses_remote_addresses_and_missing_secrets(project):
    session, _ = project
    done = _command(session.path, "--host", "0.0.0.0")
    assert done.returncode == 2 and "--allow-remote" in done.stderr
    done = _command(session.path, "--port", "0")
    assert done.returncode == 2 and "ALLSH_LABELSTUDIO_SECRET" in done.stderr
    done = _command(session.path, "--connect", "http://127.0.0.1:1")
    assert done.returncode == 2 and "LABEL_STUDIO_API_KEY" in done.stderr


def test_command_never_shows_the_token(project):
    session, _ = project
    token = "do-not-print-this-token-0123"
    done = _command(
        session.path,
        "--connect",
        "http://127.0.0.1:9",  # nothing listens there
        "--port",
        "0",
        env={"LABEL_STUDIO_API_KEY": token},
    )
    assert done.returncode == 2
    assert "could not be reached" in done.stderr
    assert token not in done.stdout + done.stderr


def test_command_serves_until_ctrl_c(project):
    session, _ = project
    process = subprocess.Popen(
        [sys.executable, "-m", "allsh_sklearn.labelstudio", str(session.path)]
        + ["--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, ALLSH_LABELSTUDIO_SECRET=SECRET),
        cwd=ROOT,
        # Ctrl-C as from a terminal, even where this test was started in the
        # background of a shell that ignores SIGINT (and so its children)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = process.stdout.readline()
        assert "Label Studio ML backend of" in line
        url = line.split(" at ")[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        import httpx

        assert httpx.get(url + "health", headers=AUTH, timeout=10).status_code == 200
        assert httpx.get(url + "health", timeout=10).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "every label given so far is saved" in stderr


def test_client_keeps_the_token_to_itself():
    client = LabelStudioClient("http://127.0.0.1:9", "secret-token-value-0123")
    assert "secret-token" not in repr(client)
    with pytest.raises(LabelStudioError) as caught:
        client.project(1)
    assert "secret-token" not in str(caught.value)
    assert "could not be reached" in str(caught.value)
    with pytest.raises(ValueError, match="'url' parameter"):
        LabelStudioClient("127.0.0.1:8080", "token")


def test_plugs_into_allsh_label(project, monkeypatch, capsys):
    from allsh_sklearn.session import _cli

    session, _ = project
    monkeypatch.setitem(
        _cli.COMMAND_PLUGINS, "labelstudio", "allsh_sklearn.labelstudio._cli"
    )
    assert _cli.main(["labelstudio", str(session.path), "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _cli.main(["labelstudio", "--help"])
    assert "--connect URL" in capsys.readouterr().out


def test_the_older_train_call_stores_its_annotations(client, project):
    # Label Studio without its webhook-training flag posts every annotated
    # task to /train (ExportDataSerializer): the tasks of the /predict record.
    session, _ = project
    recorded = fixture("08-predict.json", session)["body"]
    body = {"annotations": recorded["tasks"], "project": recorded["project"]}
    answer = client.post("/train", json=body, headers=AUTH).json()
    assert answer["action"] == "START_TRAINING"
    assert answer["label"] + answer["skip"] == 3
    assert [standing(session, i) for i in FIRST_BATCH[:3]] == [
        "negative",
        "skip",
        "positive",
    ]
