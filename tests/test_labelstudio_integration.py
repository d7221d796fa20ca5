"""The ML backend against a real Label Studio, installed from PyPI.

Label Studio runs from its own virtual environment, made by
``tools/install_label_studio.sh`` (``$ALLSH_LABEL_STUDIO_VENV``, by default
``~/.cache/allsh_sklearn/label-studio-venv``). The module starts it once on
127.0.0.1 with a free port, a temporary data folder (a copy of the migrated
template database the script prepares), ``LATEST_VERSION_CHECK=false`` and
the user and token of ``LABEL_STUDIO_USERNAME``, ``LABEL_STUDIO_PASSWORD`` and
``LABEL_STUDIO_USER_TOKEN`` (test values when unset); the backend runs as
``python -m allsh_sklearn.labelstudio PROJECT --connect URL``, as people run
it. Skipped when that environment is missing, except in CI (``CI`` set),
where it fails.

Set ``ALLSH_LABELSTUDIO_RECORD=DIR`` to keep every request Label Studio sent
the backend (tokens hidden): that is how ``tests/fixtures/labelstudio/``
was recorded.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from _session_data import make_pool  # noqa: E402

from allsh_sklearn.labelstudio import LabelStudioClient  # noqa: E402
from allsh_sklearn.session import LabelingSession  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(
    os.environ.get(
        "ALLSH_LABEL_STUDIO_VENV",
        Path.home() / ".cache" / "allsh_sklearn" / "label-studio-venv",
    )
)
EXECUTABLE = VENV / "bin" / "label-studio"
TEMPLATE = VENV / "allsh-migrated-data" / "label_studio.sqlite3"
USERNAME = os.environ.get("LABEL_STUDIO_USERNAME", "allsh-test@example.com")
PASSWORD = os.environ.get("LABEL_STUDIO_PASSWORD", "allsh-test-password")
TOKEN = os.environ.get("LABEL_STUDIO_USER_TOKEN", "allsh0test0token0123456789")
SECRET = "integration-test-secret-0123456789"
LABELS = ["negative", "positive"]
BATCH = 8
START_TIMEOUT = 240.0  # Label Studio from the template: ~20 s; migrating: 1-3 min

pytestmark = pytest.mark.timeout(600)


def _missing():
    if EXECUTABLE.exists():
        return None
    message = (
        f"Label Studio is not installed in {VENV}: run tools/install_label_studio.sh "
        "(about 2.5 minutes, 1 GB), or set ALLSH_LABEL_STUDIO_VENV to its "
        "environment."
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Label Studio integration test. {message}")
    pytest.skip(message)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


def _wait_for(condition, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


def _port_closed(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _stop(process, sig=signal.SIGTERM, timeout=30.0):
    """Stop a process group started with ``start_new_session``; its exit code."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    return process.returncode


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio on 127.0.0.1 for this module: ``(url, client, log path)``."""
    _missing()
    if not TEMPLATE.exists():
        # The install script prepares it; an older environment lacks it.
        subprocess.run(
            ["bash", str(ROOT / "tools" / "install_label_studio.sh")],
            check=True,
            capture_output=True,
            timeout=600,
        )
    data = tmp_path_factory.mktemp("label-studio-data")
    shutil.copy(TEMPLATE, data / TEMPLATE.name)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "HOST"}
    env.update(
        LABEL_STUDIO_HOST=url,
        LABEL_STUDIO_BASE_DATA_DIR=str(data),
        LATEST_VERSION_CHECK="false",
        LABEL_STUDIO_USERNAME=USERNAME,
        LABEL_STUDIO_PASSWORD=PASSWORD,
        LABEL_STUDIO_USER_TOKEN=TOKEN,
        LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
        # The backend listens on 127.0.0.1, which Label Studio refuses to call
        # (ML backends, webhooks) unless told otherwise.
        ML_BLOCK_LOCAL_IP="false",
        SSRF_PROTECTION_ENABLED="false",
        COLLECT_ANALYTICS="false",
        SENTRY_DSN="",
        FRONTEND_SENTRY_DSN="",
    )
    log = data / "label-studio.log"
    started = time.monotonic()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(EXECUTABLE),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def up():
        if process.poll() is not None:
            raise AssertionError(
                f"Label Studio exited ({process.returncode}):\n"
                + log.read_text(errors="replace")[-3000:]
            )
        try:
            return _get(f"{url}/health") == 200
        except (urllib.error.URLError, OSError):
            return False

    try:
        _wait_for(up, START_TIMEOUT, f"Label Studio at {url}", interval=1.0)
        print(f"Label Studio started in {time.monotonic() - started:.0f} s")
        yield url, LabelStudioClient(url, TOKEN), log
    finally:
        _stop(process)
        assert process.poll() is not None, "Label Studio did not stop"
        _wait_for(lambda: _port_closed(port), 20, "Label Studio's port to close")


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Backend:
    """``python -m allsh_sklearn.labelstudio PROJECT --connect URL`` in a process."""

    def __init__(self, project, label_studio_url, port, log):
        self.args = [
            sys.executable,
            "-m",
            "allsh_sklearn.labelstudio",
            str(project),
            "--connect",
            label_studio_url,
            "--port",
            str(port),
            "--retrain-every",
            "100",  # retrain when the batch is done: the order stays put meanwhile
            "--sync-every",
            "3",
        ]
        record = os.environ.get("ALLSH_LABELSTUDIO_RECORD")
        if record:
            self.args += ["--record", record]
        self.env = dict(
            os.environ,
            LABEL_STUDIO_API_KEY=TOKEN,
            ALLSH_LABELSTUDIO_SECRET=SECRET,
            OMP_NUM_THREADS="1",
        )
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = None

    def start(self):
        self.output = open(self.log, "ab")
        self.process = subprocess.Popen(
            self.args,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
            # Ctrl-C as from a terminal, even where this test was started in
            # the background of a shell that ignores SIGINT (and so its children)
            preexec_fn=_default_sigint,
        )
        text = _wait_for(self._connected, 120, "the backend to connect", 0.2)
        return int(text.split("Connected to Label Studio project ")[1].split()[0])

    def _connected(self):
        """The log since the last start once the backend is connected, else None."""
        text = self.log.read_text(errors="replace").split("--- start")[-1]
        if self.process.poll() is not None:
            raise AssertionError(f"The backend exited:\n{text[-3000:]}")
        return text if "Press Ctrl-C" in text else None

    def mark(self):
        with open(self.log, "a") as file:
            file.write("\n--- start\n")

    def stop(self, sig=signal.SIGINT):
        code = _stop(self.process, sig)
        if not self.output.closed:
            self.output.close()
        return code

    def post(self, path, body):
        auth = base64.b64encode(f"allsh:{SECRET}".encode()).decode()
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Basic {auth}",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture
def backends():
    """Make :class:`Backend` s; any still running after the test is killed."""
    made = []

    def make(*args):
        made.append(Backend(*args))
        return made[-1]

    yield make
    for backend in made:
        if backend.process is not None and backend.process.poll() is None:
            backend.stop(signal.SIGKILL)


def _choice(label):
    return [
        {
            "from_name": "label",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]


def _events(session, item_id):
    """The item's label and skip events (undone ones included)."""
    return [e for e in session.item(item_id).history if e.kind in ("label", "skip")]


def _pending_order(session):
    batch = session.current_batch()
    return [i.item_id for i in batch.items if i.label is None and not i.skipped]


def test_label_studio_serves_the_session_order_and_loses_no_label(
    label_studio, backends, tmp_path
):
    started = time.monotonic()
    url, client, ls_log = label_studio
    table, truth = make_pool(n=60, n_classes=2)
    folder = tmp_path / "project"
    session = LabelingSession.create(
        folder,
        table,
        labels=LABELS,
        id_column="id",
        classifier="tfidf-lr",
        strategy="entropy",
        batch_size=BATCH,
        audit_fraction=0.25,
        stop_set_size=10,
        progress=False,
    )
    backend = backends(folder, url, _free_port(), tmp_path / "backend.log")

    # 1. One step: project, tasks, backend, webhook, uncertainty sampling.
    backend.mark()
    project_id = backend.start()
    project = client.project(project_id)
    batch = session.current_batch()
    version_1 = f"allsh-label round 0 batch {batch.batch}"
    assert project["sampling"] == "Uncertainty sampling"
    assert project["model_version"] == version_1
    tasks = {t["data"]["allsh_id"]: t for t in client.tasks(project_id)}
    assert set(tasks) == {item.item_id for item in batch.items}
    assert client.model_versions(project_id) == {version_1: BATCH}
    assert [ml["url"] for ml in client.ml_backends(project_id)] == [backend.url]

    # 2. /next follows the batch's order (audit texts at their places); a label
    #    and a skip each land in the session once.
    given = {}
    for step in range(BATCH):
        expected = _pending_order(session)[0]
        task = client.next_task(project_id)
        assert task["data"]["allsh_id"] == expected, f"step {step}"
        item_id = expected
        if step == 2:
            client.create_annotation(task["id"], [], was_cancelled=True)
            given[item_id] = ("skip", None)
        else:
            client.create_annotation(task["id"], _choice(truth[item_id]))
            given[item_id] = ("label", truth[item_id])
        _wait_for(
            lambda item_id=item_id: _events(session, item_id),
            10,
            f"the webhook of {item_id}",
        )
    for item_id, (kind, label) in given.items():
        events = _events(session, item_id)
        assert [(e.kind, e.label) for e in events] == [(kind, label)], item_id
        assert events[0].annotator.startswith("labelstudio:")
    # An annotation changed in Label Studio is a re-label (both kept).
    first, (_, label) = next(iter(given.items()))
    other = LABELS[1 - LABELS.index(label)]
    task = client.request("GET", f"/api/tasks/{tasks[first]['id']}/")
    annotation = task["annotations"][0]["id"]
    client.request(
        "PATCH", f"/api/annotations/{annotation}/", {"result": _choice(other)}
    )
    _wait_for(lambda: len(_events(session, first)) == 2, 10, "the re-label")
    assert session.item(first).label == other
    given[first] = ("label", other)

    # 3. The batch is done: the backend retrains in the background, imports
    #    the new batch and pushes its order as a new model version.
    project = _wait_for(
        lambda: (p := client.project(project_id))["model_version"] != version_1 and p,
        120,
        "a new model version",
    )
    batch_2 = session.current_batch()
    version_2 = project["model_version"]
    assert batch_2.batch == batch.batch + 1 and batch_2.round == 1
    assert version_2 == f"allsh-label round 1 batch {batch_2.batch}"
    _wait_for(
        lambda: client.model_versions(project_id) == {version_2: 2 * BATCH},
        30,
        "the old model version's predictions to go",
    )
    for _ in range(2):
        expected = _pending_order(session)[0]
        task = client.next_task(project_id)
        assert task["data"]["allsh_id"] == expected
        client.create_annotation(task["id"], _choice(truth[expected]))
        given[expected] = ("label", truth[expected])
        _wait_for(
            lambda e=expected: _events(session, e), 10, f"the label of {expected}"
        )

    # 4. A webhook Label Studio sends again changes nothing.
    task = client.request("GET", f"/api/tasks/{task['id']}/")
    replay = {
        "action": "ANNOTATION_CREATED",
        "annotation": task["annotations"][0],
        "task": task,
        "project": {"id": project_id},
    }
    assert backend.post("/webhook", replay)["unchanged"] == 1
    assert len(_events(session, expected)) == 1

    # 5. An annotation deleted in Label Studio: its text is unlabeled (the
    #    label kept in its history, undone) and pending in its batch again.
    deleted = expected
    annotation = task["annotations"][0]["id"]
    client.request("DELETE", f"/api/annotations/{annotation}/")
    _wait_for(
        lambda: session.item(deleted).label is None, 10, f"the unlabel of {deleted}"
    )
    history = session.item(deleted).history
    assert [(e.kind, e.undone) for e in history] == [("label", True), ("undo", False)]
    assert history[-1].source == f"labelstudio:{annotation}:deleted"
    assert deleted in _pending_order(session)
    del given[deleted]

    # 6. Killed: the labels given meanwhile in Label Studio come back at restart.
    backend.stop(signal.SIGKILL)
    missed = []
    for _ in range(2):
        task = client.next_task(project_id)
        item_id = task["data"]["allsh_id"]
        assert item_id in _pending_order(session)
        client.create_annotation(task["id"], _choice(truth[item_id]))
        given[item_id] = ("label", truth[item_id])
        missed.append(item_id)
    assert not any(  # (the deleted text's undone label may be among them)
        e for item_id in missed for e in _events(session, item_id) if not e.undone
    )
    backend.mark()
    assert backend.start() == project_id  # the same project, found again
    for item_id, (kind, label) in given.items():
        events = _events(session, item_id)
        assert events[-1].kind == kind and events[-1].label == label, item_id
        assert len(events) == (2 if item_id in (first, deleted) else 1), item_id
    assert [ml["url"] for ml in client.ml_backends(project_id)] == [backend.url]
    hooks = [h for h in client.webhooks(project_id) if h["url"].startswith(backend.url)]
    assert len(hooks) == 1 and hooks[0]["headers"]["Authorization"].startswith("Basic")

    # 7. Both servers stop (Label Studio in the fixture's teardown).
    assert backend.stop(signal.SIGINT) == 130  # Ctrl-C, as every allsh-label
    _wait_for(lambda: _port_closed(backend.port), 20, "the backend's port to close")
    assert session.status().n_labeled + session.status().n_audit_labeled == sum(
        kind == "label" for kind, _ in given.values()
    )
    took = time.monotonic() - started
    print(f"Integration flow (Label Studio already up) took {took:.0f} s")
