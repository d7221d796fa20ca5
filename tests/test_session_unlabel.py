"""LabelingSession.unlabel: take back the label or skip standing for one item.

Like ``undo``, but for a named item whoever labeled it (what a deleted Label
Studio annotation becomes): the item falls back to its previous label or
skip, or to unlabeled and pending again in its batch, claimed by nobody.
"""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _session_data import create_session, database_rows, make_pool

from allsh_sklearn.session import Event, LabelingSession

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def session(tmp_path):
    table, _ = make_pool(n=60)
    session = create_session(tmp_path / "project", table)
    session.next_batch()
    return session


def _state(session, item_id):
    item = session.item(item_id)
    return "skip" if item.skipped else item.label


def _pending(session):
    batch = session.current_batch()
    return [i.item_id for i in batch.items if i.label is None and not i.skipped]


def _consistent(folder):
    """Whether every item's state is its latest label or skip not undone, and
    every undone event has exactly one undo that names it."""
    states = {
        item: (event, kind, label)
        for item, kind, label, event in database_rows(
            folder, "SELECT item, kind, label, event FROM item_state"
        )
    }
    standing = {}
    for event, item, kind, label in database_rows(
        folder,
        "SELECT event, item, kind, label FROM events WHERE kind IN ('label', "
        "'skip') AND undone = 0 ORDER BY event",
    ):
        standing[item] = (event, kind, label)
    undone = {
        row[0]
        for row in database_rows(folder, "SELECT event FROM events WHERE undone = 1")
    }
    targets = [
        row[0]
        for row in database_rows(
            folder, "SELECT target FROM events WHERE kind = 'undo'"
        )
    ]
    return states == standing and sorted(targets) == sorted(undone)


def test_unlabel_falls_back_to_the_previous_label(session):
    item_id = session.next_item("ann").item_id
    session.label(item_id, "negative", annotator="ann")
    session.label(item_id, "positive", annotator="bob", source="web")
    undone = session.unlabel(item_id, annotator="carl", source="labelstudio")
    # The undone event, with the annotator who gave it.
    assert isinstance(undone, Event)
    assert (undone.item_id, undone.kind, undone.label) == (item_id, "label", "positive")
    assert (undone.annotator, undone.source, undone.undone) == ("bob", "web", True)
    assert _state(session, item_id) == "negative"
    history = session.item(item_id).history
    assert [(e.kind, e.label, e.annotator, e.undone) for e in history] == [
        ("label", "negative", "ann", False),
        ("label", "positive", "bob", True),
        ("undo", None, "carl", False),
    ]
    assert history[-1].source == "labelstudio"
    assert item_id not in _pending(session)
    assert _consistent(session.path)


def test_unlabel_falls_back_to_a_skip(session):
    item_id = session.next_item("ann").item_id
    session.skip(item_id, annotator="ann")
    session.label(item_id, "positive", annotator="ann")
    assert session.unlabel(item_id).label == "positive"
    assert _state(session, item_id) == "skip"
    assert session.status().n_skipped == 1
    # and a skip taken back falls back to unlabeled
    undone = session.unlabel(item_id)
    assert (undone.kind, undone.label) == ("skip", None)
    assert _state(session, item_id) is None
    assert _consistent(session.path)


def test_unlabel_leaves_the_item_pending_in_its_batch_claimed_by_nobody(session):
    before = session.current_batch().n_pending
    item = session.next_item("ann")
    session.label(item.item_id, "positive", annotator="ann")
    assert session.current_batch().n_pending == before - 1
    assert session.status().n_labeled == 1
    session.unlabel(item.item_id, annotator="admin")
    assert _state(session, item.item_id) is None
    assert session.current_batch().n_pending == before
    assert _pending(session)[0] == item.item_id  # at its place again
    assert session.status().n_labeled == 0
    # Not claimed (unlike undo): the next annotator who asks is given it.
    claims = database_rows(
        session.path,
        "SELECT COUNT(*) FROM claims c JOIN items i ON i.item = c.item "
        "WHERE i.ext_id = ?",
        (item.item_id,),
    )
    assert claims == [(0,)]
    assert session.next_item("bob").item_id == item.item_id
    assert session.next_item("ann").item_id != item.item_id  # bob has it now
    assert _consistent(session.path)


def test_unlabel_an_item_outside_any_batch(session):
    outside = next(
        i for i in (f"t{n}" for n in range(60)) if session.item(i).batch is None
    )
    session.label(outside, "negative", annotator="ann")
    assert session.unlabel(outside).label == "negative"
    assert _state(session, outside) is None
    assert _consistent(session.path)


def test_a_second_unlabel_changes_nothing_and_returns_none(session):
    item_id = session.next_item("ann").item_id
    assert session.unlabel(item_id) is None  # never labeled
    session.label(item_id, "positive", annotator="ann")
    assert session.unlabel(item_id) is not None
    n_events = len(session.item(item_id).history)
    assert session.unlabel(item_id) is None
    assert session.unlabel(item_id, annotator="bob") is None
    assert len(session.item(item_id).history) == n_events == 2
    assert _state(session, item_id) is None


def test_unlabel_and_undo_take_back_different_events(session):
    first, second = (session.next_item(f"ann{i}").item_id for i in range(2))
    session.label(first, "negative", annotator="ann")
    session.label(second, "positive", annotator="ann")
    # unlabel takes back the named item's label, not the annotator's last one
    assert session.unlabel(first).item_id == first
    assert _state(session, second) == "positive"
    # undo then takes back ann's last label still standing
    assert session.undo(annotator="ann").item_id == second
    assert session.undo(annotator="ann") is None  # first is undone already
    assert _consistent(session.path)


def test_unlabel_an_unknown_id_or_with_a_bad_annotator(session):
    n_events = session.status().n_events
    with pytest.raises(KeyError, match="No item with id 'nope'"):
        session.unlabel("nope")
    item_id = session.next_item("ann").item_id
    session.label(item_id, "positive", annotator="ann")
    with pytest.raises(ValueError, match="'annotator' parameter"):
        session.unlabel(item_id, annotator=" ")
    assert session.status().n_events == n_events + 1
    assert _state(session, item_id) == "positive"


def test_an_unlabel_that_fails_midway_changes_nothing(session):
    item_id = session.next_item("ann").item_id
    session.label(item_id, "negative", annotator="ann")
    session.label(item_id, "positive", annotator="ann")
    # The undo event cannot be written (as on a full disk): the event already
    # marked undone in the same transaction is rolled back with it.
    connection = sqlite3.connect(session.path / "session.sqlite")
    connection.execute(
        "CREATE TRIGGER no_undo BEFORE INSERT ON events WHEN NEW.kind = 'undo' "
        "BEGIN SELECT RAISE(ABORT, 'no undo today'); END"
    )
    connection.commit()
    with pytest.raises(sqlite3.Error, match="no undo today"):
        session.unlabel(item_id)
    assert _state(session, item_id) == "positive"
    assert not any(e.undone for e in session.item(item_id).history)
    assert _consistent(session.path)
    connection.execute("DROP TRIGGER no_undo")
    connection.commit()
    connection.close()
    assert session.unlabel(item_id).label == "positive"
    assert _state(session, item_id) == "negative"


_UNLABEL_STORM = """
import sys
from allsh_sklearn.session import LabelingSession
session = LabelingSession.open(sys.argv[1], progress=False)
for item_id in sys.argv[2].split(","):
    session.unlabel(item_id, annotator="storm")
    print("unlabeled", item_id, flush=True)
"""


def test_killed_while_unlabeling_loses_at_most_the_one_in_flight(tmp_path):
    table, truth = make_pool(n=2000)
    session = create_session(tmp_path / "project", table)
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"id": list(truth), "label": list(truth.values())}).to_csv(
        labels, index=False
    )
    session.import_labels(labels)
    session.close()
    child = subprocess.Popen(
        [sys.executable, "-c", _UNLABEL_STORM, tmp_path / "project", ",".join(truth)],
        env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(TESTS)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    done = []
    while len(done) < 30:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        done.append(line.split()[1])
    os.kill(child.pid, signal.SIGKILL)
    rest, _ = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the child ended before the kill"
    done += [line.split()[1] for line in rest.splitlines()]  # printed meanwhile
    folder = tmp_path / "project"
    assert database_rows(folder, "PRAGMA integrity_check")[0][0] == "ok"
    assert _consistent(folder)
    session = LabelingSession.open(folder, progress=False)
    labeled = {i for i in truth if session.item(i).label is not None}
    assert not labeled & set(done)  # every unlabel reported done is there
    assert len(truth) - len(labeled) - len(done) <= 1  # plus the one in flight
    n_undo = database_rows(folder, "SELECT COUNT(*) FROM events WHERE kind = 'undo'")
    assert n_undo[0][0] == len(truth) - len(labeled)  # none twice
