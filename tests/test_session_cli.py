"""``allsh-label`` as people and scripts use it: commands, files, exit codes, and
terminal annotation through a pseudo-terminal, killed and resumed."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _session_data import make_pool

from allsh_sklearn.session import EXIT_CODES

pexpect = pytest.importorskip("pexpect")

ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", COLUMNS="100")
COMMANDS = (
    "init",
    "next",
    "import",
    "export",
    "annotate",
    "retrain",
    "status",
    "predict",
)


def allsh_label(*args, check=None):
    """Run ``allsh-label`` (as ``python -m allsh_sklearn.session``)."""
    result = subprocess.run(
        [sys.executable, "-m", "allsh_sklearn.session", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


@pytest.fixture
def pool_file(tmp_path):
    table, truth = make_pool(n=120)
    path = tmp_path / "pool.csv"
    table.to_csv(path, index=False)
    return path, truth


def _init(tmp_path, pool_file, *extra):
    path, _ = pool_file
    allsh_label(
        "init",
        tmp_path / "proj",
        "--data",
        path,
        "--id-column",
        "id",
        "--labels",
        "negative,positive",
        "--batch-size",
        "8",
        *extra,
        check=0,
    )
    return tmp_path / "proj"


def _events(project):
    connection = sqlite3.connect(project / "session.sqlite")
    try:
        return connection.execute(
            "SELECT i.ext_id, e.kind, e.label, e.undone FROM events e JOIN items i "
            "ON i.item = e.item ORDER BY e.event"
        ).fetchall()
    finally:
        connection.close()


# Help and exit codes ------------------------------------------------------


def test_every_command_has_help_and_the_exit_codes_are_documented():
    result = allsh_label("--help", check=0)
    for code in EXIT_CODES:
        assert re.search(rf"^\s*{code}\s", result.stdout, re.MULTILINE)
    for command in COMMANDS:
        assert (
            f"allsh-label {command}" in allsh_label(command, "--help", check=0).stdout
        )


def test_console_script_is_declared():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert 'allsh-label = "allsh_sklearn.session._cli:console_main"' in text


def test_bad_arguments_exit_2(tmp_path, pool_file):
    path, _ = pool_file
    result = allsh_label("init", tmp_path / "p", "--data", path, check=2)
    assert "--labels" in result.stderr
    result = allsh_label(
        "init",
        tmp_path / "p",
        "--data",
        path,
        "--labels",
        "a,b",
        "--batch-size",
        "0",
        check=2,
    )
    assert "expected an integer >= 1" in result.stderr
    result = allsh_label(
        "init", tmp_path / "p", "--data", path, "--labels", "a", check=2
    )
    assert "The --labels option" in result.stderr
    assert not (tmp_path / "p").exists()


def test_bad_files_exit_3(tmp_path, pool_file):
    path, truth = pool_file
    result = allsh_label(
        "init",
        tmp_path / "p",
        "--data",
        tmp_path / "missing.csv",
        "--labels",
        "a,b",
        check=3,
    )
    assert "No such file" in result.stderr
    table = pd.read_csv(path)
    table.loc[4, "text"] = ""
    table.to_csv(tmp_path / "holes.csv", index=False)
    result = allsh_label(
        "init",
        tmp_path / "p",
        "--data",
        tmp_path / "holes.csv",
        "--labels",
        "a,b",
        check=3,
    )
    assert "row 6" in result.stderr and "--drop-empty" in result.stderr
    project = _init(tmp_path, pool_file)
    pd.DataFrame({"id": ["t1", "nope"], "label": ["positive", "happy"]}).to_csv(
        tmp_path / "bad.csv", index=False
    )
    result = allsh_label("import", project, tmp_path / "bad.csv", check=3)
    assert "id 'nope' is not in this session" in result.stderr
    assert "label 'happy' is not in" in result.stderr
    assert _events(project) == []


def test_session_problems_exit_4_and_not_ready_exits_7(tmp_path, pool_file):
    path, _ = pool_file
    result = allsh_label("status", tmp_path / "nowhere", check=4)
    assert "No labeling session" in result.stderr
    project = _init(tmp_path, pool_file)
    result = allsh_label("init", project, "--data", path, "--labels", "a,b", check=4)
    assert "already holds" in result.stderr
    result = allsh_label(
        "export", project, tmp_path / "m.joblib", "--what", "model", check=7
    )
    assert "no trained model" in result.stderr
    connection = sqlite3.connect(project / "session.sqlite")
    connection.execute("PRAGMA user_version = 7")
    connection.close()
    result = allsh_label("status", project, check=4)
    assert "newer allsh_sklearn" in result.stderr


# Files in and out ----------------------------------------------------------


def test_batches_through_files_then_status_model_and_predictions(tmp_path, pool_file):
    path, truth = pool_file
    project = _init(tmp_path, pool_file, "--audit-fraction", "0.25", "--budget", "24")
    for round_number in range(1, 4):
        result = allsh_label(
            "next", project, "--output", tmp_path / "batch.csv", check=0
        )
        assert "Wrote 8 texts" in result.stdout
        batch = pd.read_csv(tmp_path / "batch.csv", dtype=str, keep_default_na=False)
        batch["label"] = [truth[i] for i in batch["id"]]
        batch.to_csv(tmp_path / "batch.csv", index=False)
        result = allsh_label(
            "import", project, tmp_path / "batch.csv", "--retrain", check=0
        )
        assert "Imported 8 labels" in result.stdout
        assert f"Round {round_number}:" in result.stdout
    status = json.loads(allsh_label("status", project, "--json", check=0).stdout)
    assert status["n_labeled"] + status["n_audit_labeled"] == 24
    assert status["n_audit_labeled"] == 6
    assert [r["n_labeled"] for r in status["rounds"]] == [6, 12, 18]
    # The budget rule (24 labels) has not fired at 18 training labels.
    assert allsh_label("status", project, "--exit-code").returncode == 0
    allsh_label("next", project, "--output", tmp_path / "batch.jsonl", check=0)
    batch = pd.read_json(tmp_path / "batch.jsonl", lines=True, dtype=False)
    batch["label"] = [truth[i] for i in batch["id"]]
    batch.to_json(tmp_path / "batch.jsonl", orient="records", lines=True)
    allsh_label("import", project, tmp_path / "batch.jsonl", "--retrain", check=0)
    result = allsh_label(
        "status", project, "--plot", tmp_path / "curve.png", "--exit-code"
    )
    assert result.returncode == 10, result.stdout
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"
    allsh_label("export", project, tmp_path / "labels.csv", check=0)
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert len(labels) == 32 and labels["audit"].sum() == 8
    allsh_label(
        "export", project, tmp_path / "model.joblib", "--what", "model", check=0
    )
    new = pd.DataFrame({"text": ["good great nice", "bad awful poor"]})
    new.to_csv(tmp_path / "new.csv", index=False)
    allsh_label(
        "predict",
        project,
        tmp_path / "new.csv",
        "--output",
        tmp_path / "p.csv",
        check=0,
    )
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert list(predicted.columns) == [
        "id",
        "text",
        "prediction",
        "p(negative)",
        "p(positive)",
        "session_id",
    ]
    import joblib

    assert list(joblib.load(tmp_path / "model.joblib").predict(new["text"])) == list(
        predicted["prediction"]
    )


def test_label_studio_tasks_and_their_labeling_configuration(tmp_path, pool_file):
    project = _init(tmp_path, pool_file)
    result = allsh_label("next", project, "--output", tmp_path / "tasks.json", check=0)
    assert "tasks.labelconfig.xml" in result.stdout
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks) == 8 and all("allsh_id" in t["data"] for t in tasks)
    assert (
        '<Choice value="negative"/>' in (tmp_path / "tasks.labelconfig.xml").read_text()
    )


# Terminal annotation, killed and resumed -----------------------------------

_HEADER = re.compile(r"retrain in \d+ - id (t\d+)\r?\n")
_KEYS = {"negative": "1", "positive": "2"}


class Annotator:
    """A person at the keyboard: reads the text's id on screen, presses keys."""

    def __init__(self, project, truth, log):
        self.truth = truth
        self.child = pexpect.spawn(
            sys.executable,
            [
                "-m",
                "allsh_sklearn.session",
                "annotate",
                str(project),
                "--annotator",
                "ann",
                "--retrain-every",
                "8",
            ],
            env=ENV,
            encoding="utf-8",
            timeout=180,
            dimensions=(40, 100),
        )
        self.child.logfile_read = log
        self.given = []  # (id, label) confirmed on screen

    def shown(self):
        self.child.expect(_HEADER)
        item = self.child.match.group(1)
        self.child.expect(r"\[q\] quit")
        return item

    def label(self, item):
        label = self.truth[item]
        self.child.send(_KEYS[label])
        self.child.expect(rf"saved: {label}")
        self.given.append((item, label))

    def kill(self):
        os.kill(self.child.pid, signal.SIGKILL)
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.signalstatus == signal.SIGKILL


def test_terminal_annotation_killed_and_resumed_keeps_every_label_once(
    tmp_path, pool_file
):
    _, truth = pool_file
    project = _init(tmp_path, pool_file, "--audit-fraction", "0.25")
    log = open(tmp_path / "screen.log", "w")
    person = Annotator(project, truth, log)
    # The first batch of eight: one skip, one undo (and the text labeled again).
    for n in range(8):
        item = person.shown()
        if n == 3:
            person.child.send("s")
            person.child.expect("saved: skipped")
            skipped = item
            continue
        person.label(item)
        if n == 5:
            person.child.send("u")
            person.child.expect(rf"undone: label of {item}")
            assert person.shown() == item  # the undone text comes back
            person.given.pop()
            person.label(item)
    # The batch is done: the model is trained and a new batch queried.
    person.child.expect(r"Round 1: trained on")
    for _ in range(3):
        person.label(person.shown())
    waiting = person.shown()
    person.kill()  # kill -9 while the next text is on screen
    first_run = list(person.given)

    person = Annotator(project, truth, log)
    assert person.shown() == waiting  # the same text, not locked by the dead process
    for _ in range(10):
        person.label(waiting)
        waiting = person.shown()
    person.child.send("q")
    person.child.expect("Quit: 10 labels saved in this run")
    person.child.expect(pexpect.EOF)
    person.child.close()
    assert person.child.exitstatus == 0
    log.close()

    given = first_run + person.given
    events = _events(project)
    active = [
        (i, label)
        for i, kind, label, undone in events
        if kind == "label" and not undone
    ]
    # Every label given is stored exactly once, and nothing else is.
    assert sorted(active) == sorted(given)
    assert len({i for i, _ in active}) == len(active)
    assert [(i, k) for i, k, _, _ in events if k == "skip"] == [(skipped, "skip")]
    assert sum(1 for _, k, _, undone in events if k == "label" and undone) == 1
    status = json.loads(allsh_label("status", project, "--json", check=0).stdout)
    assert status["n_labeled"] + status["n_audit_labeled"] == len(given)


def test_killed_while_a_key_is_being_saved_loses_at_most_that_label(
    tmp_path, pool_file
):
    _, truth = pool_file
    project = _init(tmp_path, pool_file)
    log = open(tmp_path / "screen.log", "w")
    person = Annotator(project, truth, log)
    for _ in range(3):
        person.label(person.shown())
    last = person.shown()
    person.child.send(_KEYS[truth[last]])
    person.kill()  # maybe before, maybe after the commit
    log.close()
    events = _events(project)
    active = sorted((i, label) for i, kind, label, _ in events if kind == "label")
    assert active in (
        sorted(person.given),
        sorted(person.given + [(last, truth[last])]),
    )
