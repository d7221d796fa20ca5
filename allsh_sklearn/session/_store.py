"""The SQLite database of a labeling session: schema, version, transactions.

One file, ``session.sqlite`` in the project folder, holds everything a
session needs to resume: the pool, every labeling event, the queried
batches with their scores and explanations, the rounds of training with the
stopping rules' values and the audit estimate, the last trained model, and
the session's parameters. Caches that can be rebuilt (embeddings, augmented
copies) live beside it in ``cache/``.

Durability: the database runs in WAL mode with ``synchronous=FULL``; every
label is its own transaction, committed before the call returns; a
retraining writes its round, model and next batch in one transaction at the
end, so a process killed at any point leaves the database as it was before
that transaction. Writers take SQLite's write lock with ``BEGIN IMMEDIATE``
and wait up to ``timeout`` seconds for each other.

Schema (version 2)::

    meta(key PRIMARY KEY, value)                  -- session_id, config, ...
    items(item PRIMARY KEY, ext_id UNIQUE, text, text_pair,
          audit_rank UNIQUE, stop_set, role)      -- role: NULL | 'audit'
    events(event PRIMARY KEY AUTOINCREMENT, item, kind, label, target,
           undone, annotator, created_at, batch, source)
                                                  -- kind: label | skip | undo
    item_state(item PRIMARY KEY, kind, label, event)
                                                  -- latest active event per item
    batches(batch PRIMARY KEY, round, kind, created_at, closed_at)
                                                  -- kind: initial | query
    batch_items(batch, position, item, purpose, score, guess, proba,
                explanation)                      -- purpose: train | audit
    rounds(round PRIMARY KEY, created_at, n_labeled, label_event, class_counts,
           n_audit, audit_correct, audit_low, audit_high, mean_pool_score,
           stop_set_predictions, stop_set_proba, checks, train_seconds,
           query_seconds, class_estimates)   -- class_estimates: JSON, v2
    models(round PRIMARY KEY, format, data)       -- the last trained model
    artifacts(name PRIMARY KEY, data, created_at) -- fitted parts kept across
                                                  -- processes (the TF-IDF
                                                  -- vocabulary, a Python
                                                  -- estimator or strategy)
    claims(item PRIMARY KEY, owner, expires_at)   -- who is looking at an item

Versions: 1, the first; 2 adds ``rounds.class_estimates`` (the per-class
estimates of :func:`~allsh_sklearn.session.class_estimates`, as JSON; NULL
in rounds trained before). A version-1 database is upgraded when it is
opened for writing (:data:`MIGRATIONS`), and read as it is when opened
read-only (its rounds then have no per-class estimates).
"""

import contextlib
import os
import re
import sqlite3
import time
from pathlib import Path

from ..utils._sqlite import CHUNK, SchemaVersionError, SQLiteStore
from ._errors import SessionBusyError, SessionError, SessionVersionError, StorageError

__all__ = [
    "CHUNK",
    "DATABASE_NAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SessionStore",
    "StoredArtifacts",
    "storage_errors",
]

#: The session database's file name inside the project folder.
DATABASE_NAME = "session.sqlite"

#: The schema this version writes; a database with a larger one is refused.
SCHEMA_VERSION = 2

#: ``{v: statements}`` upgrading a session database of version ``v`` to
#: ``v + 1`` (run in one transaction with the version bump).
MIGRATIONS = {
    1: ["ALTER TABLE rounds ADD COLUMN class_estimates TEXT"],
}

_SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE items (
    item INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    text_pair TEXT,
    audit_rank INTEGER NOT NULL UNIQUE,
    stop_set INTEGER NOT NULL DEFAULT 0,
    role TEXT CHECK (role IS NULL OR role = 'audit')
);
CREATE TABLE events (
    event INTEGER PRIMARY KEY AUTOINCREMENT,
    item INTEGER NOT NULL REFERENCES items(item),
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip', 'undo')),
    label TEXT,
    target INTEGER REFERENCES events(event),
    undone INTEGER NOT NULL DEFAULT 0,
    annotator TEXT NOT NULL,
    created_at REAL NOT NULL,
    batch INTEGER REFERENCES batches(batch),
    source TEXT NOT NULL
);
CREATE INDEX events_item ON events(item, event);
CREATE INDEX events_annotator ON events(annotator, event);
CREATE TABLE item_state (
    item INTEGER PRIMARY KEY REFERENCES items(item),
    kind TEXT NOT NULL CHECK (kind IN ('label', 'skip')),
    label TEXT,
    event INTEGER NOT NULL REFERENCES events(event)
);
CREATE TABLE batches (
    batch INTEGER PRIMARY KEY,
    round INTEGER REFERENCES rounds(round),
    kind TEXT NOT NULL CHECK (kind IN ('initial', 'query')),
    created_at REAL NOT NULL,
    closed_at REAL
);
CREATE TABLE batch_items (
    batch INTEGER NOT NULL REFERENCES batches(batch),
    position INTEGER NOT NULL,
    item INTEGER NOT NULL REFERENCES items(item),
    purpose TEXT NOT NULL CHECK (purpose IN ('train', 'audit')),
    score REAL,
    guess TEXT,
    proba TEXT,
    explanation TEXT,
    PRIMARY KEY (batch, position),
    UNIQUE (batch, item)
);
CREATE INDEX batch_items_item ON batch_items(item);
CREATE TABLE rounds (
    round INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    n_labeled INTEGER NOT NULL,
    label_event INTEGER NOT NULL,
    class_counts TEXT NOT NULL,
    n_audit INTEGER NOT NULL,
    audit_correct INTEGER NOT NULL,
    audit_low REAL,
    audit_high REAL,
    mean_pool_score REAL,
    stop_set_predictions BLOB,
    stop_set_proba BLOB,
    checks TEXT NOT NULL,
    train_seconds REAL NOT NULL,
    query_seconds REAL NOT NULL,
    class_estimates TEXT
);
CREATE TABLE models (
    round INTEGER PRIMARY KEY REFERENCES rounds(round),
    format TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE artifacts (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE claims (
    item INTEGER PRIMARY KEY REFERENCES items(item),
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _translate(error, path, what="The session"):
    """Turn an sqlite3 error into a session error with a clear message.

    ``what`` names the file in the message: the session database, or a cache
    beside it (``"The session's augmentation cache"``), which share the
    session's errors and exit codes.
    """
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return SessionBusyError(
            f"{what} {path} is busy: another process held its write lock "
            "longer than the timeout. Try again when it has finished (a "
            "retraining can take a while)."
        )
    if "disk is full" in text or "disk i/o" in text:
        return StorageError(
            f"{what} {path} could not be written: {error}. Free some "
            "space and try again; nothing of the interrupted step was saved, "
            "every earlier label is safe."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StorageError(
            f"{what} {path} cannot be written: the project folder or its "
            f"database is read-only ({error}). Fix the permissions, or copy the "
            "folder somewhere writable."
        )
    if "not a database" in text or "malformed" in text or "no such table" in text:
        if what != "The session":
            return SessionError(
                f"{what} {path} is damaged ({error}). Delete it: it only holds "
                "what can be computed again, and is rebuilt when needed."
            )
        return SessionError(
            f"{path} is not a readable labeling session database ({error})."
        )
    return None


@contextlib.contextmanager
def storage_errors(path, what="The session's cache"):
    """Raise the session's errors for the sqlite3 errors of a file beside it.

    The caches in the project folder (augmented copies, embeddings) are
    written while a session retrains; a full disk, a read-only folder or a
    lock held too long there gets the same error, message and exit code as
    in the session database (:class:`StorageError`, exit code 6, ...).

    Parameters
    ----------
    path : path-like
        The file (or folder) named in the message.
    what : str, default="The session's cache"
        How the message names it.
    """
    try:
        yield
    except sqlite3.Error as error:
        translated = _translate(error, path, what)
        if translated is None:
            raise
        raise translated from error


#: Tables every session database has (a file without them is not a session).
_TABLES = frozenset(re.findall(r"CREATE TABLE (\w+)", _SCHEMA))


def _inspect(path):
    """``(schema version, table names)`` of a database file, read without
    writing anything (the file is opened read-only, never switched to WAL)."""
    base = "file:" + os.path.abspath(path) + "?mode=ro"
    error = None
    # A WAL database needs its -shm file even to read; in a read-only folder
    # only SQLite's immutable mode opens it.
    for uri in (base, base + "&immutable=1"):
        try:
            connection = sqlite3.connect(uri, uri=True)
            try:
                version = connection.execute("PRAGMA user_version").fetchone()[0]
                tables = {
                    row[0]
                    for row in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                }
                return version, tables
            finally:
                connection.close()
        except sqlite3.Error as caught:
            error = caught
    translated = _translate(error, path)
    raise (translated or SessionError(f"Cannot read {path}: {error}")) from error


def _has_pending_wal(path):
    """Whether a database has a write-ahead log beside it (a writer is alive,
    or one stopped before folding its writes into the database)."""
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    return (wal.exists() and wal.stat().st_size > 0) or shm.exists()


class SessionStore(SQLiteStore):
    """The session database: a :class:`~allsh_sklearn.utils.SQLiteStore` with
    the session schema, ``synchronous=FULL`` (labels cannot be rebuilt) and
    errors turned into session errors (busy, read-only, disk full, newer
    version).

    Parameters
    ----------
    path : path-like
        The database file.
    readonly : bool, default=False
        Open without writing anything (for a read-only folder). When a
        write-ahead log is beside the file (a writer at work, or one that
        stopped before folding its writes in), it is read through SQLite's
        shared-memory file, so the latest writes are seen; a log that
        cannot be read that way is a :class:`StorageError` saying why.
    timeout : float, default=30.0
        Seconds a writer waits for another one.
    create : bool, default=False
        Create the schema in a new file; otherwise the file must already be
        a session database: one without a schema version or without the
        session's tables (another program's SQLite file) is refused, having
        only been read (never switched to WAL or given a schema).

    Attributes
    ----------
    found_version : int
        The schema version the file has now: :data:`SCHEMA_VERSION`, or an
        older one for a file opened read-only (read as it is, not upgraded).
    """

    def __init__(self, path, readonly=False, timeout=30.0, create=False):
        path = os.fspath(path)
        if not create:
            # Checked read-only first: a file that is not a session (or one
            # from a newer version) is refused as it is, never switched to WAL.
            version, tables = _inspect(path)
            if version > SCHEMA_VERSION and "meta" in tables:
                raise SessionVersionError(
                    f"The session {path} was written by a newer allsh_sklearn "
                    f"(database schema {version}; this version reads up to "
                    f"{SCHEMA_VERSION}). Upgrade allsh-sklearn to open it; the "
                    "file was left untouched."
                )
            missing = sorted(_TABLES - tables)
            if version < 1 or missing:
                found = (
                    "no schema version"
                    if version < 1
                    else f"no table {', '.join(missing[:3])}"
                    + (" ..." if len(missing) > 3 else "")
                )
                raise SessionError(
                    f"{path} is not a labeling session database ({found}); it "
                    "was left untouched. Move it away, or open the folder of "
                    "the session it belongs to."
                )
        # Read-only and another process's writes in the log: read through
        # SQLite's shared memory (it sees them) rather than immutably.
        self._read_log = bool(readonly and _has_pending_wal(path))
        try:
            super().__init__(
                path,
                schema=[s for s in _SCHEMA.split(";") if s.strip()],
                version=SCHEMA_VERSION,
                migrations=MIGRATIONS,
                timeout=timeout,
                synchronous="FULL",
                readonly=readonly,
            )
        except SchemaVersionError as error:
            raise SessionVersionError(str(error)) from error
        except OSError as error:
            if isinstance(error, StorageError):
                raise
            raise StorageError(f"Cannot open the session {path}: {error}") from error

    def _check_schema(self):
        # Read-only, an older session is read as it is (it cannot be
        # upgraded): the columns added since read as missing.
        if self.readonly:
            found = self.connection().execute("PRAGMA user_version").fetchone()[0]
            if 1 <= found < self.version:
                self.found_version = found
                return
        super()._check_schema()
        self.found_version = self.version

    def _open(self):
        if not self._read_log:
            return super()._open()
        uri = "file:" + os.path.abspath(self.path) + "?mode=ro"
        try:
            connection = sqlite3.connect(
                uri,
                uri=True,
                timeout=self.timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            name = os.path.basename(self.path)
            raise StorageError(
                f"The session {self.path} cannot be read: this process has no "
                f"write permission on it, and its latest writes are in "
                f"{name}-wal, which SQLite reads through {name}-shm ({error}). "
                "If another process is writing the session, try again when it "
                "has finished; otherwise open it once where the folder is "
                "writable (the first writer folds the log into the database), "
                "or get write permission on the folder."
            ) from error
        return connection

    def translate(self, error):
        """The session error for an sqlite3 error (the error itself if unknown)."""
        translated = _translate(error, self.path)
        return translated if translated is not None else error

    def write(self):
        """A write transaction (refused with a clear error when read-only)."""
        if self.readonly:
            raise StorageError(
                f"The session {self.path} was opened read-only (its folder is "
                "not writable): nothing can be saved. Fix the permissions, or "
                "copy the folder somewhere writable."
            )
        return super().write()

    def meta(self):
        """The session's metadata rows.

        Returns
        -------
        meta : dict of {str: str}
        """
        with self.read() as connection:
            return dict(connection.execute("SELECT key, value FROM meta"))

    # Creating -----------------------------------------------------------------

    def populate(self, meta, items, artifacts, now):
        """Write a new session's metadata, pool and artifacts in one transaction.

        Parameters
        ----------
        meta : dict of {str: str}
        items : iterable of tuple
            ``(item, ext_id, text, text_pair, audit_rank, stop_set)`` rows.
        artifacts : dict of {str: bytes}
        now : float
            The artifacts' creation time.
        """
        with self.write() as connection:
            connection.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items())
            )
            connection.executemany(
                "INSERT INTO items (item, ext_id, text, text_pair, audit_rank, "
                "stop_set) VALUES (?, ?, ?, ?, ?, ?)",
                items,
            )
            connection.executemany(
                "INSERT INTO artifacts (name, data, created_at) VALUES (?, ?, ?)",
                [(name, blob, now) for name, blob in artifacts.items()],
            )

    # Items --------------------------------------------------------------------

    def pool(self):
        """``(ext_id, text, text_pair)`` of every item, in item order."""
        with self.read() as connection:
            return connection.execute(
                "SELECT ext_id, text, text_pair FROM items ORDER BY item"
            ).fetchall()

    def item_number(self, connection, item_id):
        """The item number of an id, or a ``KeyError`` saying it is unknown."""
        row = connection.execute(
            "SELECT item FROM items WHERE ext_id = ?", (str(item_id),)
        ).fetchone()
        if row is None:
            raise KeyError(
                f"No item with id {item_id!r} in this session. Ids are those of "
                "the data file's id column (or the text hashes the exports show)."
            )
        return row[0]

    def item_numbers(self, connection, item_ids):
        """``{ext_id: item}`` of the ids of ``item_ids`` the session knows."""
        sql = "SELECT ext_id, item FROM items WHERE ext_id IN ({marks})"
        return dict(self.select_in(sql, item_ids, connection=connection))

    def item_texts(self, connection, numbers):
        """``{item: (ext_id, text, text_pair)}`` of the items ``numbers``."""
        sql = "SELECT item, ext_id, text, text_pair FROM items WHERE item IN ({marks})"
        rows = self.select_in(sql, numbers, connection=connection)
        return {item: (ext_id, text, pair) for item, ext_id, text, pair in rows}

    def item_states(self, connection, numbers):
        """``{item: (kind, label)}``: the standing label or skip of the items."""
        sql = "SELECT item, kind, label FROM item_state WHERE item IN ({marks})"
        rows = self.select_in(sql, numbers, connection=connection)
        return {item: (kind, label) for item, kind, label in rows}

    def item_roles(self, connection, numbers):
        """``{item: role}`` of the items ``numbers`` (role: None or ``"audit"``)."""
        sql = "SELECT item, role FROM items WHERE item IN ({marks})"
        return dict(self.select_in(sql, numbers, connection=connection))

    def mark_audit(self, connection, numbers):
        """Put the items ``numbers`` in the audit sample."""
        connection.executemany(
            "UPDATE items SET role = 'audit' WHERE item = ? AND role IS NULL",
            [(number,) for number in numbers],
        )

    def training_labels(self, connection):
        """``(item, label, event)`` of every training label, in item order."""
        return connection.execute(
            "SELECT s.item, s.label, s.event FROM item_state s JOIN items i "
            "ON i.item = s.item WHERE s.kind = 'label' AND i.role IS NULL "
            "ORDER BY s.item"
        ).fetchall()

    def audit_labels(self, connection):
        """``(item, label)`` of every labeled audit text, in item order."""
        return connection.execute(
            "SELECT s.item, s.label FROM item_state s JOIN items i ON i.item = s.item "
            "WHERE s.kind = 'label' AND i.role = 'audit' ORDER BY s.item"
        ).fetchall()

    def busy_items(self, connection):
        """The items that are labeled, skipped or in the audit sample."""
        return {
            row[0]
            for row in connection.execute(
                "SELECT item FROM item_state UNION SELECT item FROM items "
                "WHERE role = 'audit'"
            )
        }

    def stop_set(self, connection):
        """The items of the stop set, in item order."""
        return [
            row[0]
            for row in connection.execute(
                "SELECT item FROM items WHERE stop_set = 1 ORDER BY item"
            )
        ]

    def unlabeled_by_audit_rank(self, connection, limit):
        """The first ``limit`` unlabeled, unskipped items in audit-rank order.

        Audit texts of a batch closed before they were labeled come first
        (they keep their place in the random order).
        """
        rows = connection.execute(
            "SELECT i.item FROM items i LEFT JOIN item_state s ON s.item = i.item "
            "WHERE s.item IS NULL ORDER BY i.audit_rank LIMIT ?",
            (limit,),
        ).fetchall()
        return [row[0] for row in rows]

    def current_labels(self):
        """``(ext_id, text, text_pair, label, annotator, created_at, role)`` of
        every standing label, in the order they were given."""
        with self.read() as connection:
            return connection.execute(
                "SELECT i.ext_id, i.text, i.text_pair, s.label, e.annotator, "
                "e.created_at, i.role FROM item_state s "
                "JOIN items i ON i.item = s.item "
                "JOIN events e ON e.event = s.event WHERE s.kind = 'label' "
                "ORDER BY s.event"
            ).fetchall()

    # Events -------------------------------------------------------------------

    def record_event(self, connection, number, kind, label, annotator, source, now):
        """Store a label or skip of an item and make it the item's standing one.

        The event is filed under the item's latest batch, and the item's
        claim is let go. Returns the event's number.
        """
        batch = connection.execute(
            "SELECT batch FROM batch_items WHERE item = ? ORDER BY batch DESC LIMIT 1",
            (number,),
        ).fetchone()
        batch = None if batch is None else batch[0]
        cursor = connection.execute(
            "INSERT INTO events (item, kind, label, annotator, created_at, batch, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (number, kind, label, annotator, now, batch, source),
        )
        event = cursor.lastrowid
        connection.execute(
            "INSERT INTO item_state (item, kind, label, event) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(item) DO UPDATE SET kind = excluded.kind, "
            "label = excluded.label, event = excluded.event",
            (number, kind, label, event),
        )
        connection.execute("DELETE FROM claims WHERE item = ?", (number,))
        return event

    def take_back(self, connection, number, event, annotator, source, now):
        """Mark ``event`` undone and record the undo; whether the item has no
        label or skip left standing (it is then unlabeled).

        Part of the caller's write transaction: the undo, the event it marks
        and the item's state change together or not at all.
        """
        connection.execute("UPDATE events SET undone = 1 WHERE event = ?", (event,))
        connection.execute(
            "INSERT INTO events (item, kind, target, annotator, created_at, "
            "source) VALUES (?, 'undo', ?, ?, ?, ?)",
            (number, event, annotator, now, source),
        )
        previous = connection.execute(
            "SELECT event, kind, label FROM events WHERE item = ? AND kind IN "
            "('label', 'skip') AND undone = 0 ORDER BY event DESC LIMIT 1",
            (number,),
        ).fetchone()
        if previous is None:
            connection.execute("DELETE FROM item_state WHERE item = ?", (number,))
            return True
        connection.execute(
            "UPDATE item_state SET event = ?, kind = ?, label = ? WHERE item = ?",
            (previous[0], previous[1], previous[2], number),
        )
        return False

    def last_event_by(self, connection, annotator):
        """``(event, item, kind, label, created_at, source, ext_id)`` of an
        annotator's last label or skip not undone, or None."""
        return connection.execute(
            "SELECT e.event, e.item, e.kind, e.label, e.created_at, e.source, "
            "i.ext_id FROM events e JOIN items i ON i.item = e.item "
            "WHERE e.annotator = ? AND e.kind IN ('label', 'skip') "
            "AND e.undone = 0 ORDER BY e.event DESC LIMIT 1",
            (annotator,),
        ).fetchone()

    def standing_event(self, connection, number):
        """``(event, kind, label, annotator, created_at, source)`` of an item's
        latest label or skip not undone, or None."""
        return connection.execute(
            "SELECT event, kind, label, annotator, created_at, source "
            "FROM events WHERE item = ? AND kind IN ('label', 'skip') "
            "AND undone = 0 ORDER BY event DESC LIMIT 1",
            (number,),
        ).fetchone()

    def item_events(self, connection, number):
        """``(event, kind, label, annotator, created_at, undone, source)`` of
        every event of an item, oldest first."""
        return connection.execute(
            "SELECT event, kind, label, annotator, created_at, undone, source "
            "FROM events WHERE item = ? ORDER BY event",
            (number,),
        ).fetchall()

    # Claims -------------------------------------------------------------------

    def claim(self, connection, number, owner, expires_at):
        """Claim an item for ``owner`` until ``expires_at``."""
        connection.execute(
            "INSERT OR REPLACE INTO claims (item, owner, expires_at) VALUES (?, ?, ?)",
            (number, owner, expires_at),
        )

    def claims_of_others(self, connection, batch, owner, now):
        """``(item, owner)`` of the live claims on a batch's items by others."""
        return connection.execute(
            "SELECT c.item, c.owner FROM claims c JOIN batch_items bi "
            "ON bi.item = c.item AND bi.batch = ? WHERE c.owner != ? "
            "AND c.expires_at > ?",
            (batch, owner, now),
        ).fetchall()

    # Batches ------------------------------------------------------------------

    #: The columns of a batch's item row, as :func:`make_items` reads them.
    _BATCH_ITEM = "item, batch, position, guess, proba, score, explanation, purpose"

    def open_batch(self, connection):
        """``(batch, kind, round, created_at)`` of the open batch, or None."""
        return connection.execute(
            "SELECT batch, kind, round, created_at FROM batches "
            "WHERE closed_at IS NULL ORDER BY batch DESC LIMIT 1"
        ).fetchone()

    def batch_rows(self, connection, batch):
        """The item rows of a batch, in batch order."""
        return connection.execute(
            f"SELECT {self._BATCH_ITEM} FROM batch_items WHERE batch = ? "
            "ORDER BY position",
            (batch,),
        ).fetchall()

    def pending_rows(self, connection, batch):
        """The item rows of a batch's texts with no label or skip, in order."""
        return connection.execute(
            "SELECT bi.item, bi.batch, bi.position, bi.guess, bi.proba, "
            "bi.score, bi.explanation, bi.purpose FROM batch_items bi "
            "LEFT JOIN item_state s ON s.item = bi.item "
            "WHERE bi.batch = ? AND s.item IS NULL ORDER BY bi.position",
            (batch,),
        ).fetchall()

    def latest_batch_row(self, connection, number):
        """The item row of an item in its latest batch, or None."""
        return connection.execute(
            f"SELECT {self._BATCH_ITEM} FROM batch_items WHERE item = ? "
            "ORDER BY batch DESC LIMIT 1",
            (number,),
        ).fetchone()

    def latest_pick(self, connection, number):
        """``(score, guess, proba, explanation, batch kind, purpose)`` of an
        item in its latest batch, or None."""
        return connection.execute(
            "SELECT bi.score, bi.guess, bi.proba, bi.explanation, b.kind, "
            "bi.purpose FROM batch_items bi JOIN batches b ON b.batch = bi.batch "
            "WHERE bi.item = ? ORDER BY bi.batch DESC LIMIT 1",
            (number,),
        ).fetchone()

    def batch_size(self, connection, batch):
        """The number of texts of a batch."""
        return connection.execute(
            "SELECT COUNT(*) FROM batch_items WHERE batch = ?", (batch,)
        ).fetchone()[0]

    def batch_progress(self, connection, batch):
        """``(size, done)``: a batch's texts, and those labeled or skipped."""
        return connection.execute(
            "SELECT COUNT(*), COUNT(s.item) FROM batch_items bi LEFT JOIN "
            "item_state s ON s.item = bi.item WHERE bi.batch = ?",
            (batch,),
        ).fetchone()

    def batch_count(self, connection):
        """The number of batches ever queried."""
        return connection.execute("SELECT COUNT(*) FROM batches").fetchone()[0]

    def batch_slots(self, connection):
        """``(texts, audit texts)`` of every batch together."""
        return connection.execute(
            "SELECT COUNT(*), COALESCE(SUM(purpose = 'audit'), 0) FROM batch_items"
        ).fetchone()

    def close_batches(self, connection, now):
        """Close the open batch (any batch not closed yet)."""
        connection.execute(
            "UPDATE batches SET closed_at = ? WHERE closed_at IS NULL", (now,)
        )

    def insert_batch(self, connection, batch, round_number, kind, now, rows):
        """Store a new batch and its item rows
        ``(batch, position, item, purpose, score, guess, proba, explanation)``;
        its audit texts join the audit sample."""
        connection.execute(
            "INSERT INTO batches (batch, round, kind, created_at) VALUES (?, ?, ?, ?)",
            (batch, round_number, kind, now),
        )
        connection.executemany(
            "INSERT INTO batch_items (batch, position, item, purpose, score, "
            "guess, proba, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self.mark_audit(connection, [row[2] for row in rows if row[3] == "audit"])

    # Rounds and models --------------------------------------------------------

    def last_round(self, connection):
        """``(round, label_event, class_counts)`` of the last round, or None."""
        return connection.execute(
            "SELECT round, label_event, class_counts FROM rounds "
            "ORDER BY round DESC LIMIT 1"
        ).fetchone()

    def latest_round(self, connection):
        """The last round's number, or None before the first."""
        return connection.execute("SELECT MAX(round) FROM rounds").fetchone()[0]

    def round_digest(self, connection, round_number):
        """The digest of the labels a round was trained on, or None."""
        row = connection.execute(
            "SELECT value FROM meta WHERE key = ?",
            ("" if round_number is None else f"round_digest:{round_number}",),
        ).fetchone()
        return None if row is None else row[0]

    def insert_round(self, connection, row, digest, model):
        """Store a round (``row``: column to value), the digest of its labels
        and its model (the only one kept)."""
        columns = list(row)
        connection.execute(
            f"INSERT INTO rounds ({', '.join(columns)}) VALUES "
            f"({', '.join('?' * len(columns))})",
            [row[c] for c in columns],
        )
        connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            (f"round_digest:{row['round']}", digest),
        )
        connection.execute("DELETE FROM models")
        connection.execute(
            "INSERT INTO models (round, format, data) VALUES (?, 'pickle', ?)",
            (row["round"], model),
        )

    def model_data(self, round_number):
        """The pickled model of a round, or None."""
        with self.read() as connection:
            row = connection.execute(
                "SELECT data FROM models WHERE round = ?", (round_number,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def round_rows(self):
        """Every round's ``(round, created_at, n_labeled, class_counts, n_audit,
        audit_correct, audit_low, audit_high, mean_pool_score, checks,
        train_seconds, query_seconds, class_estimates)``, oldest first."""
        # A version-1 database opened read-only has no per-class estimates.
        estimates = "class_estimates" if self.found_version >= 2 else "NULL"
        with self.read() as connection:
            return connection.execute(
                "SELECT round, created_at, n_labeled, class_counts, n_audit, "
                "audit_correct, audit_low, audit_high, mean_pool_score, checks, "
                f"train_seconds, query_seconds, {estimates} FROM rounds "
                "ORDER BY round"
            ).fetchall()

    def history_rows(self):
        """Every round as the stopping rules read it (a dict per round)."""
        with self.read() as connection:
            rows = connection.execute(
                "SELECT round, n_labeled, stop_set_predictions, stop_set_proba, "
                "mean_pool_score FROM rounds ORDER BY round"
            ).fetchall()
        keys = "round n_labeled stop_set_predictions stop_set_proba mean_pool_score"
        return [dict(zip(keys.split(), row, strict=True)) for row in rows]

    def labels_since_round(self, connection):
        """Training labels given since the last round."""
        last = self.last_round(connection)
        return connection.execute(
            "SELECT COUNT(*) FROM item_state s JOIN items i ON i.item = s.item "
            "WHERE s.kind = 'label' AND i.role IS NULL AND s.event > ?",
            (-1 if last is None else last[1],),
        ).fetchone()[0]

    # Status -------------------------------------------------------------------

    def state_counts(self, connection):
        """``(kind, label, role, n)``: items per standing event and role."""
        return connection.execute(
            "SELECT s.kind, s.label, i.role, COUNT(*) FROM item_state s "
            "JOIN items i ON i.item = s.item GROUP BY s.kind, s.label, i.role"
        ).fetchall()

    def labels_per_annotator(self, connection):
        """``{annotator: standing labels they gave}``."""
        return dict(
            connection.execute(
                "SELECT e.annotator, COUNT(*) FROM item_state s JOIN events e "
                "ON e.event = s.event WHERE s.kind = 'label' GROUP BY e.annotator"
            ).fetchall()
        )

    def item_count(self, connection):
        """The number of texts of the pool."""
        return connection.execute("SELECT COUNT(*) FROM items").fetchone()[0]

    def event_count(self, connection):
        """Every label, skip and undo stored."""
        return connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def unlabeled_count(self, connection):
        """Items neither labeled, skipped nor in the audit sample."""
        return connection.execute(
            "SELECT COUNT(*) FROM items i LEFT JOIN item_state s "
            "ON s.item = i.item WHERE s.item IS NULL AND i.role IS NULL"
        ).fetchone()[0]


class StoredArtifacts:
    """The fitted parts a session keeps across processes, by name.

    What the engine reads and writes (``get``, ``put``): the TF-IDF
    vocabulary, a classifier, strategy or stopping rules given in Python.

    Parameters
    ----------
    store : SessionStore
    """

    def __init__(self, store):
        self.store = store

    def get(self, name):
        """The bytes stored under ``name``, or None."""
        with self.store.read() as connection:
            row = connection.execute(
                "SELECT data FROM artifacts WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def put(self, name, data):
        """Store ``data`` under ``name`` (nothing when read-only)."""
        if self.store.readonly:
            return
        with self.store.write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO artifacts (name, data, created_at) "
                "VALUES (?, ?, ?)",
                (name, data, time.time()),
            )
