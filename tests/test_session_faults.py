"""Faults: processes killed with SIGKILL, two annotators at once, a read-only
folder, a full disk, an interrupted retraining. Each leaves a consistent
database that loses at most the label being given."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from _session_data import (
    HeldClassifier,
    create_session,
    current_labels,
    database_rows,
    label_open_batch,
    make_pool,
)

from allsh_sklearn.session import LabelingSession, StorageError

TESTS = Path(__file__).resolve().parent
ENV = dict(
    os.environ,
    OMP_NUM_THREADS="1",
    OPENBLAS_NUM_THREADS="1",
    PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
)


def _create(folder, table, **params):
    params.setdefault("batch_size", 8)
    return create_session(folder, table, **params)


def _child(code, *args):
    """Start ``python -c code args...`` with the tests on its path."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if process.poll() is not None:
            raise AssertionError(f"the child exited early: {process.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.02)


def _kill(process):
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _integrity(folder):
    return database_rows(folder, "PRAGMA integrity_check")[0][0]


def _n_events(folder):
    return database_rows(folder, "SELECT COUNT(*) FROM events")[0][0]


# Killed with SIGKILL -------------------------------------------------------


def test_killed_during_retraining_resumes_with_the_same_next_batch(tmp_path):
    table, truth = make_pool(n=120)
    started, hold = tmp_path / "started", tmp_path / "hold"
    session = _create(
        tmp_path / "project",
        table,
        classifier=HeldClassifier(started=str(started), hold=str(hold)),
        audit_fraction=0.25,
    )
    session.next_batch()
    label_open_batch(session, truth)
    session.close()
    shutil.copytree(tmp_path / "project", tmp_path / "twin")
    hold.touch()
    child = _child(
        "import sys; from allsh_sklearn.session import LabelingSession; "
        "LabelingSession.open(sys.argv[1], progress=False).next_batch()",
        tmp_path / "project",
    )
    _wait_for(started, child)
    _kill(child)  # in the middle of fitting the model
    hold.unlink()
    assert _integrity(tmp_path / "project") == "ok"
    session = LabelingSession.open(tmp_path / "project", progress=False)
    assert session.rounds() == []
    assert session.current_batch().batch == 1 and session.current_batch().n_pending == 0
    assert current_labels(session) == {
        i.item_id: truth[i.item_id] for i in session.current_batch().items
    }
    twin = LabelingSession.open(tmp_path / "twin", progress=False)
    resumed, uninterrupted = session.next_batch(), twin.next_batch()
    assert [i.item_id for i in resumed.items] == [
        i.item_id for i in uninterrupted.items
    ]
    assert resumed.round == 1


_LABEL_STORM = """
import sys
from allsh_sklearn.session import LabelingSession
session = LabelingSession.open(sys.argv[1], progress=False)
truth = dict(line.split() for line in open(sys.argv[2]))
while True:
    item = session.next_item("storm")
    if item is None:
        session.next_batch()
        continue
    session.label(item.item_id, truth[item.item_id], annotator="storm")
    print("saved", item.item_id, flush=True)
"""


def test_killed_while_labeling_loses_at_most_the_label_in_flight(tmp_path):
    table, truth = make_pool(n=200)
    session = _create(tmp_path / "project", table, batch_size=50)
    session.next_batch()
    session.close()
    (tmp_path / "truth.txt").write_text(
        "".join(f"{i} {label}\n" for i, label in truth.items())
    )
    child = _child(_LABEL_STORM, tmp_path / "project", tmp_path / "truth.txt")
    saved = []
    while len(saved) < 30:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        saved.append(line.split()[1])
    _kill(child)
    assert _integrity(tmp_path / "project") == "ok"
    stored = current_labels(LabelingSession.open(tmp_path / "project", progress=False))
    assert set(saved) <= set(stored)  # every label reported saved is there
    assert len(stored) - len(saved) <= 1  # plus at most the one in flight
    assert all(stored[i] == truth[i] for i in stored)
    assert _n_events(tmp_path / "project") == len(stored)  # none twice


_IMPORT = """
import sys
from allsh_sklearn.session import LabelingSession
session = LabelingSession.open(sys.argv[1], progress=False)
print("importing", flush=True)
session.import_labels(sys.argv[2])
print("done", flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_killed_during_an_import_imports_all_or_nothing(tmp_path, delay):
    table, truth = make_pool(n=3000)
    _create(tmp_path / "project", table).close()
    pd.DataFrame({"id": list(truth), "label": list(truth.values())}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    child = _child(_IMPORT, tmp_path / "project", tmp_path / "labels.csv")
    assert child.stdout.readline().strip() == "importing", child.stderr.read()
    time.sleep(delay)
    if child.poll() is None:
        _kill(child)
    assert _integrity(tmp_path / "project") == "ok"
    assert _n_events(tmp_path / "project") in (0, 3000)


# Two annotators at once ---------------------------------------------------

_ANNOTATOR = """
import sys, time
from pathlib import Path
from allsh_sklearn.session import LabelingSession
project, truth_file, name, go = sys.argv[1:]
session = LabelingSession.open(project, progress=False)
truth = dict(line.split() for line in open(truth_file))
Path(go + "." + name).touch()
while not Path(go).exists():
    time.sleep(0.01)
while True:
    item = session.next_item(name)
    if item is None:
        break
    session.label(item.item_id, truth[item.item_id], annotator=name)
    print(item.item_id, flush=True)
    time.sleep(0.02)  # a (fast) person's pace: the two interleave
"""


def test_two_annotating_processes_neither_lose_nor_repeat_a_label(tmp_path):
    table, truth = make_pool(n=200)
    session = _create(tmp_path / "project", table, batch_size=80)
    batch = session.next_batch()
    session.close()
    (tmp_path / "truth.txt").write_text(
        "".join(f"{i} {label}\n" for i, label in truth.items())
    )
    go = tmp_path / "go"
    children = [
        _child(_ANNOTATOR, tmp_path / "project", tmp_path / "truth.txt", name, go)
        for name in ("alice", "bob")
    ]
    for child, name in zip(children, ("alice", "bob"), strict=True):
        _wait_for(f"{go}.{name}", child)
    go.touch()
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    alice, bob = (set(out.split()) for out, _ in outputs)
    assert not alice & bob
    assert alice | bob == {item.item_id for item in batch.items}
    assert alice and bob  # both did work
    stored = current_labels(LabelingSession.open(tmp_path / "project", progress=False))
    assert stored == {i: truth[i] for i in alice | bob}
    assert _n_events(tmp_path / "project") == len(batch.items)


# Read-only folder, full disk, interrupted retraining ----------------------


def _make_read_only(folder, read_only):
    """Make a folder tree read-only (or writable again) for this user.

    root ignores permission bits, so for root the files are made immutable
    (``chattr +i``), which the kernel refuses to write even for root.
    """
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip(
                "running as root without chattr: cannot make a folder read-only"
            )
        flag = "+i" if read_only else "-i"
        result = subprocess.run(
            ["chattr", flag, *map(str, paths)], capture_output=True, text=True
        )
        if result.returncode != 0:
            pytest.skip(f"chattr is not permitted here: {result.stderr.strip()}")
    else:
        for path in paths:
            path.chmod((0o555 if path.is_dir() else 0o444) if read_only else 0o755)


def test_a_read_only_folder_reads_but_refuses_to_write(tmp_path):
    table, truth = make_pool(n=60)
    session = _create(tmp_path / "project", table)
    session.next_batch()
    label_open_batch(session, truth, limit=5)
    session.close()
    pd.DataFrame({"id": ["t50"], "label": ["negative"]}).to_csv(
        tmp_path / "more.csv", index=False
    )
    _make_read_only(tmp_path / "project", True)
    try:

        def run(*args):
            return subprocess.run(
                [sys.executable, "-m", "allsh_sklearn.session", *map(str, args)],
                env=ENV,
                capture_output=True,
                text=True,
                timeout=300,
            )

        status = run("status", tmp_path / "project", "--json")
        assert status.returncode == 0, status.stderr
        assert '"n_labeled": 5' in status.stdout
        imported = run("import", tmp_path / "project", tmp_path / "more.csv")
        assert imported.returncode == 6, imported.stderr
        assert "read-only" in imported.stderr
        with pytest.raises(StorageError, match="read-only"):
            LabelingSession.open(tmp_path / "project").label("t50", "negative")
    finally:
        _make_read_only(tmp_path / "project", False)
    assert _n_events(tmp_path / "project") == 5
    assert _integrity(tmp_path / "project") == "ok"


def test_a_full_disk_gives_a_clear_error_and_a_consistent_database(tmp_path):
    table, truth = make_pool(n=400)
    session = _create(tmp_path / "project", table)
    session.next_batch()
    label_open_batch(session, truth)
    pd.DataFrame(
        {"id": list(truth)[100:400], "label": list(truth.values())[100:400]}
    ).to_csv(tmp_path / "labels.csv", index=False)
    connection = session._store.connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow
    with pytest.raises(StorageError, match="disk is full.*every earlier label is safe"):
        session.import_labels(tmp_path / "labels.csv")
    with pytest.raises(StorageError, match="disk is full"):
        session.next_batch()  # retraining, then storing the round and batch
    assert _n_events(tmp_path / "project") == 8
    assert session.rounds() == [] and session.current_batch().batch == 1
    assert _integrity(tmp_path / "project") == "ok"
    connection.execute("PRAGMA max_page_count = 1073741823")  # space freed
    report = session.import_labels(tmp_path / "labels.csv")
    assert report.n_imported + report.n_unchanged == 300
    assert session.next_batch().round == 1


def test_an_interrupted_retraining_changes_nothing(tmp_path):
    table, truth = make_pool(n=120)
    interrupt = tmp_path / "interrupt"
    session = _create(
        tmp_path / "project", table, classifier=HeldClassifier(interrupt=str(interrupt))
    )
    session.next_batch()
    label_open_batch(session, truth)
    interrupt.touch()
    with pytest.raises(KeyboardInterrupt):
        session.next_batch()
    assert session.rounds() == [] and session.current_batch().batch == 1
    assert len(current_labels(session)) == 8
    interrupt.unlink()
    assert session.next_batch().round == 1
