"""The labeling page under load, and killed in the middle of a burst.

A real server (``python -m allsh_sklearn.session serve``, uvicorn on
127.0.0.1 and a free port) in a child process; several annotators, each an
``httpx`` client in its own thread with its own cookies, label what the page
shows them as fast as it answers, and send some labels twice (a double
click). Bounded: a few hundred requests, each with a timeout, and a deadline
for the whole burst. Afterwards the session's database is read with plain
``sqlite3``: every label the server answered with success is stored, exactly
once, and nothing else.

The second test kills the server with SIGKILL while the annotators are
labeling, restarts it on the same project, and checks the same, the
database's integrity, and that labeling goes on.
"""

import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib

import pytest
from _session_data import texts_project

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

LABELS = ["negative", "positive"]
N_TEXTS = 400
TIMEOUT = 30  # seconds, per request
DEADLINE = 180  # seconds, per burst


def make_project(folder, n=N_TEXTS):
    """A project of ``n`` distinct short texts whose first batch holds them all."""
    words = ["film", "plot", "cast", "music", "scene", "story", "ending", "pace"]
    texts = [
        f"text {i}: the {words[i % 8]} was {'good' if i % 3 else 'bad'}"
        for i in range(n)
    ]
    return texts_project(folder, texts, labels=LABELS, batch_size=n, audit_fraction=0.0)


def truth(item_id):
    """The label the scripted annotators give an item (fixed per id)."""
    return LABELS[zlib.crc32(item_id.encode()) % 2]


def shown_item(html):
    match = re.search(r'data-item-id="([^"]*)"', html)
    return None if match is None or not match.group(1) else match.group(1)


def rows(project, sql):
    connection = sqlite3.connect(project / "session.sqlite", timeout=30)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


class Server:
    """``allsh-label serve PROJECT --port 0`` in a child process."""

    def __init__(self, project):
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        # Standard error to a file: a pipe nobody reads could fill and stall it.
        self.log = open(project.parent / f"{project.name}-server.log", "a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "allsh_sklearn.session",
                "serve",
                str(project),
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 120)
        line = self.process.stdout.readline() if ready else ""
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if match is None:
            self.process.kill()
            self.process.wait(30)
            self.log.close()
            log = (project.parent / f"{project.name}-server.log").read_text()
            raise AssertionError(f"the server did not start: {line!r} {log}")
        self.url = match.group(0)

    def kill(self):
        """SIGKILL: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.communicate(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
                self.process.kill()
                self.process.communicate()
        else:
            self.process.communicate()
        self.log.close()


class Annotator:
    """One browser: its own cookies, name and CSRF token; labels what it is shown.

    ``accepted`` holds the ``(item_id, label)`` pairs the server answered with
    success; ``unanswered`` those sent when the server went away.
    """

    def __init__(self, url, name):
        self.name = name
        self.origin = url.rstrip("/")
        self.client = httpx.Client(base_url=url, timeout=TIMEOUT)
        page = self.client.get("/label").text
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        response = self.client.post(
            "/annotator", data={"annotator": name}, headers=self._headers()
        )
        assert response.status_code == 303, response.text
        self.page = self.client.get("/label").text
        self.accepted = []
        self.unanswered = []
        self.errors = []

    def _headers(self):
        return {
            "Origin": self.origin,
            "X-CSRF-Token": self.token,
            "X-Requested-With": "fetch",
        }

    def label_shown(self, twice=False):
        """Label the text shown (send it twice if asked); False when done."""
        item = shown_item(self.page)
        if item is None:
            return False
        label = truth(item)
        for _ in range(2 if twice else 1):
            try:
                response = self.client.post(
                    "/label",
                    data={"item_id": item, "label": label},
                    headers=self._headers(),
                )
            except httpx.TransportError:
                self.unanswered.append((item, label))
                raise
            if response.status_code != 200:
                self.errors.append((item, response.status_code, response.text))
                return False
            self.accepted.append((item, label))
            self.page = response.text
        return True

    def run(self, n_labels, stop):
        """Label ``n_labels`` texts (every fourth sent twice) or until ``stop``."""
        deadline = time.monotonic() + DEADLINE
        try:
            for i in range(n_labels):
                if stop.is_set() or time.monotonic() > deadline:
                    break
                if not self.label_shown(twice=i % 4 == 3):
                    break
        except httpx.TransportError:
            pass  # the server was killed: what it answered is in ``accepted``
        except Exception as error:  # pragma: no cover - reported by the test
            self.errors.append(repr(error))
        finally:
            self.client.close()


def burst(url, names, n_labels, stop=None):
    """Annotators labeling at once, each in its own thread; the annotators."""
    stop = stop or threading.Event()
    annotators = [Annotator(url, name) for name in names]
    threads = [
        threading.Thread(target=a.run, args=(n_labels, stop), name=a.name)
        for a in annotators
    ]
    for thread in threads:
        thread.start()
    return annotators, threads


def label_events(project):
    """``{item_id: [(label, annotator, undone), ...]}`` of every label event."""
    events = {}
    for item_id, label, annotator, undone in rows(
        project,
        "SELECT i.ext_id, e.label, e.annotator, e.undone FROM events e "
        "JOIN items i ON i.item = e.item WHERE e.kind = 'label' ORDER BY e.event",
    ):
        events.setdefault(item_id, []).append((label, annotator, undone))
    return events


def check_consistent(project):
    """The database is sound and ``item_state`` agrees with the events."""
    assert rows(project, "PRAGMA integrity_check") == [("ok",)]
    assert rows(project, "PRAGMA foreign_key_check") == []
    # Each item's state is its latest event that is not undone.
    assert (
        rows(
            project,
            "SELECT s.item FROM item_state s JOIN events e ON e.event = s.event "
            "WHERE e.undone = 1 OR e.kind != s.kind OR e.label IS NOT s.label "
            "OR e.event != (SELECT MAX(event) FROM events x WHERE x.item = s.item "
            "AND x.kind IN ('label', 'skip') AND x.undone = 0)",
        )
        == []
    )


def test_a_burst_from_several_browsers_stores_every_label_once(tmp_path):
    project = make_project(tmp_path / "load")
    server = Server(project)
    try:
        names = [f"annotator-{i}" for i in range(6)]
        annotators, threads = burst(server.url, names, n_labels=50)
        for thread in threads:
            thread.join(DEADLINE + 2 * TIMEOUT)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        server.stop()
    assert [a.errors for a in annotators] == [[]] * len(names)
    given = {}
    n_requests = 0
    for annotator in annotators:
        n_requests += len(annotator.accepted)
        for item, label in annotator.accepted:
            assert given.setdefault(item, (label, annotator.name)) == (
                label,
                annotator.name,
            ), f"{item} was shown to two annotators"
    assert n_requests >= 300  # a few hundred answered requests, doubles included
    assert len(given) == 6 * 50
    events = label_events(project)
    assert events == {item: [(*given[item], 0)] for item in given}
    check_consistent(project)


def test_kill_9_mid_burst_loses_no_answered_label_and_stores_none_twice(tmp_path):
    project = make_project(tmp_path / "killed")
    server = Server(project)
    stop = threading.Event()
    try:
        annotators, threads = burst(
            server.url, [f"annotator-{i}" for i in range(4)], n_labels=80, stop=stop
        )
        deadline = time.monotonic() + DEADLINE
        while sum(len(a.accepted) for a in annotators) < 60:
            assert time.monotonic() < deadline, "the burst did not get going"
            assert all(thread.is_alive() for thread in threads), [
                a.errors for a in annotators
            ]
            time.sleep(0.01)
        server.kill()  # mid-burst: every annotator has a request on its way
        stop.set()
        for thread in threads:
            thread.join(2 * TIMEOUT)
    finally:
        server.stop()
    assert not any(thread.is_alive() for thread in threads)
    assert [a.errors for a in annotators] == [[]] * len(annotators)
    # Killed mid-burst: requests were on their way (stored or not, unknown).
    assert any(a.unanswered for a in annotators)

    server = Server(project)  # restarted on the same project
    try:
        events = label_events(project)
        answered = {}
        for annotator in annotators:
            for item, label in annotator.accepted:
                answered[item] = (label, annotator.name)
                # Answered with success: stored, once, as given.
                assert events[item] == [(label, annotator.name, 0)], item
        # Sent without an answer: stored once or not at all.
        for annotator in annotators:
            for item, label in annotator.unanswered:
                assert events.get(item, [(label, annotator.name, 0)]) == [
                    (label, annotator.name, 0)
                ]
        unanswered = {item for a in annotators for item, _ in a.unanswered}
        assert set(events) <= set(answered) | unanswered
        check_consistent(project)

        # Labeling goes on: a new annotator, and one of the old ones.
        again, threads = burst(server.url, ["after-restart", "annotator-0"], 5)
        for thread in threads:
            thread.join(DEADLINE)
        assert [a.errors for a in again] == [[], []]
        assert all(len(a.accepted) >= 5 for a in again)
    finally:
        server.stop()
    events = label_events(project)
    for annotator in again:
        for item, label in annotator.accepted:
            assert events[item] == [(label, annotator.name, 0)]
    check_consistent(project)
